"""The SQLite dataset's resource hashes and first versions (run by run.sh after dataset.sql).

SQLite has no SHA-256 function, so dataset.sql writes each resource's state in its canonical
JSON (RFC 8785: sorted keys, no whitespace) with an empty hash; this fills in the SHA-256 the
server computes for such a state, then writes each resource's version 1, as dataset.pg.sql
does in SQL. Versions are append-only, so they are written once the hashes are known.

    python3 tests/bench/dataset_hashes.py tests/bench/out/bench.db
"""

import hashlib
import sqlite3
import sys


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main():
    con = sqlite3.connect(sys.argv[1])
    con.create_function("sha256_hex", 1, sha256_hex, deterministic=True)
    with con:
        con.execute("UPDATE resource_state SET hash = sha256_hex(state) WHERE hash = ''")
        con.execute(
            """INSERT INTO resource_state_versions
                   (resource_type, resource_name, serial, hash, state, run_id, actor, created_at)
               SELECT resource_type, resource_name, serial, hash, state, last_run_id,
                      'client:bench-engine', updated_at
               FROM resource_state"""
        )
    con.execute("ANALYZE")
    con.close()


if __name__ == "__main__":
    main()
