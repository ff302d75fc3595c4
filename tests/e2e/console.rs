//! The console shell over HTTP: the sidebar per caller, error pages that keep it, the
//! overview, the forced change of a generated password, and why a session ended.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_client, spawn_app, spawn_app_with};
use crate::oauth::{bearer_get, service_client, token_for};

fn location(res: &reqwest::Response) -> &str {
    res.headers()["location"].to_str().unwrap()
}

/// The text of the sidebar of `html` (empty when the page has none).
fn sidebar(html: &str) -> &str {
    let Some(start) = html.find(r#"data-testid="sidebar""#) else {
        return "";
    };
    let rest = &html[start..];
    &rest[..rest.find("</nav>").unwrap()]
}

/// A role holding only `permissions`, and a signed-in client of a new user holding it.
async fn client_holding(app: &TestApp, role: &str, permissions: &[&str]) -> Client {
    let input = service::access::roles::RoleInput::parse(
        role,
        None,
        &permissions
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    service::access::roles::create(
        &app.db,
        &service::access::Grantor::operator(service::audit::Actor::Cli),
        None,
        input,
    )
    .await
    .unwrap();
    app.client_with_role(role).await
}

/// `method path` with the session's CSRF header and a JSON body.
async fn call(
    app: &TestApp,
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let csrf = app.csrf_token(client).await;
    let res = client
        .request(method, app.url(path))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// A user created by the admin with a generated password: (username, password).
async fn user_with_generated_password(app: &TestApp, name: &str) -> (String, String) {
    let created = call(
        app,
        &app.client,
        reqwest::Method::POST,
        "/api/users",
        json!({"username": name, "roles": ["operator"]}),
    )
    .await;
    (
        name.to_string(),
        created["password"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn the_sidebar_shows_each_user_only_what_they_may_open() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let watcher = client_holding(&app, "syncwatch", &["sync:read"]).await;

    let admin_page = app.text_of(&app.client, "/sync").await;
    let watcher_page = app.text_of(&watcher, "/sync").await;

    let admin_nav = sidebar(&admin_page);
    for entry in [
        r#"href="/registry/devices""#,
        r#"href="/webhooks""#,
        r#"href="/admin/users""#,
        r#"href="/admin/sessions""#,
        r#"href="/oauth/clients""#,
        r#"href="/audit""#,
        ">Access<",
        ">Registry<",
    ] {
        assert!(admin_nav.contains(entry), "the admin's sidebar has {entry}");
    }
    let watcher_nav = sidebar(&watcher_page);
    assert!(watcher_nav.contains(r#"href="/sync/history""#));
    assert!(watcher_nav.contains(r#"href="/""#));
    for entry in [
        "/registry/",
        "/webhooks",
        "/admin/",
        "/oauth/",
        "/audit",
        ">Access<",
    ] {
        assert!(
            !watcher_nav.contains(entry),
            "sync:read alone shows no {entry}"
        );
    }
    // The page being shown is the current entry.
    assert!(watcher_nav.contains(r#"<a href="/sync" aria-current="page">"#));
    assert!(watcher_page.contains(r#"data-testid="logout""#));
    assert!(watcher_page.contains(r#"data-testid="menu-button""#));
}

#[tokio::test]
async fn error_pages_keep_the_sidebar_for_a_signed_in_user_only() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let viewer = app.client_with_role("viewer").await;

    let cases = [
        (&app.client, "/no/such/page", StatusCode::NOT_FOUND),
        (&app.client, "/admin/users/999999", StatusCode::NOT_FOUND),
        (&viewer, "/admin/users", StatusCode::FORBIDDEN),
        (
            &viewer,
            "/sync/not-a-number/and/more",
            StatusCode::NOT_FOUND,
        ),
    ];
    for (client, path, status) in cases {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(r#"class="error-status""#),
            "{path} is the error page"
        );
        assert!(
            sidebar(&html).contains(r#"href="/sync""#),
            "{path} keeps the sidebar"
        );
        assert!(
            html.contains(r#"data-testid="logout""#),
            "{path} keeps sign-out"
        );
    }
    // The framework's own refusal, before any handler: a method the page does not take.
    let res = app.client.delete(app.url("/sync")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(sidebar(&res.text().await.unwrap()).contains(r#"href="/audit""#));

    let anonymous = new_client();
    let res = anonymous
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"class="error-status""#));
    assert_eq!(sidebar(&html), "", "no navigation for a visitor");
    assert!(!html.contains(r#"data-testid="logout""#));
}

#[tokio::test]
async fn the_overview_shows_counts_failures_and_warnings_to_those_who_may_read_them() {
    // The webhook below points at loopback (and is disabled at once).
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    app.login_as_admin().await;
    // A failed sync, a disabled webhook, a user with a generated password, two devices.
    let sync = call(
        &app,
        &app.client,
        reqwest::Method::POST,
        "/api/sync/runs",
        json!({"tenant_id": "acme", "sync_type": "sqlite"}),
    )
    .await;
    let path = format!("/api/sync/runs/{}", sync["id"]);
    let body = json!({"status": "failed", "error_details": "Connection timeout"});
    call(&app, &app.client, reqwest::Method::PATCH, &path, body).await;
    let hook = call(
        &app,
        &app.client,
        reqwest::Method::POST,
        "/api/webhooks",
        json!({"url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "Pager relay"}),
    )
    .await;
    let path = format!("/api/webhooks/{}", hook["webhook_id"].as_str().unwrap());
    call(
        &app,
        &app.client,
        reqwest::Method::PATCH,
        &path,
        json!({"is_enabled": false}),
    )
    .await;
    let (newcomer, _) = user_with_generated_password(&app, "newcomer").await;
    for id in ["dev-1", "dev-2"] {
        let path = format!("/api/devices/{id}");
        call(
            &app,
            &app.client,
            reqwest::Method::PUT,
            &path,
            json!({"name": id}),
        )
        .await;
    }

    let page = app.text_of(&app.client, "/").await;

    assert!(page.contains("<h1>Overview</h1>"));
    let tile = |id: &str| {
        let at = page
            .find(&format!(r#"data-testid="count-{id}""#))
            .unwrap_or_else(|| panic!("a {id} tile"));
        let rest = &page[at..];
        rest[..rest.find("</a>").unwrap()].to_string()
    };
    assert!(tile("devices").contains(r#"<span class="tile-value">2</span>"#));
    assert!(tile("users").contains(r#"<span class="tile-value">2</span>"#));
    assert!(tile("webhooks").contains("1 disabled"));
    assert!(tile("syncs-running").contains(r#"<span class="tile-value">0</span>"#));
    assert!(page.contains(r#"data-testid="warning-failed-syncs""#));
    assert!(page.contains("1 sync failed in the last 24 hours."));
    assert!(page.contains("acme · sqlite") && page.contains("Connection timeout"));
    assert!(page.contains(r#"data-testid="warning-quiet-webhooks""#));
    assert!(page.contains("Pager relay"));
    assert!(page.contains(r#"data-testid="warning-generated-passwords""#));
    assert!(page.contains(&format!("a generated password: {newcomer}.")));
    assert!(!page.contains(r#"data-testid="warning-audit-chain""#));
    assert!(page.contains(r#"data-testid="overview-audit""#));
    let newest: String = app
        .scalar("SELECT action FROM audit ORDER BY id DESC LIMIT 1")
        .await;
    assert!(
        page.contains(&format!("<td>{newest}</td>")),
        "the newest audit row, {newest}"
    );

    // A viewer reads syncs, the registry and webhooks, but not users or the audit trail.
    let viewer = app.client_with_role("viewer").await;
    let page = app.text_of(&viewer, "/").await;
    assert!(page.contains(r#"data-testid="count-devices""#));
    assert!(page.contains(r#"data-testid="warning-failed-syncs""#));
    assert!(!page.contains(r#"data-testid="count-users""#));
    assert!(!page.contains(r#"data-testid="warning-generated-passwords""#));
    assert!(!page.contains(&newcomer));
    assert!(!page.contains(r#"data-testid="overview-audit""#));

    // sync:read alone: the sync figures and nothing else.
    let watcher = client_holding(&app, "syncwatch", &["sync:read"]).await;
    let page = app.text_of(&watcher, "/").await;
    assert!(page.contains(r#"data-testid="overview-sync""#));
    for hidden in [
        "count-devices",
        "count-webhooks",
        "count-oauth-clients",
        "overview-webhooks",
    ] {
        assert!(
            !page.contains(&format!(r#"data-testid="{hidden}""#)),
            "{hidden}"
        );
    }
}

#[tokio::test]
async fn unreachable_or_drifted_mcp_servers_and_a_failed_backup_are_warnings_on_the_overview() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let page = app.text_of(&app.client, "/").await;
    assert!(
        page.contains(r#"data-testid="count-mcp-servers""#),
        "{page}"
    );
    assert!(page.contains(r#"data-testid="count-last-backup""#));
    for warning in ["mcp-unreachable", "mcp-drift", "backup-failed"] {
        assert!(!page.contains(&format!(r#"data-testid="warning-{warning}""#)));
    }

    let now = "2026-01-01T00:00:00Z";
    for (name, status, drift) in [("down", "unreachable", false), ("moved", "reachable", true)] {
        app.exec(&format!(
            "INSERT INTO mcp_servers (id, name, url, transport, enabled, headers, last_status, \
             failed_checks, tools_drift, created_at, updated_at) VALUES ('{}', '{name}', \
             'http://127.0.0.1:9/mcp', 'streamable-http', TRUE, '{{}}', '{status}', 0, {drift}, \
             '{now}', '{now}')",
            uuid::Uuid::new_v4()
        ))
        .await
        .unwrap();
    }
    app.exec(&format!(
        "INSERT INTO backups (trigger, started_at, finished_at, file, status, error) \
         VALUES ('schedule', '{now}', '{now}', '/nowhere/backup.db', 'failed', 'disk full')"
    ))
    .await
    .unwrap();

    let page = app.text_of(&app.client, "/").await;
    assert!(
        page.contains(r#"data-testid="warning-mcp-unreachable""#),
        "{page}"
    );
    assert!(page.contains(r#"data-testid="warning-mcp-drift""#));
    assert!(page.contains(r#"data-testid="warning-backup-failed""#));
    assert!(page.contains("disk full"));
    assert!(page.contains("1 unreachable · 1 with changed tools"));

    // Neither is shown to a caller who may not read the gateway or the system.
    let viewer = client_holding(&app, "sync-only", &["sync:read"]).await;
    let page = app.text_of(&viewer, "/").await;
    assert!(!page.contains("count-mcp-servers") && !page.contains("warning-backup-failed"));
}

#[tokio::test]
async fn a_broken_audit_chain_is_a_warning_on_the_overview() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let page = app.text_of(&app.client, "/").await;
    assert!(!page.contains(r#"data-testid="warning-audit-chain""#));

    crate::access::lift_audit_guard(&app, "delete").await;
    let newest: i64 = app.scalar("SELECT MAX(id) FROM audit").await;
    app.exec(&format!("DELETE FROM audit WHERE id = {newest}"))
        .await
        .unwrap();

    let page = app.text_of(&app.client, "/").await;
    assert!(page.contains(r#"data-testid="warning-audit-chain""#));
    assert!(page.contains("its newest rows were removed outside Metadeck"));
}

#[tokio::test]
async fn a_generated_password_must_be_replaced_before_anything_else_opens() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let client = service_client(&app, &["registry:read"]).await;
    let token = token_for(&app, &client, None).await;
    let (name, generated) = user_with_generated_password(&app, "fresh").await;

    let user = new_client();
    let res = app.login_with(&user, &name, &generated).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the generated password works"
    );
    for path in ["/", "/sync", "/account", "/registry/devices"] {
        let res = user.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), "/account/password", "{path}");
    }
    let res = user.get(app.url("/api/devices")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "nor the API with the cookie"
    );
    let form = user.get(app.url("/account/password")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(html.contains("Set your own password"));
    assert_eq!(sidebar(&html), "", "nothing else is offered");
    assert!(html.contains(r#"data-testid="logout""#));
    // Bearer tokens are not sessions: the API answers them as before.
    assert_eq!(bearer_get(&app, "/api/devices", &token).await.status(), 200);

    let csrf = crate::helpers::csrf_in(&html).unwrap();
    let wrong = user
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", "not-the-password"),
            ("new_password", "my-own-chosen-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Set your own password")
    );
    let set = user
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", generated.as_str()),
            ("new_password", "my-own-chosen-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&set), "/");

    let res = user.get(app.url("/sync")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the console opens");
    assert_eq!(
        user.get(app.url("/account/password"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER,
        "the forced page is only for the forced"
    );
    let audited: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM audit WHERE action = 'user.password_changed' \
             AND actor = 'user:fresh' AND target_id = 'fresh'",
        )
        .await;
    assert_eq!(audited, 1, "the change is audited");
    let page = app.text_of(&app.client, "/").await;
    assert!(!page.contains(r#"data-testid="warning-generated-passwords""#));
}

#[tokio::test]
async fn an_admin_reset_with_a_generated_password_forces_a_new_one_and_a_chosen_one_does_not() {
    let app = spawn_app().await;
    app.create_user("dora", "operator", "doras-own-password")
        .await;
    let id: i64 = app
        .scalar("SELECT id FROM local_users WHERE username = 'dora'")
        .await;
    let admin = service::access::Grantor::operator(service::audit::Actor::Cli);
    let generated = service::access::users::set_password(&app.db, &admin, None, id, None, None)
        .await
        .unwrap()
        .unwrap();

    let dora = new_client();
    app.login_with(&dora, "dora", generated.expose()).await;
    let res = dora.get(app.url("/sync")).send().await.unwrap();
    assert_eq!(location(&res), "/account/password");

    let chosen = service::access::Password::parse("an-admin-typed-password", "dora", "p").unwrap();
    service::access::users::set_password(&app.db, &admin, None, id, Some(chosen), None)
        .await
        .unwrap();
    let dora = new_client();
    app.login_with(&dora, "dora", "an-admin-typed-password")
        .await;
    assert_eq!(
        dora.get(app.url("/sync")).send().await.unwrap().status(),
        200
    );
}

/// A second signed-in client of a new operator, and the stored id of its session.
async fn second_session(app: &TestApp) -> (Client, String) {
    let client = app.client_with_role("operator").await;
    let id: String = app
        .scalar(
            "SELECT s.session_id FROM sessions s JOIN local_users u ON u.id = s.user_id \
             WHERE u.username LIKE 'operator-%'",
        )
        .await;
    (client, id)
}

/// The sign-in page `client` lands on after asking for `/sync`.
async fn landing(app: &TestApp, client: &Client) -> String {
    let res = client.get(app.url("/sync")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));
    app.text_of(client, location(&res)).await
}

#[tokio::test]
async fn a_user_whose_session_an_admin_revoked_is_told_so_and_nobody_else_is() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let (user, session) = second_session(&app).await;
    let csrf = app.csrf_token(&app.client).await;
    let res = app
        .client
        .post(app.url(&format!("/admin/sessions/{session}/revoke")))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let page = landing(&app, &user).await;
    assert!(page.contains("Your session was ended by an administrator."));
    // Said once, and to nobody else.
    let again = app.text_of(&user, "/login").await;
    assert!(!again.contains("ended by an administrator"));
    let other = app.text_of(&new_client(), "/login").await;
    assert!(!other.contains("ended by an administrator"));
    let left: i64 = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM sessions WHERE session_id = '{session}'"
        ))
        .await;
    assert_eq!(left, 0, "the ended session's row is gone once told");
}

#[tokio::test]
async fn a_user_whose_session_expired_is_told_so_on_the_sign_in_page() {
    let app = spawn_app().await;
    let (user, session) = second_session(&app).await;
    let past = match app.backend() {
        sea_orm::DbBackend::Postgres => "now() - interval '2 hours'".to_string(),
        _ => format!(
            "'{}'",
            (chrono::Utc::now() - chrono::Duration::hours(2))
                .fixed_offset()
                .format("%Y-%m-%d %H:%M:%S%.f %:z")
        ),
    };
    app.exec(&format!(
        "UPDATE sessions SET last_seen_at = {past} WHERE session_id = '{session}'"
    ))
    .await
    .unwrap();

    // Straight to the sign-in page, as a bookmark would.
    let page = app.text_of(&user, "/login").await;
    assert!(page.contains("Your session expired."));
    assert!(!page.contains("ended by an administrator"));
    assert!(
        !app.text_of(&user, "/login")
            .await
            .contains("Your session expired.")
    );
    let other = app.text_of(&new_client(), "/login").await;
    assert!(!other.contains("Your session expired."));
}
