#!/usr/bin/env python3
"""Peers side by side on the bundled corpus: leakprint, copydetect, Dolos, ssdeep, TLSH.

    python3 scripts/peers.py --out bench-out/peers [--per-case 300] [--seed 11]

Draws a seeded sample of the bundled queries (corpus/queries: up to
--per-case posts of each group: exact, edited, ocr, negative; edited and
OCR sampled across their sub-cases), writes each post as a file, and runs
every tool on the same dump (corpus/dump, raw files) and the same posts:

- leakprint: `examples/quality` on the sampled truth files (index build +
  matching timed separately by the example);
- copydetect 0.5 (`-f`, i.e. disable_filtering: plain text), through its
  Python API with the CLI's defaults (noise 25, guarantee 25): a post
  matches a document when their token overlap is > 0;
- Dolos 3.5.1 (language `char`, its default k-gram and window): a post
  matches a document when they share a fingerprint;
- ssdeep 2.14 CLI (`-r` over the dump, `-m` the posts): a post matches a
  document when the score is > 0;
- TLSH (py-tlsh): a post matches a document when the TLSH distance is
  <= --tlsh-threshold (default 100, lenient); posts too short or too
  uniform to get a hash (TNULL) match nothing.

copydetect, Dolos, ssdeep and TLSH read raw files (they do not decode MIME),
which is fair for the positives: every truth source is a plain .txt file
whose text is its own bytes.

For copydetect and Dolos a stricter rule is scored too (overlap >= 50
characters; >= 3 shared fingerprints), since "any shared 25-gram" flags
common phrases.

Per group: recall = expected (post, source) pairs found / expected pairs;
wrong-only = positives that matched only other sources; false = negatives
with any match (and per 10,000). Times are wall seconds of the whole tool
run (index + compare), and posts per second derived from them.
Writes OUT/peers.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = ["exact", "edited", "ocr", "negative"]
# A second, stricter decision rule for the two winnowing peers, near
# leakprint's minimum match length (36 normalized bytes): copydetect's
# overlap counts characters; Dolos' default window (17) makes 3 shared
# fingerprints about 50 characters of shared text.
STRICT_CHARS = 50
STRICT_FPS = 3


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def group_of(case: str) -> str:
    return case.split(":")[0]


def sample(queries, n, rng):
    """Up to n queries, spread evenly over the sub-cases."""
    if len(queries) <= n:
        return list(queries)
    by = {}
    for q in queries:
        by.setdefault(q["case"], []).append(q)
    out = []
    keys = sorted(by)
    for i, k in enumerate(keys):
        share = n // len(keys) + (1 if i < n % len(keys) else 0)
        items = by[k]
        out.extend(rng.sample(items, min(share, len(items))))
    return out


def list_dump(dump):
    files = []
    for d, _, names in os.walk(dump):
        for n in names:
            p = os.path.join(d, n)
            files.append(os.path.relpath(p, dump))
    files.sort()
    return files


def score(queries, matched):
    """matched: {post_id: set(source relpaths)} -> per-group stats."""
    out = {}
    for g in GROUPS:
        qs = [q for q in queries if group_of(q["case"]) == g]
        if not qs:
            continue
        if g == "negative":
            false = sum(1 for q in qs if matched.get(q["id"]))
            out[g] = {"posts": len(qs), "false": false, "false_per_10k": 1e4 * false / len(qs)}
        else:
            exp = found = wrong_only = 0
            for q in qs:
                m = matched.get(q["id"], set())
                srcs = {e["source"] for e in q["expect"]}
                exp += len(srcs)
                found += len(srcs & m)
                if m and not (srcs & m):
                    wrong_only += 1
            out[g] = {"posts": len(qs), "expected": exp, "found": found,
                      "recall": found / exp if exp else None, "wrong_only": wrong_only}
    return out


def run_leakprint(args, qdir, out):
    exe = args.quality_exe
    t0 = time.perf_counter()
    p = subprocess.run([exe, "--dump", args.dump, "--queries", qdir, "--json",
                        os.path.join(out, "leakprint-quality.json")],
                       capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": p.stderr[-2000:]}
    m_idx = re.search(r"in ([0-9.]+)s; index", p.stderr)
    m_q = re.search(r"(\d+) queries in ([0-9.]+)s", p.stdout)
    reports = json.load(open(os.path.join(out, "leakprint-quality.json")))
    res = {}
    for g in GROUPS:
        rs = [r for r in reports if group_of(r["case"]) == g]
        if not rs:
            continue
        n = sum(r["queries"] for r in rs)
        if g == "negative":
            false = sum(r["queries_with_false_match"] for r in rs)
            res[g] = {"posts": n, "false": false, "false_per_10k": 1e4 * false / n}
        else:
            found = sum(r["found"] for r in rs)
            res[g] = {"posts": n, "found_posts": found, "recall": found / n}
    return {"groups": res, "wall_seconds": wall,
            "index_seconds": float(m_idx.group(1)) if m_idx else None,
            "match_seconds": float(m_q.group(2)) if m_q else None,
            "note": "recall per post as leakprint::eval counts it (every expected span found)"}


def run_copydetect(args, posts_dir, queries):
    from copydetect import CopyDetector  # type: ignore
    import logging
    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    det = CopyDetector(test_dirs=[posts_dir], ref_dirs=[args.dump], disable_filtering=True,
                       silent=True, autoopen=False, display_t=0.0)
    det.run()
    wall = time.perf_counter() - t0
    matched, strict = {}, {}
    ov = det.token_overlap_matrix
    for i, tf in enumerate(det.test_files):
        pid = os.path.splitext(os.path.basename(tf))[0]
        s, t = set(), set()
        for j, rf in enumerate(det.ref_files):
            if ov[i, j] > 0:
                s.add(os.path.relpath(rf, args.dump))
            if ov[i, j] >= STRICT_CHARS:
                t.add(os.path.relpath(rf, args.dump))
        matched[pid] = s
        strict[pid] = t
    skipped = len(det.ref_files) - sum(1 for f in det.ref_files if f in det.file_data)
    return {"groups": score(queries, matched), "groups_strict": score(queries, strict),
            "strict_rule": f"token overlap >= {STRICT_CHARS} characters",
            "wall_seconds": wall, "ref_files_unreadable": skipped,
            "settings": "disable_filtering=True (-f), noise_t=25, guarantee_t=25; match: token overlap > 0"}


def run_dolos(args, queries, dump_files, out):
    node_dir = os.path.join(args.node_dir)
    docs = []
    for rel in dump_files:
        with open(os.path.join(args.dump, rel), "rb") as f:
            docs.append([rel, f.read().decode("utf-8", errors="replace")])
    inp = {"docs": docs, "posts": [[q["id"], q["text"]] for q in queries]}
    ip, op = os.path.join(out, "dolos-in.json"), os.path.join(out, "dolos-out.json")
    with open(ip, "w") as f:
        json.dump(inp, f)
    t0 = time.perf_counter()
    p = subprocess.run(["node", "--max-old-space-size=6144",
                        os.path.join(ROOT, "scripts", "peers_dolos.mjs"), ip, op, node_dir],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout)[-2000:], "wall_seconds": wall}
    r = json.load(open(op))
    matched = {k: set(v) for k, v in r["pairs"].items()}
    strict = {k: {d for d, n in v.items() if n >= STRICT_FPS} for k, v in r["pairs"].items()}
    return {"groups": score(queries, matched), "groups_strict": score(queries, strict),
            "strict_rule": f">= {STRICT_FPS} shared fingerprints",
            "wall_seconds": wall,
            "analyze_seconds": r["seconds"],
            "settings": f"language char, k={r['options']['kgramLength']}, "
                        f"window={r['options']['kgramsInWindow']}; match: >= 1 shared fingerprint"}


def run_ssdeep(args, posts_dir, queries, out):
    hashes = os.path.join(out, "dump.ssdeep")
    t0 = time.perf_counter()
    with open(hashes, "w") as f:
        subprocess.run(["ssdeep", "-s", "-r", os.path.abspath(args.dump)], stdout=f, check=True)
    t_hash = time.perf_counter() - t0
    p = subprocess.run(["ssdeep", "-s", "-m", hashes, "-r", os.path.abspath(posts_dir)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    matched = {}
    dump_abs = os.path.abspath(args.dump) + "/"
    rx = re.compile(r"^(.*) matches (.*):(" + re.escape(dump_abs) + r".*) \((\d+)\)$")
    for line in p.stdout.splitlines():
        m = rx.match(line)
        if m and int(m.group(4)) > 0:
            pid = os.path.splitext(os.path.basename(m.group(1)))[0]
            matched.setdefault(pid, set()).add(m.group(3)[len(dump_abs):])
    return {"groups": score(queries, matched), "wall_seconds": wall, "hash_dump_seconds": t_hash,
            "settings": "ssdeep -r over the dump, -m the posts; match: score > 0"}


def run_tlsh(args, queries, dump_files):
    import tlsh  # type: ignore
    t0 = time.perf_counter()
    dh = []
    for rel in dump_files:
        with open(os.path.join(args.dump, rel), "rb") as f:
            h = tlsh.hash(f.read())
        if h and h != "TNULL":
            dh.append((rel, h))
    matched, nohash, best_right = {}, 0, 0
    for q in queries:
        h = tlsh.hash(q["text"].encode("utf-8"))
        if not h or h == "TNULL":
            nohash += 1
            continue
        dists = [(tlsh.diff(h, d), rel) for rel, d in dh]
        s = {rel for dist, rel in dists if dist <= args.tlsh_threshold}
        matched[q["id"]] = s
        if q["expect"] and dists:
            if min(dists)[1] in {e["source"] for e in q["expect"]}:
                best_right += 1
    wall = time.perf_counter() - t0
    return {"groups": score(queries, matched), "wall_seconds": wall,
            "posts_without_hash": nohash, "nearest_is_right_source": best_right,
            "dump_files_with_hash": len(dh),
            "settings": f"py-tlsh hash; match: distance <= {args.tlsh_threshold}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", default=os.path.join(ROOT, "corpus", "dump"))
    ap.add_argument("--queries", default=os.path.join(ROOT, "corpus", "queries"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "peers"))
    ap.add_argument("--per-case", type=int, default=300, help="posts per group (exact, edited, ocr, negative)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--tlsh-threshold", type=int, default=100)
    ap.add_argument("--quality-exe", default=os.path.join(ROOT, "bench-out", "bin", "quality"))
    ap.add_argument("--node-dir", default=os.path.join(ROOT, "bench-out", "node"))
    ap.add_argument("--tools", default="leakprint,copydetect,dolos,ssdeep,tlsh")
    args = ap.parse_args()
    args.dump = os.path.abspath(args.dump)
    rng = random.Random(args.seed)
    allq = []
    for n in sorted(os.listdir(args.queries)):
        if n.endswith(".jsonl"):
            allq.extend(load(os.path.join(args.queries, n)))
    queries = []
    for g in GROUPS:
        queries.extend(sample([q for q in allq if group_of(q["case"]) == g], args.per_case, rng))
    shutil.rmtree(args.out, ignore_errors=True)
    posts_dir = os.path.join(args.out, "posts")
    qdir = os.path.join(args.out, "queries")
    os.makedirs(posts_dir)
    os.makedirs(qdir)
    for q in queries:
        with open(os.path.join(posts_dir, q["id"] + ".txt"), "w", encoding="utf-8") as f:
            f.write(q["text"])
    with open(os.path.join(qdir, "sample.jsonl"), "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    dump_files = list_dump(args.dump)
    counts = {g: sum(1 for q in queries if group_of(q["case"]) == g) for g in GROUPS}
    result = {"dump": os.path.relpath(args.dump, ROOT), "dump_files": len(dump_files),
              "dump_bytes": sum(os.path.getsize(os.path.join(args.dump, f)) for f in dump_files),
              "posts": counts, "seed": args.seed, "tools": {}}
    runners = {
        "leakprint": lambda: run_leakprint(args, qdir, args.out),
        "copydetect": lambda: run_copydetect(args, posts_dir, queries),
        "dolos": lambda: run_dolos(args, queries, dump_files, args.out),
        "ssdeep": lambda: run_ssdeep(args, posts_dir, queries, args.out),
        "tlsh": lambda: run_tlsh(args, queries, dump_files),
    }
    for name in args.tools.split(","):
        print(f"peers: {name} ...", file=sys.stderr, flush=True)
        try:
            r = runners[name]()
        except Exception as e:  # a peer that fails is reported, not fatal
            r = {"error": f"{type(e).__name__}: {e}"}
        r["posts_per_second"] = (len(queries) / r["wall_seconds"]) if r.get("wall_seconds") else None
        result["tools"][name] = r
        print(f"peers: {name}: {json.dumps(r.get('groups', r.get('error')))} "
              f"in {r.get('wall_seconds', 0):.1f}s", file=sys.stderr, flush=True)
    with open(os.path.join(args.out, "peers.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
