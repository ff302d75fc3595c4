#!/usr/bin/env python3
"""Sync benchmarks against a running metadeck server, signed in as the admin (session cookie +
X-CSRF-Token; bearer tokens will replace them once the OAuth area lands).

    sync_bench.py --base http://127.0.0.1:PORT --password PW live   [--updates 60]
    sync_bench.py --base http://127.0.0.1:PORT --password PW start  [--clients 32]
    sync_bench.py --base http://127.0.0.1:PORT --password PW verify --acked FILE

live   P5: one sync reports its progress (1, 2, 3, …), a report every 100 ms; a dashboard
       event stream (/sync/events, as the /sync page opens it) is read on another connection.
       Latency = from just before sending the PATCH to the moment the stream shows that
       progress. Prints {"updates", "p50_ms", "p95_ms", "max_ms", "missed"}.
start  P4 (sync part): starts CLIENTS syncs, one per tenant, and prints their ids,
       comma-separated, for sync_patch.lua (wrk, one thread per client).
verify P4 (sync part): reads sync_patch.lua's "sync_id acknowledged errors" lines, checks that
       each sync holds its client's acknowledged count (or one more: the report in flight at
       the cut-off) and completes the syncs. Prints {"acknowledged", "errors", "lost"}.
live and verify end the syncs they used (completed), so the dashboard is left quiet.
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


def start(session: Session, clients: int) -> str:
    """Starts CLIENTS syncs, each for a tenant of its own; their ids, comma-separated."""
    run = uuid.uuid4().hex[:8]
    conn = session.connect()
    ids = [start_sync(session, conn, f"bench-p4-{run}-{i:02d}") for i in range(clients)]
    conn.close()
    return ",".join(str(i) for i in ids)


def verify(session: Session, acked_file: str) -> dict:
    """Checks each sync against its client's acknowledged count, then completes it."""
    acknowledged = errors = lost = 0
    conn = session.connect()
    with open(acked_file) as f:
        for line in f:
            sync_id, acked, errs = line.split()
            acked, errs = int(acked), int(errs)
            acknowledged += acked
            errors += errs
            status, body = session.call(conn, "GET", f"/api/sync/runs/{sync_id}")
            # The report in flight when the load stopped may be stored without its answer
            # having been read: one more than acknowledged is not a lost write; fewer is.
            if status != 200 or body["users_count"] not in (acked, acked + 1):
                lost += 1
            session.call(conn, "PATCH", f"/api/sync/runs/{sync_id}", {"status": "completed"})
    return {"acknowledged": acknowledged, "errors": errors, "lost": lost}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--password", required=True)
    sub = ap.add_subparsers(dest="command", required=True)
    p_live = sub.add_parser("live")
    p_live.add_argument("--updates", type=int, default=60)
    p_start = sub.add_parser("start")
    p_start.add_argument("--clients", type=int, default=32)
    p_verify = sub.add_parser("verify")
    p_verify.add_argument("--acked", required=True)
    args = ap.parse_args()
    session = Session(args.base, args.password)
    if args.command == "live":
        print(json.dumps(live(session, args.updates)))
    elif args.command == "start":
        print(start(session, args.clients))
    else:
        print(json.dumps(verify(session, args.acked)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
