#!/usr/bin/env bash
# Proves that `entity/` is exactly what `sea-orm-cli generate entity` makes of the migrated
# schema, on PostgreSQL (the reference) and on SQLite.
#
#   tests/schema/check-entities.sh postgres://postgres@127.0.0.1/some_empty_db
#   tests/schema/check-entities.sh sqlite:///tmp/x.db?mode=rwc
#
# Needs sea-orm-cli on PATH. Migrates the database with `sea-orm-cli migrate fresh`.
set -euo pipefail
url=${1:?usage: check-entities.sh DATABASE_URL}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cd "$root"
sea-orm-cli migrate fresh -d migration -u "$url" >/dev/null
sea-orm-cli generate entity -u "$url" -o "$out" --entity-format dense --with-serde both >/dev/null

# lib.rs is the generated mod.rs under a documentation header.
grep -v '^//!' "$out/mod.rs" | sed '/./,$!d' > "$out/mod.body"
grep -v '^//!' entity/src/lib.rs | sed '/./,$!d' > "$out/lib.body"
diff -u "$out/lib.body" "$out/mod.body"
rm "$out/mod.rs" "$out/mod.body" "$out/lib.body"

if [[ $url == sqlite:* ]]; then
    # sea-schema's SQLite discovery reports the partial unique index
    # `uq_sync_history_one_running (tenant_id) WHERE status = 'running'` as a plain unique column.
    python3 - "$out/sync_history.rs" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
out = [l for i, l in enumerate(lines) if not (l.strip() == "#[sea_orm(unique)]" and i + 1 < len(lines) and "pub tenant_id" in lines[i + 1])]
open(p, "w").write("\n".join(out))
PY
fi

for f in "$out"/*.rs; do
    diff -u "entity/src/$(basename "$f")" "$f"
done
extra=$(comm -23 <(ls entity/src | grep -v '^lib.rs$' | sort) <(ls "$out" | sort))
if [[ -n $extra ]]; then
    echo "entity/src has files the schema does not: $extra" >&2
    exit 1
fi
echo "entities match the schema ($url)"
