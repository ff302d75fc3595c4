//! The admin and account pages: users, roles, own account, sessions.

use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app_with};

const ADMIN_PASSWORD: &str = "the-first-admin-password";

/// The application with a known first admin (`admin`).
async fn spawn() -> TestApp {
    spawn_app_with(|env| {
        env.insert("METADECK_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into());
    })
    .await
}

/// One signed-in client with its session's CSRF token.
struct Agent {
    address: String,
    client: reqwest::Client,
    csrf: String,
}

/// The value of the first `name="csrf_token"` field of a page.
fn csrf_field(html: &str) -> String {
    let at = html
        .find(r#"name="csrf_token" value=""#)
        .expect("the page has a CSRF field");
    let rest = &html[at + r#"name="csrf_token" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Every value of `attr` in the page that starts with `prefix`.
fn attr_values(html: &str, attr: &str, prefix: &str) -> Vec<String> {
    html.split(&format!(r#"{attr}=""#))
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .filter(|a| a.starts_with(prefix))
        .collect()
}

/// The addresses forms of the page post to, starting with `prefix`.
fn actions(html: &str, prefix: &str) -> Vec<String> {
    attr_values(html, "action", prefix)
}

/// The link of the page whose text is `text`.
fn link_to(html: &str, text: &str) -> String {
    attr_values(html, "href", "/")
        .into_iter()
        .find(|l| html.contains(&format!(r#"href="{l}">{text}<"#)))
        .unwrap_or_else(|| panic!("a link to {text}"))
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()["location"].to_str().unwrap()
}

impl Agent {
    /// Signs in as `username` in a fresh client (its own cookie jar).
    async fn sign_in(app: &TestApp, username: &str, password: &str) -> Self {
        let agent = Self::try_sign_in(app, username, password).await;
        agent.expect("the sign-in succeeds")
    }

    async fn try_sign_in(app: &TestApp, username: &str, password: &str) -> Option<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        let login = client.get(app.url("/login")).send().await.unwrap();
        let token = csrf_field(&login.text().await.unwrap());
        let res = client
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        if res.status() != StatusCode::SEE_OTHER || location(&res) != "/" {
            return None;
        }
        let mut home = client.get(app.url("/")).send().await.unwrap();
        if home.status() == StatusCode::SEE_OTHER {
            // A generated password sends its holder to set their own first.
            let next = app.url(location(&home));
            home = client.get(next).send().await.unwrap();
        }
        let csrf = csrf_field(&home.text().await.unwrap());
        Some(Self {
            address: app.address.clone(),
            client,
            csrf,
        })
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let url = format!("{}{path}", self.address);
        self.client.get(url).send().await.unwrap()
    }

    /// `GET path`: its status and page.
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        (res.status(), res.text().await.unwrap())
    }

    /// Posts `fields` and the session's CSRF token to `path`.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf_token", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let url = format!("{}{path}", self.address);
        self.client.post(url).form(&form).send().await.unwrap()
    }

    /// True while the session is signed in: `/` answers instead of sending to `/login`.
    async fn is_signed_in(&self) -> bool {
        let res = self.get("/").await;
        match res.status() {
            StatusCode::OK => true,
            StatusCode::SEE_OTHER => {
                assert!(location(&res).starts_with("/login"));
                false
            }
            other => panic!("unexpected status {other}"),
        }
    }
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    service::access::users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .expect("the user exists")
        .id
}

/// Creates a user through the form with a chosen password.
async fn create_user(admin: &Agent, username: &str, password: &str, role: &str) {
    let email = format!("{username}@example.com");
    let res = admin
        .post(
            "/admin/users/new",
            &[
                ("username", username),
                ("email", &email),
                ("password", password),
                ("roles", role),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "user {username} created"
    );
}

#[tokio::test]
async fn a_user_created_without_a_password_gets_one_shown_once_that_signs_in() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    let res = admin
        .post(
            "/admin/users/new",
            &[
                ("username", "Alice"),
                ("email", "alice@example.com"),
                ("password", ""),
                ("roles", "viewer"),
                ("roles", "operator"),
            ],
        )
        .await;

    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "a create ends in a redirect"
    );
    assert_eq!(location(&res), "/shown-once");
    let (_, html) = admin.page("/shown-once").await;
    let marker = r#"data-testid="generated-password">"#;
    let start = html.find(marker).expect("the password is shown") + marker.len();
    let password = &html[start..start + html[start..].find('<').unwrap()];
    assert!(password.len() >= 12);
    let (_, refreshed) = admin.page("/shown-once").await;
    assert!(refreshed.contains(r#"data-testid="secret-gone""#) && !refreshed.contains(password));
    let alice = Agent::sign_in(&app, "alice", password).await;
    let res = alice.get("/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        "/account/password",
        "the generated password works, and must be replaced first"
    );
    let (_, list) = admin.page("/admin/users?q=ALI").await;
    assert!(list.contains(">alice</a>"));
    assert!(list.contains("operator, viewer"));
    assert!(
        !list.contains(password),
        "the list never shows the password"
    );
    let (_, admins) = admin.page("/admin/users?role=admin").await;
    assert!(!admins.contains(">alice</a>") && admins.contains(">admin</a>"));
    let (_, inactive) = admin.page("/admin/users?status=inactive").await;
    assert!(!inactive.contains(">alice</a>"));
}

#[tokio::test]
async fn a_new_user_form_with_errors_keeps_the_input_and_names_each_field() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    let res = admin
        .post(
            "/admin/users/new",
            &[
                ("username", "no spaces allowed"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("roles", "operator"),
            ],
        )
        .await;

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for field in ["username", "email", "password"] {
        assert!(
            html.contains(&format!(r#"data-field-error="{field}""#)),
            "{field} has its error"
        );
    }
    assert!(
        html.contains("at least 12 characters"),
        "the failed rule is named"
    );
    assert!(html.contains(r#"value="no spaces allowed""#));
    assert!(html.contains(r#"value="not-an-email""#));
    assert!(html.contains(r#"value="operator" checked"#));
    assert!(!html.contains(r#"value="viewer" checked"#));
    let taken = admin
        .post(
            "/admin/users/new",
            &[("username", "ADMIN"), ("password", "")],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text().await.unwrap().contains("is taken"));
    let (_, list) = admin.page("/admin/users").await;
    assert!(!list.contains("no spaces"));
}

#[tokio::test]
async fn a_viewer_is_refused_the_users_page_and_does_not_see_its_link() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    create_user(&admin, "vera", "vera-password-1234", "viewer").await;
    let vera = Agent::sign_in(&app, "vera", "vera-password-1234").await;

    let (status, _) = vera.page("/admin/users").await;
    let (_, home) = vera.page("/").await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!home.contains(r#"href="/admin/users""#));
    let (_, admin_home) = admin.page("/").await;
    assert!(admin_home.contains(r#"href="/admin/users""#));
    let refused = vera
        .post(
            "/admin/users/new",
            &[("username", "sneaky"), ("password", "")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn editing_roles_changes_what_the_user_may_open() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    create_user(&admin, "bob", "bob-password-12345", "viewer").await;
    let id = user_id(&app, "bob").await;
    let bob = Agent::sign_in(&app, "bob", "bob-password-12345").await;
    assert_eq!(bob.page("/admin/users").await.0, StatusCode::FORBIDDEN);

    let res = admin
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("email", "bob@example.org"),
                ("is_active", "true"),
                ("roles", "operator"),
            ],
        )
        .await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/admin/users/{id}"));
    let (_, page) = admin.page(&format!("/admin/users/{id}")).await;
    assert!(page.contains(r#"data-testid="roles">operator<"#));
    assert!(page.contains("bob@example.org"));
    let (status, list) = bob.page("/admin/users").await;
    assert_eq!(status, StatusCode::OK, "an operator reads users");
    assert!(
        !list.contains("/admin/users/new"),
        "but may not create them"
    );
}

#[tokio::test]
async fn deleting_yourself_is_refused_on_the_page() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let id = user_id(&app, "admin").await;
    let path = format!("/admin/users/{id}/delete");

    let (_, own_page) = admin.page(&format!("/admin/users/{id}")).await;
    let unconfirmed = admin.post(&path, &[]).await;
    let refused = admin.post(&path, &[("confirm", "yes")]).await;

    assert!(
        !own_page.contains(&path) && !own_page.contains("Delete user"),
        "your own page offers no delete"
    );
    assert!(
        !own_page.contains(r#"type="checkbox" name="is_active""#),
        "nor deactivation"
    );
    assert_eq!(
        unconfirmed.status(),
        StatusCode::FORBIDDEN,
        "no question first"
    );
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("you cannot delete yourself")
    );
    assert!(admin.is_signed_in().await);
    user_id(&app, "admin").await;
}

#[tokio::test]
async fn another_user_is_deleted_after_confirmation() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    create_user(&admin, "carol", "carol-password-123", "viewer").await;
    let id = user_id(&app, "carol").await;

    let (_, carol_page) = admin.page(&format!("/admin/users/{id}")).await;
    assert!(carol_page.contains(r#"<button type="submit" class="danger">Delete user…</button>"#));
    let asked = admin.post(&format!("/admin/users/{id}/delete"), &[]).await;
    assert_eq!(asked.status(), StatusCode::OK, "deleting asks first");
    let question = asked.text().await.unwrap();
    assert!(question.contains("They lose 1 role:") && question.contains(">viewer<"));
    user_id(&app, "carol").await;

    let res = admin
        .post(&format!("/admin/users/{id}/delete"), &[("confirm", "yes")])
        .await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/users");
    let gone = service::access::users::find_by_username(&app.db, "carol").await;
    assert!(gone.unwrap().is_none());
    assert_eq!(
        admin.page(&format!("/admin/users/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn demoting_the_only_admin_is_refused_and_changes_nothing() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let id = user_id(&app, "admin").await;

    let res = admin
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("email", "boss@example.com"),
                ("is_active", "true"),
                ("roles", "viewer"),
            ],
        )
        .await;

    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("last active user holding users:write")
    );
    let user = service::access::users::get(&app.db, id).await.unwrap();
    assert_eq!(user.roles, vec!["admin".to_string()]);
    assert_eq!(user.email, None);
    assert_eq!(admin.page("/admin/users").await.0, StatusCode::OK);
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_sessions() {
    let app = spawn().await;
    let here = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let elsewhere = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    let wrong = here
        .post(
            "/account/password",
            &[
                ("current_password", "not-the-password"),
                ("new_password", "a-brand-new-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains(r#"data-field-error="current_password""#)
    );
    let weak = here
        .post(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "admin"),
            ],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("at least 12 characters")
    );
    assert!(
        elsewhere.is_signed_in().await,
        "failed attempts change nothing"
    );

    let res = here
        .post(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "a-brand-new-password"),
            ],
        )
        .await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account");
    assert!(!elsewhere.is_signed_in().await);
    assert!(here.is_signed_in().await);
    assert!(
        Agent::try_sign_in(&app, "admin", ADMIN_PASSWORD)
            .await
            .is_none()
    );
    Agent::sign_in(&app, "admin", "a-brand-new-password").await;
}

#[tokio::test]
async fn signing_out_another_own_session_ends_it() {
    let app = spawn().await;
    let here = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let elsewhere = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (_, page) = here.page("/account/sessions").await;
    assert!(page.contains(r#"data-testid="current-session""#));
    let revoke = actions(&page, "/account/sessions/");
    let others: Vec<&String> = revoke.iter().filter(|a| a.ends_with("/revoke")).collect();
    assert_eq!(
        others.len(),
        1,
        "one button, for the other session: {revoke:?}"
    );

    let asked = here.post(others[0], &[]).await;
    assert_eq!(asked.status(), StatusCode::OK, "signing out asks first");
    assert!(elsewhere.is_signed_in().await);
    let res = here.post(others[0], &[("confirm", "yes")]).await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!elsewhere.is_signed_in().await);
    assert!(here.is_signed_in().await);
}

#[tokio::test]
async fn signing_out_everywhere_else_keeps_only_this_session() {
    let app = spawn().await;
    let here = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let second = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let third = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    let asked = here.post("/account/sessions/revoke-others", &[]).await;
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("2 other sessions are signed out at once.")
    );
    assert!(second.is_signed_in().await);
    let res = here
        .post("/account/sessions/revoke-others", &[("confirm", "yes")])
        .await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!second.is_signed_in().await && !third.is_signed_in().await);
    assert!(here.is_signed_in().await);
}

#[tokio::test]
async fn an_admin_revokes_another_users_session() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    create_user(&admin, "dave", "dave-password-1234", "viewer").await;
    let dave = Agent::sign_in(&app, "dave", "dave-password-1234").await;
    let (_, own) = dave.page("/account/sessions").await;
    assert!(
        actions(&own, "/account/sessions/").is_empty(),
        "no other session to end"
    );
    let (status, _) = dave.page("/admin/sessions").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page) = admin.page("/admin/sessions?user=dave").await;
    let revoke: Vec<String> = actions(&page, "/admin/sessions/")
        .into_iter()
        .filter(|a| a.ends_with("/revoke"))
        .collect();
    assert_eq!(revoke.len(), 1, "only dave's session is listed");

    let asked = admin.post(&revoke[0], &[]).await;
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("Sign out this session of dave?")
    );
    assert!(dave.is_signed_in().await, "not before it is confirmed");
    let res = admin.post(&revoke[0], &[("confirm", "yes")]).await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!dave.is_signed_in().await);
    assert!(admin.is_signed_in().await);
}

#[tokio::test]
async fn nobody_signs_out_someone_elses_session_from_their_own_page() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    create_user(&admin, "erin", "erin-password-1234", "viewer").await;
    let erin = Agent::sign_in(&app, "erin", "erin-password-1234").await;
    let (_, page) = admin.page("/admin/sessions?user=admin").await;
    let admin_session = actions(&page, "/admin/sessions/")[0].replace("/admin/sessions/", "");

    let res = erin
        .post(&format!("/account/sessions/{admin_session}"), &[])
        .await;

    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(admin.is_signed_in().await);
}

#[tokio::test]
async fn a_custom_role_is_created_changed_and_deleted_but_built_in_ones_stay() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    let res = admin
        .post(
            "/admin/roles/new",
            &[
                ("name", "auditor"),
                ("description", "Reads the trail"),
                ("permissions", "audit:read"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, list) = admin.page("/admin/roles").await;
    let path = link_to(&list, "auditor");
    let changed = admin
        .post(
            &path,
            &[
                ("description", "Reads more"),
                ("permissions", "audit:read"),
                ("permissions", "sync:read"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page(&path).await;
    assert!(page.contains(r#"value="sync:read" checked"#));
    assert!(page.contains("Reads more"));
    let bad = admin
        .post(&path, &[("permissions", "root:everything")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains(r#"data-field-error="permissions""#)
    );

    let builtin = link_to(&list, "viewer");
    let (_, viewer) = admin.page(&builtin).await;
    assert!(viewer.contains(r#"data-testid="role-note""#));
    assert!(
        !viewer.contains(r#"name="permissions""#),
        "no form for a built-in role"
    );
    let refused = admin
        .post(&format!("{builtin}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let deleted = admin
        .post(&format!("{path}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let (_, after) = admin.page("/admin/roles").await;
    assert!(!after.contains(">auditor<") && after.contains(">viewer<"));
}

/// True when the page shows `<script>alert(1)` as text (named or numeric entities).
fn shows_escaped(html: &str) -> bool {
    html.contains("&lt;script&gt;alert(1)") || html.contains("&#60;script&#62;alert(1)")
}

#[tokio::test]
async fn hostile_input_is_shown_escaped() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let hostile = "<script>alert(1)</script>";

    let role = admin
        .post(
            "/admin/roles/new",
            &[("name", "hostile"), ("description", hostile)],
        )
        .await;
    let email = admin
        .post(
            "/admin/users/new",
            &[
                ("username", "mallory"),
                ("email", "\"><script>alert(1)</script>"),
            ],
        )
        .await;

    assert_eq!(role.status(), StatusCode::SEE_OTHER);
    let (_, roles) = admin.page("/admin/roles").await;
    assert!(shows_escaped(&roles));
    assert!(!roles.contains(hostile));
    assert_eq!(email.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = email.text().await.unwrap();
    assert!(shows_escaped(&form), "the kept input is escaped");
    assert!(!form.contains(hostile));
    let (_, users) = admin.page("/admin/users?q=%3Cscript%3Ealert(1)").await;
    assert!(!users.contains("<script>") && shows_escaped(&users));
}

#[tokio::test]
async fn unknown_ids_and_bad_cursors_are_error_pages_not_failures() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    let pages = [
        admin.page("/admin/users/not-a-number").await.0,
        admin.page("/admin/users/999999").await.0,
        admin.page("/admin/roles/999999").await.0,
        admin
            .post("/admin/users/999999/delete", &[("confirm", "yes")])
            .await
            .status(),
        admin.post("/admin/roles/abc", &[]).await.status(),
        admin
            .post("/admin/sessions/no-such-session/revoke", &[])
            .await
            .status(),
    ];
    let (cursor, html) = admin.page("/admin/users?cursor=not*a*cursor").await;

    assert!(
        pages.iter().all(|s| *s == StatusCode::NOT_FOUND),
        "{pages:?}"
    );
    assert_eq!(cursor, StatusCode::BAD_REQUEST);
    assert!(html.contains("cursor"));
}

#[tokio::test]
async fn deleting_a_role_asks_first_naming_its_holders_and_changes_nothing_until_confirmed() {
    let app = spawn().await;
    let admin = Agent::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    admin
        .post(
            "/admin/roles/new",
            &[("name", "auditor"), ("permissions", "audit:read")],
        )
        .await;
    create_user(&admin, "dora", "dora-password-1234", "auditor").await;
    create_user(&admin, "erin", "erin-password-1234", "auditor").await;
    let (_, list) = admin.page("/admin/roles").await;
    let path = link_to(&list, "auditor");
    let (_, role_page) = admin.page(&path).await;
    assert!(
        role_page.contains(r#"<button type="submit" class="danger">Delete role…</button>"#),
        "the delete button is styled as danger"
    );
    assert!(
        !role_page.contains(r#"name="confirm""#),
        "the role page deletes nothing itself"
    );

    let asked = admin.post(&format!("{path}/delete"), &[]).await;

    assert_eq!(asked.status(), StatusCode::OK);
    let question = asked.text().await.unwrap();
    assert!(question.contains(r#"data-testid="confirmation""#));
    assert!(question.contains("The role auditor is held by 2 users:"));
    assert!(
        question.contains(r#"data-testid="affected-name">dora<"#)
            && question.contains(r#"data-testid="affected-name">erin<"#)
    );
    assert!(question.contains(r#"class="danger" data-testid="confirm-submit""#));
    assert!(question.contains(&format!(r#"href="{path}" data-testid="confirm-cancel""#)));
    assert_eq!(actions(&question, &path), [format!("{path}/delete")]);
    assert_eq!(admin.page(&path).await.0, StatusCode::OK, "still there");

    let deleted = admin
        .post(&format!("{path}/delete"), &[("confirm", "yes")])
        .await;

    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.page(&path).await.0, StatusCode::NOT_FOUND);
}
