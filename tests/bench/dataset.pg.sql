-- The standard benchmark dataset (spec 10), PostgreSQL dialect; the same rows as dataset.sql.
-- Run on a freshly migrated, empty database:
--
--   psql -v ON_ERROR_STOP=1 -f tests/bench/dataset.pg.sql postgres://…/metadeck_bench
--
--   100,000 devices    dev-000001 … dev-100000, over 50 areas, 20 manufacturers, 10 integrations
--   200,000 entities   two per device: sensor.dev_000001_battery and <domain>.dev_000001
--   10,000 syncs       50 tenants × 200 completed syncs, one every 6 hours per tenant
--   1,000 webhooks     wh_0000000000000001 …, events ["sync.*"], a placeholder secret
--   101 runs           run-0001 … run-0100 (200 plan units each, in layers of 10; every tenth
--                      failed) and run-p14 (1,000 plan units in layers of 25), all ended
--   1,000,000 events   9,000 per run-0001 … run-0100 and 100,000 for run-p14; 3 % error,
--                      7 % warn, 10 % debug, the rest info
--   10,000 resources   5 types × 2,000 names (res-00001 …), each at version 1, hashed here
--   10,000 facts       2,000 hosts × 5 keys; one in five with a day's TTL

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

-- Orchestration runs: r = 1 … 100, one an hour, ended; every tenth failed.
INSERT INTO runs (id, plan_path, status, started_at, finished_at, metadata, created_at, updated_at, error)
SELECT 'run-' || lpad(r::text, 4, '0'), format('plans/stack-%s.tf', lpad((r % 12 + 1)::text, 2, '0')),
       CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       b.ts - make_interval(secs => (101 - r) * 3600 - 5),
       b.ts - make_interval(secs => (101 - r) * 3600 - 1800),
       json_build_object('engine', 'bench', 'commit', lpad(to_hex(r::bigint * 2654435761), 40, '0'),
                         'workspace', 'ws-' || lpad((r % 7)::text, 2, '0')),
       b.ts - make_interval(secs => (101 - r) * 3600),
       b.ts - make_interval(secs => (101 - r) * 3600 - 1800),
       CASE WHEN r % 10 = 0 THEN 'apply failed: quota exceeded' END
FROM generate_series(1, 100) AS r
CROSS JOIN bench_now b;
-- run-p14, the run of P14's page: the newest, 1,000 plan units and 100,000 events.
INSERT INTO runs (id, plan_path, status, started_at, finished_at, metadata, created_at, updated_at, error)
SELECT 'run-p14', 'plans/fleet.tf', 'succeeded', b.ts - interval '3000 seconds', b.ts - interval '600 seconds',
       json_build_object('engine', 'bench', 'workspace', 'fleet'),
       b.ts - interval '3005 seconds', b.ts - interval '600 seconds', NULL
FROM bench_now b;

CREATE TEMP TABLE bench_types (i int PRIMARY KEY, name text NOT NULL) ON COMMIT DROP;
INSERT INTO bench_types VALUES
    (0, 'aws_instance'), (1, 'aws_security_group'), (2, 'aws_s3_bucket'), (3, 'dns_record'),
    (4, 'k8s_deployment');

-- Plan units: k = 1 … 200 of each run r, in layers of 10 (unit k depends on k - 10 and, past
-- the second layer, k - 11); then run-p14's k = 1 … 1,000 in layers of 25.
INSERT INTO plan_units (id, run_id, resource_type, resource_name, action, status, dependencies,
                        desired_state, error, started_at, finished_at, created_at, updated_at)
SELECT u.run_id || '-u' || lpad(k::text, 3, '0'), u.run_id, t.name, 'res-' || lpad(((r * 200 + k) % 2000 + 1)::text, 5, '0'),
       CASE k % 4 WHEN 0 THEN 'update' WHEN 1 THEN 'create' WHEN 2 THEN 'noop' ELSE 'update' END,
       CASE WHEN r % 10 = 0 AND k > 150 THEN 'skipped' WHEN r % 10 = 0 AND k = 150 THEN 'failed' ELSE 'succeeded' END,
       (CASE WHEN k <= 10 THEN '[]'
             WHEN k <= 20 THEN format('["%s-u%s"]', u.run_id, lpad((k - 10)::text, 3, '0'))
             ELSE format('["%s-u%s","%s-u%s"]', u.run_id, lpad((k - 10)::text, 3, '0'), u.run_id, lpad((k - 11)::text, 3, '0')) END)::json,
       json_build_object('size', 't3.small', 'index', k), CASE WHEN r % 10 = 0 AND k = 150 THEN 'quota exceeded' END,
       ru.started_at, ru.finished_at, ru.created_at, ru.finished_at
FROM generate_series(1, 100) AS r
CROSS JOIN generate_series(1, 200) AS k
CROSS JOIN LATERAL (SELECT 'run-' || lpad(r::text, 4, '0') AS run_id) u
JOIN bench_types t ON t.i = k % 5
JOIN runs ru ON ru.id = u.run_id;
INSERT INTO plan_units (id, run_id, resource_type, resource_name, action, status, dependencies,
                        desired_state, error, started_at, finished_at, created_at, updated_at)
SELECT 'run-p14-u' || lpad(k::text, 4, '0'), 'run-p14', t.name, 'res-' || lpad(k::text, 5, '0'),
       CASE k % 3 WHEN 0 THEN 'update' WHEN 1 THEN 'create' ELSE 'noop' END, 'succeeded',
       (CASE WHEN k <= 25 THEN '[]'
             WHEN k <= 50 THEN format('["run-p14-u%s"]', lpad((k - 25)::text, 4, '0'))
             ELSE format('["run-p14-u%s","run-p14-u%s"]', lpad((k - 25)::text, 4, '0'), lpad((k - 26)::text, 4, '0')) END)::json,
       json_build_object('size', 't3.small', 'index', k), NULL,
       ru.started_at, ru.finished_at, ru.created_at, ru.finished_at
FROM generate_series(1, 1000) AS k
JOIN bench_types t ON t.i = k % 5
JOIN runs ru ON ru.id = 'run-p14';

-- Events: n = 1 … 900,000 are run-0001 … run-0100's (9,000 each, in time order), then
-- n = 900,001 … 1,000,000 run-p14's; each names one of its run's plan units.
INSERT INTO events (run_id, plan_unit_id, level, message, details, timestamp)
SELECT e.run_id, e.unit_id,
       CASE WHEN n % 100 < 3 THEN 'error' WHEN n % 100 < 10 THEN 'warn' WHEN n % 100 < 20 THEN 'debug' ELSE 'info' END,
       CASE WHEN n % 100 < 3 THEN format('%s: apply failed, retrying (attempt %s)', e.unit_id, n % 5 + 1)
            WHEN n % 100 < 10 THEN format('%s: still creating after %s s', e.unit_id, n % 300)
            ELSE format('%s: step %s done', e.unit_id, n % 40) END,
       CASE WHEN n % 100 < 3 THEN json_build_object('attempt', n % 5 + 1, 'code', 'QuotaExceeded') ELSE '{}'::json END,
       e.at
FROM generate_series(1, 1000000) AS n
CROSS JOIN bench_now b
CROSS JOIN LATERAL (
    SELECT CASE WHEN n <= 900000 THEN 'run-' || lpad(((n - 1) / 9000 + 1)::text, 4, '0') ELSE 'run-p14' END AS run_id,
           CASE WHEN n <= 900000 THEN 'run-' || lpad(((n - 1) / 9000 + 1)::text, 4, '0') || '-u' || lpad(((n - 1) % 200 + 1)::text, 3, '0')
                ELSE 'run-p14-u' || lpad(((n - 900001) % 1000 + 1)::text, 4, '0') END AS unit_id,
           CASE WHEN n <= 900000 THEN b.ts - make_interval(secs => (101 - ((n - 1) / 9000 + 1)) * 3600 - 5 - ((n - 1) % 9000) / 5)
                ELSE b.ts - make_interval(secs => 3000 - (n - 900001) / 42) END AS at
) e
ORDER BY n;

-- Resource state: n = 1 … 10,000, type n % 5, name res-00001 …; the state is written in its
-- canonical JSON (sorted keys, no whitespace) and hashed as the server hashes it.
INSERT INTO resource_state (id, resource_type, resource_name, state, hash, last_run_id, last_applied,
                            created_at, updated_at, serial)
SELECT format('rs-%s', lpad(n::text, 6, '0')), t.name, x.name, x.state::json,
       encode(sha256(convert_to(x.state, 'UTF8')), 'hex'), 'run-' || lpad((n % 100 + 1)::text, 4, '0'),
       b.ts - interval '1 day' + make_interval(secs => n), b.ts - interval '1 day' + make_interval(secs => n),
       b.ts - interval '1 day' + make_interval(secs => n), 1
FROM generate_series(1, 10000) AS n
CROSS JOIN bench_now b
JOIN bench_types t ON t.i = n % 5
CROSS JOIN LATERAL (
    SELECT 'res-' || lpad(((n - 1) / 5 + 1)::text, 5, '0') AS name,
           format('{"arn":"arn:bench:%s:res-%s","id":"id-%s","region":"eu-west-%s","size":"%s","tags":{"env":"%s","team":"team-%s"}}',
                  t.name, lpad(((n - 1) / 5 + 1)::text, 5, '0'), lpad(n::text, 6, '0'), n % 3 + 1,
                  CASE n % 3 WHEN 0 THEN 't3.small' WHEN 1 THEN 't3.large' ELSE 'm5.xlarge' END,
                  CASE n % 4 WHEN 0 THEN 'prod' ELSE 'staging' END, lpad((n % 20 + 1)::text, 2, '0')) AS state
) x;
INSERT INTO resource_state_versions (resource_type, resource_name, serial, hash, state, run_id, actor, created_at)
SELECT resource_type, resource_name, serial, hash, state, last_run_id, 'client:bench-engine', updated_at
FROM resource_state;

-- Facts: host h = 1 … 2,000 × 5 keys; one fact in five expires in a day.
INSERT INTO facts (id, target_id, namespace, key, value, ttl, expires_at, created_at, updated_at)
SELECT format('fact-%s-%s', lpad(h::text, 4, '0'), k.k), 'host-' || lpad(h::text, 4, '0'), k.ns, k.key,
       (CASE k.k WHEN 1 THEN '"debian"' WHEN 2 THEN '"6.1.0"' WHEN 3 THEN format('"10.0.%s.%s"', h / 250, h % 250)
                 WHEN 4 THEN format('"02:00:00:00:%s:%s"', lpad(to_hex(h / 256), 2, '0'), lpad(to_hex(h % 256), 2, '0'))
                 ELSE (h % 16 + 1)::text END)::json,
       CASE WHEN k.k = 3 THEN 86400 ELSE 0 END,
       CASE WHEN k.k = 3 THEN b.ts + interval '1 day' END,
       b.ts - interval '1 hour', b.ts - interval '1 hour'
FROM generate_series(1, 2000) AS h
CROSS JOIN (VALUES (1, 'os', 'name'), (2, 'os', 'kernel'), (3, 'net', 'ip'), (4, 'net', 'mac'), (5, 'hw', 'cpus')) AS k(k, ns, key)
CROSS JOIN bench_now b;

COMMIT;

ANALYZE;
