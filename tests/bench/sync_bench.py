#!/usr/bin/env python3
"""Sync benchmarks against a running metadeck server, signed in as the admin (session cookie +
X-CSRF-Token; bearer tokens will replace them once the OAuth area lands).

    sync_bench.py --base http://127.0.0.1:PORT --password PW live   [--updates 60]
    sync_bench.py --base http://127.0.0.1:PORT --password PW patch  [--clients 64] [--seconds 10]

live   P5: one sync reports its progress (1, 2, 3, …), a report every 100 ms; a dashboard
       event stream (/sync/events, as the /sync page opens it) is read on another connection.
       Latency = from just before sending the PATCH to the moment the stream shows that
       progress. Prints {"updates", "p50_ms", "p95_ms", "max_ms", "missed"}.
patch  P4 (sync part): CLIENTS workers, each on its own keep-alive connection, each reporting
       on its own tenant's running sync as fast as it can for SECONDS; every acknowledged
       report sets users_count to the number of reports acknowledged so far. Afterwards each
       sync must show exactly its worker's acknowledged count. Prints {"clients", "seconds",
       "acknowledged", "writes_per_s", "errors", "lost", "p50_ms", "p99_ms"}.
Both end the syncs they started (completed), so the dashboard is left quiet.
"""

import argparse
import http.client
import json
import re
import statistics
import sys
import threading
import time
import urllib.parse
import uuid


class Session:
    """The admin's session cookie and CSRF token."""

    def __init__(self, base: str, password: str):
        url = urllib.parse.urlparse(base)
        self.host, self.port = url.hostname, url.port
        conn = self.connect()
        conn.request("GET", "/login")
        res = conn.getresponse()
        page = res.read().decode()
        cookies = self.cookies(res)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "username": "admin", "password": password, "next": "/"}
        )
        conn.request("POST", "/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        })
        res = conn.getresponse()
        res.read()
        if res.status != 303:
            raise SystemExit(f"sign-in failed: {res.status}")
        cookies.update(self.cookies(res))
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request("GET", "/", headers={"Cookie": self.cookie})
        page = conn.getresponse().read().decode()
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        conn.close()

    @staticmethod
    def cookies(res) -> dict:
        out = {}
        for header, value in res.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                out[name] = rest.split(";")[0]
        return out

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, conn, method: str, path: str, body=None):
        headers = {"Cookie": self.cookie, "X-CSRF-Token": self.csrf}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        payload = res.read()
        return res.status, (json.loads(payload) if payload else None)


def start_sync(session: Session, conn, tenant: str) -> int:
    status, body = session.call(conn, "POST", "/api/sync/runs",
                                {"tenant_id": tenant, "sync_type": "sqlite"})
    if status != 201:
        raise SystemExit(f"starting a sync for {tenant} failed: {status} {body}")
    return body["id"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def live(session: Session, updates: int) -> dict:
    tenant = f"bench-live-{uuid.uuid4().hex[:8]}"
    conn = session.connect()
    sync_id = start_sync(session, conn, tenant)
    seen = {}  # progress -> time first shown
    cond = threading.Condition()
    ready = threading.Event()

    def read_stream():
        stream = session.connect()
        stream.request("GET", "/sync/events", headers={"Cookie": session.cookie})
        res = stream.getresponse()
        event, data = None, None
        while True:
            line = res.fp.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and event:
                if event == "cards":
                    now = time.perf_counter()
                    for card in json.loads(data):
                        if card["tenant_id"] == tenant:
                            with cond:
                                seen.setdefault(card["progress"], now)
                                cond.notify_all()
                    ready.set()
                event, data = None, None

    threading.Thread(target=read_stream, daemon=True).start()
    if not ready.wait(10):
        raise SystemExit("the event stream sent nothing within 10 s")
    latencies, missed = [], 0
    for progress in range(1, updates + 1):
        t0 = time.perf_counter()
        status, _ = session.call(conn, "PATCH", f"/api/sync/runs/{sync_id}",
                                 {"progress_percentage": progress})
        if status != 200:
            raise SystemExit(f"PATCH failed: {status}")
        with cond:
            cond.wait_for(lambda: progress in seen, timeout=5)
            shown = seen.get(progress)
        if shown is None:
            missed += 1
        else:
            latencies.append((shown - t0) * 1000)
        time.sleep(0.1)
    session.call(conn, "PATCH", f"/api/sync/runs/{sync_id}", {"status": "completed"})
    return {
        "updates": updates,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "missed": missed,
    }


def patch(session: Session, clients: int, seconds: float) -> dict:
    run = uuid.uuid4().hex[:8]
    setup = session.connect()
    syncs = [start_sync(session, setup, f"bench-p4-{run}-{i:02d}") for i in range(clients)]
    acked = [0] * clients
    errors = [0] * clients
    latencies = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(i: int):
        conn = session.connect()
        path = f"/api/sync/runs/{syncs[i]}"
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            try:
                status, _ = session.call(conn, "PATCH", path, {"users_count": acked[i] + 1})
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = session.connect()
                continue
            if status == 200:
                acked[i] += 1
                latencies[i].append((time.perf_counter() - t0) * 1000)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lost = 0
    # The set-up connection idled past the server's keep-alive during the run: a new one.
    setup.close()
    setup = session.connect()
    for i, sync_id in enumerate(syncs):
        status, body = session.call(setup, "GET", f"/api/sync/runs/{sync_id}")
        if status != 200 or body["users_count"] != acked[i]:
            lost += 1
        session.call(setup, "PATCH", f"/api/sync/runs/{sync_id}", {"status": "completed"})
    all_latencies = [x for per in latencies for x in per]
    total = sum(acked)
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "acknowledged": total,
        "writes_per_s": round(total / elapsed),
        "errors": sum(errors),
        "lost": lost,
        "p50_ms": round(statistics.median(all_latencies), 2) if all_latencies else None,
        "p99_ms": round(percentile(all_latencies, 99), 2) if all_latencies else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--password", required=True)
    sub = ap.add_subparsers(dest="command", required=True)
    p_live = sub.add_parser("live")
    p_live.add_argument("--updates", type=int, default=60)
    p_patch = sub.add_parser("patch")
    p_patch.add_argument("--clients", type=int, default=64)
    p_patch.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    session = Session(args.base, args.password)
    if args.command == "live":
        result = live(session, args.updates)
    else:
        result = patch(session, args.clients, args.seconds)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
