-- P17's growth (spec 10): scale.sql for PostgreSQL, the same rows. run.sh --scale K runs it
-- twice on one database, with the multiples as psql variables:
--
--   psql -v lo=0 -v hi=1 -f tests/bench/scale.pg.sql URL    -- the trail at the standard scale
--   psql -v lo=1 -v hi=10 -f tests/bench/scale.pg.sql URL   -- × 10
--
-- See scale.sql for what each part adds.

\set ON_ERROR_STOP 1
SET synchronous_commit = off;

BEGIN;

CREATE TEMP TABLE scale_now ON COMMIT DROP AS SELECT date_trunc('minute', now()) AS ts;
-- The registry, the syncs and the orchestration share start from multiple 1 (dataset.pg.sql).
CREATE TEMP TABLE scale_data ON COMMIT DROP AS SELECT greatest(:lo, 1) AS lo, :hi AS hi;
CREATE TEMP TABLE scale_names (kind text, i int, name text NOT NULL, PRIMARY KEY (kind, i)) ON COMMIT DROP;
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

-- Devices n = lo × 100,000 + 1 … hi × 100,000, and two entities each. PostgreSQL's lpad cuts a
-- longer string to the length it is given, so the width grows with n (dev-1000000, as SQLite's
-- printf writes it).
CREATE TEMP TABLE scale_devices ON COMMIT DROP AS
SELECT n, format('dev-%s', lpad(n::text, greatest(6, length(n::text)), '0')) AS device_id, m.name AS manufacturer, i.name AS integration,
       s.ts - make_interval(secs => (n::bigint * 7919) % 86400) AS seen,
       s.ts - interval '365 days' + make_interval(secs => n * 30) AS created
FROM scale_data d
CROSS JOIN generate_series(d.lo * 100000 + 1, d.hi * 100000) AS n
CROSS JOIN scale_now s
JOIN scale_names m ON m.kind = 'manufacturer' AND m.i = n % 20
JOIN scale_names i ON i.kind = 'integration' AND i.i = n % 10;
INSERT INTO devices (device_id, name, manufacturer, model, area_id, integration, last_seen, created_at, updated_at)
SELECT device_id,
       format('%s %s %s', manufacturer, (ARRAY['Light', 'Sensor', 'Plug', 'Thermostat'])[n % 4 + 1], n),
       manufacturer,
       format('%s-%s', upper(substr(manufacturer, 1, 3)), lpad((n % 37)::text, 3, '0')),
       format('area_%s', lpad((n % 50 + 1)::text, 2, '0')),
       integration, seen, created, seen
FROM scale_devices;
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT 'sensor.' || replace(device_id, '-', '_') || '_battery', device_id, 'sensor', integration,
       false, created, seen
FROM scale_devices;
INSERT INTO entities (entity_id, device_id, domain, platform, disabled, created_at, updated_at)
SELECT dm.name || '.' || replace(device_id, '-', '_'), device_id, dm.name, integration,
       n % 20 = 0, created, seen
FROM scale_devices
JOIN scale_names dm ON dm.kind = 'domain' AND dm.i = n % 8;

-- Syncs: per tenant, j = 1 … 1,000 × (hi - lo) older ones, 30 minutes apart.
INSERT INTO sync_history (tenant_id, sync_type, status, start_time, end_time, success, error_details,
                          users_count, groups_count, apps_count, policies_count, devices_count,
                          progress_percentage, process_id, graphdb_version, graphdb_promoted,
                          updated_at, created_by)
SELECT format('tenant-%s', lpad(t::text, 2, '0')), x.sync_type,
       CASE WHEN j % 50 = 0 THEN 'failed' ELSE 'completed' END,
       x.start_time, x.start_time + make_interval(secs => x.duration_s),
       j % 50 <> 0, CASE WHEN j % 50 = 0 THEN 'graph write timed out' END,
       500 + t * 97 + j % 200, 20 + t * 3 + j % 7, 40 + t % 25, 10 + t % 13, 200 + t * 41 + j % 11,
       100, format('sync-%s-m%s-%s', lpad(t::text, 2, '0'), d.lo, lpad(j::text, 5, '0')),
       CASE WHEN x.sync_type = 'graphdb' THEN j / 2 END,
       CASE WHEN x.sync_type = 'graphdb' THEN true END,
       x.start_time + make_interval(secs => x.duration_s),
       'client:orchestrator'
FROM scale_data d
CROSS JOIN generate_series(1, (d.hi - d.lo) * 1000) AS j
CROSS JOIN generate_series(1, 50) AS t
CROSS JOIN scale_now s
CROSS JOIN LATERAL (
    SELECT s.ts - make_interval(secs => 200 * 21600 + 3600 + t * 37 + j * 1800) AS start_time,
           120 + (t * 131 + j * 17) % 1080 AS duration_s,
           CASE WHEN j % 2 = 0 THEN 'graphdb' ELSE 'sqlite' END AS sync_type
) x
ORDER BY j DESC, t;

-- Runs r = lo × 100 + 1 … hi × 100, one an hour before the standard ones; every tenth failed.
INSERT INTO runs (id, plan_path, status, started_at, finished_at, metadata, created_at, updated_at, error)
SELECT 'run-' || lpad(r::text, 4, '0'), format('plans/stack-%s.tf', lpad((r % 12 + 1)::text, 2, '0')),
       CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       s.ts - make_interval(secs => (r + 1) * 3600 - 5),
       s.ts - make_interval(secs => (r + 1) * 3600 - 1800),
       json_build_object('engine', 'bench', 'commit', lpad(to_hex(r::bigint * 2654435761), 40, '0'),
                         'workspace', 'ws-' || lpad((r % 7)::text, 2, '0')),
       s.ts - make_interval(secs => (r + 1) * 3600),
       s.ts - make_interval(secs => (r + 1) * 3600 - 1800),
       CASE WHEN r % 10 = 0 THEN 'apply failed: quota exceeded' END
FROM scale_data d
CROSS JOIN generate_series(d.lo * 100 + 1, d.hi * 100) AS r
CROSS JOIN scale_now s;

INSERT INTO plan_units (id, run_id, resource_type, resource_name, action, status, dependencies,
                        desired_state, error, started_at, finished_at, created_at, updated_at)
SELECT ru.id || '-u' || lpad(k::text, 3, '0'), ru.id, t.name, 'res-' || lpad(((r * 200 + k) % 2000 + 1)::text, 5, '0'),
       CASE k % 4 WHEN 0 THEN 'update' WHEN 1 THEN 'create' WHEN 2 THEN 'noop' ELSE 'update' END,
       CASE WHEN r % 10 = 0 AND k > 150 THEN 'skipped' WHEN r % 10 = 0 AND k = 150 THEN 'failed' ELSE 'succeeded' END,
       (CASE WHEN k <= 10 THEN '[]'
             WHEN k <= 20 THEN format('["%s-u%s"]', ru.id, lpad((k - 10)::text, 3, '0'))
             ELSE format('["%s-u%s","%s-u%s"]', ru.id, lpad((k - 10)::text, 3, '0'), ru.id, lpad((k - 11)::text, 3, '0')) END)::json,
       json_build_object('size', 't3.small', 'index', k),
       CASE WHEN r % 10 = 0 AND k = 150 THEN 'quota exceeded' END,
       ru.started_at, ru.finished_at, ru.created_at, ru.finished_at
FROM scale_data d
CROSS JOIN generate_series(d.lo * 100 + 1, d.hi * 100) AS r
CROSS JOIN generate_series(1, 200) AS k
JOIN scale_names t ON t.kind = 'type' AND t.i = k % 5
JOIN runs ru ON ru.id = 'run-' || lpad(r::text, 4, '0');

-- Their events: 10,000 per run, in time order; 3 % error, 7 % warn, 10 % debug.
INSERT INTO events (run_id, plan_unit_id, level, message, details, timestamp)
SELECT e.run_id, e.unit_id,
       CASE WHEN n % 100 < 3 THEN 'error' WHEN n % 100 < 10 THEN 'warn' WHEN n % 100 < 20 THEN 'debug' ELSE 'info' END,
       CASE WHEN n % 100 < 3 THEN format('%s: apply failed, retrying (attempt %s)', e.unit_id, n % 5 + 1)
            WHEN n % 100 < 10 THEN format('%s: still creating after %s s', e.unit_id, n % 300)
            ELSE format('%s: step %s done', e.unit_id, n % 40) END,
       CASE WHEN n % 100 < 3 THEN json_build_object('attempt', n % 5 + 1, 'code', 'QuotaExceeded') ELSE '{}'::json END,
       s.ts - make_interval(secs => (e.r + 1) * 3600 - 5 - e.i / 6)
FROM scale_data d
CROSS JOIN generate_series(1, (d.hi - d.lo) * 1000000::bigint) AS n
CROSS JOIN scale_now s
CROSS JOIN LATERAL (
    SELECT d.lo * 100 + (n - 1) / 10000 + 1 AS r, (n - 1) % 10000 AS i
) x
CROSS JOIN LATERAL (
    SELECT x.r, x.i, 'run-' || lpad(x.r::text, 4, '0') AS run_id,
           'run-' || lpad(x.r::text, 4, '0') || '-u' || lpad((x.i % 200 + 1)::text, 3, '0') AS unit_id
) e;

-- The audit trail: n = lo × 100,000 + 1 … hi × 100,000, five seconds apart going back from an
-- hour ago.
INSERT INTO audit (action, actor, target_id, details, ip_address, timestamp, prev_hash, row_hash)
SELECT (ARRAY['device.updated', 'webhook.updated', 'user.signed_in', 'sync.started', 'client.token_revoked'])[n % 5 + 1],
       (ARRAY['admin', 'cli', 'client:orchestrator', 'operator'])[n % 4 + 1],
       format('dev-%s', lpad((n % 100000 + 1)::text, 6, '0')),
       json_build_object('bench', n),
       '127.0.0.1',
       s.ts - make_interval(secs => 3600 + n * 5),
       lpad(to_hex(n - 1), 64, '0'), lpad(to_hex(n), 64, '0')
FROM generate_series(:lo * 100000 + 1, :hi * 100000) AS n
CROSS JOIN scale_now s;

-- The delivery log: n = lo × 100,000 + 1 … hi × 100,000 over the first 100 webhooks, one a
-- second going back from an hour ago; delivered, 1 in 100 dead.
INSERT INTO webhook_deliveries (webhook_id, message_id, event_type, payload, status, attempts, next_attempt_at,
                                last_status_code, created_at, delivered_at)
SELECT 'wh_' || lpad(to_hex(n % 100 + 1), 16, '0'), format('msg_scale%s', lpad(n::text, 9, '0')), 'sync.completed',
       '{}', CASE WHEN n % 100 = 0 THEN 'dead' ELSE 'succeeded' END, CASE WHEN n % 100 = 0 THEN 8 ELSE 1 END, NULL,
       CASE WHEN n % 100 = 0 THEN 503 ELSE 204 END,
       s.ts - make_interval(secs => 3600 + n),
       s.ts - make_interval(secs => 3600 + n)
FROM generate_series(:lo * 100000 + 1, :hi * 100000) AS n
CROSS JOIN scale_now s;

COMMIT;

ANALYZE;
