"""P16: a config write through instance A → the new value served by instance B.

    config_propagation.py URL_A URL_B TOKEN TRIALS

Each trial waits a random 0–1 s, PUTs a new value to one key through A, then reads the key through B every 5 ms
until B serves it (at most 10 s). Prints JSON: {"trials", "p50_ms", "p95_ms", "max_ms",
"missed"} (missed: trials B did not show within 10 s).
"""

import json
import random
import sys
import time
import urllib.request

url_a, url_b, token, trials = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
key = "bench.propagation"
auth = {"Authorization": "Bearer " + token}


def put(value):
    body = json.dumps({"value": value}).encode()
    req = urllib.request.Request(
        f"{url_a}/api/gateway/config/{key}",
        data=body,
        method="PUT",
        headers={**auth, "Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10).read()


def served_by_b():
    req = urllib.request.Request(f"{url_b}/api/gateway/config/{key}", headers=auth)
    try:
        return json.load(urllib.request.urlopen(req, timeout=10))["value"]
    except urllib.error.HTTPError:
        return None


times, missed = [], 0
put({"trial": -1})
for trial in range(trials):
    # B reads (and caches) the current value first, so each trial measures an invalidation.
    served_by_b()
    # Writes come at random moments, not in step with B's polls (a trial that ends right after
    # a poll would otherwise always start the next one a whole interval before the next poll).
    time.sleep(random.uniform(0, 1.0))
    value = {"trial": trial}
    started = time.monotonic()
    put(value)
    while True:
        elapsed = time.monotonic() - started
        if served_by_b() == value:
            times.append(elapsed * 1000)
            break
        if elapsed > 10:
            missed += 1
            break
        time.sleep(0.005)
times.sort()
n = len(times)
print(json.dumps({
    "trials": trials,
    "p50_ms": round(times[n // 2], 1) if n else None,
    "p95_ms": round(times[min(n - 1, int(n * 0.95))], 1) if n else None,
    "max_ms": round(times[-1], 1) if n else None,
    "missed": missed,
}))
