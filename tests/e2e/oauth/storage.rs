//! Credentials are stored only as hashes: after issuing every kind, none is in the database.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use super::{post_form, register, service_client};
use crate::helpers::spawn_app;

#[tokio::test]
async fn no_plaintext_secret_token_or_code_is_stored() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let svc = service_client(&app, &["users:read"]).await;
    let device = register(
        &app,
        json!({"name": "dev", "is_confidential": false, "grant_types": ["device_code"], "allowed_scopes": ["sync:read"]}),
    )
    .await;
    let mut secrets = vec![svc.secret.clone().unwrap()];
    let (_, token) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &svc.id),
            ("client_secret", &secrets[0]),
        ],
    )
    .await;
    secrets.push(token["access_token"].as_str().unwrap().to_owned());
    let (_, auth) = post_form(
        &app,
        "/oauth/device_authorization",
        &[("client_id", &device.id)],
    )
    .await;
    secrets.push(auth["device_code"].as_str().unwrap().to_owned());

    let mut stored = String::new();
    for table in [
        "oauth_clients",
        "oauth_client_configs",
        "oauth_access_tokens",
        "oauth_refresh_tokens",
        "oauth_authorization_codes",
        "oauth_device_codes",
        "oauth_audit_logs",
        "audit",
    ] {
        let sql = match app.backend() {
            DbBackend::Postgres => format!("SELECT row_to_json(t)::text AS j FROM {table} t"),
            _ => format!("SELECT * FROM {table}"),
        };
        let rows = app
            .db
            .query_all_raw(Statement::from_string(app.backend(), sql))
            .await
            .unwrap();
        for row in rows {
            for i in 0..64 {
                match row.try_get_by_index::<Option<String>>(i) {
                    Ok(Some(text)) => stored.push_str(&text),
                    Ok(None) => {}
                    Err(_) if i > 40 => break,
                    Err(_) => {}
                }
            }
        }
    }
    assert!(stored.len() > 100, "the scan read the tables");
    for s in &secrets {
        assert!(
            !stored.contains(s.as_str()),
            "a credential is stored in plain text"
        );
    }
    assert!(
        stored.contains(&service::oauth::secrets::hash(&secrets[1])),
        "the token's hash is what is stored"
    );
}
