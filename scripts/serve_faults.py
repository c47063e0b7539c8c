#!/usr/bin/env python3
"""Hostile clients against a running `leakprint serve` (loopback only).

    scripts/serve_faults.py --addr 127.0.0.1:7700 --post post.json [--malformed 10000]

Runs, in order, and prints one markdown table row per check:
  - a slow client: the request trickled over ~2 s in 20 pieces, answered 200;
  - a stalled body: headers and part of a body, then nothing; the server
    answers 408 once the request's time is up, and others meanwhile;
  - clients disconnecting mid-headers and mid-body (100 of them);
  - N malformed requests (garbage, bad lengths, bad chunking, bad JSON,
    huge headers, wrong versions), each on its own connection;
after each, a real post must still be answered 200 with the same matches.
Bounded: every socket has a timeout, every loop a count. Exit 1 on failure.
"""

import argparse
import json
import socket
import sys
import time


def http(addr, data, timeout=30.0):
    """Send raw bytes, read to EOF; (status or None, body bytes)."""
    host, port = addr
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        raw = b""
        try:
            while complete(raw) is None:
                b = s.recv(65536)
                if not b:
                    break
                raw += b
        except OSError:
            pass
    head, _, body = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = None
    return status, body


def complete(raw):
    """The length of the first whole response in `raw` (the server may
    keep the connection open after it), else None."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            n = int(value.strip())
            return len(head) + 4 + n if len(body) >= n else None
    return None


def post(addr, body, path="/v1/match"):
    req = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    return http(addr, req)


def malformed(i):
    kinds = [
        b"GARBAGE\r\n\r\n",
        b"POST /v1/match HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{{{",
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"text\":5}",
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x00" * 512,
        b"GET /healthz HTTP/9.9\r\n\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nX: " + b"b" * 500000 + b"\r\n\r\n",
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /v1/match/file?name=" + b"%" * 3000 + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx",
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
    ]
    return kinds[i % len(kinds)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--post", required=True, help="a JSON body for /v1/match that matches")
    ap.add_argument("--malformed", type=int, default=10000)
    ap.add_argument("--stall-wait", type=float, default=60.0)
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    addr = (host, int(port))
    body = open(a.post, "rb").read()
    status, ref = post(addr, body)
    assert status == 200, (status, ref)
    expected = json.loads(ref)["matches"]
    assert expected, "the reference post must match something"
    failures = 0

    def healthy(what):
        nonlocal failures
        s, b = post(addr, body)
        ok = s == 200 and json.loads(b)["matches"] == expected
        failures += not ok
        return "yes" if ok else f"NO ({s})"

    print("| check | result | still answers correctly |")
    print("|---|---|---|")

    t0 = time.time()
    req = (
        f"POST /v1/match HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection(addr, timeout=30) as s:
        step = len(req) // 20 + 1
        for i in range(0, len(req), step):
            s.sendall(req[i : i + step])
            time.sleep(0.1)
        raw = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            raw += b
    st = int(raw.split(b" ", 2)[1])
    failures += st != 200
    print(f"| slow client (20 pieces over {time.time() - t0:.1f} s) | {st} | {healthy('slow')} |")

    t0 = time.time()
    stalled = socket.create_connection(addr, timeout=a.stall_wait)
    stalled.sendall(
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{\"text\":"
    )
    meanwhile = healthy("stall")
    raw = b""
    try:
        while True:
            b = stalled.recv(65536)
            if not b:
                break
            raw += b
    except OSError:
        pass
    stalled.close()
    st = raw.split(b" ", 2)[1].decode() if raw else "closed"
    failures += st != "408"
    print(f"| stalled body (answered after {time.time() - t0:.1f} s) | {st} | {meanwhile} |")

    big = json.dumps({"text": "word " * 2000}).encode()
    full = (
        f"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(big)}\r\n\r\n"
    ).encode() + big
    for i in range(100):
        with socket.create_connection(addr, timeout=10) as s:
            s.sendall(full[: 20 + (i * 97) % (len(full) - 20)])
    print(f"| 100 clients disconnecting mid-headers or mid-body | closed | {healthy('cut')} |")

    t0 = time.time()
    statuses = {}
    for i in range(a.malformed):
        st, _ = http(addr, malformed(i), timeout=10)
        statuses[st] = statuses.get(st, 0) + 1
    dist = ", ".join(f"{k or 'closed'}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))
    print(f"| {a.malformed} malformed requests in {time.time() - t0:.1f} s | {dist} | {healthy('malformed')} |")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
