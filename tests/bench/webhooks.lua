-- wrk script: POST /api/webhooks as the signed-in admin (session cookie + CSRF header).
-- The webhooks are created disabled, subscribed to an event the benchmark never emits, and
-- point at a closed loopback port: no delivery is ever attempted, and none could leave the machine.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("WEBHOOK_COOKIE")
wrk.headers["X-CSRF-Token"] = os.getenv("WEBHOOK_CSRF")
wrk.body = '{"url":"http://127.0.0.1:9/bench","events":["client.deleted"],"is_enabled":false,"team":"bench"}'
