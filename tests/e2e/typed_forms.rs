//! Every console form, sent a value of the wrong type or missing a field, comes back with
//! `422`, the error under that field, and what was typed still in the form.

use crate::helpers::{ADMIN_PASSWORD, TestApp, csrf_in, spawn_app, spawn_app_with};

/// One refused submission and what its page must show.
struct Case {
    /// The form's own page, which supplies the CSRF token.
    page: String,
    /// Where the form posts.
    action: String,
    sent: Vec<(&'static str, String)>,
    /// The field the error must sit under.
    field: &'static str,
    /// Pieces of HTML that show the input kept (values, ticked boxes, selected options).
    kept: Vec<String>,
}

fn sent(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_string())).collect()
}

/// The `<div class="field…">` block holding the input named `name`.
fn field_block<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    html.split("<div class=\"field")
        .skip(1)
        .find(|block| block.contains(&format!("name=\"{name}\"")))
}

async fn assert_refused_under_field(app: &TestApp, case: &Case) {
    let page = app.get(&case.page).await.text().await.unwrap();
    let csrf = csrf_in(&page).expect("the form's page carries a CSRF token");
    let mut body: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    body.extend(case.sent.iter().cloned());
    let res = app
        .client
        .post(app.url(&case.action))
        .form(&body)
        .send()
        .await
        .unwrap();
    let what = format!("{} ({})", case.action, case.field);
    assert_eq!(res.status(), 422, "{what}: the form is shown again");
    let html = res.text().await.unwrap();
    let block = field_block(&html, case.field)
        .unwrap_or_else(|| panic!("{what}: the form has the field\n{html}"));
    assert!(
        block.contains(&format!("data-field-error=\"{}\"", case.field)),
        "{what}: the error is under its field\n{block}"
    );
    for kept in &case.kept {
        assert!(html.contains(kept.as_str()), "{what}: keeps {kept}\n{html}");
    }
}

/// The id of the newest OAuth client, read from the JSON API.
async fn newest_client(app: &TestApp) -> String {
    let list: serde_json::Value = app.get("/api/oauth/clients").await.json().await.unwrap();
    list["items"][0]["client_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_form_shows_a_wrong_or_missing_field_under_it_and_keeps_the_input() {
    // Webhooks may point at loopback here, so one can be made without a receiver.
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    app.login_as_admin().await;

    // Something to edit in each area, made through the console's own forms where it can be.
    let csrf = app.csrf_token(&app.client).await;
    for (action, form) in [
        (
            "/oauth/clients/new",
            vec![("name", "Kept client"), ("allowed_scopes", "users:read")],
        ),
        (
            "/registry/devices/new",
            vec![("device_id", "lamp-1"), ("name", "Lamp")],
        ),
        (
            "/webhooks/new",
            vec![("url", "http://127.0.0.1:9/hook"), ("events", "sync.*")],
        ),
        (
            "/admin/roles/new",
            vec![("name", "auditor"), ("permissions", "audit:read")],
        ),
    ] {
        let mut body = vec![("csrf_token", csrf.as_str())];
        body.extend(form);
        let res = app
            .client
            .post(app.url(action))
            .form(&body)
            .send()
            .await
            .unwrap();
        assert!(
            [200, 303].contains(&res.status().as_u16()),
            "{action} saves"
        );
    }
    let client = newest_client(&app).await;
    let hooks: serde_json::Value = app.get("/api/webhooks").await.json().await.unwrap();
    let hook = hooks["items"][0]["webhook_id"].as_str().unwrap().to_owned();
    let role: i64 = app
        .scalar("SELECT id FROM rbac_roles WHERE name = 'auditor'")
        .await;
    app.create_user("dora", "viewer", "a-password-for-tests")
        .await;
    let user: i64 = app
        .scalar("SELECT id FROM local_users WHERE username = 'dora'")
        .await;

    let cases = vec![
        // A non-number lifetime: every other typed value stays.
        Case {
            page: "/oauth/clients/new".into(),
            action: "/oauth/clients/new".into(),
            sent: sent(&[
                ("name", "Typed client"),
                ("client_type", "public"),
                ("redirect_uris", "https://app.example/cb"),
                ("grant_types", "authorization_code"),
                ("allowed_scopes", "users:read"),
                ("allowed_scopes", "audit:read"),
                ("access_token_ttl_seconds", "soon"),
                ("refresh_token_ttl_seconds", "7200"),
            ]),
            field: "access_token_ttl_seconds",
            kept: vec![
                "value=\"Typed client\"".into(),
                "value=\"soon\"".into(),
                "value=\"7200\"".into(),
                "https://app.example/cb</textarea>".into(),
                "value=\"public\" selected".into(),
                "value=\"authorization_code\" checked".into(),
                "value=\"users:read\" checked".into(),
                "value=\"audit:read\" checked".into(),
            ],
        },
        // No name at all.
        Case {
            page: "/oauth/clients/new".into(),
            action: "/oauth/clients/new".into(),
            sent: sent(&[
                ("client_type", "confidential"),
                ("allowed_scopes", "users:read"),
                ("device_code_ttl_seconds", "900"),
            ]),
            field: "name",
            kept: vec![
                "value=\"900\"".into(),
                "value=\"users:read\" checked".into(),
            ],
        },
        Case {
            page: format!("/oauth/clients/{client}"),
            action: format!("/oauth/clients/{client}"),
            sent: sent(&[
                ("name", "Renamed client"),
                ("allowed_scopes", "users:read"),
                ("access_token_ttl_seconds", "1200"),
                ("refresh_token_ttl_seconds", "a month"),
                ("skip_consent", "true"),
            ]),
            field: "refresh_token_ttl_seconds",
            kept: vec![
                "value=\"Renamed client\"".into(),
                "value=\"1200\"".into(),
                "value=\"a month\"".into(),
                "name=\"skip_consent\" value=\"true\" checked".into(),
            ],
        },
        Case {
            page: "/device".into(),
            action: "/device".into(),
            sent: sent(&[("user_code", "WXYZ-WXYZ")]),
            field: "user_code",
            kept: vec!["value=\"WXYZ-WXYZ\"".into()],
        },
        Case {
            page: "/admin/users/new".into(),
            action: "/admin/users/new".into(),
            sent: sent(&[("email", "erin@example.org"), ("roles", "operator")]),
            field: "username",
            kept: vec![
                "value=\"erin@example.org\"".into(),
                "value=\"operator\" checked".into(),
            ],
        },
        Case {
            page: format!("/admin/users/{user}"),
            action: format!("/admin/users/{user}"),
            sent: sent(&[
                ("email", "not an address"),
                ("is_active", "true"),
                ("roles", "operator"),
            ]),
            field: "email",
            kept: vec![
                "value=\"not an address\"".into(),
                "value=\"operator\" checked".into(),
            ],
        },
        Case {
            page: format!("/admin/users/{user}"),
            action: format!("/admin/users/{user}/reset-password"),
            sent: sent(&[("password", "short")]),
            field: "password",
            kept: vec![],
        },
        Case {
            page: "/admin/roles/new".into(),
            action: "/admin/roles/new".into(),
            sent: sent(&[
                ("description", "Reads the trail"),
                ("permissions", "audit:read"),
            ]),
            field: "name",
            kept: vec![
                "Reads the trail</textarea>".into(),
                "value=\"audit:read\" checked".into(),
            ],
        },
        Case {
            page: format!("/admin/roles/{role}"),
            action: format!("/admin/roles/{role}"),
            sent: sent(&[
                ("description", "Still reads the trail"),
                ("permissions", "audit:read"),
                ("permissions", "audit:everything"),
            ]),
            field: "permissions",
            kept: vec![
                "Still reads the trail</textarea>".into(),
                "value=\"audit:read\" checked".into(),
            ],
        },
        // Passwords are never sent back; the error still sits under the missing one.
        Case {
            page: "/account".into(),
            action: "/account/password".into(),
            sent: sent(&[("current_password", ADMIN_PASSWORD)]),
            field: "new_password",
            kept: vec![],
        },
        // A time that is not RFC 3339.
        Case {
            page: "/registry/devices/new".into(),
            action: "/registry/devices/new".into(),
            sent: sent(&[
                ("device_id", "lamp-2"),
                ("name", "Desk lamp"),
                ("manufacturer", "Acme"),
                ("last_seen", "yesterday"),
            ]),
            field: "last_seen",
            kept: vec![
                "value=\"lamp-2\"".into(),
                "value=\"Desk lamp\"".into(),
                "value=\"Acme\"".into(),
                "value=\"yesterday\"".into(),
            ],
        },
        Case {
            page: "/registry/devices/lamp-1".into(),
            action: "/registry/devices/lamp-1".into(),
            sent: sent(&[("model", "L2"), ("area_id", "study")]),
            field: "name",
            kept: vec!["value=\"L2\"".into(), "value=\"study\"".into()],
        },
        Case {
            page: "/account".into(),
            action: "/account/preferences".into(),
            sent: sent(&[
                ("theme", "dark"),
                ("page_size", "many"),
                ("default_tenant", "north"),
            ]),
            field: "page_size",
            kept: vec![
                "value=\"dark\" selected".into(),
                "value=\"many\"".into(),
                "value=\"north\"".into(),
            ],
        },
        Case {
            page: "/webhooks/new".into(),
            action: "/webhooks/new".into(),
            sent: sent(&[
                ("url", "not a url"),
                ("events", "sync.*"),
                ("events", "device.created"),
                ("team", "ops"),
            ]),
            field: "url",
            kept: vec![
                "value=\"not a url\"".into(),
                "value=\"sync.*\" checked".into(),
                "value=\"device.created\" checked".into(),
                "value=\"ops\"".into(),
            ],
        },
        Case {
            page: format!("/webhooks/{hook}"),
            action: format!("/webhooks/{hook}"),
            sent: sent(&[
                ("events", "device.created"),
                ("team", "platform"),
                ("description", "Kept words"),
            ]),
            field: "url",
            kept: vec![
                "value=\"device.created\" checked".into(),
                "value=\"platform\"".into(),
                "value=\"Kept words\"".into(),
            ],
        },
        // A taken id, name or username is refused by the service inside its write; the
        // refusal still sits under the field that names it.
        Case {
            page: "/registry/devices/new".into(),
            action: "/registry/devices/new".into(),
            sent: sent(&[
                ("device_id", "lamp-1"),
                ("name", "Second lamp"),
                ("area_id", "hall"),
            ]),
            field: "device_id",
            kept: vec!["value=\"Second lamp\"".into(), "value=\"hall\"".into()],
        },
        Case {
            page: "/admin/roles/new".into(),
            action: "/admin/roles/new".into(),
            sent: sent(&[
                ("name", "auditor"),
                ("description", "A second auditor"),
                ("permissions", "audit:read"),
            ]),
            field: "name",
            kept: vec![
                "value=\"auditor\"".into(),
                "A second auditor</textarea>".into(),
            ],
        },
        Case {
            page: "/admin/users/new".into(),
            action: "/admin/users/new".into(),
            sent: sent(&[
                ("username", "dora"),
                ("email", "dora@example.org"),
                ("roles", "viewer"),
            ]),
            field: "username",
            kept: vec![
                "value=\"dora@example.org\"".into(),
                "value=\"viewer\" checked".into(),
            ],
        },
        // An event outside the catalog, under the event boxes, the URL kept.
        Case {
            page: "/webhooks/new".into(),
            action: "/webhooks/new".into(),
            sent: sent(&[
                ("url", "http://127.0.0.1:9/other"),
                ("events", "device.exploded"),
                ("description", "Typed hook"),
            ]),
            field: "events",
            kept: vec![
                "value=\"http://127.0.0.1:9/other\"".into(),
                "value=\"Typed hook\"".into(),
            ],
        },
        Case {
            page: format!("/oauth/clients/{client}"),
            action: format!("/oauth/clients/{client}"),
            sent: sent(&[
                ("name", "Polling client"),
                ("allowed_scopes", "users:read"),
                ("device_poll_interval_seconds", "often"),
                ("device_code_ttl_seconds", "900"),
            ]),
            field: "device_poll_interval_seconds",
            kept: vec![
                "value=\"Polling client\"".into(),
                "value=\"often\"".into(),
                "value=\"900\"".into(),
            ],
        },
    ];
    for case in &cases {
        assert_refused_under_field(&app, case).await;
    }
    let stored: i64 = app
        .scalar("SELECT count(*) FROM devices WHERE device_id = 'lamp-1' AND name = 'Lamp'")
        .await;
    assert_eq!(
        stored, 1,
        "the refused creation left the existing device as it was"
    );
}

/// Posts `form` to `action` with the CSRF token of `page`; answers the status and the page.
async fn post_form(
    app: &TestApp,
    page: &str,
    action: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let csrf = csrf_in(&app.get(page).await.text().await.unwrap()).expect("a CSRF token");
    let mut body = vec![("csrf_token", csrf.as_str())];
    body.extend_from_slice(form);
    let res = app
        .client
        .post(app.url(action))
        .form(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_refused_password_is_never_sent_back_and_the_other_input_is_kept() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let (status, html) = post_form(
        &app,
        "/admin/users/new",
        "/admin/users/new",
        &[
            ("username", "frida"),
            ("password", "tiny-secret"),
            ("roles", "viewer"),
        ],
    )
    .await;

    assert_eq!(status, 422);
    let block = field_block(&html, "password").expect("the password field");
    assert!(block.contains("data-field-error=\"password\""), "{block}");
    assert!(
        !html.contains("tiny-secret"),
        "the password is not echoed\n{html}"
    );
    assert!(html.contains("value=\"frida\""), "the username is kept");
    let users: i64 = app
        .scalar("SELECT count(*) FROM local_users WHERE username = 'frida'")
        .await;
    assert_eq!(users, 0, "nobody was created");

    app.create_user("gina", "viewer", "a-password-for-tests")
        .await;
    let gina: i64 = app
        .scalar("SELECT id FROM local_users WHERE username = 'gina'")
        .await;
    let page = format!("/admin/users/{gina}");
    let (status, html) = post_form(
        &app,
        &page,
        &format!("{page}/reset-password"),
        &[("password", "gina-short")],
    )
    .await;
    assert_eq!(status, 422, "a password under 12 characters is refused");
    let block = field_block(&html, "password").expect("the password field");
    assert!(block.contains("data-field-error=\"password\""), "{block}");
    assert!(!html.contains("gina-short"), "the password is not echoed");
}

#[tokio::test]
async fn the_client_registration_form_starts_from_the_services_defaults() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let html = app.get("/oauth/clients/new").await.text().await.unwrap();

    for (field, value) in [
        ("access_token_ttl_seconds", "3600"),
        ("refresh_token_ttl_seconds", "2592000"),
        ("device_code_ttl_seconds", "600"),
        ("device_poll_interval_seconds", "5"),
    ] {
        let block = field_block(&html, field).unwrap_or_else(|| panic!("{field}\n{html}"));
        assert!(
            block.contains(&format!("value=\"{value}\"")),
            "{field}: {block}"
        );
    }
    let pkce = field_block(&html, "require_pkce").expect("the PKCE box");
    assert!(
        pkce.contains("checked"),
        "PKCE is required by default: {pkce}"
    );
}
