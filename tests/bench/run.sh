#!/usr/bin/env bash
# Metadeck's benchmark (spec 10): one command, one table.
#
#   tests/bench/run.sh                                   # SQLite: a fresh tests/bench/out/bench.db
#   tests/bench/run.sh --postgres 'postgres://postgres@%2Fvar%2Frun%2Fpostgresql/metadeck_bench'   # socket
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/metadeck_bench tests/bench/run.sh
#
# It builds the release binary (`cargo build --release`), creates a fresh database (a PostgreSQL
# database named in the URL is DROPPED and re-created, so its name must contain "bench"), runs
# `metadeck migrate up`, loads the standard dataset with dataset.sql / dataset.pg.sql, starts the
# release server on a free loopback port as its own process, drives load from separate processes
# (wrk, and a Python poller for start-up), and prints ONE markdown table:
#
#   | id | what | result | bar | backend |
#
# Everything it writes goes to tests/bench/out/ (results.md, wrk output, server logs, bench.db).
# The load generator runs on the same 2-core machine as the server, so it takes CPU from it;
# the results say so.
#
# Options / environment:
#   --postgres URL | BENCH_DATABASE_URL   PostgreSQL instead of SQLite
#   --no-build                            use the existing target/release/metadeck
#   --scale K                             P17 instead of the usual rows: the P17 rows on the
#                                         standard dataset, then on K times its rows (scale.sql
#                                         / scale.pg.sql), side by side with their ratios
#   BENCH_PORT          server port (default: a free one)
#   BENCH_CONNECTIONS   connections for the HTTP load (default 32)
#   BENCH_DURATION      seconds of each HTTP load (default 10)
#   BENCH_THREADS       wrk threads (default 2)
#   BENCH_LOG           the server's METADECK_LOG during the run (default warn: no per-request lines)
#   BENCH_ONLY          run only these measurements (space-separated function names, e.g.
#                       "measure_registry_get measure_registry_list"); for profiling one row
#
# Adding a row:
#   1. write a function `measure_<name>` below. It may use $BASE_URL, $SERVER_PID (the running
#      server), $BIN, $BACKEND, $OUT and the helpers `run_wrk`, `rss_mb`, `start_server`,
#      `stop_server`;
#   2. in it, report each number with
#        bench_row ID "what" VALUE UNIT CMP BAR
#      where CMP is `le` (bar "≤ BAR UNIT"), `ge` (bar "≥ BAR UNIT") or `-` (no bar; BAR is then
#      free text or "—"), e.g.  bench_row P8 "start-up" 85 ms le 300;
#   3. append the function's name to MEASUREMENTS (they run in that order, on one server
#      started once the measurements that need their own process are done).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/tests/bench
OUT=$BENCH/out
cd "$ROOT"

DB_URL=${BENCH_DATABASE_URL:-}
BUILD=1
SCALE=
while [[ $# -gt 0 ]]; do
    case $1 in
        --postgres) DB_URL=${2:?--postgres needs a URL}; shift 2 ;;
        --postgres=*) DB_URL=${1#--postgres=}; shift ;;
        --no-build) BUILD=; shift ;;
        --scale) SCALE=${2:?--scale needs a factor}; shift 2 ;;
        --scale=*) SCALE=${1#--scale=}; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

CONNECTIONS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10}
THREADS=${BENCH_THREADS:-2}
SECRET_KEY="bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghij"

# Measurements that need the server started many times (each manages its own processes).
STANDALONE=(measure_startup measure_webhook_delivery)
# Measurements against one long-running server, in order.
# Everything that signs in runs before measure_logins, whose sign-in storm trips the throttle.
MEASUREMENTS=(measure_idle_rss measure_healthz_load measure_oauth_tokens measure_bearer_api
    measure_registry_get measure_metrics_scrape measure_registry_list measure_registry_page
    measure_registry_bulk measure_writes measure_ops_events_batch measure_ops_events_single
    measure_ops_resource_get measure_ops_run_page measure_sync_live measure_logins measure_purge
    measure_rss_after_load)

mkdir -p "$OUT"
export PATH="$HOME/.cargo/bin:$PATH"
SERVER_PID=
ROWS=()
MISSED=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
    set +e
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# helpers

# bench_row ID WHAT VALUE UNIT CMP BAR — one row of the final table.
bench_row() {
    local id=$1 what=$2 value=$3 unit=$4 cmp=$5 bar=$6 result bar_text
    result="$(fmt_num "$value") $unit"
    case $cmp in
        le) bar_text="≤ $(fmt_num "$bar") $unit" ;;
        ge) bar_text="≥ $(fmt_num "$bar") $unit" ;;
        *) bar_text=$bar ;;
    esac
    if [[ $cmp == le || $cmp == ge ]]; then
        if ! awk -v v="$value" -v b="$bar" -v c="$cmp" 'BEGIN { exit !((c == "le" && v <= b) || (c == "ge" && v >= b)) }'; then
            MISSED+=("$id $what: $result (bar $bar_text)")
        fi
    fi
    ROWS+=("| $id | $what | $result | $bar_text | $BACKEND |")
    log "row: $id | $what | $result | $bar_text"
}

# Thousands separators for integers; numbers with a fraction are kept as they are.
fmt_num() {
    local n=$1
    if [[ $n =~ ^[0-9]+$ ]]; then
        printf '%s' "$n" | rev | sed -E 's/([0-9]{3})/\1,/g; s/,$//' | rev
    else
        printf '%s' "$n"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The server's environment: the database, a fixed key, the log level.
# P4 creates its webhooks on a loopback address, which the server refuses unless private
# networks are allowed; they are created disabled, so nothing is ever sent to them.
server_vars() {
    SERVER_VARS=(DATABASE_URL="$DB_URL" METADECK_SECRET_KEY="$SECRET_KEY" METADECK_LOG="${BENCH_LOG:-warn}"
        METADECK_ADMIN_PASSWORD="bench-admin-password-2026" METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)
}

# server_env CMD… — runs CMD with the server's environment.
server_env() {
    server_vars
    env "${SERVER_VARS[@]}" "$@"
}

start_server() {
    local name=${1:-server}
    # exec: $SERVER_PID is the server process itself (its /proc/PID/status gives the RSS).
    server_vars
    (cd "$OUT" && exec env "${SERVER_VARS[@]}" METADECK_BIND="127.0.0.1:$PORT" "$BIN" serve) >"$OUT/$name.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 300); do
        curl -sf -o /dev/null "$BASE_URL/healthz" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/$name.log" >&2; die "the server exited at start"; }
        sleep 0.1
    done
    die "the server did not answer /healthz within 30 s"
}

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

# Resident set size of the server in MB (one decimal).
rss_mb() {
    local field=${1:-VmRSS}
    awk -v f="$field:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"
}

# run_wrk NAME PATH [extra wrk args…] — runs wrk with --latency, keeps its output in
# $OUT/wrk-NAME.txt and sets WRK_RPS, WRK_P50_MS, WRK_P99_MS, WRK_ERRORS, WRK_REQUESTS.
run_wrk() {
    local name=$1 path=$2 file="$OUT/wrk-$1.txt"
    shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$BASE_URL$path" >"$file"
    parse_wrk "$file"
}

# Sets WRK_RPS, WRK_P50_MS, WRK_P99_MS, WRK_ERRORS and WRK_REQUESTS from a `wrk --latency` output file.
parse_wrk() {
    eval "$(python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    n, u = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[u]
lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
errors = 0
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if m:
    errors += sum(int(x) for x in m.groups())
m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if m:
    errors += int(m.group(1))
print(f"WRK_RPS={round(rps)} WRK_P50_MS={ms(lat['50']):.2f} WRK_P99_MS={ms(lat['99']):.2f} "
      f"WRK_ERRORS={errors} WRK_REQUESTS={requests}")
PY
)"
}

# ---------------------------------------------------------------------------------------------
# measurements

# P8: spawn → first 200 from /healthz on the migrated database, median of 5 starts.
measure_startup() {
    local json median best
    json=$(server_env python3 "$BENCH/startup.py" --bin "$BIN" --port "$PORT" --runs 5 \
        --cwd "$OUT" --log "$OUT/startup.log")
    echo "$json" >"$OUT/startup.json"
    median=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["median_ms"])' "$json")
    best=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["best_ms"])' "$json")
    log "start-up runs (ms): $json"
    bench_row P8 "start-up: spawn → first 200 /healthz (median of 5; best $best ms)" \
        "$(printf '%.0f' "$median")" ms le 300
}

# P8: resident memory after 2 s idle.
measure_idle_rss() {
    sleep 2
    bench_row P8 "RSS idle (2 s after start)" "$(rss_mb)" MB le 60
}

# /healthz under load: throughput and p99 (P7's /healthz bar, here without logins in flight).
measure_healthz_load() {
    log "warm-up: /healthz, $CONNECTIONS connections, 2 s"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$BASE_URL/healthz" >/dev/null
    log "load: /healthz, $CONNECTIONS connections, ${DURATION} s"
    run_wrk healthz /healthz
    local errs=""
    [[ $WRK_ERRORS -eq 0 ]] || errs=" ($WRK_ERRORS errors)"
    bench_row H1 "/healthz throughput, $CONNECTIONS connections, ${DURATION} s$errs" "$WRK_RPS" "req/s" - "— (reference)"
    bench_row H2 "/healthz p99 latency, $CONNECTIONS connections (P7's bar, no logins)" "$WRK_P99_MS" ms le 20
    if [[ $WRK_ERRORS -ne 0 ]]; then
        MISSED+=("H1 /healthz: $WRK_ERRORS errors of $WRK_REQUESTS requests")
    fi
}

# P8: resident memory right after the load, and its peak.
# Sign-ins (Argon2id on the blocking pool): throughput with 20 in flight, and P7 — /healthz p99
# while those 20 sign-ins are in flight.
measure_logins() {
    local jar="$OUT/login-cookies.txt" token cookie
    # P4's syncs end with sync.completed (another 32,000 deliveries, refused and retried):
    # P7 measures sign-ins, so those deliveries are let run first, as before P4.
    settle_deliveries
    token=$(curl -sf -c "$jar" "$BASE_URL/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
    cookie=$(awk '$6 == "metadeck_csrf" { print $7 }' "$jar")
    export LOGIN_BODY="csrf_token=$token&username=admin&password=bench-admin-password-2026"
    export LOGIN_COOKIE="metadeck_csrf=$cookie"
    wrk -t2 -c20 -d"${DURATION}s" --latency -s "$BENCH/login.lua" "$BASE_URL/login" >"$OUT/wrk-login.txt"
    parse_wrk "$OUT/wrk-login.txt"
    bench_row L1 "sign-ins per second, 20 in flight (errors: $WRK_ERRORS)" "$WRK_RPS" "req/s" - "—"
    wrk -t1 -c20 -d"$((DURATION + 2))s" -s "$BENCH/login.lua" "$BASE_URL/login" >"$OUT/wrk-login-bg.txt" &
    local bg=$!
    sleep 1
    wrk -t1 -c4 -d"${DURATION}s" --latency "$BASE_URL/healthz" >"$OUT/wrk-healthz-during-logins.txt"
    wait "$bg" || true
    parse_wrk "$OUT/wrk-healthz-during-logins.txt"
    bench_row P7 "/healthz p99 with 20 sign-ins in flight (4 connections)" "$WRK_P99_MS" ms le 20
}

# bench_client SCOPES — registers a client with the CLI; sets CLIENT_ID and CLIENT_SECRET.
bench_client() {
    local json
    json=$(cd "$OUT" && server_env "$BIN" client create --name "bench-$RANDOM" --scopes "$1" --json)
    CLIENT_ID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["client_id"])' <<<"$json")
    CLIENT_SECRET=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["client_secret"])' <<<"$json")
}

# bench_token SCOPES — a client-credentials access token holding SCOPES, in BENCH_TOKEN.
bench_token() {
    bench_client "$1"
    BENCH_TOKEN=$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE_URL/oauth/token" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
}

# P10: client-credentials tokens issued per second (each one a stored, audited token).
measure_oauth_tokens() {
    bench_client "users:read"
    export TOKEN_BASIC
    TOKEN_BASIC=$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)
    run_wrk oauth-token /oauth/token -s "$BENCH/token.lua"
    bench_row P10 "POST /oauth/token client_credentials, $CONNECTIONS connections (errors: $WRK_ERRORS)" "$WRK_RPS" "tokens/s" ge 500
}

# The cost of bearer authentication: a cheap JSON route with a token, beside /healthz (H1).
measure_bearer_api() {
    bench_token "users:read"
    run_wrk bearer-users "/api/users?limit=1" -H "Authorization: Bearer $BENCH_TOKEN"
    bench_row B1 "GET /api/users?limit=1 with a bearer token, $CONNECTIONS connections (errors: $WRK_ERRORS)" "$WRK_RPS" "req/s" - "— (compare H1)"
    bench_row B2 "GET /api/users?limit=1 with a bearer token, p99" "$WRK_P99_MS" ms le 20
}

measure_rss_after_load() {
    bench_row P8 "RSS after the /healthz load (peak $(rss_mb VmHWM) MB)" "$(rss_mb)" MB le 200
}

# P5: a sync progress PATCH → the change shown by an open dashboard stream (/sync/events, what
# the /sync page reads), p95 over 60 reports, one every 100 ms (tests/bench/sync_bench.py).
measure_sync_live() {
    local json
    json=$(python3 "$BENCH/sync_bench.py" --base "$BASE_URL" --password bench-admin-password-2026 \
        live --updates 60)
    echo "$json" >"$OUT/sync-live.json"
    log "sync live: $json"
    eval "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(" ".join(f"S_{k.upper()}={v}" for k, v in d.items()))' "$json")"
    bench_row P5 "sync PATCH → shown on an open /sync stream, p95 of $S_UPDATES (p50 $S_P50_MS ms, max $S_MAX_MS ms)" \
        "$S_P95_MS" ms le 1000
    bench_row P5 "sync reports never shown on the stream (of $S_UPDATES)" "$S_MISSED" "" le 0
}

# Signs the admin in once with curl; sets ADMIN_COOKIE (every cookie of the session, for a
# Cookie header) and ADMIN_CSRF (the session's CSRF token, for X-CSRF-Token).
admin_session() {
    [[ -n ${ADMIN_COOKIE:-} ]] && return 0
    local jar="$OUT/admin-cookies.txt" token
    rm -f "$jar"
    token=$(curl -sf -c "$jar" -b "$jar" "$BASE_URL/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
    curl -sf -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$token" \
        --data-urlencode "username=admin" --data-urlencode "password=bench-admin-password-2026" \
        --data-urlencode "next=/" "$BASE_URL/login"
    ADMIN_COOKIE=$(awk '{ sub(/^#HttpOnly_/, "") } !/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$jar")
    ADMIN_CSRF=$(curl -sf -H "Cookie: $ADMIN_COOKIE" "$BASE_URL/" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' | head -1)
    [[ -n $ADMIN_CSRF ]] || die "the admin could not sign in for the registry rows"
    export ADMIN_COOKIE ADMIN_CSRF
}

# P1: GET /api/devices/{id}, random ids, with a client-credentials bearer token.
measure_registry_get() {
    bench_token "registry:read"
    export BENCH_TOKEN
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$BENCH/device_get.lua" "$BASE_URL/" >/dev/null
    run_wrk device-get / -s "$BENCH/device_get.lua"
    bench_row P1 "GET /api/devices/{id}, $CONNECTIONS conn., bearer token (errors: $WRK_ERRORS)" "$WRK_RPS" "req/s" ge 20000
    bench_row P1 "GET /api/devices/{id} p99" "$WRK_P99_MS" ms le 5
    P1_RPS=$WRK_RPS
}

# P18: GET /metrics scraped every 100 ms while the P1 load runs: the scrape's time, and P1's
# throughput while scraped beside its figure alone.
measure_metrics_scrape() {
    local device_token metrics_token wrk_pid p50 p95 n
    bench_token "system:read"
    metrics_token=$BENCH_TOKEN
    bench_token "registry:read"
    device_token=$BENCH_TOKEN
    BENCH_TOKEN=$device_token
    export BENCH_TOKEN
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH/device_get.lua" "$BASE_URL/" \
        >"$OUT/wrk-device-get-scraped.txt" &
    wrk_pid=$!
    sleep 1
    python3 "$BENCH/scrapes.py" "$BASE_URL/metrics" "$metrics_token" "$((DURATION - 2))" >"$OUT/metrics-scrapes.txt"
    wait "$wrk_pid"
    parse_wrk "$OUT/wrk-device-get-scraped.txt"
    read -r p50 p95 n <"$OUT/metrics-scrapes.txt"
    bench_row P18 "GET /metrics under the P1 load, p50 of $n scrapes (p95 $p95 ms)" "$p50" ms le 5
    bench_row P18 "P1 while scraped every 100 ms (alone: ${P1_RPS:-not measured} req/s; errors: $WRK_ERRORS)" \
        "$WRK_RPS" "req/s" - "within 5 % of P1 alone"
}

# The purge of 100,000 expired rows (orchestration events a year old) through
# POST /api/system/purge, while the admin writes one small change after another: the purge's
# time and the longest any of those writes took.
measure_purge() {
    local n=100000 t0 t1 stop="$OUT/purge-done" longest median writes failures writer_pid
    admin_session
    bench_token "system:write"
    if [[ $BACKEND == sqlite ]]; then
        sqlite3 "$DB_FILE" "PRAGMA busy_timeout=10000; WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < $n)
            INSERT INTO events (level, message, timestamp) SELECT 'info', 'bench', '2000-01-01T00:00:00.000000+00:00' FROM seq;" >/dev/null
    else
        psql "$DB_URL" -qAtX -v ON_ERROR_STOP=1 -c "INSERT INTO events (level, message, timestamp)
            SELECT 'info', 'bench', now() - interval '400 days' FROM generate_series(1, $n)"
    fi
    rm -f "$stop"
    python3 "$BENCH/writer_waits.py" "$BASE_URL" "$ADMIN_COOKIE" "$ADMIN_CSRF" "$stop" >"$OUT/purge-writes.txt" &
    writer_pid=$!
    sleep 1
    t0=$(date +%s.%N)
    curl -sf -X POST -H "Authorization: Bearer $BENCH_TOKEN" "$BASE_URL/api/system/purge" >"$OUT/purge.json" \
        || die "the purge failed"
    t1=$(date +%s.%N)
    touch "$stop"
    wait "$writer_pid"
    read -r longest median writes failures <"$OUT/purge-writes.txt"
    bench_row PG1 "purge of $n expired rows (POST /api/system/purge; $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["removed"]["events"])' "$OUT/purge.json") removed)" \
        "$(python3 -c "print(round(($t1 - $t0) * 1000))")" ms - "—"
    bench_row PG2 "longest concurrent write during that purge ($writes writes, median $median ms, $failures failed)" \
        "$longest" ms le 500
}

# P2: GET /api/devices?area_id=…&limit=50 (one area holds 2,000 devices).
measure_registry_list() {
    admin_session
    run_wrk device-list "/api/devices?area_id=area_17&limit=50" -H "Cookie: $ADMIN_COOKIE"
    bench_row P2 "GET /api/devices?area_id=…&limit=50, $CONNECTIONS conn. (errors: $WRK_ERRORS)" "$WRK_RPS" "req/s" ge 3000
    bench_row P2 "GET /api/devices?area_id=… p99" "$WRK_P99_MS" ms le 20
}

# P6: the signed-in admin's /registry/devices?q=… page (1 device in 20 matches).
measure_registry_page() {
    admin_session
    run_wrk device-page "/registry/devices?q=aqara" -H "Cookie: $ADMIN_COOKIE"
    bench_row P6 "/registry/devices?q=… page, $CONNECTIONS conn. (errors: $WRK_ERRORS)" "$WRK_RPS" "pages/s" ge 1000
    bench_row P6 "/registry/devices?q=… p99" "$WRK_P99_MS" ms le 50
}

# P3: bulk upserts of 10,000 devices, one after another, half new and half replacing.
measure_registry_bulk() {
    admin_session
    local json
    json=$(python3 "$BENCH/bulk_upsert.py" --url "$BASE_URL" --cookie "$ADMIN_COOKIE" --csrf "$ADMIN_CSRF" --batches 10)
    echo "$json" >"$OUT/bulk-upsert.json"
    log "bulk upsert: $json"
    bench_row P3 "POST /internal/devices/bulk_upsert, 10 × 10,000 devices (batch median $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["batch_ms_median"])' "$json") ms)" \
        "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["devices_per_s"])' "$json")" "devices/s" ge 100000
}

# ops_run ID — creates the run ID over the API (bearer token BENCH_TOKEN) and starts it, as an
# engine does before it reports events.
ops_run() {
    curl -sf -o /dev/null -H "Authorization: Bearer $BENCH_TOKEN" -H 'Content-Type: application/json' \
        -d "{\"id\":\"$1\",\"plan_path\":\"plans/bench.tf\"}" "$BASE_URL/api/ops/runs" || die "creating the run $1 failed"
    curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $BENCH_TOKEN" -H 'Content-Type: application/json' \
        -d '{"status":"running"}' "$BASE_URL/api/ops/runs/$1" || die "starting the run $1 failed"
}

# P11: POST /api/ops/events with arrays of 1,000 events, one connection (each array one
# transaction); events written per second.
measure_ops_events_batch() {
    # P4's syncs end with sync.completed, which the dataset's webhooks turn into 32,000
    # deliveries: P11 measures appends, so those are let run first, as before P7.
    settle_deliveries
    bench_token "ops:read ops:write"
    export BENCH_TOKEN OPS_RUN=bench-p11 OPS_BATCH=1000
    ops_run "$OPS_RUN"
    local before after
    before=$(count "events WHERE run_id = '$OPS_RUN'")
    wrk -t1 -c1 -d"${DURATION}s" --latency -s "$BENCH/ops_events.lua" "$BASE_URL/api/ops/events" >"$OUT/wrk-ops-events-batch.txt"
    parse_wrk "$OUT/wrk-ops-events-batch.txt"
    after=$(count "events WHERE run_id = '$OPS_RUN'")
    local lost=$(((WRK_REQUESTS - WRK_ERRORS) * OPS_BATCH - (after - before)))
    ((lost > 0)) || lost=0
    bench_row P11 "POST /api/ops/events, arrays of 1,000, 1 connection (batch p50 $WRK_P50_MS ms; errors: $WRK_ERRORS; lost: $lost)" \
        "$((WRK_RPS * OPS_BATCH))" "events/s" ge 150000
}

# P12: 32 clients each appending single events; events/s, errors, and lost events
# (acknowledged appends missing from the log).
measure_ops_events_single() {
    bench_token "ops:read ops:write"
    export BENCH_TOKEN OPS_RUN=bench-p12 OPS_BATCH=1
    ops_run "$OPS_RUN"
    local before after lost
    before=$(count "events WHERE run_id = '$OPS_RUN'")
    run_wrk ops-events-single /api/ops/events -s "$BENCH/ops_events.lua"
    after=$(count "events WHERE run_id = '$OPS_RUN'")
    # Appends in flight when wrk stops may land uncounted: more rows than acknowledgements is
    # expected, fewer would be lost events.
    lost=$((WRK_REQUESTS - WRK_ERRORS - (after - before)))
    ((lost > 0)) || lost=0
    bench_row P12 "POST /api/ops/events, single events, $CONNECTIONS clients (p99 $WRK_P99_MS ms)" "$WRK_RPS" "events/s" ge 5000
    bench_row P12 "errors / lost events" "$((WRK_ERRORS + lost))" "" le 0
}

# P13: GET /api/ops/resources/{type}/{name} over random resources, with a bearer token.
measure_ops_resource_get() {
    bench_token "ops:read"
    export BENCH_TOKEN
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$BENCH/ops_resource_get.lua" "$BASE_URL/" >/dev/null
    run_wrk ops-resource-get / -s "$BENCH/ops_resource_get.lua"
    bench_row P13 "GET /api/ops/resources/{type}/{name}, $CONNECTIONS conn., bearer token (errors: $WRK_ERRORS)" "$WRK_RPS" "req/s" ge 15000
    bench_row P13 "GET /api/ops/resources/{type}/{name} p99" "$WRK_P99_MS" ms le 5
}

# P14: the signed-in admin's page of run-p14 (1,000 plan units drawn as SVG, 100,000 events),
# one request at a time; the median.
measure_ops_run_page() {
    admin_session
    wrk -t1 -c1 -d2s -H "Cookie: $ADMIN_COOKIE" "$BASE_URL/ops/runs/run-p14" >/dev/null
    wrk -t1 -c1 -d"${DURATION}s" --latency -H "Cookie: $ADMIN_COOKIE" "$BASE_URL/ops/runs/run-p14" >"$OUT/wrk-ops-run-page.txt"
    parse_wrk "$OUT/wrk-ops-run-page.txt"
    bench_row P14 "/ops/runs/{id}, 1,000 units (SVG) and 100,000 events, 1 connection, median (p99 $WRK_P99_MS ms; errors: $WRK_ERRORS)" \
        "$WRK_P50_MS" ms le 50
}

# Waits (up to 2 min) until no webhook delivery is due within a minute. Starting syncs emits
# sync.started, which the dataset's 1,000 sync.* webhooks turn into 1,000 deliveries per sync;
# P4 measures the API's writes, so those deliveries (and their first, 5-second retry: the
# dataset's endpoints refuse them) are let run before its clock starts (W1 measures delivery).
# P7 waits the same way for the deliveries of the syncs P4 ends.
settle_deliveries() {
    local t0=$SECONDS due
    while due=$(deliveries_due_soon) && ((due > 0)); do
        ((SECONDS - t0 < 120)) || { log "deliveries still due after 2 min: $due"; return 0; }
        sleep 1
    done
    log "webhook deliveries settled in $((SECONDS - t0)) s"
}

# P4: 64 concurrent clients writing for the load's duration — 32 creating webhooks over the JSON
# API (wrk, webhooks.lua) while 32 others each report on their own tenant's running sync (wrk
# with one thread per client, sync_patch.lua). Writes/s is both together; 0 errors; no lost
# write: every acknowledged webhook is a row, and every sync holds its client's acknowledged
# count (tests/bench/sync_bench.py verify).
measure_writes() {
    local before after acked lost hooks_rps sync_rps json half=32
    admin_session
    export WEBHOOK_COOKIE=$ADMIN_COOKIE WEBHOOK_CSRF=$ADMIN_CSRF
    SYNC_IDS=$(python3 "$BENCH/sync_bench.py" --base "$BASE_URL" --password bench-admin-password-2026 \
        start --clients "$half")
    export SYNC_IDS SYNC_ACKED="$OUT/sync-acked.txt"
    settle_deliveries
    before=$(count webhooks)
    wrk -t"$THREADS" -c"$half" -d"${DURATION}s" --latency -s "$BENCH/webhooks.lua" "$BASE_URL/api/webhooks" >"$OUT/wrk-webhooks.txt" &
    local hooks_pid=$!
    wrk -t"$half" -c"$half" -d"${DURATION}s" --latency -s "$BENCH/sync_patch.lua" "$BASE_URL/" >"$OUT/wrk-sync-patch.txt"
    wait "$hooks_pid"
    parse_wrk "$OUT/wrk-sync-patch.txt"
    sync_rps=$WRK_RPS
    local sync_p99=$WRK_P99_MS
    json=$(python3 "$BENCH/sync_bench.py" --base "$BASE_URL" --password bench-admin-password-2026 \
        verify --acked "$SYNC_ACKED")
    log "sync PATCH check: $json"
    eval "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(" ".join(f"S_{k.upper()}={v}" for k, v in d.items()))' "$json")"
    parse_wrk "$OUT/wrk-webhooks.txt"
    hooks_rps=$WRK_RPS
    after=$(count webhooks)
    acked=$((WRK_REQUESTS - WRK_ERRORS))
    # Requests still in flight when wrk stops may commit without being counted: more rows than
    # acknowledged writes is expected; fewer would be lost writes.
    lost=$((acked - (after - before)))
    ((lost > 0)) || lost=0
    bench_row P4 "writes/s, 64 clients for ${DURATION} s: $half creating webhooks ($hooks_rps/s, p99 $WRK_P99_MS ms) + $half patching sync progress ($sync_rps/s, p99 $sync_p99 ms)" \
        "$((hooks_rps + sync_rps))" "writes/s" ge 3000
    bench_row P4 "errors (webhooks / sync PATCH)" "$((WRK_ERRORS + S_ERRORS))" "" le 0
    bench_row P4 "lost writes (webhook rows missing + syncs whose count ≠ acknowledged)" "$((lost + S_LOST))" "" le 0
}

# W1: delivery throughput — 10,000 queued deliveries to a fast local receiver (Python, on the
# same machine), from the first to the last 2xx; its own server, allowed to reach loopback.
measure_webhook_delivery() {
    local rport n=10000 t0 t1 done_count=0 elapsed server_pid receiver_pid
    rport=$(free_port)
    python3 "$BENCH/receiver.py" --port "$rport" &
    receiver_pid=$!
    server_vars
    (cd "$OUT" && exec env "${SERVER_VARS[@]}" METADECK_BIND="127.0.0.1:$PORT" \
        METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true "$BIN" serve) >"$OUT/delivery-server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do curl -sf -o /dev/null "$BASE_URL/healthz" && break; sleep 0.1; done
    admin_session
    curl -sf -o /dev/null -b "$OUT/admin-cookies.txt" -H "X-CSRF-Token: $ADMIN_CSRF" -H 'Content-Type: application/json' \
        -d "{\"webhook_id\":\"wh_bench_receiver\",\"url\":\"http://127.0.0.1:$rport/hook\",\"events\":[\"device.created\"]}" \
        "$BASE_URL/api/webhooks" || die "creating the receiver's webhook failed"
    local sql="INSERT INTO webhook_deliveries (webhook_id, message_id, event_type, payload, status, attempts, next_attempt_at, created_at)"
    t0=$(date +%s.%N)
    if [[ $BACKEND == sqlite ]]; then
        sqlite3 "$DB_FILE" "PRAGMA busy_timeout=10000; WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < $n)
            $sql SELECT 'wh_bench_receiver', printf('msg_bench%08d', k), 'device.created',
            json_object('type', 'device.created', 'timestamp', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'data', json_object('id', k)),
            'pending', 0, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM seq;" >/dev/null
        delivered() { sqlite3 "$DB_FILE" "PRAGMA busy_timeout=10000; SELECT count(*) FROM webhook_deliveries WHERE webhook_id = 'wh_bench_receiver' AND status = 'succeeded'" | tail -1; }
    else
        psql "$DB_URL" -qAtX -v ON_ERROR_STOP=1 -c "$sql SELECT 'wh_bench_receiver', format('msg_bench%s', k), 'device.created',
            json_build_object('type', 'device.created', 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'data', json_build_object('id', k)),
            'pending', 0, now(), now() FROM generate_series(1, $n) AS k"
        delivered() { psql "$DB_URL" -qAtX -c "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = 'wh_bench_receiver' AND status = 'succeeded'"; }
    fi
    for _ in $(seq 1 1200); do
        done_count=$(delivered)
        [[ $done_count -ge $n ]] && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    # The receiver's webhook subscribes to device.created: left in place, every later device
    # write (P3) would also queue a delivery to a receiver that is gone.
    curl -sf -o /dev/null -X DELETE -b "$OUT/admin-cookies.txt" -H "X-CSRF-Token: $ADMIN_CSRF" \
        "$BASE_URL/api/webhooks/wh_bench_receiver" || die "deleting the receiver's webhook failed"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    kill "$receiver_pid" 2>/dev/null || true
    wait "$receiver_pid" 2>/dev/null || true
    elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    bench_row W1 "webhook deliveries/s to a local receiver ($done_count of $n signed POSTs in $elapsed s)" \
        "$(awk -v n="$done_count" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')" "deliveries/s" - "— (reference)"
    [[ $done_count -ge $n ]] || MISSED+=("W1 webhook delivery: only $done_count of $n delivered")
}

# ---------------------------------------------------------------------------------------------
# P17: growth. `--scale K` measures the P17 rows on the standard dataset, grows the database
# to K times its rows (scale.sql / scale.pg.sql, inside the database), measures them again and
# prints each pair with its ratio (a row above 1.5× is a finding). The audit trail and the
# delivery log, which the standard dataset leaves empty, get 100,000 rows each before the first
# measurement, and K times that after the growth.

# scale_grow LO HI — adds the multiples LO + 1 … HI of the scaled parts (see scale.sql).
scale_grow() {
    if [[ $BACKEND == sqlite ]]; then
        { echo "CREATE TEMP TABLE bench_scale AS SELECT $1 AS lo, $2 AS hi;"; cat "$BENCH/scale.sql"; } \
            | sqlite3 -bail "$DB_FILE"
    else
        psql "$DB_URL" -qX -v ON_ERROR_STOP=1 -v lo="$1" -v hi="$2" -f "$BENCH/scale.pg.sql" >/dev/null
    fi
}

# The database's size in MB: the SQLite file with its WAL, or pg_database_size.
scale_db_mb() {
    if [[ $BACKEND == sqlite ]]; then
        local f bytes=0
        for f in "$DB_FILE" "$DB_FILE-wal"; do
            [[ -f $f ]] && bytes=$((bytes + $(stat -c %s "$f")))
        done
        echo $((bytes / 1048576))
    else
        psql "$DB_URL" -qAtX -c "SELECT pg_database_size(current_database()) / 1048576"
    fi
}

# scale_wrk KEY PATH [wrk args…] — 32 connections after a 2 s warm-up; sets SC[KEY.rps] and
# SC[KEY.p99] for the current scale.
scale_wrk() {
    local key=$1 path=$2
    shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$@" "$BASE_URL$path" >/dev/null
    run_wrk "scale-$SCALE_AT-$key" "$path" "$@"
    SC[$SCALE_AT.$key.rps]=$WRK_RPS
    SC[$SCALE_AT.$key.p99]=$WRK_P99_MS
    SC[$SCALE_AT.$key.errors]=$WRK_ERRORS
}

# scale_page KEY PATH — one signed-in connection for 3 s after a 1 s warm-up; sets
# SC[KEY.p50], the page's median time.
scale_page() {
    local key=$1 path=$2
    wrk -t1 -c1 -d1s -H "Cookie: $ADMIN_COOKIE" "$BASE_URL$path" >/dev/null
    wrk -t1 -c1 -d3s --latency -H "Cookie: $ADMIN_COOKIE" "$BASE_URL$path" >"$OUT/wrk-scale-$SCALE_AT-$key.txt"
    parse_wrk "$OUT/wrk-scale-$SCALE_AT-$key.txt"
    SC[$SCALE_AT.$key.p50]=$WRK_P50_MS
    SC[$SCALE_AT.$key.errors]=$WRK_ERRORS
}

# The P17 rows at the current scale ($SCALE_AT), against the running server.
scale_measure_all() {
    admin_session
    export BENCH_TOKEN=$SCALE_TOKEN BENCH_DEVICES
    BENCH_DEVICES=$(count devices)
    scale_wrk p1 / -s "$BENCH/device_get.lua"
    scale_wrk p2 "/api/devices?area_id=area_17&limit=50" -H "Cookie: $ADMIN_COOKIE"
    scale_wrk p6 "/registry/devices?q=aqara" -H "Cookie: $ADMIN_COOKIE"
    scale_wrk p13 / -s "$BENCH/ops_resource_get.lua"
    scale_wrk tail "/api/ops/events?before_id=9223372036854775807&limit=100" -H "Authorization: Bearer $SCALE_TOKEN"
    scale_wrk tail_errors "/api/ops/events?before_id=9223372036854775807&limit=100&level=error" \
        -H "Authorization: Bearer $SCALE_TOKEN"
    local key path
    for key in "${!SCALE_PAGES[@]}"; do
        path=${SCALE_PAGES[$key]}
        scale_page "$key" "$path"
    done
}

# bench_ratio ID WHAT KEY FIELD HOW — one P17 row: the figure at both scales and the ratio,
# as slowdown (`rate`: 1× ÷ K×; `time`: K× ÷ 1×), against the 1.5× bar.
bench_ratio() {
    local id=$1 what=$2 key=$3 field=$4 how=$5 one many ratio unit errors
    one=${SC[1.$key.$field]}
    many=${SC[$SCALE.$key.$field]}
    errors=$((${SC[1.$key.errors]:-0} + ${SC[$SCALE.$key.errors]:-0}))
    case $how in
        rate) unit=req/s; ratio=$(awk -v a="$one" -v b="$many" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 99) }') ;;
        *) unit=ms; ratio=$(awk -v a="$one" -v b="$many" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 99) }') ;;
    esac
    [[ $errors -eq 0 ]] || MISSED+=("$id $what: $errors errors")
    bench_row "$id" "$what: 1× $(fmt_num "$one") $unit, ${SCALE}× $(fmt_num "$many") $unit (errors: $errors)" "$ratio" "×" le 1.5
}

# The whole P17 run: measurements at 1×, the growth, measurements at K×, the table rows.
measure_scale() {
    local t0 t1 client_json
    declare -gA SC=()
    declare -gA SCALE_PAGES=(
        [home]="/"
        [devices]="/registry/devices"
        [entities]="/registry/entities"
        [sync_history]="/sync/history"
        [audit]="/audit"
        [webhooks]="/webhooks"
        [deliveries]="/webhooks/wh_0000000000000001"
        [oauth_tokens]="/oauth/clients/$SCALE_CLIENT"
        [runs]="/ops/runs"
        [run_events]="/ops/runs/run-0050"
    )
    SCALE_AT=1
    log "P17: measuring at 1×"
    scale_measure_all
    stop_server
    log "P17: growing the dataset to ${SCALE}×"
    t0=$(date +%s.%N)
    scale_grow 1 "$SCALE"
    t1=$(date +%s.%N)
    SCALE_GROW_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
    SCALE_DB_MB=$(scale_db_mb)
    SCALE_DATASET="$(fmt_num "$(count devices)") devices, $(fmt_num "$(count entities)") entities, $(fmt_num "$(count sync_history)") syncs, $(fmt_num "$(count events)") events, $(fmt_num "$(count audit)") audit rows, $(fmt_num "$(count webhook_deliveries)") deliveries"
    log "P17: ${SCALE}×: $SCALE_DATASET; ${SCALE_DB_MB} MB; grown in ${SCALE_GROW_SECONDS} s"
    start_server server-scaled
    SCALE_AT=$SCALE
    log "P17: measuring at ${SCALE}×"
    scale_measure_all

    bench_row P17 "database at 1×: $SCALE_BASE_DB_MB MB; at ${SCALE}×: $SCALE_DATASET, grown by SQL in $SCALE_GROW_SECONDS s" \
        "$SCALE_DB_MB" MB - "—"
    bench_ratio P1 "GET /api/devices/{id}, $CONNECTIONS conn." p1 rps rate
    bench_ratio P1 "GET /api/devices/{id} p99" p1 p99 time
    bench_ratio P2 "GET /api/devices?area_id=…&limit=50" p2 rps rate
    bench_ratio P2 "GET /api/devices?area_id=… p99" p2 p99 time
    bench_ratio P6 "/registry/devices?q=… page" p6 rps rate
    bench_ratio P6 "/registry/devices?q=… p99" p6 p99 time
    bench_ratio P13 "GET /api/ops/resources/{type}/{name}" p13 rps rate
    bench_ratio P13 "GET /api/ops/resources/{type}/{name} p99" p13 p99 time
    bench_ratio P17 "event tail GET /api/ops/events?before_id=…&limit=100" tail rps rate
    bench_ratio P17 "event tail p99" tail p99 time
    bench_ratio P17 "event tail, errors only (&level=error)" tail_errors rps rate
    bench_ratio P17 "event tail, errors only, p99" tail_errors p99 time
    local key
    for key in home devices entities sync_history audit webhooks deliveries oauth_tokens runs run_events; do
        bench_ratio P17 "console page ${SCALE_PAGES[$key]} (median, 1 conn.)" "$key" p50 time
    done
    bench_row P8 "RSS after the ${SCALE}× run (peak $(rss_mb VmHWM) MB)" "$(rss_mb)" MB le 200
}

# Before the server starts: the trail at 1×, a client and token for the API rows, no
# retention purge while the rows are measured, and only the P17 run.
scale_prepare() {
    [[ $SCALE =~ ^[0-9]+$ && $SCALE -ge 2 ]] || die "--scale needs a whole factor of 2 or more"
    log "P17: the audit trail and delivery log at 1×"
    scale_grow 0 1
    SCALE_BASE_DB_MB=$(scale_db_mb)
    local p
    for p in SYNC_HISTORY WEBHOOK_DELIVERIES WEBHOOK_PAYLOADS EVENTS OAUTH_AUDIT AUDIT; do
        export "METADECK_RETENTION_${p}_DAYS=0"
    done
    STANDALONE=()
    MEASUREMENTS=(measure_scale)
}

# After the server starts: the bearer token (registry:read ops:read) and the client whose
# token page is measured.
scale_token() {
    bench_token "registry:read ops:read"
    SCALE_TOKEN=$BENCH_TOKEN
    SCALE_CLIENT=$CLIENT_ID
}

# ---------------------------------------------------------------------------------------------
# tools

command -v python3 >/dev/null || die "python3 is needed"
command -v curl >/dev/null || die "curl is needed"
if ! command -v wrk >/dev/null; then
    [[ $(id -u) -eq 0 ]] || die "wrk is needed: apt-get install wrk"
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

# ---------------------------------------------------------------------------------------------
# build

if [[ -n $BUILD ]]; then
    log "cargo build --release"
    cargo build --release
fi
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/metadeck
[[ -x $BIN ]] || die "$BIN is missing (run without --no-build)"

# ---------------------------------------------------------------------------------------------
# database

if [[ -z $DB_URL ]]; then
    BACKEND=sqlite
    command -v sqlite3 >/dev/null || die "sqlite3 is needed: apt-get install sqlite3"
    DB_FILE=$OUT/bench.db
    rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"
    DB_URL="sqlite://$DB_FILE?mode=rwc"
elif [[ $DB_URL == postgres://* || $DB_URL == postgresql://* ]]; then
    BACKEND=postgres
    command -v psql >/dev/null || die "psql is needed: apt-get install postgresql-client"
    db_name=${DB_URL##*/}
    db_name=${db_name%%\?*}
    [[ $db_name == *bench* ]] || die "the PostgreSQL database name must contain 'bench' (it is dropped and re-created): $db_name"
    admin_url="${DB_URL%/*}/postgres"
    log "re-creating PostgreSQL database $db_name"
    psql "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
    psql "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db_name\""
    # The README's advice for a database on SSD or in RAM, as this one is (see "Running on
    # PostgreSQL"): with the default 4.0 the filtered list (P2) scans the primary key instead of
    # the filter's index.
    psql "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "ALTER DATABASE \"$db_name\" SET random_page_cost = 1.1"
else
    die "BENCH_DATABASE_URL / --postgres must be a postgres:// URL (SQLite is the default)"
fi

log "metadeck migrate up ($BACKEND)"
(cd "$OUT" && server_env "$BIN" migrate up) >"$OUT/migrate.log" 2>&1 || { cat "$OUT/migrate.log" >&2; die "migrate up failed"; }

log "loading the standard dataset"
t0=$(date +%s.%N)
if [[ $BACKEND == sqlite ]]; then
    sqlite3 -bail "$DB_FILE" <"$BENCH/dataset.sql"
    python3 "$BENCH/dataset_hashes.py" "$DB_FILE"
    count() { sqlite3 "$DB_FILE" "SELECT count(*) FROM $1"; }
    # Deliveries due within the next minute (an attempt now, or a retry soon).
    deliveries_due_soon() {
        sqlite3 "$DB_FILE" "PRAGMA busy_timeout=10000; SELECT count(*) FROM webhook_deliveries WHERE status IN ('pending', 'failed')
            AND next_attempt_at < strftime('%Y-%m-%dT%H:%M:%S', 'now', '+60 seconds')" | tail -1
    }
else
    psql "$DB_URL" -qX -v ON_ERROR_STOP=1 -f "$BENCH/dataset.pg.sql" >/dev/null
    count() { psql "$DB_URL" -qAtX -c "SELECT count(*) FROM $1"; }
    deliveries_due_soon() {
        psql "$DB_URL" -qAtX -c "SELECT count(*) FROM webhook_deliveries WHERE status IN ('pending', 'failed')
            AND next_attempt_at < now() + interval '60 seconds'"
    }
fi
t1=$(date +%s.%N)
DATASET_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
DATASET="$(fmt_num "$(count devices)") devices, $(fmt_num "$(count entities)") entities, $(fmt_num "$(count sync_history)") syncs, $(fmt_num "$(count webhooks)") webhooks, $(fmt_num "$(count runs)") runs, $(fmt_num "$(count plan_units)") plan units, $(fmt_num "$(count events)") events, $(fmt_num "$(count resource_state)") resources, $(fmt_num "$(count facts)") facts"
log "dataset: $DATASET in ${DATASET_SECONDS}s"
[[ $(count devices) -eq 100000 && $(count entities) -eq 200000 && $(count sync_history) -eq 10000 && $(count webhooks) -eq 1000 ]] \
    || die "the dataset does not have the standard size"
[[ $(count runs) -eq 101 && $(count plan_units) -eq 21000 && $(count events) -eq 1000000 && $(count resource_state) -eq 10000 \
    && $(count resource_state_versions) -eq 10000 && $(count facts) -eq 10000 ]] \
    || die "the dataset does not have the standard orchestration share"

# ---------------------------------------------------------------------------------------------
# gateway config (P15, P16): reads answered from each instance's cache, and a write through one
# instance reaching another instance on the same database.

# P15: GET /api/gateway/config/{key} with a bearer token, answered from the cache.
measure_config_get() {
    bench_token "gateway:read gateway:write"
    curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $BENCH_TOKEN" -H 'Content-Type: application/json' \
        -d '{"value": {"enabled": true, "rollout": 25, "regions": ["eu", "us"]}, "description": "bench"}' \
        "$BASE_URL/api/gateway/config/bench.flag" || die "the bench config key could not be written"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $BENCH_TOKEN" \
        "$BASE_URL/api/gateway/config/bench.flag" >/dev/null
    run_wrk config-get /api/gateway/config/bench.flag -H "Authorization: Bearer $BENCH_TOKEN"
    bench_row P15 "GET /api/gateway/config/{key}, $CONNECTIONS conn., bearer token, from the cache (errors: $WRK_ERRORS)" \
        "$WRK_RPS" "req/s" ge 15000
    bench_row P15 "GET /api/gateway/config/{key} p99" "$WRK_P99_MS" ms - "—"
}

# P16: a config write through instance A (the running server) → the new value served by a
# second instance B on the same database (default METADECK_CONFIG_POLL_MS), 100 trials
# (tests/bench/config_propagation.py).
measure_config_propagation() {
    local port_b url_b pid_b json i
    port_b=$(free_port)
    url_b="http://127.0.0.1:$port_b"
    server_vars
    (cd "$OUT" && exec env "${SERVER_VARS[@]}" METADECK_BIND="127.0.0.1:$port_b" "$BIN" serve) >"$OUT/server-b.log" 2>&1 &
    pid_b=$!
    for i in $(seq 1 300); do
        curl -sf -o /dev/null "$url_b/healthz" && break
        sleep 0.1
    done
    bench_token "gateway:read gateway:write"
    json=$(python3 "$BENCH/config_propagation.py" "$BASE_URL" "$url_b" "$BENCH_TOKEN" 100)
    kill "$pid_b" 2>/dev/null || true
    wait "$pid_b" 2>/dev/null || true
    echo "$json" >"$OUT/config-propagation.json"
    log "config propagation: $json"
    eval "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(" ".join(f"C_{k.upper()}={v}" for k, v in d.items()))' "$json")"
    bench_row P16 "config write through A → served by B on the same database, p95 of $C_TRIALS (p50 $C_P50_MS ms)" \
        "$C_P95_MS" ms le 1000
    bench_row P16 "config write through A → served by B, max of $C_TRIALS" "$C_MAX_MS" ms le 5000
    bench_row P16 "config writes B never served within 10 s (of $C_TRIALS)" "$C_MISSED" "" le 0
}

MEASUREMENTS+=(measure_config_get measure_config_propagation)

# ---------------------------------------------------------------------------------------------
# measurements

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
PORT=${BENCH_PORT:-$(free_port)}
BASE_URL="http://127.0.0.1:$PORT"

if [[ -n ${BENCH_ONLY:-} ]]; then
    selected() { [[ " $BENCH_ONLY " == *" $1 "* ]]; }
    keep=(); for m in "${STANDALONE[@]}"; do selected "$m" && keep+=("$m"); done; STANDALONE=("${keep[@]}")
    keep=(); for m in "${MEASUREMENTS[@]}"; do selected "$m" && keep+=("$m"); done; MEASUREMENTS=("${keep[@]}")
fi

[[ -z $SCALE ]] || scale_prepare

for m in "${STANDALONE[@]}"; do
    log "measuring: $m"
    "$m"
done

log "starting the server on $BASE_URL"
start_server server
[[ -z $SCALE ]] || scale_token
for m in "${MEASUREMENTS[@]}"; do
    log "measuring: $m"
    "$m"
done
stop_server

# ---------------------------------------------------------------------------------------------
# the table

{
    echo "## Metadeck benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "Release build, $BACKEND, standard dataset ($DATASET; loaded in ${DATASET_SECONDS} s)."
    [[ -z $SCALE ]] || echo "P17 at ${SCALE}×: ${SCALE_DATASET:-not reached}; ${SCALE_DB_MB:-?} MB (1×: ${SCALE_BASE_DB_MB:-?} MB); grown in ${SCALE_GROW_SECONDS:-?} s."
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)." \
        "The load generator (wrk, $THREADS threads; Python for start-up) runs on the SAME machine" \
        "as the server and takes CPU from it. Load average before the measurements: $LOAD_BEFORE" \
        "(anything else running on the machine lowers the numbers). Server log level: ${BENCH_LOG:-warn}."
    echo
    echo "| id | what | result | bar | backend |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    if [[ ${#MISSED[@]} -eq 0 ]]; then
        echo "All bars met."
    else
        echo "Bars missed:"
        printf -- '- %s\n' "${MISSED[@]}"
    fi
} | tee "$OUT/results.md"
