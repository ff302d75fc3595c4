-- wrk script: POST /login with one valid pre-session CSRF cookie and token (they are reusable),
-- so every request is a full sign-in: throttle check, Argon2id verify, session and audit rows.
wrk.method = "POST"
wrk.body = os.getenv("LOGIN_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("LOGIN_COOKIE")
