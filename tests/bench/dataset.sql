-- The standard benchmark dataset (spec 10), SQLite dialect; dataset.pg.sql is the same for
-- PostgreSQL. Run on a freshly migrated, empty database:
--
--   sqlite3 bench.db < tests/bench/dataset.sql
--
--   100,000 devices    dev-000001 … dev-100000, over 50 areas, 20 manufacturers, 10 integrations
--   200,000 entities   two per device: sensor.dev_000001_battery and <domain>.dev_000001
--   10,000 syncs       50 tenants × 200 completed syncs, one every 6 hours per tenant
--   1,000 webhooks     wh_0000000000000001 …, events ["sync.*"], a placeholder secret
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

COMMIT;

ANALYZE;
PRAGMA optimize;
