//! Metadeck's own OAuth server (spec 06) as the identity provider of a second Metadeck: the
//! upstream instance's userinfo answers `groups` with the user's role names, which the
//! downstream instance maps to its own roles.

use serde_json::json;

use super::oidc::{add_provider, map_group, roles_of};
use crate::helpers::{TestApp, new_client, spawn_app, spawn_app_with};
use crate::oauth::{consent, register};

/// The downstream instance, which may reach the upstream one on loopback.
async fn downstream() -> TestApp {
    spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await
}

#[tokio::test]
async fn a_metadeck_signs_its_users_in_through_another_metadeck() {
    let upstream = spawn_app().await;
    upstream.login_as_admin().await;
    let downstream = downstream().await;
    downstream.login_as_admin().await;
    let callback = downstream.url("/login/sso/hq/callback");
    let client = register(
        &upstream,
        json!({
            "name": "Downstream Metadeck",
            "redirect_uris": [callback],
            "grant_types": ["authorization_code"],
            "allowed_scopes": ["sync:read"],
        }),
    )
    .await;
    upstream
        .create_user("dora", "operator", "a-password-for-tests")
        .await;
    add_provider(
        &downstream,
        &json!({
            "name": "hq",
            "display_name": "HQ Metadeck",
            "client_id": client.id,
            "client_secret": client.secret,
            "authorize_url": upstream.url("/oauth/authorize"),
            "token_url": upstream.url("/oauth/token"),
            "userinfo_url": upstream.url("/oauth/userinfo"),
            "scopes": ["sync:read"],
            "groups_claim": "groups",
            "enabled": true,
        }),
    )
    .await;
    // Upstream operators are viewers here.
    map_group(&downstream, "operator", "viewer").await;

    // Both instances listen on 127.0.0.1, where one cookie jar would mix their cookies of
    // the same names; one client per instance plays the one browser.
    let at_upstream = new_client();
    assert_eq!(
        upstream
            .login_with(&at_upstream, "dora", "a-password-for-tests")
            .await
            .status(),
        303
    );
    let at_downstream = new_client();
    let res = at_downstream
        .get(downstream.url("/login/sso/hq"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let authorize = res.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&upstream.url("/oauth/authorize")));
    let back = consent(&upstream, &at_upstream, &authorize, "approve").await;
    assert!(back.starts_with(&callback), "{back}");

    let res = at_downstream.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 303, "signed in downstream");
    assert_eq!(roles_of(&downstream, "dora").await, ["viewer"]);
    let home = at_downstream.get(downstream.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
}
