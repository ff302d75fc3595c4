-- P17's growth (spec 10): the standard dataset at a multiple of its rows, SQLite dialect;
-- scale.pg.sql is the same for PostgreSQL. run.sh --scale K runs it twice on one database:
--
--   CREATE TEMP TABLE bench_scale AS SELECT 0 AS lo, 1 AS hi;   -- then this script: the trail
--   CREATE TEMP TABLE bench_scale AS SELECT 1 AS lo, 10 AS hi;  -- then this script: × 10
--
-- It adds the rows of the multiples lo + 1 … hi of each part (the standard dataset,
-- dataset.sql, is multiple 1 of the registry, the syncs and the orchestration share):
--
--   devices      100,000 per multiple (dev-100001 …), as dataset.sql builds them
--   entities     two per new device
--   syncs        50,000 per multiple past the first (50 tenants), older than the standard ones
--   runs         100 per multiple past the first (run-0101 …), 200 plan units and 10,000
--                events each: 1,000,000 events per multiple
--   audit        100,000 rows per multiple, from multiple 1 (the standard dataset has none)
--   deliveries   100,000 per multiple, from multiple 1, over the first 100 webhooks; 1 in 100 dead
--
-- At --scale 10: 1,000,000 devices, 2,000,000 entities, 500,000 syncs, 10,000,000 events,
-- 1,000,000 audit rows and 1,000,000 deliveries. The audit rows carry placeholder hashes
-- (SQLite has no SHA-256): the trail's chain does not verify over them.

PRAGMA foreign_keys = ON;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;

BEGIN IMMEDIATE;

CREATE TEMP TABLE scale_now AS SELECT CAST(strftime('%s', 'now') AS INTEGER) / 60 * 60 AS now_s;
-- The registry, the syncs and the orchestration share start from multiple 1 (dataset.sql).
CREATE TEMP TABLE scale_data AS SELECT max(lo, 1) AS lo, hi FROM bench_scale;
CREATE TEMP TABLE scale_names(kind TEXT, i INTEGER, name TEXT, PRIMARY KEY (kind, i));
INSERT INTO scale_names VALUES
    ('integration', 0, 'zha'), ('integration', 1, 'zwave_js'), ('integration', 2, 'hue'),
    ('integration', 3, 'mqtt'), ('integration', 4, 'esphome'), ('integration', 5, 'shelly'),
    ('integration', 6, 'tasmota'), ('integration', 7, 'homekit_controller'),
    ('integration', 8, 'matter'), ('integration', 9, 'tuya'),
    ('manufacturer', 0, 'Philips'), ('manufacturer', 1, 'IKEA of Sweden'), ('manufacturer', 2, 'Aqara'),
    ('manufacturer', 3, 'Shelly'), ('manufacturer', 4, 'Sonoff'), ('manufacturer', 5, 'TP-Link'),
    ('manufacturer', 6, 'Eve Systems'), ('manufacturer', 7, 'Fibaro'), ('manufacturer', 8, 'Aeotec'),
    ('manufacturer', 9, 'Zooz'), ('manufacturer', 10, 'Espressif'), ('manufacturer', 11, 'Tuya'),
    ('manufacturer', 12, 'Netatmo'), ('manufacturer', 13, 'Bosch'), ('manufacturer', 14, 'Siemens'),
    ('manufacturer', 15, 'Danfoss'), ('manufacturer', 16, 'Honeywell'), ('manufacturer', 17, 'Yale'),
    ('manufacturer', 18, 'Nanoleaf'), ('manufacturer', 19, 'Lutron'),
    ('domain', 0, 'light'), ('domain', 1, 'switch'), ('domain', 2, 'binary_sensor'), ('domain', 3, 'sensor'),
    ('domain', 4, 'climate'), ('domain', 5, 'cover'), ('domain', 6, 'lock'), ('domain', 7, 'fan'),
    ('type', 0, 'aws_instance'), ('type', 1, 'aws_security_group'), ('type', 2, 'aws_s3_bucket'),
    ('type', 3, 'dns_record'), ('type', 4, 'k8s_deployment');

-- Devices n = lo × 100,000 + 1 … hi × 100,000, as dataset.sql builds them.
CREATE TEMP TABLE scale_devices_from AS SELECT COALESCE(MAX(rowid), 0) AS r FROM devices;
WITH RECURSIVE seq(n) AS (
    SELECT lo * 100000 + 1 FROM scale_data WHERE hi > lo
    UNION ALL SELECT n + 1 FROM seq WHERE n < (SELECT hi * 100000 FROM scale_data))
INSERT INTO devices (device_id, name, manufacturer, model, area_id, integration, last_seen, created_at, updated_at)
SELECT printf('dev-%06d', n),
       printf('%s %s %d', m.name, CASE n % 4 WHEN 0 THEN 'Light' WHEN 1 THEN 'Sensor' WHEN 2 THEN 'Plug' ELSE 'Thermostat' END, n),
       m.name,
       printf('%s-%03d', upper(substr(m.name, 1, 3)), n % 37),
       printf('area_%02d', n % 50 + 1),
       i.name,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (n * 7919) % 86400, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - 31536000 + n * 30, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (n * 7919) % 86400, 'unixepoch')
FROM seq
JOIN scale_names m ON m.kind = 'manufacturer' AND m.i = n % 20
JOIN scale_names i ON i.kind = 'integration' AND i.i = n % 10;

-- Entities: two per new device, as dataset.sql builds them.
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT 'sensor.' || replace(d.device_id, '-', '_') || '_battery', d.device_id, 'sensor', d.integration,
       0, d.created_at, d.updated_at
FROM devices d WHERE d.rowid > (SELECT r FROM scale_devices_from);
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT dm.name || '.' || replace(d.device_id, '-', '_'), d.device_id, dm.name, d.integration,
       CAST(substr(d.device_id, 5) AS INTEGER) % 20 = 0, d.created_at, d.updated_at
FROM devices d
JOIN scale_names dm ON dm.kind = 'domain' AND dm.i = CAST(substr(d.device_id, 5) AS INTEGER) % 8
WHERE d.rowid > (SELECT r FROM scale_devices_from);

-- Syncs: per tenant, j = 1 … 1,000 × (hi - lo) older ones, 30 minutes apart before the
-- standard 200 (whose oldest started 50 days ago).
WITH RECURSIVE
    tenants(t) AS (SELECT 1 UNION ALL SELECT t + 1 FROM tenants WHERE t < 50),
    js(j) AS (
        SELECT 1 FROM scale_data WHERE hi > lo
        UNION ALL SELECT j + 1 FROM js WHERE j < (SELECT (hi - lo) * 1000 FROM scale_data)),
    s AS (
        SELECT t, j,
               (SELECT now_s FROM scale_now) - 200 * 21600 - 3600 - t * 37 - j * 1800 AS start_s,
               120 + (t * 131 + j * 17) % 1080 AS duration_s,
               CASE WHEN j % 2 = 0 THEN 'graphdb' ELSE 'sqlite' END AS sync_type,
               (SELECT lo FROM scale_data) AS lo
        FROM tenants, js
    )
INSERT INTO sync_history (tenant_id, sync_type, status, start_time, end_time, success, error_details,
                          users_count, groups_count, apps_count, policies_count, devices_count,
                          progress_percentage, process_id, graphdb_version, graphdb_promoted,
                          updated_at, created_by)
SELECT printf('tenant-%02d', t), sync_type, CASE WHEN j % 50 = 0 THEN 'failed' ELSE 'completed' END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', start_s, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', start_s + duration_s, 'unixepoch'),
       j % 50 != 0, CASE WHEN j % 50 = 0 THEN 'graph write timed out' END,
       500 + t * 97 + j % 200, 20 + t * 3 + j % 7, 40 + t % 25, 10 + t % 13, 200 + t * 41 + j % 11,
       100, printf('sync-%02d-m%d-%05d', t, lo, j),
       CASE WHEN sync_type = 'graphdb' THEN j / 2 END,
       CASE WHEN sync_type = 'graphdb' THEN 1 END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', start_s + duration_s, 'unixepoch'),
       'client:orchestrator'
FROM s
ORDER BY j DESC, t;

-- Runs r = lo × 100 + 1 … hi × 100, one an hour before the standard ones; every tenth failed.
WITH RECURSIVE seq(r) AS (
    SELECT lo * 100 + 1 FROM scale_data WHERE hi > lo
    UNION ALL SELECT r + 1 FROM seq WHERE r < (SELECT hi * 100 FROM scale_data))
INSERT INTO runs (id, plan_path, status, started_at, finished_at, metadata, created_at, updated_at, error)
SELECT printf('run-%04d', r), printf('plans/stack-%02d.tf', r % 12 + 1),
       CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (r + 1) * 3600 + 5, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (r + 1) * 3600 + 1800, 'unixepoch'),
       json_object('engine', 'bench', 'commit', printf('%040x', r * 2654435761), 'workspace', printf('ws-%02d', r % 7)),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (r + 1) * 3600, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (r + 1) * 3600 + 1800, 'unixepoch'),
       CASE WHEN r % 10 = 0 THEN 'apply failed: quota exceeded' END
FROM seq;

-- Their plan units: k = 1 … 200 of each, in layers of 10, as dataset.sql builds them.
WITH RECURSIVE
    rs(r) AS (
        SELECT lo * 100 + 1 FROM scale_data WHERE hi > lo
        UNION ALL SELECT r + 1 FROM rs WHERE r < (SELECT hi * 100 FROM scale_data)),
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
JOIN scale_names t ON t.kind = 'type' AND t.i = k % 5
JOIN runs ru ON ru.id = printf('run-%04d', r);

-- Their events: 10,000 per run, in time order, each naming one of the run's plan units; 3 %
-- error, 7 % warn, 10 % debug.
WITH RECURSIVE seq(n) AS (
    SELECT 1 FROM scale_data WHERE hi > lo
    UNION ALL SELECT n + 1 FROM seq WHERE n < (SELECT (hi - lo) * 1000000 FROM scale_data)),
    e AS (
        SELECT n,
               (SELECT lo * 100 FROM scale_data) + (n - 1) / 10000 + 1 AS r,
               (n - 1) % 10000 AS i
        FROM seq
    )
INSERT INTO events (run_id, plan_unit_id, level, message, details, timestamp)
SELECT printf('run-%04d', r), printf('run-%04d-u%03d', r, i % 200 + 1),
       CASE WHEN n % 100 < 3 THEN 'error' WHEN n % 100 < 10 THEN 'warn' WHEN n % 100 < 20 THEN 'debug' ELSE 'info' END,
       CASE WHEN n % 100 < 3 THEN printf('run-%04d-u%03d: apply failed, retrying (attempt %d)', r, i % 200 + 1, n % 5 + 1)
            WHEN n % 100 < 10 THEN printf('run-%04d-u%03d: still creating after %d s', r, i % 200 + 1, n % 300)
            ELSE printf('run-%04d-u%03d: step %d done', r, i % 200 + 1, n % 40) END,
       CASE WHEN n % 100 < 3 THEN json_object('attempt', n % 5 + 1, 'code', 'QuotaExceeded') ELSE '{}' END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - (r + 1) * 3600 + 5 + i / 6, 'unixepoch')
FROM e;

-- The audit trail: n = lo × 100,000 + 1 … hi × 100,000, five seconds apart going back from an
-- hour ago (a larger trail reaches further back; the last day's rows stay the same).
WITH RECURSIVE seq(n) AS (
    SELECT lo * 100000 + 1 FROM bench_scale WHERE hi > lo
    UNION ALL SELECT n + 1 FROM seq WHERE n < (SELECT hi * 100000 FROM bench_scale))
INSERT INTO audit (action, actor, target_id, details, ip_address, timestamp, prev_hash, row_hash)
SELECT CASE n % 5 WHEN 0 THEN 'device.updated' WHEN 1 THEN 'webhook.updated' WHEN 2 THEN 'user.signed_in'
                  WHEN 3 THEN 'sync.started' ELSE 'client.token_revoked' END,
       CASE n % 4 WHEN 0 THEN 'admin' WHEN 1 THEN 'cli' WHEN 2 THEN 'client:orchestrator' ELSE 'operator' END,
       printf('dev-%06d', n % 100000 + 1),
       json_object('bench', n),
       '127.0.0.1',
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - 3600 - n * 5, 'unixepoch'),
       printf('%064x', n - 1), printf('%064x', n)
FROM seq;

-- The delivery log: n = lo × 100,000 + 1 … hi × 100,000 over the first 100 webhooks, one a
-- second going back from an hour ago (a larger log reaches further back; the last day's
-- deliveries stay the same); delivered, 1 in 100 dead.
WITH RECURSIVE seq(n) AS (
    SELECT lo * 100000 + 1 FROM bench_scale WHERE hi > lo
    UNION ALL SELECT n + 1 FROM seq WHERE n < (SELECT hi * 100000 FROM bench_scale))
INSERT INTO webhook_deliveries (webhook_id, message_id, event_type, payload, status, attempts, next_attempt_at,
                                last_status_code, created_at, delivered_at)
SELECT printf('wh_%016x', n % 100 + 1), printf('msg_scale%09d', n), 'sync.completed', '{}',
       CASE WHEN n % 100 = 0 THEN 'dead' ELSE 'succeeded' END, CASE WHEN n % 100 = 0 THEN 8 ELSE 1 END, NULL,
       CASE WHEN n % 100 = 0 THEN 503 ELSE 204 END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - 3600 - n, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', (SELECT now_s FROM scale_now) - 3600 - n, 'unixepoch')
FROM seq;

COMMIT;

ANALYZE;
PRAGMA optimize;
