//! Signing in and out, sessions, throttling, CSRF and the audit trail (spec 02).

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, metadeck_bin, new_client, spawn_app, spawn_app_with};

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("metadeck_session="))
        .map(str::to_string)
}

#[tokio::test]
async fn a_page_without_a_session_redirects_to_login_and_an_api_answers_401() {
    let app = spawn_app().await;

    let page = app.get("/audit?actor=cli").await;
    let api = app.get("/api/audit").await;

    assert_eq!(page.status(), 303);
    assert_eq!(
        page.headers()["location"],
        "/login?next=%2Faudit%3Factor%3Dcli"
    );
    assert_eq!(api.status(), 401);
    assert_eq!(api.headers()["www-authenticate"], "Bearer");
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_and_goes_to_next() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/login?next=/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::helpers::csrf_in(&page).unwrap();

    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "ADMIN"),
            ("password", ADMIN_PASSWORD),
            ("next", "/audit"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/audit");
    let cookie = session_cookie(&res).expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "loopback binds default to cookies without Secure"
    );
    assert_eq!(app.get("/audit").await.status(), 200);
}

#[tokio::test]
async fn next_is_limited_to_local_paths() {
    let app = spawn_app().await;
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let client = new_client();
        let token = crate::helpers::login_token(&client, &app.url("/login")).await;
        let res = client
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", evil),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/", "{evil}");
    }
}

#[tokio::test]
async fn signing_in_issues_a_new_session_key_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    let first = app.login_with(&app.client, "admin", ADMIN_PASSWORD).await;
    let old_pair = session_cookie(&first)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // Sign in again from the same browser, with the session's own CSRF token.
    let token = app.csrf_token(&app.client).await;
    let second = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let new = session_cookie(&second).expect("a renewed cookie");

    assert_ne!(old_pair, new.split(';').next().unwrap());
    let replay = new_client()
        .get(app.url("/"))
        .header("cookie", old_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303, "the pre-renewal key is dead");
    assert_eq!(app.get("/").await.status(), 200, "the renewed key works");
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_generic_answer() {
    let app = spawn_app().await;

    let unknown = app
        .login_with(&new_client(), "nobody", "whatever-password")
        .await;
    let wrong = app
        .login_with(&new_client(), "admin", "not-the-password")
        .await;

    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.status(), 401);
    let (a, b) = (unknown.text().await.unwrap(), wrong.text().await.unwrap());
    assert!(
        a.contains("Invalid username or password") && b.contains("Invalid username or password")
    );
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT target_id FROM audit WHERE action = 'login.failed' ORDER BY id",
        ))
        .await
        .unwrap();
    let targets: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect();
    assert_eq!(targets, ["nobody", "admin"]);
}

#[tokio::test]
async fn five_failures_lock_the_username_even_for_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login_with(&new_client(), "admin", "wrong-password-x")
                .await
                .status(),
            401
        );
    }

    let sixth = app.login_with(&new_client(), "admin", ADMIN_PASSWORD).await;

    assert_eq!(sixth.status(), 429);
    let retry: u64 = sixth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    assert!(
        sixth
            .text()
            .await
            .unwrap()
            .contains("Try again in 15 minutes")
    );
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_address_limit() {
    let app = spawn_app().await;
    for i in 0..20 {
        let client = new_client();
        let token = crate::helpers::login_token(&client, &app.url("/login")).await;
        let res = client
            .post(app.url("/login"))
            .header("x-forwarded-for", format!("10.9.8.{i}"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", &format!("user{i}")),
                ("password", "wrong-password-x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }

    let blocked = app.login_with(&new_client(), "admin", ADMIN_PASSWORD).await;

    assert_eq!(
        blocked.status(),
        429,
        "20 failures from 127.0.0.1 block it, whatever the header said"
    );
}

#[tokio::test]
async fn a_trusted_proxy_s_forwarded_for_is_believed() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await;
    app.login_as_admin().await;

    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT ip_address FROM audit WHERE action = 'login.succeeded'",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let client = new_client();
    let token = crate::helpers::login_token(&client, &app.url("/login")).await;
    client
        .post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let ip: String = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT ip_address FROM audit WHERE action = 'login.succeeded' ORDER BY id DESC",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(ip, "203.0.113.7");
}

#[tokio::test]
async fn an_inactive_user_cannot_sign_in() {
    let app = spawn_app().await;
    app.create_user("dormant", "viewer", "dormant-password-1")
        .await;
    app.exec("UPDATE local_users SET is_active = false WHERE username = 'dormant'")
        .await
        .unwrap();

    let res = app
        .login_with(&new_client(), "dormant", "dormant-password-1")
        .await;

    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn an_idle_or_expired_session_is_over() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    assert_eq!(app.get("/").await.status(), 200);

    let past = match app.backend() {
        sea_orm::DbBackend::Postgres => "now() - interval '2 hours'".to_string(),
        _ => format!(
            "'{}'",
            (chrono::Utc::now() - chrono::Duration::hours(2))
                .fixed_offset()
                .format("%Y-%m-%d %H:%M:%S%.f %:z")
        ),
    };
    app.exec(&format!("UPDATE sessions SET last_seen_at = {past}"))
        .await
        .unwrap();

    let res = app.get("/").await;
    assert_eq!(res.status(), 303, "idle for longer than 30 minutes");
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let left = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT COUNT(*) FROM sessions",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(left, 0, "the expired row is deleted");
}

#[tokio::test]
async fn a_revoked_session_s_next_request_is_signed_out() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    assert_eq!(app.get("/api/audit").await.status(), 200);

    app.exec("DELETE FROM sessions").await.unwrap();

    assert_eq!(app.get("/api/audit").await.status(), 401);
    assert_eq!(app.get("/").await.status(), 303);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let res = app
        .client
        .post(app.url("/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    let forged = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 403);
    assert_eq!(forged.status(), 403);
    assert_eq!(app.get("/").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn a_login_refused_for_its_csrf_token_does_not_count_as_a_failure() {
    let app = spawn_app().await;
    for _ in 0..6 {
        let res = new_client()
            .post(app.url("/login"))
            .form(&[("username", "admin"), ("password", "wrong-password-x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
    }

    assert_eq!(
        app.login_with(&app.client, "admin", ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn logging_out_ends_the_session_and_is_audited() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;

    let res = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    assert_eq!(app.get("/").await.status(), 303);
    let page = app.get("/login").await.text().await.unwrap();
    assert!(
        page.contains("You have been signed out."),
        "the flash message shows once"
    );
    assert!(
        !app.get("/login")
            .await
            .text()
            .await
            .unwrap()
            .contains("You have been signed out.")
    );
    app.login_as_admin().await;
    let audit: Value = app
        .get("/api/audit?action=logout")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["actor"], "user:admin");
}

#[tokio::test]
async fn json_changes_with_the_session_cookie_need_the_csrf_header() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let body = serde_json::json!({"username": "scripted", "roles": ["viewer"]});

    let without = app
        .client
        .post(app.url("/api/users"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let token = app.csrf_token(&app.client).await;
    let with = app
        .client
        .post(app.url("/api/users"))
        .header("X-CSRF-Token", token)
        .json(&body)
        .send()
        .await
        .unwrap();

    assert_eq!(without.status(), 403);
    assert_eq!(with.status(), 201);
    let created: Value = with.json().await.unwrap();
    assert_eq!(created["user"]["username"], "scripted");
    assert_eq!(
        created["password"].as_str().unwrap().len(),
        20,
        "a generated password, shown once"
    );
}

/// Two instances on one database append at once: each row chains onto the one committed
/// before it, whichever instance wrote it, and `/audit` still reports one intact chain.
#[tokio::test]
async fn audited_writes_from_two_instances_at_once_keep_one_intact_chain() {
    let first = spawn_app().await;
    let url = first.database.url.clone();
    let second = spawn_app_with(|env| {
        env.insert("DATABASE_URL".into(), url);
    })
    .await;
    let mut writes = Vec::new();
    for app in [&first, &second] {
        app.login_as_admin().await;
        let token = app.csrf_token(&app.client).await;
        for i in 0..15 {
            writes.push(
                app.client
                    .post(app.url("/api/webhooks"))
                    .header("X-CSRF-Token", token.clone())
                    .json(&serde_json::json!({"url": format!("https://hooks.example.test/{i}"), "events": ["*"]}))
                    .send(),
            );
        }
    }
    for res in futures_util::future::join_all(writes).await {
        assert_eq!(res.unwrap().status(), 201);
    }

    // The first admin, two sign-ins and thirty webhooks.
    let page = second.get("/audit").await.text().await.unwrap();
    assert!(
        page.contains("Hash chain intact (33 rows checked)."),
        "{page}"
    );
}

#[tokio::test]
async fn every_admin_action_lands_in_the_audit_trail_with_an_intact_chain() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    app.client
        .post(app.url("/api/users"))
        .header("X-CSRF-Token", &token)
        .json(&serde_json::json!({"username": "carol", "email": "carol@example.com", "roles": ["operator"]}))
        .send()
        .await
        .unwrap();

    let audit: Value = app.get("/api/audit?limit=10").await.json().await.unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.created", "login.succeeded", "user.created"]);
    assert_eq!(audit["items"][0]["details"]["roles"][0], "operator");
    let page = app.get("/audit").await.text().await.unwrap();
    assert!(page.contains("Hash chain intact (3 rows checked)."));
    let paged: Value = app.get("/api/audit?limit=2").await.json().await.unwrap();
    let next = paged["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/api/audit?limit=2&cursor={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(app.get("/api/audit?limit=0").await.status(), 400);
    assert_eq!(app.get("/api/audit?since=yesterday").await.status(), 400);
    assert_eq!(app.get("/api/audit?cursor=garbage").await.status(), 400);
}

/// `metadeck check` on the app's database, as an operator runs it.
async fn run_check(app: &crate::helpers::TestApp) -> std::process::Output {
    let url = app.database.url.clone();
    tokio::task::spawn_blocking(move || {
        metadeck_bin()
            .env("DATABASE_URL", url)
            .arg("check")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Someone with direct database access lifts the audit trail's guard against `op`
/// (`update` or `delete`; PostgreSQL's one trigger guards both).
pub(crate) async fn lift_audit_guard(app: &crate::helpers::TestApp, op: &str) {
    match app.backend() {
        sea_orm::DbBackend::Postgres => app
            .exec("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
            .await
            .unwrap(),
        _ => app
            .exec(&format!("DROP TRIGGER audit_no_{op}"))
            .await
            .unwrap(),
    }
}

/// The one integer `sql` answers.
async fn scalar(app: &crate::helpers::TestApp, sql: &str) -> i64 {
    app.scalar(sql).await
}

#[tokio::test]
async fn tampering_outside_the_app_breaks_the_chain_and_check_names_the_row() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let clean = run_check(&app).await;
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    lift_audit_guard(&app, "update").await;
    app.exec("UPDATE audit SET actor = 'user:mallory' WHERE action = 'login.succeeded'")
        .await
        .unwrap();
    let id = scalar(&app, "SELECT id FROM audit WHERE actor = 'user:mallory'").await;

    let out = run_check(&app).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("broken at row {id}")));
    let page = app.get("/audit").await.text().await.unwrap();
    assert!(page.contains(&format!("Hash chain broken at row {id}")));
}

/// Removing the newest rows leaves every remaining link intact; the chain's head, which
/// still names the removed row, is what shows it.
#[tokio::test]
async fn removing_the_newest_audit_rows_outside_the_app_is_reported() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    lift_audit_guard(&app, "delete").await;
    app.exec("DELETE FROM audit WHERE action = 'login.succeeded'")
        .await
        .unwrap();
    let kept = scalar(&app, "SELECT max(id) FROM audit").await;

    let out = run_check(&app).await;

    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "broken after row {kept}: its newest rows were removed"
        )),
        "{stdout}"
    );
    let page = app.get("/audit").await.text().await.unwrap();
    assert!(page.contains(&format!("Hash chain broken after row {kept}")));
}

#[tokio::test]
async fn the_first_admin_gets_a_generated_password_printed_once() {
    let database = crate::helpers::TestDatabase::migrated().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = crate::helpers::KillOnDrop(
        metadeck_bin()
            .env("DATABASE_URL", &database.url)
            .env("METADECK_BIND", format!("127.0.0.1:{port}"))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("first admin"))
    });
    let line = tokio::time::timeout(Duration::from_secs(20), line)
        .await
        .unwrap()
        .unwrap()
        .expect("the password line");
    let password = line
        .split("the password ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();

    let client = new_client();
    let base = format!("http://127.0.0.1:{port}");
    // The line is printed before the server listens: wait until it answers.
    crate::helpers::until_serving(&mut child.0, &base).await;
    let token = crate::helpers::login_token(&client, &format!("{base}/login")).await;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    drop(child);
    assert_eq!(res.status(), 303, "the printed password works");
}

#[tokio::test]
async fn the_cli_creates_users_and_resets_passwords() {
    let database = crate::helpers::TestDatabase::migrated().await;
    let run = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = metadeck_bin()
            .env("DATABASE_URL", &database.url)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };

    let generated = run(
        &[
            "user",
            "create",
            "--username",
            "Dora",
            "--role",
            "viewer",
            "--json",
        ],
        None,
    );
    let given = run(
        &[
            "user",
            "create",
            "--username",
            "eve",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("eve-s-long-password\n"),
    );
    let duplicate = run(
        &["user", "create", "--username", "dora", "--role", "viewer"],
        None,
    );
    let weak = run(
        &[
            "user",
            "create",
            "--username",
            "frank",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    let unknown_role = run(
        &["user", "create", "--username", "gina", "--role", "wizard"],
        None,
    );
    let reset = run(
        &["user", "reset-password", "--username", "dora", "--json"],
        None,
    );

    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let report: Value = serde_json::from_slice(&generated.stdout).unwrap();
    assert_eq!(report["username"], "dora");
    assert_eq!(report["password"].as_str().unwrap().len(), 20);
    assert!(given.status.success());
    assert_eq!(duplicate.status.code(), Some(1));
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12 characters"));
    assert_eq!(unknown_role.status.code(), Some(1));
    let reset: Value = serde_json::from_slice(&reset.stdout).unwrap();
    assert_ne!(reset["password"], report["password"]);
}

#[tokio::test]
async fn a_password_hashed_with_weaker_parameters_is_upgraded_at_sign_in() {
    use argon2::password_hash::PasswordHasher;
    let app = spawn_app().await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
    )
    .hash_password(ADMIN_PASSWORD.as_bytes())
    .unwrap()
    .to_string();
    app.exec(&format!(
        "UPDATE local_users SET password_hash = '{weak}' WHERE username = 'admin'"
    ))
    .await
    .unwrap();

    app.login_as_admin().await;

    let stored: String = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT password_hash FROM local_users WHERE username = 'admin'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert_eq!(
        new_client()
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(
        app.login_with(&new_client(), "admin", ADMIN_PASSWORD)
            .await
            .status(),
        303,
        "the new hash verifies"
    );
}

/// On PostgreSQL, identities asked for together are read by one batched query; a broken one
/// would only show as every request reading its user a second time, alone.
#[tokio::test]
async fn the_batched_identity_query_answers_like_the_single_one() {
    let app = spawn_app().await;
    if app.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let admin_id: i64 =
        sea_orm::sqlx::query_scalar("SELECT id FROM local_users WHERE username = 'admin'")
            .fetch_one(app.db.get_postgres_connection_pool())
            .await
            .unwrap();
    let unknown = admin_id + 1000;

    let batch = service::access::users::active_identities(app.db.clone(), vec![admin_id, unknown])
        .await
        .expect("the batched query runs");

    let alone = service::access::identity(&app.db, admin_id).await.unwrap();
    assert_eq!(batch.len(), 1, "only the existing user: {batch:?}");
    assert_eq!(batch.get(&admin_id), alone.as_ref());
    assert!(alone.unwrap().roles.contains(&"admin".to_string()));
}

/// An action prefix read newest first is read one action at a time and merged: its pages,
/// forward with the cursor and backward with `before`, hold exactly the prefix's rows in
/// time order, whichever action each row has.
#[tokio::test]
async fn an_action_prefix_pages_through_all_its_actions_in_time_order() {
    use service::audit::{self, Actor, AuditEntry, AuditFilter, NEWEST_FIRST};
    use service::pagination::{PageRequest, Sort};
    let app = spawn_app().await;
    app.login_as_admin().await;
    // Interleaved, with one action that shares the text but not the prefix.
    let actions = [
        "probe.b", "probe.a", "probing", "probe.c", "probe.a", "probe.b", "probing", "probe.a",
    ];
    for action in actions {
        let txn = service::db::begin_write(&app.db).await.unwrap();
        audit::commit_audited(txn, AuditEntry::new(action, &Actor::Cli), &[])
            .await
            .unwrap();
    }
    let all = audit::list(
        &app.db,
        &AuditFilter::default(),
        NEWEST_FIRST,
        &PageRequest::parse(Some(100), None).unwrap(),
    )
    .await
    .unwrap();
    let expected: Vec<i64> = all
        .items
        .iter()
        .filter(|r| r.action.starts_with("probe."))
        .map(|r| r.id)
        .collect();
    assert_eq!(expected.len(), 6);

    // Forward over the API, two rows a page.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = app
            .get(&format!("/api/audit?action=probe.&limit=2{cursor}"))
            .await
            .json()
            .await
            .unwrap();
        for row in page["items"].as_array().unwrap() {
            assert!(row["action"].as_str().unwrap().starts_with("probe."));
            seen.push(row["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    // Oldest first, and backward from the last page to the first.
    let filter = AuditFilter {
        action_prefix: Some("probe.".into()),
        ..Default::default()
    };
    let read = async |sort, page: PageRequest<_>| {
        let page = audit::list(&app.db, &filter, sort, &page).await.unwrap();
        let ids: Vec<i64> = page.items.iter().map(|r| r.id).collect();
        (ids, page.next_cursor, page.prev_cursor)
    };
    let oldest_first = Sort::asc(audit::AuditSortField::Time);
    let (ids, _, _) = read(oldest_first, PageRequest::parse(Some(100), None).unwrap()).await;
    assert_eq!(ids, expected.iter().rev().copied().collect::<Vec<_>>());

    let (_, next, _) = read(NEWEST_FIRST, PageRequest::parse(Some(4), None).unwrap()).await;
    let next = next.unwrap();
    let (tail, _, back) = read(
        NEWEST_FIRST,
        PageRequest::parse(Some(4), Some(&next)).unwrap(),
    )
    .await;
    assert_eq!(tail, expected[4..]);
    let back = back.unwrap();
    let (again, _, _) = read(
        NEWEST_FIRST,
        PageRequest::parse_both(Some(4), None, Some(&back)).unwrap(),
    )
    .await;
    assert_eq!(again, expected[..4]);
}
