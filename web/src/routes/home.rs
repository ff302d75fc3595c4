//! The overview, the console's start page: how much each area holds, what is failing, and
//! warnings that need action, each shown only to callers who may read that area.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::operations::overview::{self, Count};

use super::form_input::when;
use super::router::Router;
use crate::auth::{Access, Caller};
use crate::error::PageError;
use crate::pages::{Layout, PageContext};
use crate::state::AppState;

/// How many rows each list of the overview shows.
const SHOWN: usize = 5;

/// One figure of the overview: what, how many, and where the list is.
struct Tile {
    /// `data-testid` suffix: `count-devices`, …
    id: &'static str,
    label: &'static str,
    value: String,
    href: &'static str,
    /// A second line ("2 disabled"), empty when there is nothing to add.
    note: String,
}

/// Something that needs an admin's action.
struct Warning {
    id: &'static str,
    message: String,
    href: String,
    action: &'static str,
}

/// A failed sync, as the overview lists it.
struct FailedSync {
    href: String,
    what: String,
    when: String,
    error: String,
}

/// A webhook that delivers nothing.
struct QuietWebhook {
    href: String,
    name: String,
    state: String,
}

/// An audit row, as the overview lists it.
struct RecentAudit {
    when: String,
    action: String,
    actor: String,
    target: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Overview {
    layout: Layout,
    username: String,
    roles: String,
    tiles: Vec<Tile>,
    warnings: Vec<Warning>,
    /// `None` without `sync:read`.
    sync: Option<(u64, u64, Vec<FailedSync>)>,
    webhooks: Option<Vec<QuietWebhook>>,
    audit: Option<Vec<RecentAudit>>,
}

/// `1234567` as `1,234,567`; an estimate is marked `≈`.
fn figure(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn count_figure(c: Count) -> String {
    let n = figure(c.value.max(0) as u64);
    if c.estimated { format!("≈ {n}") } else { n }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", figure(n), if n == 1 { one } else { many })
}

async fn overview_page(
    ctx: PageContext,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let db = &state.db;
    let mut page = Overview {
        layout: ctx.layout("Overview"),
        username: caller
            .user
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_default(),
        roles: caller
            .user
            .as_ref()
            .map(|u| u.roles.join(", "))
            .unwrap_or_default(),
        tiles: Vec::new(),
        warnings: Vec::new(),
        sync: None,
        webhooks: None,
        audit: None,
    };
    if caller.may(Permission::RegistryRead) {
        let registry = overview::registry(db).await?;
        page.tiles.push(Tile {
            id: "devices",
            label: "Devices",
            value: count_figure(registry.devices),
            href: "/registry/devices",
            note: String::new(),
        });
        page.tiles.push(Tile {
            id: "entities",
            label: "Entities",
            value: count_figure(registry.entities),
            href: "/registry/entities",
            note: String::new(),
        });
    }
    if caller.may(Permission::SyncRead) {
        add_sync(
            &mut page,
            &overview::sync(db, chrono::Utc::now(), SHOWN as u64).await?,
        );
    }
    if caller.may(Permission::WebhooksRead) {
        add_webhooks(&mut page, overview::webhooks(db, SHOWN).await?);
    }
    if caller.may(Permission::OauthRead) {
        let (clients, disabled) = overview::oauth_clients(db).await?;
        page.tiles.push(Tile {
            id: "oauth-clients",
            label: "OAuth clients",
            value: figure(clients),
            href: "/oauth/clients",
            note: if disabled > 0 {
                format!("{} disabled", figure(disabled))
            } else {
                String::new()
            },
        });
    }
    if caller.may(Permission::UsersRead) {
        add_access(&mut page, overview::access(db, SHOWN).await?);
    }
    if caller.may(Permission::AuditRead) {
        add_audit(&mut page, overview::audit(db, SHOWN as u64).await?);
    }
    if caller.may(Permission::GatewayRead) {
        add_mcp_servers(&mut page, overview::mcp_servers(db).await?);
    }
    if caller.may(Permission::SystemRead) {
        add_backups(&mut page, overview::backups(db).await?);
    }
    ctx.render(&page)
}

fn add_sync(page: &mut Overview, sync: &overview::SyncOverview) {
    page.tiles.push(Tile {
        id: "syncs-running",
        label: "Syncs running",
        value: figure(sync.running),
        href: "/sync",
        note: String::new(),
    });
    if sync.failed_last_day > 0 {
        page.warnings.push(Warning {
            id: "failed-syncs",
            message: format!(
                "{} failed in the last 24 hours.",
                plural(sync.failed_last_day, "sync", "syncs")
            ),
            href: "/sync/history?status=failed".into(),
            action: "See the failures",
        });
    }
    let failures = sync
        .failures
        .iter()
        .map(|f| FailedSync {
            href: format!("/sync/{}", f.id),
            what: format!("{} · {}", f.tenant_id, f.sync_type),
            when: when(f.failed_at),
            error: f.error.clone().unwrap_or_default(),
        })
        .collect();
    page.sync = Some((sync.running, sync.failed_last_day, failures));
}

fn add_webhooks(page: &mut Overview, hooks: overview::WebhookOverview) {
    page.tiles.push(Tile {
        id: "webhooks",
        label: "Webhooks",
        value: figure(hooks.total),
        href: "/webhooks",
        note: [
            (hooks.disabled > 0).then(|| format!("{} disabled", figure(hooks.disabled))),
            (hooks.failing > 0).then(|| format!("{} failing", figure(hooks.failing))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "),
    });
    let quiet = [
        (hooks.disabled > 0)
            .then(|| plural(hooks.disabled, "webhook is", "webhooks are") + " disabled"),
        (hooks.failing > 0)
            .then(|| plural(hooks.failing, "webhook is", "webhooks are") + " failing"),
    ];
    let quiet: Vec<String> = quiet.into_iter().flatten().collect();
    if !quiet.is_empty() {
        page.warnings.push(Warning {
            id: "quiet-webhooks",
            message: format!("{}: their events are not delivered.", quiet.join(" and ")),
            href: "/webhooks".into(),
            action: "Review webhooks",
        });
    }
    page.webhooks = Some(
        hooks
            .attention
            .into_iter()
            .map(|w| QuietWebhook {
                href: format!("/webhooks/{}", w.webhook_id),
                state: match (w.is_enabled, w.failing_since, w.disabled_reason) {
                    (false, _, Some(reason)) if reason.starts_with("disabled") => reason,
                    (false, _, Some(reason)) => format!("disabled: {reason}"),
                    (false, _, None) => "disabled".into(),
                    (true, Some(since), _) => format!("failing since {}", when(since)),
                    (true, None, _) => String::new(),
                },
                name: w.name,
            })
            .collect(),
    );
}

fn add_mcp_servers(page: &mut Overview, mcp: overview::McpOverview) {
    page.tiles.push(Tile {
        id: "mcp-servers",
        label: "MCP servers",
        value: figure(mcp.enabled),
        href: "/gateway/mcp-servers",
        note: [
            (mcp.unreachable > 0).then(|| format!("{} unreachable", figure(mcp.unreachable))),
            (mcp.drifted > 0).then(|| format!("{} with changed tools", figure(mcp.drifted))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "),
    });
    if mcp.unreachable > 0 {
        page.warnings.push(Warning {
            id: "mcp-unreachable",
            message: format!(
                "{} unreachable: its tools cannot be used.",
                plural(mcp.unreachable, "MCP server is", "MCP servers are")
            ),
            href: "/gateway/mcp-servers".into(),
            action: "See the servers",
        });
    }
    if mcp.drifted > 0 {
        page.warnings.push(Warning {
            id: "mcp-drift",
            message: format!(
                "{} changed its tools since they were approved: review the changes before agents \
                 rely on them.",
                plural(mcp.drifted, "MCP server", "MCP servers")
            ),
            href: "/gateway/mcp-servers".into(),
            action: "Review the changes",
        });
    }
}

fn add_backups(page: &mut Overview, backups: overview::BackupOverview) {
    page.tiles.push(Tile {
        id: "last-backup",
        label: "Last verified backup",
        value: backups
            .last_verified
            .map(when)
            .unwrap_or_else(|| "none yet".into()),
        href: "/system",
        note: String::new(),
    });
    if let Some((at, error)) = backups.failed {
        page.warnings.push(Warning {
            id: "backup-failed",
            message: format!("The newest backup failed ({}): {error}", when(at)),
            href: "/system".into(),
            action: "See the backups",
        });
    }
}

fn add_access(page: &mut Overview, access: overview::AccessOverview) {
    page.tiles.push(Tile {
        id: "users",
        label: "Users",
        value: figure(access.users),
        href: "/admin/users",
        note: String::new(),
    });
    if access.generated_total > 0 {
        let more = access.generated_total - access.generated_passwords.len();
        let mut names = access.generated_passwords.join(", ");
        if more > 0 {
            names.push_str(&format!(" and {more} more"));
        }
        page.warnings.push(Warning {
            id: "generated-passwords",
            message: format!(
                "{} still {} a generated password: {names}. They must set their own at their \
                 next sign-in.",
                plural(access.generated_total as u64, "user", "users"),
                if access.generated_total == 1 {
                    "has"
                } else {
                    "have"
                },
            ),
            href: "/admin/users".into(),
            action: "See users",
        });
    }
}

fn add_audit(page: &mut Overview, audit: overview::AuditOverview) {
    if let Some(problem) = audit.chain_problem {
        page.warnings.push(Warning {
            id: "audit-chain",
            message: format!("The audit trail's hash chain is {problem}."),
            href: "/audit".into(),
            action: "Check the trail",
        });
    }
    page.audit = Some(
        audit
            .newest
            .into_iter()
            .map(|r| RecentAudit {
                when: when(r.timestamp),
                action: r.action,
                actor: r.actor,
                target: r.target_id.unwrap_or_default(),
            })
            .collect(),
    );
}

/// Registers the overview.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/", Access::Signed, overview_page);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_group_thousands_and_mark_estimates() {
        assert_eq!(figure(0), "0");
        assert_eq!(figure(999), "999");
        assert_eq!(figure(1_000), "1,000");
        assert_eq!(figure(1_234_567), "1,234,567");
        let estimate = Count {
            value: 100_000,
            estimated: true,
        };
        assert_eq!(count_figure(estimate), "≈ 100,000");
    }
}
