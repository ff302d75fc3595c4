#!/usr/bin/env python3
"""P3: POST /internal/devices/bulk_upsert with 10,000-device batches, end to end.

Builds every body first, then posts them one after another on one keep-alive connection and
reports the devices written per second of wall time (JSON on stdout). Half the batches create
new devices, half replace devices of the standard dataset.

    bulk_upsert.py --url http://127.0.0.1:PORT --cookie 'a=b; c=d' --csrf TOKEN [--batches 10]
"""
import argparse
import http.client
import json
import sys
import time
from urllib.parse import urlparse


def batch(start, size, prefix):
    return json.dumps([
        {"device_id": f"{prefix}-{n:06d}", "name": f"Bulk device {n}", "manufacturer": "Acme",
         "model": f"M-{n % 37}", "area_id": f"area_{n % 50 + 1:02d}", "integration": "mqtt",
         "last_seen": "2026-01-01T00:00:00Z"}
        for n in range(start, start + size)
    ]).encode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--cookie", required=True)
    p.add_argument("--csrf", required=True)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--size", type=int, default=10_000)
    a = p.parse_args()
    bodies = []
    for b in range(a.batches):
        if b % 2 == 0:
            bodies.append(batch(b * a.size + 1, a.size, "bulk"))
        else:
            bodies.append(batch(b * a.size + 1, a.size, "dev"))
    u = urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    headers = {"Content-Type": "application/json", "Cookie": a.cookie, "X-CSRF-Token": a.csrf}
    latencies = []
    written = 0
    t0 = time.perf_counter()
    for body in bodies:
        s = time.perf_counter()
        conn.request("POST", "/internal/devices/bulk_upsert", body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        latencies.append((time.perf_counter() - s) * 1000)
        if res.status != 200:
            print(f"bulk upsert answered {res.status}: {data[:300]!r}", file=sys.stderr)
            sys.exit(1)
        written += json.loads(data)["upserted"]
    elapsed = time.perf_counter() - t0
    print("batches ms: " + " ".join(f"{x:.0f}" for x in latencies), file=sys.stderr)
    print(json.dumps({"devices": written, "seconds": round(elapsed, 3),
                      "devices_per_s": round(written / elapsed),
                      "batch_ms_max": round(max(latencies), 1),
                      "batch_ms_median": round(sorted(latencies)[len(latencies) // 2], 1)}))


if __name__ == "__main__":
    main()
