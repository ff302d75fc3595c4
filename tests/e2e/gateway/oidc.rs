//! The OpenID provider fixture (`tests/fixtures/oidc/server.mjs`, oidc-provider from npm),
//! started per test on a loopback port, and the helpers that set up Metadeck to sign in
//! through it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{KillOnDrop, TestApp, free_port};

/// The fixture's directory.
fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/oidc"
    ))
}

/// The client secret the fixture registers for Metadeck.
pub const CLIENT_SECRET: &str = "fixture-client-secret-7c1f";

/// A running OpenID provider; killed when dropped.
pub struct OidcProvider {
    _child: KillOnDrop,
    pub base: String,
    accounts: tempfile::NamedTempFile,
}

impl OidcProvider {
    /// Whether the fixture's packages are installed (`.ci/run` installs them); says why not.
    pub fn available() -> bool {
        let installed = fixture_dir().join("node_modules/oidc-provider").is_dir();
        if !installed {
            eprintln!(
                "skipped: tests/fixtures/oidc/node_modules is absent (npm ci in that directory; .ci/run does it)"
            );
        }
        installed
    }

    /// Starts the provider with Metadeck's client allowed to come back to each of
    /// `redirect_uris`, and `alice` in the groups `groups`.
    pub async fn start(redirect_uris: &[String], groups: &[&str]) -> Self {
        let accounts = tempfile::NamedTempFile::new().expect("a temporary file");
        let port = free_port();
        let mut command = Command::new("node");
        command
            .current_dir(fixture_dir())
            .arg("server.mjs")
            .args(["--port", &port.to_string()])
            .args(["--accounts", &accounts.path().display().to_string()])
            .args(["--client-secret", CLIENT_SECRET]);
        for uri in redirect_uris {
            command.args(["--redirect-uri", uri]);
        }
        let provider = Self {
            _child: KillOnDrop(
                command
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("node starts the OpenID provider"),
            ),
            base: format!("http://127.0.0.1:{port}"),
            accounts,
        };
        provider.set_groups("alice", groups);
        for _ in 0..150 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return provider;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the OpenID provider did not listen on {port} within 15 s");
    }

    /// Gives `login` the groups `groups` at the provider (read at its next sign-in).
    pub fn set_groups(&self, login: &str, groups: &[&str]) {
        self.write(json!({"accounts": {login: {
            "preferred_username": login,
            "email": format!("{login}@example.test"),
            "groups": groups,
        }}, "tamper": null}));
    }

    /// Makes the provider answer one part of the sign-in falsely (see the fixture).
    pub fn tamper(&self, what: &str) {
        let mut state: Value =
            serde_json::from_str(&std::fs::read_to_string(self.accounts.path()).unwrap()).unwrap();
        state["tamper"] = json!(what);
        self.write(state);
    }

    fn write(&self, state: Value) {
        std::fs::write(self.accounts.path(), state.to_string()).expect("the accounts file");
    }

    /// The provider's settings as Metadeck stores them, under `name`.
    pub fn as_provider(&self, name: &str) -> Value {
        json!({
            "name": name,
            "display_name": format!("Corp {name}"),
            "client_id": "metadeck",
            "client_secret": CLIENT_SECRET,
            "authorize_url": format!("{}/auth", self.base),
            "token_url": format!("{}/token", self.base),
            "userinfo_url": format!("{}/me", self.base),
            "scopes": ["openid", "profile", "email", "groups"],
            "groups_claim": "groups",
            "enabled": true,
        })
    }
}

/// Sends `body` to the JSON API as the admin signed in on `app.client`.
async fn as_admin(app: &TestApp, method: reqwest::Method, path: &str, body: &Value) -> Value {
    let csrf = app.csrf_token(&app.client).await;
    let res = app
        .client
        .request(method, app.url(path))
        .header("X-CSRF-Token", csrf)
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// Creates the identity provider `p` (as [`OidcProvider::as_provider`] shapes it) through the
/// API, as the admin signed in on `app.client`; answers its id.
pub async fn add_provider(app: &TestApp, p: &Value) -> String {
    let created = as_admin(app, reqwest::Method::POST, "/api/gateway/providers", p).await;
    created["id"]
        .as_str()
        .expect("the provider's id")
        .to_string()
}

/// Saves `p` again under `id` with `enabled` (an admin turning it on or off mid-flow).
pub async fn set_enabled(app: &TestApp, id: &str, p: &Value, enabled: bool) {
    let mut p = p.clone();
    p["enabled"] = json!(enabled);
    let path = format!("/api/gateway/providers/{id}");
    as_admin(app, reqwest::Method::PUT, &path, &p).await;
}

/// Maps the group `group` to the role named `role` through the API.
pub async fn map_group(app: &TestApp, group: &str, role: &str) {
    let role = entity::rbac_roles::Entity::find()
        .filter(entity::rbac_roles::Column::Name.eq(role))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the role exists");
    let body = json!({"ad_group": group, "role_id": role.id});
    as_admin(
        app,
        reqwest::Method::POST,
        "/api/gateway/ad-mappings",
        &body,
    )
    .await;
}

/// The callback URL at which the provider hands a sign-in of `login` back to Metadeck: the
/// browser `browser` starts at `/login/sso/{provider}` and goes through the provider's own
/// sign-in and consent pages (any password signs in as `login`), posting their forms.
pub async fn authorize(
    app: &TestApp,
    browser: &reqwest::Client,
    provider: &str,
    login: &str,
) -> String {
    let callback = app.url(&format!("/login/sso/{provider}/callback"));
    let mut res = browser
        .get(app.url(&format!("/login/sso/{provider}")))
        .send()
        .await
        .unwrap();
    for _ in 0..20 {
        let here = res.url().clone();
        if res.status().is_redirection() {
            let location = res.headers()["location"].to_str().unwrap().to_string();
            let to = here.join(&location).unwrap().to_string();
            if to.starts_with(&callback) {
                return to;
            }
            res = browser.get(&to).send().await.unwrap();
            continue;
        }
        assert_eq!(res.status(), 200, "the provider shows a page at {here}");
        let html = res.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("the provider's page holds a form: {html}"));
        let to = here.join(&action.replace("&amp;", "&")).unwrap();
        let form: Vec<(&str, &str)> = if html.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        res = browser.post(to).form(&form).send().await.unwrap();
    }
    panic!("the provider never sent the browser back to Metadeck");
}

/// The roles of `username`, by name.
pub async fn roles_of(app: &TestApp, username: &str) -> Vec<String> {
    let user = entity::local_users::Entity::find()
        .filter(entity::local_users::Column::Username.eq(username))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the user exists");
    let mut roles: Vec<String> = entity::user_roles::Entity::find()
        .filter(entity::user_roles::Column::UserId.eq(user.id))
        .find_also_related(entity::rbac_roles::Entity)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, role)| role.map(|r| r.name))
        .collect();
    roles.sort();
    roles
}
