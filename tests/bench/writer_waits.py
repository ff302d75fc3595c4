"""Writes one small change after another while something else runs, and reports the longest.

    writer_waits.py BASE_URL COOKIE CSRF STOP_FILE

Sends PUT /api/me/preferences (a write transaction) in a loop, as the signed-in admin, until
STOP_FILE exists; prints "<longest ms> <median ms> <writes> <failures>". Used beside a purge
to show how long a concurrent write waits at worst.
"""

import json
import os
import sys
import time
import urllib.request

base, cookie, csrf, stop = sys.argv[1:5]
body = json.dumps({"ui": {"page_size": 25}}).encode()
times, failures = [], 0
while not os.path.exists(stop):
    req = urllib.request.Request(
        base + "/api/me/preferences",
        data=body,
        method="PUT",
        headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        urllib.request.urlopen(req, timeout=30).read()
        times.append((time.monotonic() - started) * 1000)
    except Exception:  # noqa: BLE001 - a failed write is counted, not fatal
        failures += 1
    time.sleep(0.005)
times.sort()
if not times:
    times = [0.0]
print(f"{times[-1]:.1f} {times[len(times) // 2]:.1f} {len(times)} {failures}")
