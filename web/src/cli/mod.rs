//! The `metadeck` command line: `serve` (the default) and the operator's tasks.
//!
//! Exit codes: 0 success, 1 failure, 2 usage or configuration error. Reports go to
//! stdout (only JSON with `--json`); logs and errors go to stderr.

mod clients;
mod import;
mod ops;
mod purge;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::settings::Settings;
use crate::startup::Application;
use crate::telemetry;

/// Operational metadata with an admin console.
#[derive(Debug, Parser)]
#[command(name = "metadeck", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate (if enabled), create the first admin, then serve HTTP and run the background workers (the default)
    Serve,
    /// Apply or roll back schema migrations (the same Migrator as the migration crate)
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Check the database's integrity and foreign keys; exit 1 when anything is wrong
    Check {
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Compact the database (VACUUM) and report its size before and after
    Vacuum {
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Delete what has expired (facts past their TTL) and report how many of each kind
    Purge {
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Manage admin users
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage OAuth clients
    Client {
        #[command(subcommand)]
        action: ClientAction,
    },
    /// Write a consistent copy of the live SQLite database, verified before success is reported
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Backup {
        #[command(subcommand)]
        action: Option<BackupAction>,
        /// The new file to write (must not exist)
        #[arg(long, short, required = true)]
        output: Option<PathBuf>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Import another system's data (one transaction per import)
    Import {
        #[command(subcommand)]
        source: import::ImportSource,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create an admin user (the password is generated and printed unless given on stdin)
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// A role to grant (repeatable): admin, operator, viewer or a custom role
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Print {"username", "password"} as JSON (the password only when generated)
        #[arg(long)]
        json: bool,
    },
    /// Remove the user's second factor (a lost phone): they sign in with the password alone
    /// and set up an authenticator app again
    #[command(name = "reset-2fa")]
    Reset2fa {
        #[arg(long)]
        username: String,
        /// Print {"username", "reset"} as JSON
        #[arg(long)]
        json: bool,
    },
    /// Set a new password and end all the user's sessions
    ResetPassword {
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Print {"username", "password"} as JSON (the password only when generated)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BackupAction {
    /// Open a backup read-only and check it is restorable: integrity, foreign keys, the audit
    /// chain, the schema version and row counts; exit 1 on any finding
    Verify {
        /// The backup file to check
        file: PathBuf,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ClientAction {
    /// Register an OAuth client and print its client_id and (once) its client_secret
    Create {
        #[arg(long)]
        name: String,
        /// Allowed scopes, space-separated permission names, e.g. "sync:read sync:write" (required)
        #[arg(long)]
        scopes: String,
        /// A public client (no secret; authorization code with PKCE, device grant)
        #[arg(long)]
        public: bool,
        /// A redirect URI (repeatable)
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A grant type (repeatable): client_credentials, authorization_code, refresh_token, device_code
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Print {"client_id", "client_secret"} as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply pending migrations (all, or the next N)
    Up {
        #[arg(short = 'n', long)]
        num: Option<u32>,
    },
    /// Roll back applied migrations (the last one, or the last N)
    Down {
        #[arg(short = 'n', long, default_value_t = 1)]
        num: u32,
    },
    /// List applied and pending migrations
    Status {
        /// Print the list as JSON
        #[arg(long)]
        json: bool,
    },
    /// Drop every table and apply all migrations again (destroys all data)
    Fresh,
}

/// How a command ended.
pub enum Outcome {
    Success,
    /// The command ran but found or hit a problem (exit 1); the message is printed.
    Failure(String),
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(err) => {
            eprintln!("metadeck: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log_filter, settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("metadeck: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Failure(message) => {
            eprintln!("metadeck: {message}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command, settings: Settings) -> Outcome {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate { action } => ops::migrate(settings, action).await,
        Command::Check { json } => ops::check(settings, json).await,
        Command::Vacuum { json } => ops::vacuum(settings, json).await,
        Command::Purge { json } => purge::run(settings, json).await,
        Command::Backup {
            action: Some(BackupAction::Verify { file, json }),
            ..
        } => ops::verify_backup(file, json).await,
        Command::Backup {
            output: Some(output),
            json,
            ..
        } => ops::backup(settings, output, json).await,
        Command::Backup { .. } => Outcome::Failure("backup needs --output FILE".into()),
        Command::Client {
            action:
                ClientAction::Create {
                    name,
                    scopes,
                    public,
                    redirect_uris,
                    grant_types,
                    json,
                },
        } => {
            let new = clients::NewClient {
                name,
                scopes,
                public,
                redirect_uris,
                grant_types,
            };
            clients::create(settings, new, json).await
        }
        Command::Import { source } => import::run(settings, source).await,
        Command::User {
            action:
                UserAction::Create {
                    username,
                    email,
                    roles,
                    password_stdin,
                    json,
                },
        } => users::create(settings, username, email, roles, password_stdin, json).await,
        Command::User {
            action:
                UserAction::ResetPassword {
                    username,
                    password_stdin,
                    json,
                },
        } => users::reset_password(settings, username, password_stdin, json).await,
        Command::User {
            action: UserAction::Reset2fa { username, json },
        } => users::reset_second_factor(settings, username, json).await,
    }
}

async fn serve(settings: Settings) -> Outcome {
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => return Outcome::Failure(err.to_string()),
    };
    match app.run_until_stopped().await {
        Ok(()) => Outcome::Success,
        Err(err) => Outcome::Failure(err.to_string()),
    }
}

/// Prints a report: as JSON (and nothing else on stdout) or as text.
pub(crate) fn emit<T: Serialize>(json: bool, report: &T, text: impl FnOnce(&T) -> String) {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(s) => println!("{s}"),
            Err(err) => eprintln!("metadeck: cannot print the report: {err}"),
        }
    } else {
        println!("{}", text(report));
    }
}
