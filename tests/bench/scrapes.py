"""Scrapes /metrics every 100 ms for a while and reports the scrape times.

    scrapes.py URL TOKEN SECONDS

Prints "<p50 ms> <p95 ms> <scrapes>".
"""

import sys
import time
import urllib.request

url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
times = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    started = time.monotonic()
    urllib.request.urlopen(req, timeout=10).read()
    times.append((time.monotonic() - started) * 1000)
    time.sleep(0.1)
times.sort()
print(f"{times[len(times) // 2]:.2f} {times[int(len(times) * 0.95)]:.2f} {len(times)}")
