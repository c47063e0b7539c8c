#!/usr/bin/env python3
"""Peers side by side on the bundled corpus, fairly (issue 11.4):
leakprint, grep -F, copydetect, Dolos, ssdeep, TLSH.

    python3 scripts/peers.py --out bench-out/peers [--per-case 300] [--seed 11]

Rules of the comparison:

- **Same inputs.** Every peer reads the same normalized text: each dump file
  and each post NFKC-normalized, case-folded, reduced to its words (letters
  and digits) separated by single spaces (`pnorm`), which is leakprint's own
  normalization with the word breaks kept for the word-based tools.
  leakprint reads the raw files: it normalizes them the same way itself.
- **Each peer's own boilerplate option**: copydetect gets `boilerplate_dirs`
  with the corpus's boilerplate texts (split.json); Dolos drops fingerprints
  found in more than COMMON_MIN_DOCS files (`maxFingerprintCount`, as
  leakprint's common fingerprints); ssdeep and TLSH have none.
- **Thresholds swept on the tuning half**: each peer's decision value
  (copydetect token overlap in characters, Dolos shared fingerprints, ssdeep
  score, TLSH distance) is swept over a grid on a sample of the *tuning*
  half; the value kept is the one with the best mean positive recall among
  those with no false match on the tuning same-domain negatives (else the
  fewest false matches). The table reports the *held-out* sample at that
  value. leakprint runs with its defaults.
- **Same unit**: per post. A positive post is found when every source its
  truth names is matched; a negative post is false when anything matches.
- **grep -F baseline**: the longest line or quoted run of the raw post,
  searched as a fixed string in the raw dump (`grep -rlF`), what a newcomer
  tries first.
- Negatives in separate columns: same-domain, hard (sharing 20-60
  normalized characters with the dump), template near-duplicates,
  boilerplate.

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
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = ["exact", "edited", "ocr", "negative:same_domain", "negative:hard", "negative:template",
          "negative:boilerplate"]
POSITIVE = ["exact", "edited", "ocr"]
COMMON_MIN_DOCS = 32   # leakprint's DEFAULT_COMMON_MIN_DOCS
GRIDS = {
    "copydetect": ("overlap >=", [1, 25, 50, 75, 100, 150, 200]),
    "dolos": ("shared fingerprints >=", [1, 2, 3, 5, 8, 12]),
    "ssdeep": ("score >=", [1, 10, 20, 40, 60, 80]),
    "tlsh": ("distance <=", [30, 50, 75, 100, 150, 200]),
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def group_of(case: str) -> str:
    return case if case.startswith("negative:") else case.split(":")[0]


def pnorm(text: str) -> str:
    """leakprint's normalization with word breaks kept: NFKC, casefold, words."""
    return " ".join(re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold()))


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
            files.append(os.path.relpath(os.path.join(d, n), dump))
    files.sort()
    return files


def score(queries, matched):
    """matched: {post_id: set(source relpaths)} -> per-group stats, per post."""
    out = {}
    for g in GROUPS:
        qs = [q for q in queries if group_of(q["case"]) == g]
        if not qs:
            continue
        if g.startswith("negative"):
            false = sum(1 for q in qs if matched.get(q["id"]))
            out[g] = {"posts": len(qs), "false": false, "false_per_10k": 1e4 * false / len(qs)}
        else:
            found = wrong_only = 0
            for q in qs:
                m = matched.get(q["id"], set())
                srcs = {e["source"] for e in q["expect"]}
                found += srcs <= m
                wrong_only += bool(m) and not (srcs & m)
            out[g] = {"posts": len(qs), "found": found, "recall": found / len(qs), "wrong_only": wrong_only}
    return out


def decide(values, op, t):
    """{post: {doc: value}} -> {post: set(docs)} at threshold t."""
    keep = (lambda v: v >= t) if op.endswith(">=") else (lambda v: v <= t)
    return {p: {d for d, v in m.items() if keep(v)} for p, m in values.items()}


def tune_and_score(name, values, tune, held):
    """Pick the threshold on the tuning sample, score the held-out one."""
    op, grid = GRIDS[name]
    sweep = []
    for t in grid:
        st = score(tune, decide(values, op, t))
        rec = [st[g]["recall"] for g in POSITIVE if g in st]
        false = st.get("negative:same_domain", {}).get("false", 0)
        sweep.append({"threshold": t, "tune_recall": sum(rec) / len(rec) if rec else 0, "tune_false": false})
    best = min(sweep, key=lambda r: (r["tune_false"] > 0, r["tune_false"] if r["tune_false"] else 0,
                                     -r["tune_recall"]))
    return {"groups": score(held, decide(values, op, best["threshold"])),
            "threshold": f"{op} {best['threshold']}", "sweep": sweep}


def run_leakprint(args, qdir, out):
    exe = args.quality_exe
    t0 = time.perf_counter()
    p = subprocess.run([exe, "--dump", args.dump, "--queries", qdir, "--json",
                        os.path.join(out, "leakprint-quality.json")],
                       capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": p.stderr[-2000:]}
    reports = json.load(open(os.path.join(out, "leakprint-quality.json")))
    res = {}
    for g in GROUPS:
        rs = [r for r in reports if group_of(r["case"]) == g and "," not in r["case"]]
        if not rs:
            continue
        n = sum(r["queries"] for r in rs)
        if g.startswith("negative"):
            false = sum(r["queries_with_false_match"] for r in rs)
            res[g] = {"posts": n, "false": false, "false_per_10k": 1e4 * false / n}
        else:
            found = sum(r["found"] for r in rs)
            res[g] = {"posts": n, "found": found, "recall": found / n}
    return {"groups": res, "wall_seconds": wall, "threshold": "defaults",
            "note": "per post: every expected span found, on the right source"}


def grep_quote(text: str) -> str:
    """What a newcomer copies: the longest quoted run or line of the post."""
    runs = re.findall(r"[\"“]([^\"”]+)[\"”]", text) + [text]
    # one line: grep -F reads a newline as "or another pattern"
    runs = [line.strip() for r in runs for line in r.split("\n") if line.strip()]
    return max(runs, key=len) if runs else text


def run_grep(args, queries):
    t0 = time.perf_counter()
    matched = {}
    for q in queries:
        p = subprocess.run(["grep", "-rlF", "--", grep_quote(q["text"]), args.dump],
                           capture_output=True, text=True)
        matched[q["id"]] = {os.path.relpath(f, args.dump) for f in p.stdout.splitlines()}
    return {"groups": score(queries, matched), "wall_seconds": time.perf_counter() - t0,
            "threshold": "fixed string", "settings": "grep -rlF of the longest quoted run or line of the raw post"}


def run_copydetect(args, nposts, ndump, bpdir):
    from copydetect import CopyDetector  # type: ignore
    import logging
    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    det = CopyDetector(test_dirs=[nposts], ref_dirs=[ndump], boilerplate_dirs=[bpdir],
                       disable_filtering=True, silent=True, autoopen=False, display_t=0.0)
    det.run()
    wall = time.perf_counter() - t0
    values = {}
    ov = det.token_overlap_matrix
    for i, tf in enumerate(det.test_files):
        pid = os.path.splitext(os.path.basename(tf))[0]
        values[pid] = {os.path.relpath(rf, ndump): float(ov[i, j]) for j, rf in enumerate(det.ref_files)
                       if ov[i, j] > 0}
    return values, {"wall_seconds": wall,
                    "settings": "disable_filtering=True (-f), noise_t=25, guarantee_t=25, boilerplate_dirs"}


def run_dolos(args, queries, ndocs, out):
    inp = {"docs": ndocs, "posts": [[q["id"], pnorm(q["text"])] for q in queries],
           "maxFingerprintCount": COMMON_MIN_DOCS}
    ip, op = os.path.join(out, "dolos-in.json"), os.path.join(out, "dolos-out.json")
    with open(ip, "w") as f:
        json.dump(inp, f)
    t0 = time.perf_counter()
    p = subprocess.run(["node", "--max-old-space-size=6144",
                        os.path.join(ROOT, "scripts", "peers_dolos.mjs"), ip, op, args.node_dir],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError((p.stderr or p.stdout)[-2000:])
    r = json.load(open(op))
    return r["pairs"], {"wall_seconds": wall, "settings": f"language char, {r['options']}"}


def run_ssdeep(args, nposts, ndump, out):
    hashes = os.path.join(out, "dump.ssdeep")
    t0 = time.perf_counter()
    with open(hashes, "w") as f:
        subprocess.run(["ssdeep", "-s", "-r", os.path.abspath(ndump)], stdout=f, check=True)
    p = subprocess.run(["ssdeep", "-s", "-m", hashes, "-r", os.path.abspath(nposts)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    values = {}
    dump_abs = os.path.abspath(ndump) + "/"
    rx = re.compile(r"^(.*) matches (.*):(" + re.escape(dump_abs) + r".*) \((\d+)\)$")
    for line in p.stdout.splitlines():
        m = rx.match(line)
        if m:
            pid = os.path.splitext(os.path.basename(m.group(1)))[0]
            values.setdefault(pid, {})[m.group(3)[len(dump_abs):]] = int(m.group(4))
    return values, {"wall_seconds": wall, "settings": "ssdeep -r over the dump, -m the posts"}


def run_tlsh(args, queries, ndocs):
    import tlsh  # type: ignore
    t0 = time.perf_counter()
    dh = [(rel, h) for rel, text in ndocs if (h := tlsh.hash(text.encode("utf-8"))) and h != "TNULL"]
    values = {}
    for q in queries:
        h = tlsh.hash(pnorm(q["text"]).encode("utf-8"))
        if h and h != "TNULL":
            values[q["id"]] = {rel: tlsh.diff(h, d) for rel, d in dh}
    return values, {"wall_seconds": time.perf_counter() - t0, "settings": "py-tlsh"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", default=os.path.join(ROOT, "corpus", "dump"))
    ap.add_argument("--queries", default=os.path.join(ROOT, "corpus", "queries"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "peers"))
    ap.add_argument("--per-case", type=int, default=300, help="posts per group and half")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quality-exe", default=os.path.join(ROOT, "bench-out", "bin", "quality"))
    ap.add_argument("--node-dir", default=os.path.join(ROOT, "bench-out", "node"))
    ap.add_argument("--tools", default="leakprint,grep,copydetect,dolos,ssdeep,tlsh")
    args = ap.parse_args()
    args.dump = os.path.abspath(args.dump)
    rng = random.Random(args.seed)
    allq = []
    for n in sorted(os.listdir(args.queries)):
        if n.endswith(".jsonl"):
            allq.extend(load(os.path.join(args.queries, n)))
    halves = {}
    for half in ("tune", "held_out"):
        halves[half] = []
        for g in GROUPS:
            halves[half].extend(sample([q for q in allq if group_of(q["case"]) == g and q.get("split") == half],
                                       args.per_case, rng))
    queries = halves["tune"] + halves["held_out"]
    shutil.rmtree(args.out, ignore_errors=True)
    nposts, ndump, bpdir, qdir = (os.path.join(args.out, d) for d in ("posts", "dump", "boilerplate", "queries"))
    for d in (nposts, ndump, bpdir, qdir):
        os.makedirs(d)
    for q in queries:
        with open(os.path.join(nposts, q["id"] + ".txt"), "w", encoding="utf-8") as f:
            f.write(pnorm(q["text"]))
    with open(os.path.join(qdir, "sample.jsonl"), "w", encoding="utf-8") as f:
        for q in halves["held_out"]:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    dump_files = list_dump(args.dump)
    ndocs = []
    for rel in dump_files:
        with open(os.path.join(args.dump, rel), "rb") as f:
            text = pnorm(f.read().decode("utf-8", errors="replace"))
        os.makedirs(os.path.dirname(os.path.join(ndump, rel)), exist_ok=True)
        with open(os.path.join(ndump, rel), "w", encoding="utf-8") as f:
            f.write(text)
        ndocs.append([rel, text])
    split = json.load(open(os.path.join(ROOT, "corpus", "split.json")))
    for k, v in split.get("boilerplate", {}).items():
        with open(os.path.join(bpdir, k + ".txt"), "w", encoding="utf-8") as f:
            f.write(pnorm(v))
    counts = {h: {g: sum(1 for q in qs if group_of(q["case"]) == g) for g in GROUPS} for h, qs in halves.items()}
    result = {"dump": os.path.relpath(args.dump, ROOT), "dump_files": len(dump_files), "posts": counts,
              "seed": args.seed, "tools": {}}
    tune, held = halves["tune"], halves["held_out"]
    runners = {
        "leakprint": lambda: run_leakprint(args, qdir, args.out),
        "grep": lambda: run_grep(args, held),
        "copydetect": lambda: run_copydetect(args, nposts, ndump, bpdir),
        "dolos": lambda: run_dolos(args, queries, ndocs, args.out),
        "ssdeep": lambda: run_ssdeep(args, nposts, ndump, args.out),
        "tlsh": lambda: run_tlsh(args, queries, ndocs),
    }
    for name in args.tools.split(","):
        print(f"peers: {name} ...", file=sys.stderr, flush=True)
        try:
            r = runners[name]()
            if isinstance(r, tuple):
                values, meta = r
                r = {**meta, **tune_and_score(name, values, tune, held)}
        except Exception as e:  # a peer that fails is reported, not fatal
            r = {"error": f"{type(e).__name__}: {e}"}
        result["tools"][name] = r
        print(f"peers: {name}: {r.get('threshold')} {json.dumps(r.get('groups', r.get('error')))}",
              file=sys.stderr, flush=True)
    with open(os.path.join(args.out, "peers.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
