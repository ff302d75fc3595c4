-- P1: GET /api/devices/{id} over random ids of the standard dataset (dev-000001 … dev-100000),
-- each request carrying the bearer token in BENCH_TOKEN.
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
math.randomseed(os.time())

request = function()
    local path = string.format("/api/devices/dev-%06d", math.random(1, 100000))
    return wrk.format("GET", path, { ["Authorization"] = auth })
end
