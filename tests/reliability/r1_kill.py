#!/usr/bin/env python3
"""R1: kill -9 the server during bulk upserts, N times (default 50), on SQLite.

Each round starts `metadeck serve` on the same database file, signs the admin in, posts
batches of devices to /internal/devices/bulk_upsert from a writer thread (every batch has its
own id prefix), and kills the server with SIGKILL at a random moment. After each kill:

  * `metadeck check` must pass (integrity check, foreign keys, audit chain);
  * every batch sent is wholly present or wholly absent;
  * every batch the server acknowledged with 200 is present.

    r1_kill.py --bin target/release/metadeck [--rounds 50] [--batch 2000] [--keep DIR]

Without --keep the work goes to a temporary folder, removed when every round passes.
Exit 0 when every round passes; 1 otherwise (the failures are printed).
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

SECRET = "r1-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmn"
PASSWORD = "r1-admin-password-2026"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, env, port, log):
        self.port = port
        self.proc = subprocess.Popen([binary, "serve"], env={**env, "METADECK_BIND": f"127.0.0.1:{port}"},
                                     stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited at start")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the server did not answer /healthz")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def sign_in(port):
    """Returns (cookie header, csrf token) of a fresh admin session."""
    jar = {}

    def request(method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        h = dict(headers or {})
        if jar:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                jar[name] = rest.split(";")[0]
        return r.status, r.read().decode(errors="replace")

    _, page = request("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    from urllib.parse import urlencode
    status, _ = request("POST", "/login", urlencode({"csrf_token": token, "username": "admin",
                                                     "password": PASSWORD, "next": "/"}),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 303:
        raise RuntimeError(f"sign-in answered {status}")
    _, home = request("GET", "/")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)
    return "; ".join(f"{k}={v}" for k, v in jar.items()), csrf


def writer(port, cookie, csrf, round_no, size, sent, acked, stop):
    b = 0
    while not stop.is_set():
        prefix = f"r1-{round_no:03d}-{b:04d}"
        body = json.dumps([{"device_id": f"{prefix}-{n:06d}", "name": f"R1 {prefix} {n}",
                            "area_id": f"area_{n % 50}"} for n in range(size)]).encode()
        sent.append(prefix)
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", "/internal/devices/bulk_upsert", body=body,
                      headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
            r = c.getresponse()
            r.read()
            if r.status == 200:
                acked.append(prefix)
            else:
                print(f"  batch {prefix} answered {r.status}", file=sys.stderr)
        except OSError:
            return  # the server was killed
        b += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--batch", type=int, default=2000)
    p.add_argument("--keep")
    a = p.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="metadeck-r1-")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "r1.db")
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": f"sqlite://{db}?mode=rwc",
           "METADECK_SECRET_KEY": SECRET, "METADECK_ADMIN_PASSWORD": PASSWORD, "METADECK_LOG": "warn"}
    log = open(os.path.join(work, "server.log"), "ab")
    subprocess.run([a.bin, "migrate", "up"], env=env, check=True, stdout=log, stderr=log)
    failures = []
    rng = random.Random(1)
    for round_no in range(1, a.rounds + 1):
        port = free_port()
        server = Server(a.bin, env, port, log)
        cookie, csrf = sign_in(port)
        sent, acked, stop = [], [], threading.Event()
        t = threading.Thread(target=writer, args=(port, cookie, csrf, round_no, a.batch, sent, acked, stop))
        t.start()
        time.sleep(rng.uniform(0.3, 2.5))
        server.kill()
        stop.set()
        t.join()
        check = subprocess.run([a.bin, "check", "--json"], env=env, capture_output=True, text=True)
        problems = []
        if check.returncode != 0:
            problems.append(f"metadeck check failed: {check.stdout.strip()} {check.stderr.strip()}")
        con = sqlite3.connect(db)
        present = 0
        for prefix in sent:
            # A key range, not LIKE (which SQLite cannot read off the primary key): "." follows "-".
            n = con.execute("SELECT COUNT(*) FROM devices WHERE device_id >= ? AND device_id < ?",
                            (prefix + "-", prefix + ".")).fetchone()[0]
            if n not in (0, a.batch):
                problems.append(f"batch {prefix} is partly present: {n} of {a.batch}")
            if prefix in acked and n != a.batch:
                problems.append(f"acknowledged batch {prefix} is missing ({n} rows)")
            present += n == a.batch
        # The round's devices go once checked, so that each round's integrity check reads a
        # database of about the same size instead of one growing by 200,000 devices a round.
        with con:
            con.execute("DELETE FROM devices WHERE device_id >= ? AND device_id < ?",
                        (f"r1-{round_no:03d}-", f"r1-{round_no:03d}."))
        con.close()
        status = "ok" if not problems else "FAILED"
        print(f"round {round_no:2d}: {len(sent)} batches sent, {len(acked)} acknowledged, "
              f"{present} present — {status}", flush=True)
        failures.extend(f"round {round_no}: {p}" for p in problems)
    log.close()
    if failures:
        print("\n".join(failures))
        print(f"the database and the server log are kept in {work}")
        return 1
    if not a.keep:
        shutil.rmtree(work)
    print(f"R1 passed: {a.rounds} kills, integrity check ok and every batch whole or absent each time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
