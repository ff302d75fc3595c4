-- wrk script: POST /api/webhooks as the signed-in admin (session cookie + CSRF header).
-- The webhooks are created disabled, subscribed to an event the benchmark never emits, and
-- point at a documentation address (192.0.2.0/24): no delivery is ever attempted.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("WEBHOOK_COOKIE")
wrk.headers["X-CSRF-Token"] = os.getenv("WEBHOOK_CSRF")
wrk.body = '{"url":"https://192.0.2.10/bench","events":["client.deleted"],"is_enabled":false,"team":"bench"}'
