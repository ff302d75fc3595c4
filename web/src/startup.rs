//! The one start-up path, shared by `metadeck serve` and every test:
//! connect, migrate, bind, build the app, run until stopped.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::error::UrlencodedError;
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpServer, ResponseError, web};
use sea_orm::{DatabaseConnection, DbErr};
use service::access;
use service::access::sessions::SessionLimits;
use sha2::{Digest, Sha512};
use tracing_actix_web::TracingLogger;

use crate::auth::session_store::DbSessionStore;

use crate::auth::Kind;
use crate::error::{ApiError, PageError, framework_errors};
use crate::middleware::request_span::{RequestSpan, request_id_header};
use crate::middleware::security_headers::security_headers;
use crate::routes;
use crate::settings::{CookieSecure, Settings};
use crate::state::AppState;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(#[from] DbErr),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot prepare the first admin: {0}")]
    Bootstrap(#[from] service::Error),
    #[error("cannot prepare the MCP server checks: {0}")]
    Gateway(service::Error),
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "metadeck_session";

/// The key for cookies, derived from the secret key so that it never equals key material
/// used for anything else.
fn cookie_key(settings: &Settings) -> Key {
    let mut hasher = Sha512::new();
    hasher.update(b"metadeck cookies\0");
    hasher.update(settings.secret_key.expose());
    Key::from(hasher.finalize().as_slice())
}

/// Built-in roles, and on an empty database the first admin (a generated password is
/// printed once on stderr, never logged).
async fn bootstrap(db: &DatabaseConnection, settings: &Settings) -> Result<(), StartupError> {
    access::roles::ensure_builtin(db).await?;
    let generated = access::users::ensure_first_admin(
        db,
        &settings.admin_username,
        settings.admin_password.as_deref(),
    )
    .await?;
    if let Some(password) = generated {
        eprintln!(
            "metadeck: created the first admin {:?} with the password {} (shown only now; the first sign-in asks for your own)",
            settings.admin_username.trim().to_lowercase(),
            password.expose()
        );
    }
    Ok(())
}

/// A built, bound, not yet running application.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// Turns true when the server stops: live streams and background tasks end.
    shutdown: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Application {
    /// Connects to the database, applies pending migrations (unless disabled), binds the
    /// listener (port 0 picks a free port) and builds the HTTP server.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        install_crypto_provider();
        let db = service::db::connect(&settings.db_options()).await?;
        if settings.auto_migrate {
            service::operations::apply_pending_migrations(&db, None).await?;
        }
        bootstrap(&db, &settings).await?;
        crate::sync_tasks::sweep_at_startup(&db, &settings).await;
        let (shutdown, stopping) = tokio::sync::watch::channel(false);
        let sync_live = service::sync::LiveHub::new(stopping.clone());
        crate::sync_tasks::spawn(&db, &settings, &sync_live, &stopping);
        crate::ops_tasks::spawn(&db, &settings, &stopping);
        crate::system_tasks::spawn(&db, &settings, &stopping);
        let gateway = Arc::new(settings.gateway_config().map_err(StartupError::Gateway)?);
        crate::gateway_tasks::spawn(&db, &gateway, &stopping);
        let config_cache = crate::gateway_tasks::follow_config(&db, &settings, &stopping).await;
        let listener = TcpListener::bind(settings.bind)?;
        let local = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        let workers = settings.workers;
        let cookie_secure = match settings.cookie_secure {
            CookieSecure::Always => true,
            CookieSecure::Never => false,
            CookieSecure::Auto => !settings.bind.ip().is_loopback(),
        };
        let cookie_key = cookie_key(&settings);
        let limits = SessionLimits {
            idle: settings.session_idle,
            absolute: settings.session_max,
        };
        let store = DbSessionStore::new(db.clone(), limits);
        let webhooks = Arc::new(settings.webhook_config());
        let totp = settings.totp_cipher();
        let state = AppState {
            db,
            settings: Arc::new(settings),
            public_url: public_url.into(),
            cookie_key,
            cookie_secure,
            health: Arc::default(),
            sync_live,
            webhooks,
            totp,
            gateway,
            config_cache,
            runtime: tokio::runtime::Handle::current(),
        };

        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(app_state.clone()))
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|err, req| bad_input(err.to_string(), req)),
                )
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|err, req| bad_input(err.to_string(), req)),
                )
                .app_data(
                    web::FormConfig::default()
                        .limit(64 * 1024)
                        .error_handler(form_error),
                )
                .wrap(framework_errors())
                .wrap(
                    SessionMiddleware::builder(store.clone(), app_state.cookie_key.clone())
                        .cookie_name(SESSION_COOKIE.into())
                        .cookie_secure(app_state.cookie_secure)
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_path("/".into())
                        .cookie_content_security(CookieContentSecurity::Signed)
                        .session_lifecycle(BrowserSession::default())
                        .build(),
                )
                .wrap(security_headers())
                .wrap(from_fn(request_id_header))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(from_fn(crate::middleware::metrics::record_request))
                .configure(routes::configure)
        })
        .workers(workers)
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        tracing::info!(address = %local, public_url = %state.public_url, "listening");
        Ok(Self {
            port: local.port(),
            server,
            state,
            shutdown: Arc::new(shutdown),
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool (tests inspect it).
    pub fn db(&self) -> DatabaseConnection {
        self.state.db.clone()
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves (and dispatches webhooks) until SIGTERM / Ctrl-C (or the handle) stops the
    /// server: stops accepting, lets in-flight requests and deliveries finish, then closes
    /// the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        crate::sync_tasks::end_streams_on_signal(Arc::clone(&self.shutdown));
        // The webhook dispatcher runs beside the server and stops (letting deliveries in
        // flight finish) before the pool closes.
        let dispatcher = if self.state.settings.webhook_dispatch {
            service::webhooks::dispatcher::start(
                self.state.db.clone(),
                self.state.webhooks.clone(),
                service::webhooks::dispatcher::DispatcherOptions::default(),
            )
            .map_err(|err| tracing::error!(error = %err, "the webhook dispatcher cannot start"))
            .ok()
        } else {
            tracing::info!("webhook deliveries are queued here and sent by other instances");
            None
        };
        // SQLite's WAL is copied into the database file on a thread of its own, not inside
        // commits (`service::db::checkpoints`).
        let checkpoints = service::db::checkpoints::start(
            &self.state.db,
            service::db::checkpoints::CHECKPOINT_EVERY,
        );
        let result = self.server.await;
        self.shutdown.send_replace(true);
        if let Some(dispatcher) = dispatcher {
            dispatcher.stop().await;
        }
        if let Some(checkpoints) = checkpoints {
            // Joining waits for at most one checkpoint in progress; not on a runtime worker.
            let _ = tokio::task::spawn_blocking(move || checkpoints.stop()).await;
        }
        if let Err(err) = service::db::close(&self.state.db).await {
            tracing::warn!(error = %err, "closing the database pool failed");
        }
        tracing::info!("stopped");
        result
    }
}

/// Selects `ring` as the process's TLS provider (outbound webhook and SSO calls);
/// reqwest refuses to build a client until one is chosen. Safe to call repeatedly.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A form over the size limit is a `413` (shaped like every framework error by
/// `framework_errors`); any other form that cannot be parsed is a `400`.
fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    if err.status_code() == StatusCode::PAYLOAD_TOO_LARGE {
        err.into()
    } else {
        bad_input(err.to_string(), req)
    }
}

/// A query string, path segment or form that cannot be parsed is a `400`, shaped as the
/// route's declared kind says.
fn bad_input(message: String, req: &HttpRequest) -> actix_web::Error {
    if crate::routes::router::kind_of(req) != Kind::Page {
        ApiError::bad_request(message).into()
    } else {
        PageError::new(StatusCode::BAD_REQUEST, message).into()
    }
}
