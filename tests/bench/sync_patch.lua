-- wrk script: P4's sync half. Run with as many threads as connections (-tN -cN), so each wrk
-- thread is one client on one keep-alive connection, reporting on its own running sync.
--
-- SYNC_IDS      the running syncs' ids, comma-separated (one per thread, in order)
-- SYNC_ACKED    file written at the end: one line "sync_id acknowledged errors" per thread
-- WEBHOOK_COOKIE / WEBHOOK_CSRF   the signed-in admin's session cookie and CSRF token
--
-- Every acknowledged report sets users_count to the number of reports acknowledged so far on
-- that sync, so afterwards each sync must hold its thread's count (or one more: the report in
-- flight when wrk stopped may have been written without its answer being read).

local ids = {}
for id in string.gmatch(os.getenv("SYNC_IDS") or "", "[^,]+") do
    ids[#ids + 1] = id
end

local threads = {}
local next_index = 1

function setup(thread)
    thread:set("sync_id", ids[next_index])
    next_index = next_index + 1
    threads[#threads + 1] = thread
end

local headers = {
    ["Content-Type"] = "application/json",
    ["Cookie"] = os.getenv("WEBHOOK_COOKIE"),
    ["X-CSRF-Token"] = os.getenv("WEBHOOK_CSRF"),
}

function init(args)
    acked = 0
    errors = 0
    path = "/api/sync/runs/" .. sync_id
end

function request()
    return wrk.format("PATCH", path, headers, '{"users_count":' .. (acked + 1) .. '}')
end

function response(status, headers, body)
    if status == 200 then
        acked = acked + 1
    else
        errors = errors + 1
    end
end

function done(summary, latency, requests)
    local out = assert(io.open(os.getenv("SYNC_ACKED"), "w"))
    for _, thread in ipairs(threads) do
        out:write(string.format("%s %d %d\n", thread:get("sync_id"), thread:get("acked"),
            thread:get("errors")))
    end
    out:close()
end
