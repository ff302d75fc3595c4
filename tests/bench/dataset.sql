-- The standard benchmark dataset (spec 10), SQLite dialect; dataset.pg.sql is the same for
-- PostgreSQL. Run on a freshly migrated, empty database:
--
--   sqlite3 bench.db < tests/bench/dataset.sql
--
--   100,000 devices    dev-000001 … dev-100000, over 50 areas, 20 manufacturers, 10 integrations
--   200,000 entities   two per device: sensor.dev_000001_battery and <domain>.dev_000001
--   10,000 syncs       50 tenants × 200 completed syncs, one every 6 hours per tenant
--   1,000 webhooks     wh_0000000000000001 …, events ["sync.*"], a placeholder secret
--   101 runs           run-0001 … run-0100 (200 plan units each, in layers of 10; every tenth
--                      failed) and run-p14 (1,000 plan units in layers of 25), all ended
--   1,000,000 events   9,000 per run-0001 … run-0100 and 100,000 for run-p14; 3 % error,
--                      7 % warn, 10 % debug, the rest info
--   10,000 resources   5 types × 2,000 names (res-00001 …), each at version 1
--   10,000 facts       2,000 hosts × 5 keys; one in five with a day's TTL
--
-- SQLite has no SHA-256 function: the resources' hashes (SHA-256 of the state's canonical
-- JSON, which the states below are written in) and their first versions are written by
-- dataset_hashes.py, which run.sh calls after this script.
--
-- Timestamps are stored as the application writes them on SQLite (chrono's RFC 3339 text,
-- e.g. 2026-11-22T19:03:00+00:00), so text comparisons and ordering agree with its own rows.
-- Everything is relative to the moment the script runs; the values are deterministic otherwise.

PRAGMA foreign_keys = ON;
PRAGMA synchronous = OFF;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -262144;

BEGIN IMMEDIATE;

CREATE TEMP TABLE bench_now AS SELECT CAST(strftime('%s', 'now') AS INTEGER) / 60 * 60 AS now_s;
CREATE TEMP TABLE bench_integrations(i INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO bench_integrations VALUES
    (0, 'zha'), (1, 'zwave_js'), (2, 'hue'), (3, 'mqtt'), (4, 'esphome'),
    (5, 'shelly'), (6, 'tasmota'), (7, 'homekit_controller'), (8, 'matter'), (9, 'tuya');
CREATE TEMP TABLE bench_manufacturers(i INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO bench_manufacturers VALUES
    (0, 'Philips'), (1, 'IKEA of Sweden'), (2, 'Aqara'), (3, 'Shelly'), (4, 'Sonoff'),
    (5, 'TP-Link'), (6, 'Eve Systems'), (7, 'Fibaro'), (8, 'Aeotec'), (9, 'Zooz'),
    (10, 'Espressif'), (11, 'Tuya'), (12, 'Netatmo'), (13, 'Bosch'), (14, 'Siemens'),
    (15, 'Danfoss'), (16, 'Honeywell'), (17, 'Yale'), (18, 'Nanoleaf'), (19, 'Lutron');
CREATE TEMP TABLE bench_domains(i INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO bench_domains VALUES
    (0, 'light'), (1, 'switch'), (2, 'binary_sensor'), (3, 'sensor'), (4, 'climate'),
    (5, 'cover'), (6, 'lock'), (7, 'fan');

-- Devices: n = 1 … 100,000.
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 100000)
INSERT INTO devices (device_id, name, manufacturer, model, area_id, integration, last_seen, created_at, updated_at)
SELECT printf('dev-%06d', n),
       printf('%s %s %d', m.name, CASE n % 4 WHEN 0 THEN 'Light' WHEN 1 THEN 'Sensor' WHEN 2 THEN 'Plug' ELSE 'Thermostat' END, n),
       m.name,
       printf('%s-%03d', upper(substr(m.name, 1, 3)), n % 37),
       printf('area_%02d', n % 50 + 1),
       i.name,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - (n * 7919) % 86400, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 31536000 + n * 300, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - (n * 7919) % 86400, 'unixepoch')
FROM seq
JOIN bench_manufacturers m ON m.i = n % 20
JOIN bench_integrations i ON i.i = n % 10;

-- Entities: two per device (a battery sensor and the device's main entity); 1 in 20 disabled.
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT 'sensor.' || replace(d.device_id, '-', '_') || '_battery', d.device_id, 'sensor', d.integration,
       0, d.created_at, d.updated_at
FROM devices d;
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT dm.name || '.' || replace(d.device_id, '-', '_'), d.device_id, dm.name, d.integration,
       CAST(substr(d.device_id, 5) AS INTEGER) % 20 = 0, d.created_at, d.updated_at
FROM devices d
JOIN bench_domains dm ON dm.i = CAST(substr(d.device_id, 5) AS INTEGER) % 8;

-- Sync history: tenant t = 1 … 50, run k = 1 … 200 (k = 200 the newest, 6 hours apart), all completed.
WITH RECURSIVE
    tenants(t) AS (SELECT 1 UNION ALL SELECT t + 1 FROM tenants WHERE t < 50),
    runs(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM runs WHERE k < 200),
    s AS (
        SELECT t, k,
               (SELECT now_s FROM bench_now) - (200 - k) * 21600 - 3600 - t * 37 AS start_s,
               120 + (t * 131 + k * 17) % 1080 AS duration_s,
               CASE WHEN k % 2 = 0 THEN 'graphdb' ELSE 'sqlite' END AS sync_type
        FROM tenants, runs
    )
INSERT INTO sync_history (tenant_id, sync_type, status, start_time, end_time, success, error_details,
                          users_count, groups_count, apps_count, policies_count, devices_count,
                          progress_percentage, process_id, graphdb_version, graphdb_promoted,
                          updated_at, created_by)
SELECT printf('tenant-%02d', t), sync_type, 'completed',
       strftime('%Y-%m-%dT%H:%M:%S+00:00', start_s, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', start_s + duration_s, 'unixepoch'),
       1, NULL,
       500 + t * 97 + k, 20 + t * 3 + k % 7, 40 + t % 25, 10 + t % 13, 200 + t * 41 + k % 11,
       100, printf('sync-%02d-%03d', t, k),
       CASE WHEN sync_type = 'graphdb' THEN k / 2 END,
       CASE WHEN sync_type = 'graphdb' THEN 1 END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', start_s + duration_s, 'unixepoch'),
       'client:orchestrator'
FROM s
ORDER BY k, t;

-- Webhooks: w = 1 … 1,000 over 20 teams; endpoints on the discard port of the loopback address.
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000)
INSERT INTO webhooks (webhook_id, url, events, secret, team, created_at, description, is_enabled,
                      updated_at, disabled_reason, previous_secret, secret_rotated_at, failing_since)
SELECT printf('wh_%016x', n),
       printf('http://127.0.0.1:9/hooks/%d', n),
       '["sync.*"]',
       'bench-placeholder-secret',
       printf('team-%02d', n % 20 + 1),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 2592000 + n * 600, 'unixepoch'),
       printf('benchmark webhook %d', n),
       1,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 2592000 + n * 600, 'unixepoch'),
       NULL, NULL, NULL, NULL
FROM seq;

-- Orchestration runs: r = 1 … 100, one an hour, ended; every tenth failed.
WITH RECURSIVE seq(r) AS (SELECT 1 UNION ALL SELECT r + 1 FROM seq WHERE r < 100)
INSERT INTO runs (id, plan_path, status, started_at, finished_at, metadata, created_at, updated_at, error)
SELECT printf('run-%04d', r), printf('plans/stack-%02d.tf', r % 12 + 1),
       CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - (101 - r) * 3600 + 5, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - (101 - r) * 3600 + 1800, 'unixepoch'),
       json_object('engine', 'bench', 'commit', printf('%040x', r * 2654435761), 'workspace', printf('ws-%02d', r % 7)),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - (101 - r) * 3600, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - (101 - r) * 3600 + 1800, 'unixepoch'),
       CASE WHEN r % 10 = 0 THEN 'apply failed: quota exceeded' END
FROM seq;
-- run-p14, the run of P14's page: the newest, 1,000 plan units and 100,000 events.
INSERT INTO runs (id, plan_path, status, started_at, finished_at, metadata, created_at, updated_at, error)
SELECT 'run-p14', 'plans/fleet.tf', 'succeeded',
       strftime('%Y-%m-%dT%H:%M:%S+00:00', now_s - 3000, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', now_s - 600, 'unixepoch'),
       json_object('engine', 'bench', 'workspace', 'fleet'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', now_s - 3005, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', now_s - 600, 'unixepoch'), NULL
FROM bench_now;

CREATE TEMP TABLE bench_types(i INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO bench_types VALUES
    (0, 'aws_instance'), (1, 'aws_security_group'), (2, 'aws_s3_bucket'), (3, 'dns_record'),
    (4, 'k8s_deployment');

-- Plan units: k = 1 … 200 of each run r, in layers of 10 (unit k depends on k - 10 and, past
-- the second layer, k - 11); then run-p14's k = 1 … 1,000 in layers of 25.
WITH RECURSIVE
    rs(r) AS (SELECT 1 UNION ALL SELECT r + 1 FROM rs WHERE r < 100),
    ks(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ks WHERE k < 200)
INSERT INTO plan_units (id, run_id, resource_type, resource_name, action, status, dependencies,
                        desired_state, error, started_at, finished_at, created_at, updated_at)
SELECT printf('run-%04d-u%03d', r, k), printf('run-%04d', r), t.name, printf('res-%05d', (r * 200 + k) % 2000 + 1),
       CASE k % 4 WHEN 0 THEN 'update' WHEN 1 THEN 'create' WHEN 2 THEN 'noop' ELSE 'update' END,
       CASE WHEN r % 10 = 0 AND k > 150 THEN 'skipped' WHEN r % 10 = 0 AND k = 150 THEN 'failed' ELSE 'succeeded' END,
       CASE WHEN k <= 10 THEN '[]'
            WHEN k <= 20 THEN printf('["run-%04d-u%03d"]', r, k - 10)
            ELSE printf('["run-%04d-u%03d","run-%04d-u%03d"]', r, k - 10, r, k - 11) END,
       json_object('size', 't3.small', 'index', k), CASE WHEN r % 10 = 0 AND k = 150 THEN 'quota exceeded' END,
       ru.started_at, ru.finished_at, ru.created_at, ru.finished_at
FROM rs, ks
JOIN bench_types t ON t.i = k % 5
JOIN runs ru ON ru.id = printf('run-%04d', r);
WITH RECURSIVE ks(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ks WHERE k < 1000)
INSERT INTO plan_units (id, run_id, resource_type, resource_name, action, status, dependencies,
                        desired_state, error, started_at, finished_at, created_at, updated_at)
SELECT printf('run-p14-u%04d', k), 'run-p14', t.name, printf('res-%05d', k),
       CASE k % 3 WHEN 0 THEN 'update' WHEN 1 THEN 'create' ELSE 'noop' END, 'succeeded',
       CASE WHEN k <= 25 THEN '[]'
            WHEN k <= 50 THEN printf('["run-p14-u%04d"]', k - 25)
            ELSE printf('["run-p14-u%04d","run-p14-u%04d"]', k - 25, k - 26) END,
       json_object('size', 't3.small', 'index', k), NULL,
       ru.started_at, ru.finished_at, ru.created_at, ru.finished_at
FROM ks
JOIN bench_types t ON t.i = k % 5
JOIN runs ru ON ru.id = 'run-p14';

-- Events: n = 1 … 900,000 are run-0001 … run-0100's (9,000 each, in time order), then
-- n = 900,001 … 1,000,000 run-p14's; each names one of its run's plan units.
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000000),
    e AS (
        SELECT n,
               CASE WHEN n <= 900000 THEN printf('run-%04d', (n - 1) / 9000 + 1) ELSE 'run-p14' END AS run_id,
               CASE WHEN n <= 900000 THEN printf('run-%04d-u%03d', (n - 1) / 9000 + 1, (n - 1) % 200 + 1)
                    ELSE printf('run-p14-u%04d', (n - 900001) % 1000 + 1) END AS unit_id,
               CASE WHEN n <= 900000 THEN (SELECT now_s FROM bench_now) - (101 - ((n - 1) / 9000 + 1)) * 3600 + 5 + ((n - 1) % 9000) / 5
                    ELSE (SELECT now_s FROM bench_now) - 3000 + (n - 900001) / 42 END AS at_s
        FROM seq
    )
INSERT INTO events (run_id, plan_unit_id, level, message, details, timestamp)
SELECT run_id, unit_id,
       CASE WHEN n % 100 < 3 THEN 'error' WHEN n % 100 < 10 THEN 'warn' WHEN n % 100 < 20 THEN 'debug' ELSE 'info' END,
       CASE WHEN n % 100 < 3 THEN printf('%s: apply failed, retrying (attempt %d)', unit_id, n % 5 + 1)
            WHEN n % 100 < 10 THEN printf('%s: still creating after %d s', unit_id, n % 300)
            ELSE printf('%s: step %d done', unit_id, n % 40) END,
       CASE WHEN n % 100 < 3 THEN json_object('attempt', n % 5 + 1, 'code', 'QuotaExceeded') ELSE '{}' END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', at_s, 'unixepoch')
FROM e;

-- Resource state: n = 1 … 10,000, type n % 5, name res-00001 …; the state is written in its
-- canonical JSON (sorted keys, no whitespace), which dataset_hashes.py hashes.
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10000)
INSERT INTO resource_state (id, resource_type, resource_name, state, hash, last_run_id, last_applied,
                            created_at, updated_at, serial)
SELECT printf('rs-%06d', n), t.name, printf('res-%05d', (n - 1) / 5 + 1),
       printf('{"arn":"arn:bench:%s:res-%05d","id":"id-%06d","region":"eu-west-%d","size":"%s","tags":{"env":"%s","team":"team-%02d"}}',
              t.name, (n - 1) / 5 + 1, n, n % 3 + 1, CASE n % 3 WHEN 0 THEN 't3.small' WHEN 1 THEN 't3.large' ELSE 'm5.xlarge' END,
              CASE n % 4 WHEN 0 THEN 'prod' ELSE 'staging' END, n % 20 + 1),
       '', printf('run-%04d', n % 100 + 1),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 86400 + n, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 86400 + n, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 86400 + n, 'unixepoch'),
       1
FROM seq
JOIN bench_types t ON t.i = n % 5;

-- Facts: host h = 1 … 2,000 × 5 keys; one fact in five expires in a day.
WITH RECURSIVE hs(h) AS (SELECT 1 UNION ALL SELECT h + 1 FROM hs WHERE h < 2000),
    ks(k, ns, key) AS (VALUES (1, 'os', 'name'), (2, 'os', 'kernel'), (3, 'net', 'ip'), (4, 'net', 'mac'), (5, 'hw', 'cpus'))
INSERT INTO facts (id, target_id, namespace, key, value, ttl, expires_at, created_at, updated_at)
SELECT printf('fact-%04d-%d', h, k), printf('host-%04d', h), ns, key,
       CASE k WHEN 1 THEN '"debian"' WHEN 2 THEN '"6.1.0"' WHEN 3 THEN printf('"10.0.%d.%d"', h / 250, h % 250)
              WHEN 4 THEN printf('"02:00:00:00:%02x:%02x"', h / 256, h % 256) ELSE CAST(h % 16 + 1 AS TEXT) END,
       CASE WHEN k = 3 THEN 86400 ELSE 0 END,
       CASE WHEN k = 3 THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) + 86400, 'unixepoch') END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 3600, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM bench_now) - 3600, 'unixepoch')
FROM hs, ks;

COMMIT;

ANALYZE;
PRAGMA optimize;
