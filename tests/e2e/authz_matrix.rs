//! R4: every declared route × {anonymous, viewer, operator, admin, token without scope, token
//! with each scope} answers as its rule says,
//! and every state-changing route refuses a request without its CSRF token.
//!
//! The routes come from the router's own catalog, so a new route is checked automatically.

use service::access::{BuiltinRole, PermissionSet};
use web::auth::{Access, Kind};

use crate::helpers::{new_client, spawn_app};

/// A concrete path for a route pattern.
fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        let name = &rest[start + 1..end - 1];
        out.push_str(if name.starts_with("path") {
            "metadeck.css"
        } else {
            "1"
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_route_answers_each_persona_as_its_rule_says() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let personas: Vec<(&str, reqwest::Client, PermissionSet)> = vec![
        ("anonymous", new_client(), PermissionSet::EMPTY),
        (
            "viewer",
            app.client_with_role("viewer").await,
            BuiltinRole::Viewer.permissions(),
        ),
        (
            "operator",
            app.client_with_role("operator").await,
            BuiltinRole::Operator.permissions(),
        ),
        (
            "admin",
            app.client.clone(),
            BuiltinRole::Admin.permissions(),
        ),
    ];
    let catalog = web::routes::catalog();
    assert!(catalog.len() >= 10, "the catalog lists the routes");
    assert!(
        catalog
            .iter()
            .any(|r| r.method != actix_web::http::Method::GET),
        "and state-changing ones"
    );

    let mut failures = Vec::new();
    for route in &catalog {
        let path = concrete(route.path);
        let safe = route.method == actix_web::http::Method::GET;
        for (persona, client, permissions) in &personas {
            let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let mut req = client.request(method, app.url(&path));
            if !safe {
                req = match route.rule.kind {
                    Kind::Api => req.json(&serde_json::json!({})),
                    Kind::Page | Kind::Protocol => req.form(&[("probe", "1")]),
                };
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let to_login = status == 303
                && res
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .is_some_and(|l| l.starts_with("/login"));
            let signed_in = *persona != "anonymous";
            let allowed = match route.rule.access {
                Access::Public => true,
                Access::Signed => signed_in,
                Access::Permission(p) => permissions.contains(p),
            };
            let ok = if route.rule.kind == Kind::Protocol {
                // OAuth endpoints authenticate clients themselves: never a CSRF refusal.
                status < 500 && status != 403
            } else {
                match (signed_in, allowed, safe) {
                    // Public routes: never an authentication answer for reads; writes need their token.
                    (_, true, true) => status != 401 && status != 403 && !to_login,
                    (_, true, false) => status == 403,
                    (false, false, _) => match route.rule.kind {
                        Kind::Api => status == 401,
                        _ => to_login,
                    },
                    (true, false, _) => status == 403,
                }
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {persona}: {status}",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected answers:\n{}",
        failures.join("\n")
    );
}

/// The token personas of R4: a token without scope, and for each permission a token holding
/// exactly it. JSON routes answer bearer tokens by scope (and need no CSRF token); pages
/// ignore bearer tokens.
#[tokio::test]
async fn every_route_answers_bearer_tokens_by_scope() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let all: Vec<&str> = service::access::Permission::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    let client = crate::oauth::service_client(&app, &all).await;
    let empty = crate::oauth::service_client(&app, &[]).await;
    let mut tokens = vec![(
        "token without scope".to_string(),
        crate::oauth::token_for(&app, &empty, None).await,
        PermissionSet::EMPTY,
    )];
    for p in service::access::Permission::ALL {
        tokens.push((
            format!("token with {p}"),
            crate::oauth::token_for(&app, &client, Some(p.as_str())).await,
            PermissionSet::from_iter([*p]),
        ));
    }
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for route in web::routes::catalog() {
        if route.rule.kind == Kind::Protocol {
            continue;
        }
        let path = concrete(route.path);
        for (persona, token, permissions) in &tokens {
            let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let mut req = plain.request(method, app.url(&path)).bearer_auth(token);
            if route.method != actix_web::http::Method::GET {
                req = match route.rule.kind {
                    Kind::Api => req.json(&serde_json::json!({})),
                    _ => req.form(&[("probe", "1")]),
                };
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let ok = match (route.rule.kind, route.rule.access) {
                (Kind::Api, Access::Public) => status != 401 && status != 403,
                (Kind::Api, Access::Signed) => status == 403,
                (Kind::Api, Access::Permission(p)) if permissions.contains(p) => {
                    status != 401 && status != 403
                }
                (Kind::Api, Access::Permission(_)) => status == 403,
                // Pages take the session only: a bearer token is nobody there.
                (_, Access::Public) => status != 401,
                (_, _) => {
                    if route.method == actix_web::http::Method::GET {
                        status == 303
                    } else {
                        status == 303 || status == 403
                    }
                }
            };
            if !ok {
                failures.push(format!(
                    "{} {} with {persona}: {status}",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected answers:\n{}",
        failures.join("\n")
    );
}
