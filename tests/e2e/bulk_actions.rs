//! Bulk actions on the console's lists: ticked rows, a question naming them through the
//! confirmation component, nothing changed before the answer, each item checked by the rule
//! of a single one (so nobody acts in bulk on what they could not act on alone).

use serde_json::json;
use service::access::{Grantor, roles::RoleInput};
use service::audit::Actor;

use crate::helpers::{TestApp, new_client, spawn_app, spawn_app_with};

const PASSWORD: &str = "a-password-for-tests";

/// Posts `fields` (with the session's CSRF token) from `browser`; status, `Location`, body.
async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let csrf = app.csrf_token(browser).await;
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = browser
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// The admin's app with three entities `light.a`, `light.b`, `light.c`.
async fn app_with_entities() -> TestApp {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    app.bulk_upsert(
        "entities",
        &token,
        vec![
            json!({"entity_id": "light.a"}),
            json!({"entity_id": "light.b"}),
            json!({"entity_id": "light.c"}),
        ],
    )
    .await;
    app
}

async fn disabled_entities(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM entities WHERE disabled = TRUE")
        .await
}

#[tokio::test]
async fn entities_are_disabled_then_deleted_in_bulk_each_after_a_question() {
    let app = app_with_entities().await;
    let list = app.text_of(&app.client, "/registry/entities").await;
    for button in ["bulk-enable", "bulk-disable", "bulk-delete"] {
        assert!(
            list.contains(&format!("data-testid=\"{button}\"")),
            "{button}"
        );
    }
    assert!(list.contains(r#"name="ids" value="light.a" form="bulk-form""#));
    let ticked = [
        ("action", "disable"),
        ("ids", "light.a"),
        ("ids", "light.b"),
        ("back", "/registry/entities?domain=light"),
    ];

    let (status, _, question) = post(&app, &app.client, "/registry/entities/bulk", &ticked).await;
    assert_eq!(status, 200);
    assert!(question.contains("Disable 2 entities?"), "{question}");
    assert!(question.contains(r#"data-testid="affected-name">light.a<"#));
    assert!(question.contains(r#"name="action" value="disable""#));
    assert_eq!(
        disabled_entities(&app).await,
        0,
        "nothing before the answer"
    );

    let mut confirmed = ticked.to_vec();
    confirmed.push(("confirm", "yes"));
    let (status, location, _) =
        post(&app, &app.client, "/registry/entities/bulk", &confirmed).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/registry/entities?domain=light")
    );
    assert_eq!(disabled_entities(&app).await, 2);

    let delete = [
        ("action", "delete"),
        ("ids", "light.a"),
        ("ids", "light.c"),
        ("confirm", "yes"),
    ];
    let (status, location, _) = post(&app, &app.client, "/registry/entities/bulk", &delete).await;
    assert_eq!((status, location.as_str()), (303, "/registry/entities"));
    let left: i64 = app.scalar("SELECT COUNT(*) FROM entities").await;
    assert_eq!(left, 1, "only light.b is left");
    let audited: i64 = app
        .scalar("SELECT COUNT(*) FROM audit WHERE action = 'entity.deleted'")
        .await;
    assert_eq!(audited, 2, "one audit row per entity");
}

#[tokio::test]
async fn a_bulk_action_refuses_unknown_ids_actions_and_outside_pages_before_changing_anything() {
    let app = app_with_entities().await;
    let unknown = [
        ("action", "disable"),
        ("ids", "light.a"),
        ("ids", "light.nope"),
        ("confirm", "yes"),
    ];
    let (status, _, _) = post(&app, &app.client, "/registry/entities/bulk", &unknown).await;
    assert_eq!(status, 404);
    assert_eq!(disabled_entities(&app).await, 0, "all or nothing");

    let foreign = [
        ("action", "sign_out"),
        ("ids", "light.a"),
        ("confirm", "yes"),
    ];
    let (status, _, page) = post(&app, &app.client, "/registry/entities/bulk", &foreign).await;
    assert_eq!(status, 400, "an action the list does not offer");
    assert!(page.contains("Choose one of the buttons"), "{page}");

    let nothing = [("action", "delete"), ("back", "https://evil.example/")];
    let (status, location, _) = post(&app, &app.client, "/registry/entities/bulk", &nothing).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/registry/entities"),
        "no open redirect"
    );

    let reader = app.client_with_role("viewer").await;
    let page = app.text_of(&reader, "/registry/entities").await;
    assert!(!page.contains("bulk-form"), "a reader gets no boxes");
    let (status, _, _) = post(&app, &reader, "/registry/entities/bulk", &unknown[..1]).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn webhooks_are_disabled_and_deleted_in_bulk_naming_them() {
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let mut ids = Vec::new();
    for name in ["billing", "audit-feed"] {
        let res = app
            .client
            .post(app.url("/api/webhooks"))
            .header("X-CSRF-Token", &token)
            .json(
                &json!({"url": format!("http://127.0.0.1:9/{name}"), "events": ["*"],
                "description": name}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let created: serde_json::Value = res.json().await.unwrap();
        ids.push(created["webhook_id"].as_str().unwrap().to_string());
    }
    let list = app.text_of(&app.client, "/webhooks").await;
    assert!(list.contains(&format!(r#"name="ids" value="{}""#, ids[0])));
    let ticked = [
        ("action", "disable"),
        ("ids", ids[0].as_str()),
        ("ids", ids[1].as_str()),
    ];
    let (status, _, question) = post(&app, &app.client, "/webhooks/bulk", &ticked).await;
    assert_eq!(status, 200);
    assert!(question.contains("Disable 2 webhooks?"), "{question}");
    assert!(question.contains("billing (http://127.0.0.1:9/billing)"));
    let enabled = "SELECT COUNT(*) FROM webhooks WHERE is_enabled = TRUE";
    assert_eq!(app.scalar::<i64>(enabled).await, 2);

    let mut confirmed = ticked.to_vec();
    confirmed.push(("confirm", "yes"));
    let (status, _, _) = post(&app, &app.client, "/webhooks/bulk", &confirmed).await;
    assert_eq!(status, 303);
    assert_eq!(app.scalar::<i64>(enabled).await, 0);

    let delete = [
        ("action", "delete"),
        ("ids", ids[1].as_str()),
        ("confirm", "yes"),
    ];
    let (status, _, _) = post(&app, &app.client, "/webhooks/bulk", &delete).await;
    assert_eq!(status, 303);
    assert_eq!(app.scalar::<i64>("SELECT COUNT(*) FROM webhooks").await, 1);
}

/// A user holding `role`, signed in, and their id.
async fn signed_in(app: &TestApp, username: &str, role: &str) -> (reqwest::Client, i64) {
    app.create_user(username, role, PASSWORD).await;
    let browser = new_client();
    assert_eq!(
        app.login_with(&browser, username, PASSWORD).await.status(),
        303
    );
    let id = app
        .scalar(&format!(
            "SELECT id FROM local_users WHERE username = '{username}'"
        ))
        .await;
    (browser, id)
}

#[tokio::test]
async fn users_are_deactivated_in_bulk_but_never_one_holding_more_than_the_caller() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let input = RoleInput::parse(
        "user-keeper",
        None,
        &["users:read".to_string(), "users:write".to_string()],
    )
    .unwrap();
    service::access::roles::create(&app.db, &Grantor::operator(Actor::Cli), None, input)
        .await
        .unwrap();
    let (keeper, keeper_id) = signed_in(&app, "keeper", "user-keeper").await;
    let (dora, dora_id) = signed_in(&app, "dora", "viewer").await;
    let (_, otto_id) = signed_in(&app, "otto", "user-keeper").await;
    let admin_id: i64 = app
        .scalar("SELECT id FROM local_users WHERE username = 'admin'")
        .await;
    let active = "SELECT COUNT(*) FROM local_users WHERE is_active = TRUE";
    assert_eq!(app.scalar::<i64>(active).await, 4);

    // The viewer holds what the keeper does not: neither the question nor the action.
    let (dora_s, otto_s, admin_s, keeper_s) = (
        dora_id.to_string(),
        otto_id.to_string(),
        admin_id.to_string(),
        keeper_id.to_string(),
    );
    for confirm in ["", "yes"] {
        let fields = [
            ("action", "disable"),
            ("ids", otto_s.as_str()),
            ("ids", admin_s.as_str()),
            ("confirm", confirm),
        ];
        let (status, _, page) = post(&app, &keeper, "/admin/users/bulk", &fields).await;
        assert_eq!(status, 403, "{page}");
        assert!(!page.contains("data-testid=\"confirmation\""));
    }
    let oneself = [("action", "delete"), ("ids", keeper_s.as_str())];
    let (status, _, _) = post(&app, &keeper, "/admin/users/bulk", &oneself).await;
    assert_eq!(status, 403, "nobody deletes themselves");
    assert_eq!(app.scalar::<i64>(active).await, 4, "nothing changed");

    // The admin may: the question names both, then both are deactivated and signed out.
    let fields = [
        ("action", "disable"),
        ("ids", dora_s.as_str()),
        ("ids", otto_s.as_str()),
    ];
    let (status, _, question) = post(&app, &app.client, "/admin/users/bulk", &fields).await;
    assert_eq!(status, 200);
    assert!(question.contains("Disable 2 users?"), "{question}");
    assert!(question.contains(">dora<") && question.contains(">otto<"));
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "yes"));
    let (status, location, _) = post(&app, &app.client, "/admin/users/bulk", &confirmed).await;
    assert_eq!((status, location.as_str()), (303, "/admin/users"));
    assert_eq!(app.scalar::<i64>(active).await, 2);
    let res = dora.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303, "dora's session ended");
}

#[tokio::test]
async fn sessions_are_signed_out_in_bulk_after_a_question() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let (dora, _) = signed_in(&app, "dora", "viewer").await;
    let (otto, _) = signed_in(&app, "otto", "viewer").await;
    let page = app.text_of(&app.client, "/admin/sessions").await;
    assert!(page.contains(r#"data-testid="bulk-sign_out""#), "{page}");
    let ids: Vec<String> = page
        .split(r#"name="ids" value=""#)
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    assert_eq!(ids.len(), 3, "admin, dora and otto");
    let own: String = app
        .scalar("SELECT s.session_id FROM sessions s JOIN local_users u ON u.id = s.user_id WHERE u.username = 'admin'")
        .await;
    let others: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| *id != own)
        .collect();
    let mut fields = vec![("action", "sign_out")];
    fields.extend(others.iter().map(|id| ("ids", *id)));

    let (status, _, question) = post(&app, &app.client, "/admin/sessions/bulk", &fields).await;
    assert_eq!(status, 200);
    assert!(question.contains("Sign out 2 sessions?"), "{question}");
    assert_eq!(dora.get(app.url("/")).send().await.unwrap().status(), 200);

    fields.push(("confirm", "yes"));
    let (status, location, _) = post(&app, &app.client, "/admin/sessions/bulk", &fields).await;
    assert_eq!((status, location.as_str()), (303, "/admin/sessions"));
    for browser in [&dora, &otto] {
        let res = browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(res.status(), 303, "signed out");
    }
    assert_eq!(
        app.client.get(app.url("/")).send().await.unwrap().status(),
        200,
        "the admin's own session stays"
    );
}

#[tokio::test]
async fn oauth_clients_are_disabled_in_bulk_unless_they_hold_more_than_the_caller() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let weak = crate::oauth::register(
        &app,
        json!({"name": "weak", "allowed_scopes": ["sync:read"]}),
    )
    .await;
    let strong = crate::oauth::register(
        &app,
        json!({"name": "strong", "allowed_scopes": ["users:write"]}),
    )
    .await;
    let list = app.text_of(&app.client, "/oauth/clients").await;
    assert!(list.contains(&format!(r#"name="ids" value="{}""#, weak.id)));

    let both = [
        ("action", "disable"),
        ("ids", weak.id.as_str()),
        ("ids", strong.id.as_str()),
    ];
    let operator = app.client_with_role("operator").await;
    let (status, _, _) = post(&app, &operator, "/oauth/clients/bulk", &both).await;
    assert_eq!(status, 403, "the operator does not hold users:write");

    let (status, _, question) = post(&app, &app.client, "/oauth/clients/bulk", &both).await;
    assert_eq!(status, 200);
    assert!(question.contains("Disable 2 clients?"), "{question}");
    let mut confirmed = both.to_vec();
    confirmed.push(("confirm", "yes"));
    let (status, _, _) = post(&app, &app.client, "/oauth/clients/bulk", &confirmed).await;
    assert_eq!(status, 303);
    let enabled: i64 = app
        .scalar("SELECT COUNT(*) FROM oauth_clients WHERE is_enabled = TRUE")
        .await;
    assert_eq!(enabled, 0);
}

#[tokio::test]
async fn deactivating_another_user_asks_first_and_keeps_the_other_changes() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let (_, dora_id) = signed_in(&app, "dora", "viewer").await;
    let page = format!("/admin/users/{dora_id}");
    let fields = [("email", "dora@example.com"), ("roles", "viewer")];
    let (status, _, question) = post(&app, &app.client, &page, &fields).await;
    assert_eq!(status, 200);
    assert!(question.contains("Deactivate the user dora?"), "{question}");
    assert!(question.contains(r#"name="email" value="dora@example.com""#));
    let active =
        format!("SELECT COUNT(*) FROM local_users WHERE id = {dora_id} AND is_active = TRUE");
    assert_eq!(
        app.scalar::<i64>(&active).await,
        1,
        "nothing before the answer"
    );

    let mut confirmed = fields.to_vec();
    confirmed.extend([("is_active", ""), ("confirm", "yes")]);
    let (status, _, _) = post(&app, &app.client, &page, &confirmed).await;
    assert_eq!(status, 303);
    assert_eq!(app.scalar::<i64>(&active).await, 0);
    let email: String = app
        .scalar(&format!(
            "SELECT email FROM local_users WHERE id = {dora_id}"
        ))
        .await;
    assert_eq!(email, "dora@example.com");
}

#[tokio::test]
async fn role_and_client_pages_hide_what_the_caller_may_not_do_and_refuse_its_question() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let input = RoleInput::parse(
        "keeper",
        None,
        &[
            "users:read".to_string(),
            "users:write".to_string(),
            "oauth:read".to_string(),
            "oauth:write".to_string(),
        ],
    )
    .unwrap();
    service::access::roles::create(&app.db, &Grantor::operator(Actor::Cli), None, input)
        .await
        .unwrap();
    let strong = crate::oauth::register(
        &app,
        json!({"name": "strong", "allowed_scopes": ["system:write"]}),
    )
    .await;
    let (keeper, _) = signed_in(&app, "keeper", "keeper").await;
    let custom = RoleInput::parse("ops-lite", None, &["system:write".to_string()]).unwrap();
    let ops_lite =
        service::access::roles::create(&app.db, &Grantor::operator(Actor::Cli), None, custom)
            .await
            .unwrap()
            .id;

    let role_page = app
        .text_of(&keeper, &format!("/admin/roles/{ops_lite}"))
        .await;
    assert!(
        !role_page.contains("data-testid=\"delete-role\""),
        "no delete button"
    );
    assert!(
        !role_page.contains("data-testid=\"edit-role\""),
        "no edit form"
    );
    let (status, _, page) = post(
        &app,
        &keeper,
        &format!("/admin/roles/{ops_lite}/delete"),
        &[],
    )
    .await;
    assert_eq!(status, 403, "no question either");
    assert!(!page.contains("data-testid=\"confirmation\""));

    let client_page = app
        .text_of(&keeper, &format!("/oauth/clients/{}", strong.id))
        .await;
    assert!(!client_page.contains("Delete client…"), "no delete button");
    assert!(!client_page.contains("Rotate secret…"), "no rotate button");
    for action in ["delete", "disable", "rotate-secret"] {
        let (status, _, _) = post(
            &app,
            &keeper,
            &format!("/oauth/clients/{}/{action}", strong.id),
            &[],
        )
        .await;
        assert_eq!(status, 403, "{action}");
    }
    let admin_page = app
        .text_of(&app.client, &format!("/oauth/clients/{}", strong.id))
        .await;
    assert!(
        admin_page.contains("Delete client…"),
        "the admin keeps the buttons"
    );
}

#[tokio::test]
async fn a_burst_of_bulk_actions_never_reaches_a_user_holding_more_than_the_caller() {
    let app = spawn_app().await;
    let input = RoleInput::parse(
        "user-keeper",
        None,
        &["users:read".to_string(), "users:write".to_string()],
    )
    .unwrap();
    service::access::roles::create(&app.db, &Grantor::operator(Actor::Cli), None, input)
        .await
        .unwrap();
    let (keeper, _) = signed_in(&app, "keeper", "user-keeper").await;
    let (_, dora_id) = signed_in(&app, "dora", "viewer").await;
    let mut peers = Vec::new();
    for n in 0..4 {
        peers.push(signed_in(&app, &format!("peer{n}"), "user-keeper").await.1);
    }
    let admin_id: i64 = app
        .scalar("SELECT id FROM local_users WHERE username = 'admin'")
        .await;
    let (dora_s, admin_s) = (dora_id.to_string(), admin_id.to_string());
    let peer_s: Vec<String> = peers.iter().map(i64::to_string).collect();

    // Every request of the burst names a peer the keeper may act on beside one it may not;
    // they all arrive at once, confirmed, mixing deactivation and deletion.
    let posts = (0..24).map(|i| {
        let (app, keeper) = (&app, &keeper);
        let forbidden = if i % 2 == 0 { &admin_s } else { &dora_s };
        let peer = &peer_s[i % peer_s.len()];
        let action = if i % 3 == 0 { "delete" } else { "disable" };
        async move {
            let fields = [
                ("action", action),
                ("ids", peer.as_str()),
                ("ids", forbidden.as_str()),
                ("confirm", "yes"),
            ];
            post(app, keeper, "/admin/users/bulk", &fields).await.0
        }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 403), "{statuses:?}");

    let untouched = app
        .scalar::<i64>(&format!(
            "SELECT COUNT(*) FROM local_users WHERE is_active = TRUE AND id IN ({}, {dora_id}, {})",
            admin_id,
            peer_s.join(", ")
        ))
        .await;
    assert_eq!(untouched, 2 + peers.len() as i64, "nobody was changed");
    let audited: i64 = app
        .scalar("SELECT COUNT(*) FROM audit WHERE action IN ('user.updated', 'user.deleted')")
        .await;
    assert_eq!(audited, 0, "no change was recorded");
}
