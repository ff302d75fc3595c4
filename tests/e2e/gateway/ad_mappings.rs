//! AD group mappings: the page and the API, the no-escalation rule, duplicates and unknown
//! roles, deletion after confirmation, and the simulator's matching rules.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_client, spawn_app};

const HOSTILE: &str = "<script>alert('x')</script>' OR '1'='1'; DROP TABLE ad_group_mappings;--";

async fn role_id(app: &TestApp, name: &str) -> i64 {
    app.scalar::<i64>(&format!("SELECT id FROM rbac_roles WHERE name = '{name}'"))
        .await
}

async fn map(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    group: &str,
    role: i64,
) -> reqwest::Response {
    client
        .post(app.url("/api/gateway/ad-mappings"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"ad_group": group, "role_id": role}))
        .send()
        .await
        .unwrap()
}

async fn simulate(app: &TestApp, csrf: &str, groups: &[&str]) -> Value {
    let res = app
        .client
        .post(app.url("/api/gateway/ad-mappings/simulate"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"groups": groups}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A user signed in holding a custom role of exactly `permissions`.
async fn client_holding(app: &TestApp, role: &str, permissions: &[&str]) -> reqwest::Client {
    let perms: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    service::access::roles::create(
        &app.db,
        &service::access::Grantor::operator(service::audit::Actor::Cli),
        None,
        service::access::roles::RoleInput::parse(role, None, &perms).unwrap(),
    )
    .await
    .unwrap();
    let username = format!("{role}-user");
    app.create_user(&username, role, "a-password-for-tests")
        .await;
    let client = new_client();
    assert_eq!(
        app.login_with(&client, &username, "a-password-for-tests")
            .await
            .status(),
        303
    );
    client
}

#[tokio::test]
async fn mappings_are_created_listed_and_deleted_through_the_api_with_audit() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let admin = role_id(&app, "admin").await;
    let created = map(
        &app,
        &app.client,
        &csrf,
        "CN=Admins,OU=Groups,DC=example,DC=com",
        admin,
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["role_name"], "admin");
    let id = created["id"].as_str().unwrap().to_string();

    let dup = map(
        &app,
        &app.client,
        &csrf,
        "CN=Admins,OU=Groups,DC=example,DC=com",
        admin,
    )
    .await;
    assert_eq!(dup.status(), 409, "a group is mapped once");
    let unknown = map(&app, &app.client, &csrf, "Ops", 999_999).await;
    assert_eq!(unknown.status(), 422, "an unknown role is refused");
    let body: Value = unknown.json().await.unwrap();
    assert!(body.to_string().contains("role_id"));
    let empty = map(&app, &app.client, &csrf, "   ", admin).await;
    assert_eq!(empty.status(), 422);

    let list: Value = app
        .get("/api/gateway/ad-mappings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let one = app.get(&format!("/api/gateway/ad-mappings/{id}")).await;
    assert_eq!(one.status(), 200);
    assert_eq!(
        app.get("/api/gateway/ad-mappings/not-an-id").await.status(),
        404
    );

    let deleted = app
        .client
        .delete(app.url(&format!("/api/gateway/ad-mappings/{id}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.get(&format!("/api/gateway/ad-mappings/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.scalar::<i64>(
            "SELECT COUNT(*) FROM audit WHERE action IN ('ad_mapping.created', 'ad_mapping.deleted')"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn nobody_maps_a_group_to_a_role_beyond_what_they_hold() {
    let app = spawn_app().await;
    let gw = client_holding(&app, "gwadmins", &["gateway:read", "gateway:write"]).await;
    let csrf = app.csrf_token(&gw).await;
    let admin = role_id(&app, "admin").await;
    let own = role_id(&app, "gwadmins").await;

    let refused = map(&app, &gw, &csrf, "Ops", admin).await;
    assert_eq!(refused.status(), 403, "mapping to admin would escalate");
    let allowed = map(&app, &gw, &csrf, "Gateway-Team", own).await;
    assert_eq!(
        allowed.status(),
        201,
        "a role within what one holds may be mapped"
    );

    // The form offers only roles the caller may grant, and refuses one sent by hand.
    let page = app.text_of(&gw, "/gateway/ad-mappings").await;
    assert!(page.contains(">gwadmins</option>") && !page.contains(">admin</option>"));
    let by_hand = gw
        .post(app.url("/gateway/ad-mappings"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("ad_group", "Ops"),
            ("role_id", &admin.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(by_hand.status(), 403);
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM ad_group_mappings")
            .await,
        1
    );
}

#[tokio::test]
async fn readers_see_and_simulate_and_only_writers_change() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let created: Value = map(
        &app,
        &app.client,
        &csrf,
        "Ops",
        role_id(&app, "operator").await,
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created["id"].as_str().unwrap();
    let operator = app.client_with_role("operator").await;
    let op_csrf = app.csrf_token(&operator).await;
    let page = app.text_of(&operator, "/gateway/ad-mappings").await;
    assert!(page.contains("Ops") && !page.contains("Map group") && !page.contains("Delete…"));
    let sim = operator
        .post(app.url("/api/gateway/ad-mappings/simulate"))
        .header("X-CSRF-Token", &op_csrf)
        .json(&json!({"groups": ["Ops"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sim.status(),
        200,
        "simulating changes nothing: gateway:read suffices"
    );
    for (method, path) in [
        (Method::POST, "/api/gateway/ad-mappings".to_string()),
        (Method::DELETE, format!("/api/gateway/ad-mappings/{id}")),
    ] {
        let res = operator
            .request(method, app.url(&path))
            .header("X-CSRF-Token", &op_csrf)
            .json(&json!({"ad_group": "X", "role_id": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let delete_page = operator
        .post(app.url(&format!("/gateway/ad-mappings/{id}/delete")))
        .form(&[("csrf_token", op_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(delete_page.status(), 403);
    let anonymous = new_client()
        .get(app.url("/api/gateway/ad-mappings"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn the_page_maps_escapes_and_deletes_after_confirmation() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let home = app.text_of(&app.client, "/").await;
    assert!(
        home.contains("href=\"/gateway/ad-mappings\"")
            && home.contains("href=\"/gateway/providers\"")
    );
    let viewer = role_id(&app, "viewer").await;
    let created = app
        .client
        .post(app.url("/gateway/ad-mappings"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("ad_group", HOSTILE),
            ("role_id", &viewer.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let page = app.text_of(&app.client, "/gateway/ad-mappings").await;
    assert!(!page.contains("<script>alert"), "the group is escaped");
    assert!(
        page.contains(&format!("href=\"/admin/roles/{viewer}\"")),
        "the role is linked"
    );
    let dup = app
        .client
        .post(app.url("/gateway/ad-mappings"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("ad_group", HOSTILE),
            ("role_id", &viewer.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        dup.status(),
        422,
        "the form shows the taken group under its field"
    );
    assert!(
        dup.text()
            .await
            .unwrap()
            .contains("data-field-error=\"ad_group\"")
    );
    let sim = app
        .client
        .post(app.url("/gateway/ad-mappings/simulate"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("groups", &format!("{HOSTILE}\n<b>nobody</b>")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sim.status(), 200);
    let sim = sim.text().await.unwrap();
    assert!(sim.contains("data-testid=\"simulated-role\"") && !sim.contains("<b>nobody</b>"));
    assert!(sim.contains("&#60;b&#62;nobody") || sim.contains("&lt;b&gt;nobody"));

    let list: Value = app
        .get("/api/gateway/ad-mappings")
        .await
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let asked = app
        .client
        .post(app.url(&format!("/gateway/ad-mappings/{id}/delete")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200, "deleting asks first");
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM ad_group_mappings")
            .await,
        1
    );
    let done = app
        .client
        .post(app.url(&format!("/gateway/ad-mappings/{id}/delete")))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM ad_group_mappings")
            .await,
        0
    );
}

#[tokio::test]
async fn the_simulator_matches_names_dns_by_first_cn_and_exact_dns() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let (operator, viewer, admin) = (
        role_id(&app, "operator").await,
        role_id(&app, "viewer").await,
        role_id(&app, "admin").await,
    );
    for (group, role) in [
        ("Ops", operator),
        ("Oncall", operator),
        ("Readers", viewer),
        ("CN=Admins,OU=Groups,DC=example,DC=com", admin),
    ] {
        assert_eq!(
            map(&app, &app.client, &csrf, group, role).await.status(),
            201
        );
    }
    let got = simulate(
        &app,
        &csrf,
        &[
            "CN=Ops,OU=Groups,DC=example,DC=com",
            "Oncall",
            "Readers",
            "CN=Admins,OU=Elsewhere,DC=example,DC=com",
            "Strangers",
        ],
    )
    .await;
    let roles: Vec<&str> = got["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["operator", "viewer"],
        "one per role, by name; the DN mapping is exact"
    );
    assert_eq!(
        got["roles"][0]["ad_group"], "Ops",
        "the first group to match gives the role"
    );
    assert_eq!(
        got["roles"][0]["received"],
        "CN=Ops,OU=Groups,DC=example,DC=com"
    );
    assert_eq!(
        got["unmatched"],
        json!(["CN=Admins,OU=Elsewhere,DC=example,DC=com", "Strangers"])
    );
    let exact = simulate(&app, &csrf, &["cn=Admins, ou=Groups, dc=example, dc=com"]).await;
    assert_eq!(
        exact["roles"][0]["role_name"], "admin",
        "DN attribute names ignore case"
    );
    let none = simulate(&app, &csrf, &["ops"]).await;
    assert_eq!(
        none["roles"],
        json!([]),
        "group values are compared exactly"
    );
}

#[tokio::test]
async fn a_group_mapped_at_once_by_many_requests_is_mapped_once() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let viewer = role_id(&app, "viewer").await;
    let attempts = (0..8).map(|_| map(&app, &app.client, &csrf, "Racers", viewer));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM ad_group_mappings")
            .await,
        1
    );
}
