//! `metadeck user create`, `metadeck user reset-password` and `metadeck user reset-2fa`.

use std::io::BufRead;

use serde::Serialize;
use service::access::{self, Password, Username};
use service::audit::Actor;

use super::{Outcome, emit};
use crate::settings::Settings;

/// What `user create` / `user reset-password` print.
#[derive(Serialize)]
struct UserReport {
    username: String,
    /// Present only when generated.
    password: Option<String>,
}

fn read_password_from_stdin() -> Result<String, Outcome> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Outcome::Failure(format!("cannot read the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Prints what a user command did: the username and, when generated, the password (once).
fn report(
    json: bool,
    username: String,
    generated: Option<Password>,
    text: impl FnOnce(&str, Option<&str>) -> String,
) -> Outcome {
    let report = UserReport {
        username,
        password: generated.map(|p| p.expose().to_string()),
    };
    emit(json, &report, |r| text(&r.username, r.password.as_deref()));
    Outcome::Success
}

/// The password given on stdin (checked against the policy), or `None` to generate one.
fn password_from_stdin(enabled: bool, username: &str) -> Result<Option<Password>, Outcome> {
    if !enabled {
        return Ok(None);
    }
    let plain = read_password_from_stdin()?;
    Password::parse(&plain, username, "password")
        .map(Some)
        .map_err(describe)
}

/// A service error as the command reports it.
pub(super) fn describe(err: service::Error) -> Outcome {
    Outcome::Failure(match err {
        service::Error::Validation(details) => details
            .iter()
            .map(|d| format!("{} {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    })
}

/// Opens (and, when enabled, migrates) the database for a command.
pub(super) async fn open(settings: &Settings) -> Result<sea_orm::DatabaseConnection, Outcome> {
    let db = service::db::connect(&settings.db_options())
        .await
        .map_err(|e| Outcome::Failure(format!("cannot open the database: {e}")))?;
    if settings.auto_migrate {
        service::operations::apply_pending_migrations(&db, None)
            .await
            .map_err(|e| Outcome::Failure(format!("migration failed: {e}")))?;
    }
    access::roles::ensure_builtin(&db).await.map_err(describe)?;
    Ok(db)
}

/// Creates an admin user; the password comes from stdin or is generated and printed.
pub(super) async fn create(
    settings: Settings,
    username: String,
    email: Option<String>,
    roles: Vec<String>,
    password_stdin: bool,
    json: bool,
) -> Outcome {
    let db = match open(&settings).await {
        Ok(db) => db,
        Err(o) => return o,
    };
    let parsed = (|| {
        let username = Username::parse(&username)?;
        let email = access::users::parse_email(email.as_deref())?;
        Ok::<_, service::Error>((username, email))
    })();
    let (username, email) = match parsed {
        Ok(p) => p,
        Err(e) => return describe(e),
    };
    let password = match password_from_stdin(password_stdin, username.as_str()) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let input = access::users::NewUser {
        username,
        email,
        password,
        roles,
    };
    match access::users::create(&db, &access::Grantor::operator(Actor::Cli), None, input).await {
        Ok((user, generated)) => {
            report(
                json,
                user.username,
                generated,
                |name, password| match password {
                    Some(p) => format!("created user {name} with the password {p}"),
                    None => format!("created user {name}"),
                },
            )
        }
        Err(e) => describe(e),
    }
}

/// Sets a new password (from stdin, or generated and printed) and ends the user's sessions.
pub(super) async fn reset_password(
    settings: Settings,
    username: String,
    password_stdin: bool,
    json: bool,
) -> Outcome {
    let db = match open(&settings).await {
        Ok(db) => db,
        Err(o) => return o,
    };
    let user = match access::users::find_by_username(&db, &username).await {
        Ok(Some(u)) => u,
        Ok(None) => return Outcome::Failure(format!("there is no user named {username}")),
        Err(e) => return describe(e),
    };
    let password = match password_from_stdin(password_stdin, &user.username) {
        Ok(p) => p,
        Err(o) => return o,
    };
    match access::users::set_password(
        &db,
        &access::Grantor::operator(Actor::Cli),
        None,
        user.id,
        password,
        None,
    )
    .await
    {
        Ok(generated) => report(
            json,
            user.username,
            generated,
            |name, password| match password {
                Some(p) => format!("new password for {name}: {p} (all sessions ended)"),
                None => format!("password of {name} changed (all sessions ended)"),
            },
        ),
        Err(e) => describe(e),
    }
}

/// What `user reset-2fa` prints.
#[derive(Serialize)]
struct SecondFactorReport {
    username: String,
    /// False when the user had no second factor (nothing changed but the audit row).
    reset: bool,
}

/// Removes the user's second factor (audited `totp.reset`, actor `cli`).
pub(super) async fn reset_second_factor(
    settings: Settings,
    username: String,
    json: bool,
) -> Outcome {
    let db = match open(&settings).await {
        Ok(db) => db,
        Err(o) => return o,
    };
    let user = match access::users::find_by_username(&db, &username).await {
        Ok(Some(u)) => u,
        Ok(None) => return Outcome::Failure(format!("there is no user named {username}")),
        Err(e) => return describe(e),
    };
    let by = access::Grantor::operator(Actor::Cli);
    match access::totp::reset(&db, &by, None, user.id).await {
        Ok(reset) => {
            let report = SecondFactorReport {
                username: user.username,
                reset,
            };
            emit(json, &report, |r| {
                if r.reset {
                    format!(
                        "second factor of {} reset: they sign in with the password alone and enrol again",
                        r.username
                    )
                } else {
                    format!("{} had no second factor", r.username)
                }
            });
            Outcome::Success
        }
        Err(e) => describe(e),
    }
}
