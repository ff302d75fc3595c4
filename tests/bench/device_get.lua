-- P1: GET /api/devices/{id} over random ids of the standard dataset (dev-000001 … dev-100000).
-- ADMIN_COOKIE (the signed-in admin's cookies) is sent with every request.
local cookie = os.getenv("ADMIN_COOKIE")
math.randomseed(os.time())

request = function()
    local path = string.format("/api/devices/dev-%06d", math.random(1, 100000))
    return wrk.format("GET", path, { ["Cookie"] = cookie })
end
