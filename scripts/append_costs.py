#!/usr/bin/env python3
"""Append and segment-count costs (issue 17.6), hand-run; prints the tables of
BENCHMARKS.md "Growing an index".
Dump: linux-doc 6.1 text (Debian linux-doc_6.1.192-3, 15,427 regular files, 189.6 MB),
or --dump DIR.
"""
import json, os, random, resource, shutil, subprocess, sys, time
LP = '/work/main/target/release/leakprint'
W = os.environ.get('APPEND_COSTS_DIR', '/tmp/appb')
os.makedirs(W, exist_ok=True)
os.chdir(W)
for d in os.listdir(W):
    if d.startswith(('idx-', 'tree-')):
        shutil.rmtree(d)
import argparse
ap = argparse.ArgumentParser()
ap.add_argument('--dump', default='/tmp/A-data/ld')
ap.add_argument('--no-segments', action='store_true', help='skip the 1/10/100-segment matching runs')
args = ap.parse_args()
files = sorted(p for p in (os.path.join(dp, f) for dp, _, fs in os.walk(args.dump) for f in fs) if os.path.isfile(p) and not os.path.islink(p))
random.seed(17); random.shuffle(files)
def tree(name, fl):
    for i, f in enumerate(fl):
        dst = os.path.join(W, name, f'{i // 500:03}', f'{i:05}-' + os.path.basename(f))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.link(f, dst)
    return os.path.join(W, name)
batch, size = [], 0
for f in files:
    if size >= 10_000_000: break
    batch.append(f); size += os.path.getsize(f)
rest = files[len(batch):]
tb, tr = tree('tree-batch', batch), tree('tree-rest', rest)
def run(args):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([LP] + args, capture_output=True)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        sys.exit(p.stderr.decode())
    return dt, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), p
def med(args, n=3, setup=None):
    out = []
    for _ in range(n):
        if setup: setup()
        out.append(run(args)[:2])
    out.sort()
    return out[len(out) // 2]
rows = []
def cat(p):
    for dp, _, fs in os.walk(p):
        for f in fs: open(os.path.join(dp, f), 'rb').read()
cat(tb); cat(tr)
# the base: everything but the batch, one thread
dt, cpu, _ = run(['index', '--threads', '1', tr, '--output', 'idx-base'])
rows.append(f"| index the base ({(sum(os.path.getsize(f) for f in rest))/1e6:.0f} MB), 1 thread | {dt:.2f} | {cpu:.2f} |")
shutil.copytree('idx-base', 'idx-pristine')
def reset():
    shutil.rmtree('idx-base'); shutil.copytree('idx-pristine', 'idx-base')
def fresh():
    if os.path.exists('idx-fresh'): shutil.rmtree('idx-fresh')
dt, cpu = med(['index', '--threads', '1', tb, '--output', 'idx-fresh'], setup=fresh)
rows.append(f"| index the batch alone ({size/1e6:.1f} MB), 1 thread | {dt:.2f} | {cpu:.2f} |")
dt, cpu = med(['index', '--threads', '1', tb, '--output', 'idx-base', '--append'], setup=reset)
rows.append(f"| append the batch to the base, 1 thread | {dt:.2f} | {cpu:.2f} |")
dt, cpu = med(['index', '--threads', '1', tb, '--output', 'idx-base', '--append'])
rows.append(f"| append the same batch again (all unchanged), 1 thread | {dt:.2f} | {cpu:.2f} |")
dt, cpu = med(['compact', 'idx-base'], n=1)
rows.append(f"| compact base + batch (2 segments -> 1) | {dt:.2f} | {cpu:.2f} |")
# segments: the whole dump as 1, 10 and 100 appended slices
posts = []
for l in open('/work/main/corpus/queries/negatives.jsonl'):
    posts.append(json.loads(l)['text'])
for l in open('/work/main/corpus/queries/exact.jsonl'):
    posts.append(json.loads(l)['text'])
# quotes of the dump itself: 2,000 windows of 200 bytes
random.seed(5)
for f in random.sample(files, 2000):
    t = open(f, 'rb').read().decode('utf-8', 'replace')
    if len(t) > 400:
        a = random.randrange(0, len(t) - 300); posts.append(t[a:a + 200])
with open('posts.jsonl', 'w') as fo:
    for i, p in enumerate(posts): fo.write(json.dumps({'id': i, 'text': p}) + '\n')
seg_rows = []
for n in (() if args.no_segments else (1, 10, 100)):
    idx = f'idx-seg{n}'
    for i in range(n):
        sl = tree(f'tree-s{n}-{i:03}', files[i::n])
        dt, cpu, _ = run(['index', '--threads', '2', sl, '--output', idx] + (['--append'] if i else []))
    dt, cpu = med(['match', '--threads', '1', '--index', idx, 'posts.jsonl'])
    _, _, p = run(['match', '--threads', '1', '--index', idx, 'posts.jsonl'])
    nm = len(p.stdout.splitlines())
    seg_rows.append(f"| {n} | {len(posts)} | {dt:.2f} | {cpu:.2f} | {len(posts)/cpu:,.0f} | {nm} |")
print("| step | wall s (median of 3) | CPU s |")
print("|---|---|---|")
print("\n".join(rows))
print()
print("| segments | posts | wall s (median of 3) | CPU s | posts per CPU s | matches |")
print("|---|---|---|---|---|---|")
print("\n".join(seg_rows))
