-- P13: GET /api/ops/resources/{type}/{name} over random resources of the standard dataset
-- (5 types × res-00001 … res-02000), each request carrying the bearer token in BENCH_TOKEN.
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local types = { "aws_instance", "aws_security_group", "aws_s3_bucket", "dns_record", "k8s_deployment" }
math.randomseed(os.time())

request = function()
    local path = string.format("/api/ops/resources/%s/res-%05d", types[math.random(1, 5)], math.random(1, 2000))
    return wrk.format("GET", path, { ["Authorization"] = auth })
end
