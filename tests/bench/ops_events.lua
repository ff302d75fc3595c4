-- P11 / P12: POST /api/ops/events with the bearer token in BENCH_TOKEN, for the run OPS_RUN.
-- OPS_BATCH events per request (1,000 for P11: one array; 1 for P12: a single event object);
-- the body is built once, before the load starts.
local batch = tonumber(os.getenv("OPS_BATCH") or "1")
local run = os.getenv("OPS_RUN")

local function event(i)
    return string.format(
        '{"run_id":"%s","plan_unit_id":"%s-u%03d","level":"%s","message":"step %d of the apply done","details":{"step":%d}}',
        run, run, i % 200 + 1, (i % 20 == 0) and "warn" or "info", i, i)
end

local body
if batch == 1 then
    body = event(1)
else
    local events = {}
    for i = 1, batch do
        events[i] = event(i)
    end
    body = "[" .. table.concat(events, ",") .. "]"
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
