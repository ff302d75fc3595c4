#!/usr/bin/env bash
# Proves that the migrations round-trip with `sea-orm-cli migrate` on one database:
# up → down to zero (only `seaql_migrations` is left) → up again (the same schema as the first
# time) → status (nothing pending).
#
#   tests/schema/migrate-roundtrip.sh postgres://postgres@127.0.0.1/some_empty_db
#   tests/schema/migrate-roundtrip.sh 'sqlite:///tmp/x.db?mode=rwc'
#
# Needs sea-orm-cli on PATH, and sqlite3 or psql (and pg_dump) for the backend at hand.
set -euo pipefail
url=${1:?usage: migrate-roundtrip.sh DATABASE_URL}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$root"

case $url in
    sqlite:*)
        db=${url#sqlite:}
        db=${db#//}
        db=${db%%\?*}
        tables() {
            sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\\' ORDER BY name"
        }
        schema() {
            sqlite3 "$db" "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\\' ORDER BY type, name"
        }
        ;;
    postgres:* | postgresql:*)
        tables() {
            psql "$url" -qAtX -v ON_ERROR_STOP=1 \
                -c "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
        schema() {
            # pg_dump's \restrict lines carry a random key; comments name nothing of the schema.
            pg_dump --schema-only --no-owner --no-privileges "$url" | grep -Ev '^(\\(un)?restrict |--|SET |SELECT pg_catalog)'
        }
        ;;
    *)
        echo "unsupported database URL: $url" >&2
        exit 2
        ;;
esac

migrate() {
    echo "\$ sea-orm-cli migrate $*"
    sea-orm-cli migrate "$@" -d migration -u "$url" >"$out/last.log" 2>&1 || {
        cat "$out/last.log" >&2
        echo "sea-orm-cli migrate $* failed" >&2
        exit 1
    }
}

migrate up
tables >"$out/tables.1"
schema >"$out/schema.1"
app_tables=$(grep -cvx 'seaql_migrations' "$out/tables.1" || true)
if [[ $app_tables -eq 0 ]]; then
    echo "migrate up created no table" >&2
    exit 1
fi
echo "up: $app_tables tables"

migrate down -n 100
tables >"$out/tables.0"
if [[ $(cat "$out/tables.0") != "seaql_migrations" ]]; then
    echo "after migrate down to zero, tables other than seaql_migrations remain:" >&2
    grep -vx 'seaql_migrations' "$out/tables.0" >&2 || true
    exit 1
fi
echo "down: only seaql_migrations remains"

migrate up
tables >"$out/tables.2"
schema >"$out/schema.2"
if ! diff -u "$out/schema.1" "$out/schema.2"; then
    echo "the schema after up → down → up differs from the first up" >&2
    exit 1
fi
echo "up again: the same schema"

migrate status
if grep -q 'Pending' "$out/last.log"; then
    cat "$out/last.log" >&2
    echo "migrate status reports pending migrations after up" >&2
    exit 1
fi
grep -i 'applied' "$out/last.log" | tail -3 || true
echo "migrations round-trip ($url)"
