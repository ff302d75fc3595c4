//! `spawn_app()` and the per-test database.

use std::collections::HashMap;
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tokio::sync::OnceCell;
use web::settings::Settings;
use web::startup::Application;

/// The first admin's password in every test app.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The secret key every test app uses.
pub const TEST_SECRET_KEY: &str =
    "test-secret-key-0123456789abcdef0123456789abcdef0123456789abcdef-xyz";

/// A running application and the means to talk to it.
pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    /// Keeps cookies; never follows redirects, so tests see every `303`.
    pub client: reqwest::Client,
    pub database: TestDatabase,
}

impl TestApp {
    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// Runs raw SQL on the test database.
    pub async fn exec(&self, sql: &str) -> Result<(), sea_orm::DbErr> {
        self.db.execute_unprepared(sql).await.map(|_| ())
    }

    /// The one value `sql` answers (the first column of the first row).
    pub async fn scalar<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        self.db
            .query_one_raw(Statement::from_string(self.backend(), sql))
            .await
            .expect("the query runs")
            .expect("the query answers a row")
            .try_get_by_index(0)
            .expect("the value has the asked-for type")
    }

    /// The body of `GET path` by `client`, as text.
    pub async fn text_of(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
            .text()
            .await
            .expect("a text body")
    }

    /// The backend under test.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}

/// A browser-like client: keeps cookies, never follows redirects.
pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("the HTTP client builds")
}

/// The value of the first `name="csrf_token"` field (or the csrf meta tag) in `html`.
pub fn csrf_in(html: &str) -> Option<String> {
    for marker in [
        "name=\"csrf_token\" value=\"",
        "name=\"csrf-token\" content=\"",
    ] {
        if let Some(start) = html.find(marker) {
            let rest = &html[start + marker.len()..];
            return rest.split('"').next().map(str::to_string);
        }
    }
    None
}

/// Opens the login form at `login_url` and returns its CSRF token (setting the pre-session cookie).
pub async fn login_token(client: &reqwest::Client, login_url: &str) -> String {
    let page = client
        .get(login_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_in(&page).expect("the login form carries a CSRF token")
}

impl TestApp {
    /// Signs `client` in through the real login form; returns the answer to the POST.
    pub async fn login_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let token = login_token(client, &self.url("/login")).await;
        client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs the app's own client in as the first admin.
    pub async fn login_as_admin(&self) {
        let res = self.login_with(&self.client, "admin", ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 303, "the admin signs in");
    }

    /// Stores `items` through the signed-in client's bulk upsert of `kind` (`devices` or
    /// `entities`) and asserts it was taken.
    pub async fn bulk_upsert(&self, kind: &str, token: &str, items: Vec<serde_json::Value>) {
        let res = self
            .client
            .post(self.url(&format!("/internal/{kind}/bulk_upsert")))
            .header("X-CSRF-Token", token)
            .json(&serde_json::Value::Array(items))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the bulk upsert of {kind} is taken");
    }

    /// The CSRF token of `client`'s session, read from a page.
    pub async fn csrf_token(&self, client: &reqwest::Client) -> String {
        let html = client
            .get(self.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        csrf_in(&html).expect("the page carries a CSRF token")
    }

    /// Creates a user with one role, straight through the service layer.
    pub async fn create_user(&self, username: &str, role: &str, password: &str) {
        let input = service::access::users::NewUser {
            username: service::access::Username::parse(username).unwrap(),
            email: None,
            password: Some(
                service::access::Password::parse(password, username, "password").unwrap(),
            ),
            roles: vec![role.to_string()],
        };
        service::access::users::create(
            &self.db,
            &service::access::Grantor::operator(service::audit::Actor::Cli),
            None,
            input,
        )
        .await
        .unwrap();
    }

    /// A new client signed in as a new user holding `role`.
    pub async fn client_with_role(&self, role: &str) -> reqwest::Client {
        let username = format!("{role}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let password = "a-password-for-tests";
        self.create_user(&username, role, password).await;
        let client = new_client();
        assert_eq!(
            self.login_with(&client, &username, password).await.status(),
            303,
            "{username} signs in"
        );
        client
    }
}

/// Starts the application on a fresh, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application with extra or changed environment variables.
pub async fn spawn_app_with(configure: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    web::startup::install_crypto_provider();
    let database = TestDatabase::migrated().await;
    let mut env = HashMap::from([
        ("DATABASE_URL".to_string(), database.url.clone()),
        ("METADECK_BIND".to_string(), "127.0.0.1:0".to_string()),
        (
            "METADECK_SECRET_KEY".to_string(),
            TEST_SECRET_KEY.to_string(),
        ),
        ("METADECK_WORKERS".to_string(), "2".to_string()),
        ("METADECK_DB_MAX_CONNECTIONS".to_string(), "4".to_string()),
        (
            "METADECK_ADMIN_PASSWORD".to_string(),
            ADMIN_PASSWORD.to_string(),
        ),
    ]);
    configure(&mut env);
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid");
    if std::env::var("TEST_LOG").is_ok() {
        web::telemetry::init("info", web::settings::LogFormat::Text);
    }
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db();
    tokio::spawn(app.run_until_stopped());
    let client = new_client();
    TestApp {
        address,
        db,
        client,
        database,
    }
}

/// A database that exists for one test only.
pub struct TestDatabase {
    pub url: String,
    /// The SQLite file, when the backend is SQLite.
    pub path: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) of a PostgreSQL database to drop at the end.
    pg: Option<(String, String)>,
}

impl TestDatabase {
    /// An empty database (no tables).
    pub async fn empty() -> Self {
        match Self::postgres_with("").await {
            Some(database) => database,
            None => Self::sqlite(),
        }
    }

    /// An empty PostgreSQL database created with `options` (e.g. `ENCODING 'SQL_ASCII'`),
    /// when the PostgreSQL pass is asked for.
    pub async fn postgres_with(options: &str) -> Option<Self> {
        let admin = pg_admin_url()?;
        let name = unique_name();
        pg_exec(&admin, &format!("CREATE DATABASE \"{name}\" {options}")).await;
        Some(Self {
            url: pg_url(&admin, &name),
            path: None,
            _dir: None,
            pg: Some((admin, name)),
        })
    }

    /// A database with every migration applied (cloned from a template on PostgreSQL).
    pub async fn migrated() -> Self {
        match pg_admin_url() {
            Some(admin) => {
                let template = pg_template(&admin).await;
                let name = unique_name();
                pg_exec(
                    &admin,
                    &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
                )
                .await;
                Self {
                    url: pg_url(&admin, &name),
                    path: None,
                    _dir: None,
                    pg: Some((admin, name)),
                }
            }
            // Migrating SQLite takes milliseconds; the application does it at start.
            None => Self::sqlite(),
        }
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("metadeck.db");
        Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            path: Some(path),
            _dir: Some(dir),
            pg: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside any runtime; a short-lived thread does the async work.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let db = Database::connect(admin.as_str()).await.ok()?;
                    db.execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}

/// The PostgreSQL admin URL, when the PostgreSQL pass is asked for.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("METADECK_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn unique_name() -> String {
    format!("metadeck_test_{}", uuid::Uuid::new_v4().simple())
}

fn pg_url(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    format!("{base}/{name}")
}

async fn pg_exec(admin: &str, sql: &str) {
    let db = Database::connect(admin)
        .await
        .expect("the PostgreSQL admin URL connects");
    db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("admin statement succeeds");
    let _ = db.close().await;
}

/// Migrates one template database per test run; each test clones it.
async fn pg_template(admin: &str) -> String {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("metadeck_test_template_{}", std::process::id());
            pg_exec(
                admin,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            )
            .await;
            pg_exec(admin, &format!("CREATE DATABASE \"{name}\"")).await;
            let db = Database::connect(pg_url(admin, &name))
                .await
                .expect("the template connects");
            <migration::Migrator as migration::MigratorTrait>::up(&db, None)
                .await
                .expect("the template migrates");
            db.close().await.expect("the template closes");
            name
        })
        .await
        .clone()
}

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `metadeck` binary serving `database` on a free port, with extra environment.
/// Returns the process and its base URL once `/healthz` answers 200.
pub async fn serve_process(
    database: &TestDatabase,
    env: &[(&str, &str)],
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    let port = free_port();
    let mut cmd = metadeck_bin();
    cmd.env("DATABASE_URL", &database.url)
        .env("METADECK_BIND", format!("127.0.0.1:{port}"))
        .stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("metadeck starts");
    let base = format!("http://127.0.0.1:{port}");
    until_serving(&mut child, &base).await;
    (child, base)
}

/// Waits until the `metadeck` process `child` answers `/healthz` at `base` with 200; kills it
/// and fails the test when it does not within 10 s.
pub async fn until_serving(child: &mut std::process::Child, base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("metadeck did not answer /healthz within 10 s");
}

/// A spawned `metadeck` process, killed when the test ends however it ends, so that a failed
/// assertion never leaves a server running.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `metadeck` binary built for these tests.
pub fn metadeck_bin() -> std::process::Command {
    web::startup::install_crypto_provider();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_metadeck"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("METADECK_SECRET_KEY", TEST_SECRET_KEY)
        .env("METADECK_LOG", "warn");
    cmd
}
