-- The standard benchmark dataset (spec 10), PostgreSQL dialect; the same rows as dataset.sql.
-- Run on a freshly migrated, empty database:
--
--   psql -v ON_ERROR_STOP=1 -f tests/bench/dataset.pg.sql postgres://…/metadeck_bench
--
--   100,000 devices    dev-000001 … dev-100000, over 50 areas, 20 manufacturers, 10 integrations
--   200,000 entities   two per device: sensor.dev_000001_battery and <domain>.dev_000001
--   10,000 syncs       50 tenants × 200 completed syncs, one every 6 hours per tenant
--   1,000 webhooks     wh_0000000000000001 …, events ["sync.*"], a placeholder secret

\set ON_ERROR_STOP 1
SET synchronous_commit = off;

BEGIN;

CREATE TEMP TABLE bench_now ON COMMIT DROP AS
    SELECT date_trunc('minute', now()) AS ts;
CREATE TEMP TABLE bench_integrations (i int PRIMARY KEY, name text NOT NULL) ON COMMIT DROP;
INSERT INTO bench_integrations VALUES
    (0, 'zha'), (1, 'zwave_js'), (2, 'hue'), (3, 'mqtt'), (4, 'esphome'),
    (5, 'shelly'), (6, 'tasmota'), (7, 'homekit_controller'), (8, 'matter'), (9, 'tuya');
CREATE TEMP TABLE bench_manufacturers (i int PRIMARY KEY, name text NOT NULL) ON COMMIT DROP;
INSERT INTO bench_manufacturers VALUES
    (0, 'Philips'), (1, 'IKEA of Sweden'), (2, 'Aqara'), (3, 'Shelly'), (4, 'Sonoff'),
    (5, 'TP-Link'), (6, 'Eve Systems'), (7, 'Fibaro'), (8, 'Aeotec'), (9, 'Zooz'),
    (10, 'Espressif'), (11, 'Tuya'), (12, 'Netatmo'), (13, 'Bosch'), (14, 'Siemens'),
    (15, 'Danfoss'), (16, 'Honeywell'), (17, 'Yale'), (18, 'Nanoleaf'), (19, 'Lutron');
CREATE TEMP TABLE bench_domains (i int PRIMARY KEY, name text NOT NULL) ON COMMIT DROP;
INSERT INTO bench_domains VALUES
    (0, 'light'), (1, 'switch'), (2, 'binary_sensor'), (3, 'sensor'), (4, 'climate'),
    (5, 'cover'), (6, 'lock'), (7, 'fan');

-- Devices: n = 1 … 100,000.
INSERT INTO devices (device_id, name, manufacturer, model, area_id, integration, last_seen, created_at, updated_at)
SELECT format('dev-%s', lpad(n::text, 6, '0')),
       format('%s %s %s', m.name, (ARRAY['Light', 'Sensor', 'Plug', 'Thermostat'])[n % 4 + 1], n),
       m.name,
       format('%s-%s', upper(substr(m.name, 1, 3)), lpad((n % 37)::text, 3, '0')),
       format('area_%s', lpad((n % 50 + 1)::text, 2, '0')),
       i.name,
       b.ts - make_interval(secs => (n::bigint * 7919) % 86400),
       b.ts - interval '365 days' + make_interval(secs => n * 300),
       b.ts - make_interval(secs => (n::bigint * 7919) % 86400)
FROM generate_series(1, 100000) AS n
CROSS JOIN bench_now b
JOIN bench_manufacturers m ON m.i = n % 20
JOIN bench_integrations i ON i.i = n % 10;

-- Entities: two per device (a battery sensor and the device's main entity); 1 in 20 disabled.
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT 'sensor.' || replace(d.device_id, '-', '_') || '_battery', d.device_id, 'sensor', d.integration,
       false, d.created_at, d.updated_at
FROM devices d;
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT dm.name || '.' || replace(d.device_id, '-', '_'), d.device_id, dm.name, d.integration,
       substr(d.device_id, 5)::int % 20 = 0, d.created_at, d.updated_at
FROM devices d
JOIN bench_domains dm ON dm.i = substr(d.device_id, 5)::int % 8;

-- Sync history: tenant t = 1 … 50, run k = 1 … 200 (k = 200 the newest, 6 hours apart), all completed.
INSERT INTO sync_history (tenant_id, sync_type, status, start_time, end_time, success, error_details,
                          users_count, groups_count, apps_count, policies_count, devices_count,
                          progress_percentage, process_id, graphdb_version, graphdb_promoted,
                          updated_at, created_by)
SELECT format('tenant-%s', lpad(t::text, 2, '0')), s.sync_type, 'completed',
       s.start_time, s.start_time + make_interval(secs => s.duration_s),
       true, NULL,
       500 + t * 97 + k, 20 + t * 3 + k % 7, 40 + t % 25, 10 + t % 13, 200 + t * 41 + k % 11,
       100, format('sync-%s-%s', lpad(t::text, 2, '0'), lpad(k::text, 3, '0')),
       CASE WHEN s.sync_type = 'graphdb' THEN k / 2 END,
       CASE WHEN s.sync_type = 'graphdb' THEN true END,
       s.start_time + make_interval(secs => s.duration_s),
       'client:orchestrator'
FROM generate_series(1, 200) AS k
CROSS JOIN generate_series(1, 50) AS t
CROSS JOIN bench_now b
CROSS JOIN LATERAL (
    SELECT b.ts - make_interval(secs => (200 - k) * 21600 + 3600 + t * 37) AS start_time,
           120 + (t * 131 + k * 17) % 1080 AS duration_s,
           CASE WHEN k % 2 = 0 THEN 'graphdb' ELSE 'sqlite' END AS sync_type
) s
ORDER BY k, t;

-- Webhooks: w = 1 … 1,000 over 20 teams; endpoints on the discard port of the loopback address.
INSERT INTO webhooks (webhook_id, url, events, secret, team, created_at, description, is_enabled,
                      updated_at, disabled_reason, previous_secret, secret_rotated_at, failing_since)
SELECT 'wh_' || lpad(to_hex(n), 16, '0'),
       format('http://127.0.0.1:9/hooks/%s', n),
       '["sync.*"]',
       'bench-placeholder-secret',
       format('team-%s', lpad((n % 20 + 1)::text, 2, '0')),
       b.ts - interval '30 days' + make_interval(secs => n * 600),
       format('benchmark webhook %s', n),
       true,
       b.ts - interval '30 days' + make_interval(secs => n * 600),
       NULL, NULL, NULL, NULL
FROM generate_series(1, 1000) AS n
CROSS JOIN bench_now b;

COMMIT;

ANALYZE;
