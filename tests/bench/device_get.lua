-- P1: GET /api/devices/{id} over random ids of the dataset (dev-000001 … dev-100000, or up to
-- BENCH_DEVICES when the dataset is scaled), each request carrying the bearer token in BENCH_TOKEN.
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local devices = tonumber(os.getenv("BENCH_DEVICES") or "") or 100000
math.randomseed(os.time())

request = function()
    local path = string.format("/api/devices/dev-%06d", math.random(1, devices))
    return wrk.format("GET", path, { ["Authorization"] = auth })
end
