#!/usr/bin/env bash
# R1 (spec 10): kill -9 the server during bulk upserts 50 times; after each restart the
# integrity check passes and every batch is wholly present or wholly absent.
#
#   tests/reliability/r1_kill.sh              # builds the release binary, 50 rounds
#   R1_ROUNDS=5 tests/reliability/r1_kill.sh --no-build
#   R1_KEEP=/tmp/r1 tests/reliability/r1_kill.sh     # keeps the database and server log there
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
if [[ ${1:-} != --no-build ]]; then
    cargo build --release -p web
fi
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/metadeck
[[ -x $BIN ]] || { echo "missing $BIN (build it first)" >&2; exit 1; }
exec python3 "$ROOT/tests/reliability/r1_kill.py" --bin "$BIN" --rounds "${R1_ROUNDS:-50}" --batch "${R1_BATCH:-2000}" ${R1_KEEP:+--keep "$R1_KEEP"}
