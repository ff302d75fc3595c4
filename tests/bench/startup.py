#!/usr/bin/env python3
"""Start-up time of the metadeck server: process spawn → first 200 from GET /healthz.

    startup.py --bin target/release/metadeck --port 18300 --runs 5 [--cwd DIR] [--log FILE]

The database comes from the environment (DATABASE_URL, METADECK_SECRET_KEY, …), already
migrated. Each run spawns the server, polls /healthz in a tight loop (a fresh connection per
try, 0.5 ms apart), stops the server with SIGTERM and waits for it to exit. Prints one JSON
object: {"runs_ms": [...], "median_ms": …, "best_ms": …}.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def first_ok(port: int, deadline: float) -> float | None:
    while time.perf_counter() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return time.perf_counter()
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.0005)
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    env = dict(os.environ, METADECK_BIND=f"127.0.0.1:{args.port}")
    runs = []
    with open(args.log, "ab") as log:
        for _ in range(args.runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen([args.bin, "serve"], env=env, cwd=args.cwd,
                                    stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            t1 = first_ok(args.port, t0 + args.timeout)
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print("the server did not stop within 35 s of SIGTERM", file=sys.stderr)
                return 1
            if t1 is None:
                print(f"no 200 from /healthz within {args.timeout} s (exit code {code})", file=sys.stderr)
                return 1
            runs.append((t1 - t0) * 1000.0)

    print(json.dumps({
        "runs_ms": [round(r, 1) for r in runs],
        "median_ms": round(statistics.median(runs), 1),
        "best_ms": round(min(runs), 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
