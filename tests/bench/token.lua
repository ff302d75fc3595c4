-- wrk script: POST /oauth/token, client_credentials with HTTP Basic client authentication;
-- every request issues (and stores) a new access token.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("TOKEN_BASIC")
