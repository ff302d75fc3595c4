//! Configuration from the environment (and a `.env` file), parsed once into [`Settings`].
//!
//! Every variable has a safe default so a bare `cargo run --release` works; an invalid
//! value is a [`ConfigError`] naming the variable (exit code 2), never a silent fallback.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use rand::RngExt;
use service::access::{Permission, PermissionSet};
use service::db::Backend;
use service::gateway::config::cache;
use service::operations::backup::{BackupSchedule, PG_DUMP_HINT, parse_every, schedule};

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    pub message: String,
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// When the session cookie carries the `Secure` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecure {
    Always,
    Never,
    /// Secure unless the server is bound to a loopback address.
    Auto,
}

/// Format of the log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The key that signs cookies and encrypts stored secrets (at least 64 characters).
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// The minimum length the spec demands.
    pub const MIN_LEN: usize = 64;

    /// Accepts a key of at least [`Self::MIN_LEN`] characters.
    pub fn parse(value: String, var: &'static str) -> Result<Self, ConfigError> {
        if value.chars().count() < Self::MIN_LEN {
            return Err(invalid(
                var,
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        Ok(Self(value))
    }

    /// The key's bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Everything Metadeck reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    /// Pool size; SQLite readers share it, writers queue on the database's write lock.
    pub db_max_connections: u32,
    pub bind: SocketAddr,
    /// External base URL; `None` means `http://<bound address>`.
    pub public_url: Option<String>,
    pub secret_key: SecretKey,
    pub admin_username: String,
    pub admin_password: Option<String>,
    pub cookie_secure: CookieSecure,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub auto_migrate: bool,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub workers: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// A running sync without any report for this long is failed as stale.
    pub sync_stale_after: Duration,
    /// How often the stale-sync sweeper looks.
    pub sync_sweep_every: Duration,
    /// Most items of one bulk-upsert request (`METADECK_BULK_MAX`, default 10,000).
    pub bulk_max: usize,
    /// Webhook URLs may reach loopback, private and link-local destinations.
    pub webhook_allow_private_networks: bool,
    /// This instance sends the queued webhook deliveries (`METADECK_WEBHOOK_DISPATCH`, default
    /// true). With several instances on one database any number may send (claims are leased);
    /// `false` keeps an instance to serving requests while the others deliver.
    pub webhook_dispatch: bool,
    /// Waits between webhook delivery attempts, after the immediate first one.
    pub webhook_retry_schedule: Vec<Duration>,
    /// A running orchestration run silent this long is failed as lost
    /// (`METADECK_OPS_LOST_MINUTES`, default 60).
    pub ops_lost_after: Duration,
    /// How often the orchestration sweeper runs (`METADECK_OPS_SWEEP_SECONDS`, default 60).
    pub ops_sweep_every: Duration,
    /// Scheduled backups (`METADECK_BACKUP_DIR`, `_EVERY`, `_KEEP`); `None` without a directory.
    pub backup_schedule: Option<BackupSchedule>,
    /// Users holding any of these permissions must enrol a second factor before they can
    /// open anything else (`METADECK_REQUIRE_2FA_FOR`, comma-separated; default none).
    pub require_2fa_for: PermissionSet,
    /// The retention policies' defaults and their `METADECK_RETENTION_*_DAYS` settings.
    pub retention: service::operations::retention::RetentionSettings,
    /// How often the sweeper purges (`METADECK_SWEEP_SECONDS`, default 60).
    pub sweep_every: Duration,
    /// How often the background checker visits every enabled MCP server
    /// (`METADECK_MCP_CHECK_SECONDS`, default 300).
    pub mcp_check_every: Duration,
    /// How often this instance looks for config changes made through other instances
    /// (`METADECK_CONFIG_POLL_MS`, 50–4000, default 500).
    pub config_poll_every: Duration,
}

impl Settings {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(invalid(
                    "METADECK_ENV_FILE",
                    format!(".env cannot be read: {e}"),
                ));
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses settings from any variable source, e.g. a map in tests.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| "sqlite://./data/metadeck.db?mode=rwc".into());
        let backend = Backend::of_url(&database_url).ok_or_else(|| {
            invalid(
                "DATABASE_URL",
                "must start with sqlite:// or postgres:// (accepted: sqlite, postgres)",
            )
        })?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        // SQLite: every connection keeps its own page cache (dropped whenever another
        // connection writes) and its own thread, so a few per core serve best and keep memory
        // low; measured on 2 cores, 4 connections matched 8 in throughput at 60 MB less RSS.
        let default_pool = match backend {
            Backend::Sqlite => (2 * cores).clamp(4, 16),
            Backend::Postgres => 16,
        };
        let db_max_connections = parse_num(
            var("METADECK_DB_MAX_CONNECTIONS"),
            "METADECK_DB_MAX_CONNECTIONS",
            1,
            1024,
        )?
        .unwrap_or(default_pool as u64) as u32;

        let bind = match var("METADECK_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.parse().map_err(|_| {
                invalid(
                    "METADECK_BIND",
                    format!("{v:?} is not an address such as 127.0.0.1:8080"),
                )
            })?,
        };

        let public_url = match var("METADECK_PUBLIC_URL") {
            None => None,
            Some(v) if v.starts_with("http://") || v.starts_with("https://") => {
                Some(v.trim_end_matches('/').into())
            }
            Some(v) => {
                return Err(invalid(
                    "METADECK_PUBLIC_URL",
                    format!("{v:?} must start with http:// or https://"),
                ));
            }
        };

        let secret_key = match var("METADECK_SECRET_KEY") {
            Some(v) => SecretKey::parse(v, "METADECK_SECRET_KEY")?,
            None => {
                let file =
                    var("METADECK_SECRET_KEY_FILE").unwrap_or_else(|| "./data/secret.key".into());
                load_or_generate_key(PathBuf::from(file))?
            }
        };

        let cookie_secure = match var("METADECK_COOKIE_SECURE")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("auto") => CookieSecure::Auto,
            Some("true") => CookieSecure::Always,
            Some("false") => CookieSecure::Never,
            Some(other) => {
                return Err(invalid(
                    "METADECK_COOKIE_SECURE",
                    format!("{other:?} is not one of: true, false, auto"),
                ));
            }
        };

        let idle = parse_num(
            var("METADECK_SESSION_IDLE_MINUTES"),
            "METADECK_SESSION_IDLE_MINUTES",
            1,
            525_600,
        )?;
        let max = parse_num(
            var("METADECK_SESSION_MAX_HOURS"),
            "METADECK_SESSION_MAX_HOURS",
            1,
            8_760,
        )?;

        let log_format = match var("METADECK_LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "METADECK_LOG_FORMAT",
                    format!("{other:?} is not one of: text, json"),
                ));
            }
        };
        let log_filter = var("METADECK_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|e| {
            invalid(
                "METADECK_LOG",
                format!("{log_filter:?} is not a tracing filter: {e}"),
            )
        })?;

        // One worker per core on both backends. On SQLite the hottest reads run on the worker
        // itself (`service::db::point_reads`); a worker more than the cores once kept the cores
        // busy while a worker queued on SQLite's shared page-cache lock, but with each
        // connection's cache its own (`.cargo/config.toml`) the extra worker only widened the
        // tail where the load shares the cores (tests/bench/README.md).
        let default_workers = cores;
        let workers = parse_num(var("METADECK_WORKERS"), "METADECK_WORKERS", 1, 512)?
            .unwrap_or(default_workers as u64) as usize;

        let trusted_proxies = match var("METADECK_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| {
                        invalid(
                            "METADECK_TRUSTED_PROXIES",
                            format!("{s:?} is not an IP address"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let sync_stale_minutes = parse_num(
            var("METADECK_SYNC_STALE_MINUTES"),
            "METADECK_SYNC_STALE_MINUTES",
            1,
            525_600,
        )?
        .unwrap_or(30);
        let sync_sweep_seconds = parse_num(
            var("METADECK_SYNC_SWEEP_SECONDS"),
            "METADECK_SYNC_SWEEP_SECONDS",
            1,
            86_400,
        )?
        .unwrap_or(60);
        let ops_lost_minutes = parse_num(
            var("METADECK_OPS_LOST_MINUTES"),
            "METADECK_OPS_LOST_MINUTES",
            1,
            525_600,
        )?
        .unwrap_or(60);
        let ops_sweep_seconds = parse_num(
            var("METADECK_OPS_SWEEP_SECONDS"),
            "METADECK_OPS_SWEEP_SECONDS",
            1,
            86_400,
        )?
        .unwrap_or(60);
        let sweep_seconds = parse_num(
            var("METADECK_SWEEP_SECONDS"),
            "METADECK_SWEEP_SECONDS",
            1,
            86_400,
        )?
        .unwrap_or(60);
        let retention = retention_settings(&var)?;
        let mcp_check_seconds = parse_num(
            var("METADECK_MCP_CHECK_SECONDS"),
            "METADECK_MCP_CHECK_SECONDS",
            1,
            86_400,
        )?
        .unwrap_or(service::gateway::DEFAULT_CHECK_EVERY.as_secs());
        let config_poll_ms = parse_num(
            var("METADECK_CONFIG_POLL_MS"),
            "METADECK_CONFIG_POLL_MS",
            cache::MIN_POLL_EVERY.as_millis() as u64,
            cache::MAX_POLL_EVERY.as_millis() as u64,
        )?
        .unwrap_or(cache::DEFAULT_POLL_EVERY.as_millis() as u64);
        let webhook_allow_private_networks = parse_bool(
            var("METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        )?
        .unwrap_or(false);
        let webhook_dispatch = parse_bool(
            var("METADECK_WEBHOOK_DISPATCH"),
            "METADECK_WEBHOOK_DISPATCH",
        )?
        .unwrap_or(true);
        let webhook_retry_schedule = service::webhooks::parse_retry_schedule(
            &var("METADECK_WEBHOOK_RETRY_SCHEDULE")
                .unwrap_or_else(|| service::webhooks::DEFAULT_RETRY_SCHEDULE.into()),
        )
        .map_err(|m| invalid("METADECK_WEBHOOK_RETRY_SCHEDULE", m))?;

        let require_2fa_for = parse_permissions(
            var("METADECK_REQUIRE_2FA_FOR").as_deref(),
            "METADECK_REQUIRE_2FA_FOR",
        )?;

        Ok(Self {
            database_url,
            db_max_connections,
            bind,
            public_url,
            secret_key,
            admin_username: var("METADECK_ADMIN_USERNAME").unwrap_or_else(|| "admin".into()),
            admin_password: var("METADECK_ADMIN_PASSWORD"),
            cookie_secure,
            session_idle: Duration::from_secs(idle.unwrap_or(30) * 60),
            session_max: Duration::from_secs(max.unwrap_or(12) * 3600),
            auto_migrate: parse_bool(var("METADECK_AUTO_MIGRATE"), "METADECK_AUTO_MIGRATE")?
                .unwrap_or(true),
            log_filter,
            log_format,
            workers,
            trusted_proxies,
            sync_stale_after: Duration::from_secs(sync_stale_minutes * 60),
            sync_sweep_every: Duration::from_secs(sync_sweep_seconds),
            bulk_max: parse_num(var("METADECK_BULK_MAX"), "METADECK_BULK_MAX", 1, 1_000_000)?
                .unwrap_or(10_000) as usize,
            webhook_allow_private_networks,
            webhook_dispatch,
            webhook_retry_schedule,
            ops_lost_after: Duration::from_secs(ops_lost_minutes * 60),
            ops_sweep_every: Duration::from_secs(ops_sweep_seconds),
            backup_schedule: backup_schedule(&var, backend)?,
            require_2fa_for,
            retention,
            sweep_every: Duration::from_secs(sweep_seconds),
            mcp_check_every: Duration::from_secs(mcp_check_seconds),
            config_poll_every: Duration::from_millis(config_poll_ms),
        })
    }

    /// The cipher of stored TOTP secrets (its key derived from the secret key with its own
    /// label).
    pub fn totp_cipher(&self) -> service::access::totp::TotpCipher {
        service::access::totp::TotpCipher::from_secret_key(self.secret_key.expose())
    }

    /// What the webhook area needs: the secrets' cipher (its key derived from the secret
    /// key with its own label), the SSRF switch and the retry schedule.
    pub fn webhook_config(&self) -> service::webhooks::WebhookConfig {
        service::webhooks::WebhookConfig {
            cipher: service::webhooks::SecretCipher::from_secret_key(self.secret_key.expose()),
            allow_private_networks: self.webhook_allow_private_networks,
            retry_schedule: self.webhook_retry_schedule.clone(),
        }
    }

    /// What the gateway area needs: the header values' cipher (its own key label), the one
    /// HTTP client of MCP checks (private destinations only as webhooks may reach them) and
    /// the background checker's interval.
    pub fn gateway_config(&self) -> service::Result<service::gateway::GatewayConfig> {
        service::gateway::GatewayConfig::new(
            self.secret_key.expose(),
            self.webhook_allow_private_networks,
            self.mcp_check_every,
        )
    }

    /// The database options for the service layer.
    pub fn db_options(&self) -> service::db::DbOptions {
        service::db::DbOptions {
            url: self.database_url.clone(),
            max_connections: self.db_max_connections,
        }
    }
}

/// Scheduled backups: on with `METADECK_BACKUP_DIR`, every `METADECK_BACKUP_EVERY` (default
/// 24h), keeping `METADECK_BACKUP_KEEP` files (default 7). Only SQLite databases are copied;
/// on PostgreSQL the directory is refused at start rather than failing every run.
fn backup_schedule(
    var: &impl Fn(&str) -> Option<String>,
    backend: Backend,
) -> Result<Option<BackupSchedule>, ConfigError> {
    let every = parse_every(
        &var("METADECK_BACKUP_EVERY").unwrap_or_else(|| schedule::DEFAULT_EVERY.into()),
    )
    .map_err(|m| invalid("METADECK_BACKUP_EVERY", m))?;
    let keep = parse_num(
        var("METADECK_BACKUP_KEEP"),
        "METADECK_BACKUP_KEEP",
        1,
        10_000,
    )?
    .map_or(schedule::DEFAULT_KEEP, |n| n as usize);
    let Some(dir) = var("METADECK_BACKUP_DIR") else {
        return Ok(None);
    };
    if backend == Backend::Postgres {
        return Err(invalid("METADECK_BACKUP_DIR", PG_DUMP_HINT));
    }
    Ok(Some(BackupSchedule {
        dir: PathBuf::from(dir),
        every,
        keep,
    }))
}

/// The retention policies: each default, unless its `METADECK_RETENTION_*_DAYS` is set
/// (0 to 36500 days; `0` keeps forever).
fn retention_settings(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<service::operations::retention::RetentionSettings, ConfigError> {
    use service::operations::retention::{KeepDays, Policy, RetentionSettings};
    let mut settings = RetentionSettings::default();
    for policy in Policy::ALL {
        let name = policy.env_var();
        if let Some(days) =
            parse_num(var(name), name, 0, u64::from(KeepDays::MAX))?.and_then(KeepDays::new)
        {
            settings.set_from_env(policy, days);
        }
    }
    Ok(settings)
}

fn parse_num(
    value: Option<String>,
    var: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    let Some(v) = value else { return Ok(None) };
    match v.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(invalid(
            var,
            format!("{v:?} is not a whole number from {min} to {max}"),
        )),
    }
}

/// A comma-separated list of permission names from the catalog (none when unset).
fn parse_permissions(value: Option<&str>, var: &'static str) -> Result<PermissionSet, ConfigError> {
    let mut set = PermissionSet::EMPTY;
    for name in value.unwrap_or_default().split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let permission = Permission::parse(name).ok_or_else(|| {
            invalid(
                var,
                format!(
                    "{name:?} is not a permission (accepted: {})",
                    PermissionSet::all().names().join(", ")
                ),
            )
        })?;
        set.insert(permission);
    }
    Ok(set)
}

fn parse_bool(value: Option<String>, var: &'static str) -> Result<Option<bool>, ConfigError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(invalid(
            var,
            format!("{other:?} is not one of: true, false"),
        )),
    }
}

/// Reads the key file, or creates it (mode 0600, directory 0700) with a random key.
fn load_or_generate_key(path: PathBuf) -> Result<SecretKey, ConfigError> {
    const VAR: &str = "METADECK_SECRET_KEY_FILE";
    if path.exists() {
        let key = std::fs::read_to_string(&path)
            .map_err(|e| invalid(VAR, format!("{} cannot be read: {e}", path.display())))?;
        return SecretKey::parse(key.trim().to_string(), VAR);
    }
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| invalid(VAR, format!("{} cannot be created: {e}", dir.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let bytes: [u8; 64] = rand::rng().random();
    let key = hex::encode(bytes);
    let mut file = service::db::create_private_file(&path)
        .map_err(|e| invalid(VAR, format!("{} cannot be created: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, key.as_bytes())
        .map_err(|e| invalid(VAR, format!("{} cannot be written: {e}", path.display())))?;
    SecretKey::parse(key, VAR)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("METADECK_SECRET_KEY".into())
            .or_insert_with(|| "k".repeat(64));
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_variable_but_the_key() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://./data/metadeck.db?mode=rwc");
        assert_eq!(s.session_idle, Duration::from_secs(30 * 60));
        assert!(s.auto_migrate);
    }

    #[test]
    fn each_invalid_value_names_its_variable() {
        for (var, value) in [
            ("DATABASE_URL", "mysql://x/y"),
            ("METADECK_BIND", "nowhere"),
            ("METADECK_COOKIE_SECURE", "sometimes"),
            ("METADECK_SESSION_IDLE_MINUTES", "-3"),
            ("METADECK_AUTO_MIGRATE", "yes"),
            ("METADECK_LOG_FORMAT", "xml"),
            ("METADECK_WORKERS", "0"),
            ("METADECK_SECRET_KEY", "short"),
            ("METADECK_TRUSTED_PROXIES", "10.0.0.1,bogus"),
            ("METADECK_SYNC_STALE_MINUTES", "0"),
            ("METADECK_SYNC_SWEEP_SECONDS", "soon"),
            ("METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "maybe"),
            ("METADECK_WEBHOOK_RETRY_SCHEDULE", "5s,soon"),
            ("METADECK_REQUIRE_2FA_FOR", "users:write,users:everything"),
        ] {
            let err = parse(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
            assert!(err.to_string().starts_with(&format!("invalid {var}: ")));
        }
    }

    #[test]
    fn the_second_factor_is_required_for_each_listed_permission() {
        assert!(parse(&[]).unwrap().require_2fa_for.is_empty());
        let s = parse(&[("METADECK_REQUIRE_2FA_FOR", "users:write, oauth:write")]).unwrap();
        assert!(s.require_2fa_for.contains(Permission::UsersWrite));
        assert!(s.require_2fa_for.contains(Permission::OauthWrite));
        assert!(!s.require_2fa_for.contains(Permission::UsersRead));
    }

    #[test]
    fn enumerable_values_are_listed_in_the_message() {
        let err = parse(&[("METADECK_COOKIE_SECURE", "maybe")]).unwrap_err();
        assert!(err.message.contains("true, false, auto"), "{err}");
    }
}
