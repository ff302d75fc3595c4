//! The console's sidebar: every page an admin can reach from the menu, grouped by area.
//!
//! Adding a page to the menu is one line in [`ENTRIES`]. An entry shows only to callers who
//! may open it, and a group without a visible entry is left out, so an area whose pages do
//! not exist yet simply has no lines here.

use service::access::Permission;

/// One line of the menu: its group, label, address and what opening it needs (`None`: any
/// signed-in user).
struct Entry {
    group: &'static str,
    label: &'static str,
    href: &'static str,
    needs: Option<Permission>,
}

const fn entry(
    group: &'static str,
    label: &'static str,
    href: &'static str,
    needs: Option<Permission>,
) -> Entry {
    Entry {
        group,
        label,
        href,
        needs,
    }
}

/// The menu, in the order it is shown; consecutive entries of one group form that group.
const ENTRIES: &[Entry] = &[
    entry("Overview", "Overview", "/", None),
    entry("Sync", "Sync status", "/sync", Some(Permission::SyncRead)),
    entry(
        "Sync",
        "History",
        "/sync/history",
        Some(Permission::SyncRead),
    ),
    entry(
        "Registry",
        "Devices",
        "/registry/devices",
        Some(Permission::RegistryRead),
    ),
    entry(
        "Registry",
        "Entities",
        "/registry/entities",
        Some(Permission::RegistryRead),
    ),
    entry(
        "Webhooks",
        "Webhooks",
        "/webhooks",
        Some(Permission::WebhooksRead),
    ),
    entry(
        "Orchestration",
        "Runs",
        "/ops/runs",
        Some(Permission::OpsRead),
    ),
    entry(
        "Orchestration",
        "Resources",
        "/ops/resources",
        Some(Permission::OpsRead),
    ),
    entry(
        "Orchestration",
        "Facts",
        "/ops/facts",
        Some(Permission::OpsRead),
    ),
    entry(
        "Gateway",
        "MCP servers",
        "/gateway/mcp-servers",
        Some(Permission::GatewayRead),
    ),
    entry(
        "Gateway",
        "Identity providers",
        "/gateway/providers",
        Some(Permission::GatewayRead),
    ),
    entry(
        "Gateway",
        "AD group mappings",
        "/gateway/ad-mappings",
        Some(Permission::GatewayRead),
    ),
    entry(
        "Access",
        "Users",
        "/admin/users",
        Some(Permission::UsersRead),
    ),
    entry(
        "Access",
        "Roles",
        "/admin/roles",
        Some(Permission::UsersRead),
    ),
    entry(
        "Access",
        "Sessions",
        "/admin/sessions",
        Some(Permission::SessionsRead),
    ),
    entry(
        "Access",
        "OAuth clients",
        "/oauth/clients",
        Some(Permission::OauthRead),
    ),
    entry(
        "Audit",
        "Audit trail",
        "/audit",
        Some(Permission::AuditRead),
    ),
    entry(
        "Audit",
        "OAuth log",
        "/oauth/audit",
        Some(Permission::OauthRead),
    ),
    entry("System", "System", "/system", Some(Permission::SystemRead)),
    entry(
        "System",
        "Retention",
        "/system/retention",
        Some(Permission::SystemRead),
    ),
];

/// One visible menu entry.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    /// The entry of the page being shown (`aria-current="page"`).
    pub active: bool,
}

/// A group of the menu with the entries the caller may open.
#[derive(Debug, Clone)]
pub struct NavGroup {
    pub label: &'static str,
    pub items: Vec<NavItem>,
}

/// The menu for a caller holding what `may` grants, on the page at `path`.
pub fn menu(path: &str, may: impl Fn(Permission) -> bool) -> Vec<NavGroup> {
    let current = current_entry(path);
    let mut groups: Vec<NavGroup> = Vec::new();
    for e in ENTRIES.iter().filter(|e| e.needs.is_none_or(&may)) {
        let item = NavItem {
            label: e.label,
            href: e.href,
            active: Some(e.href) == current,
        };
        match groups.last_mut() {
            Some(group) if group.label == e.group => group.items.push(item),
            _ => groups.push(NavGroup {
                label: e.group,
                items: vec![item],
            }),
        }
    }
    groups
}

/// The address of the entry `path` belongs to: the longest entry address that is `path` or
/// a parent of it (`/sync/history?…` is History, `/sync/acme` is Sync status).
fn current_entry(path: &str) -> Option<&'static str> {
    ENTRIES
        .iter()
        .map(|e| e.href)
        .filter(|href| match *href {
            "/" => path == "/",
            href => {
                path == href
                    || path
                        .strip_prefix(href)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        })
        .max_by_key(|href| href.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(groups: &[NavGroup]) -> Vec<(&str, Vec<&str>)> {
        groups
            .iter()
            .map(|g| (g.label, g.items.iter().map(|i| i.label).collect()))
            .collect()
    }

    #[test]
    fn a_caller_sees_only_the_entries_they_may_open_grouped() {
        let menu = menu("/", |p| p == Permission::SyncRead);
        assert_eq!(
            labels(&menu),
            [
                ("Overview", vec!["Overview"]),
                ("Sync", vec!["Sync status", "History"])
            ]
        );
    }

    #[test]
    fn the_deepest_matching_entry_is_current() {
        let active = |path: &str| {
            menu(path, |_| true)
                .into_iter()
                .flat_map(|g| g.items)
                .filter(|i| i.active)
                .map(|i| i.label)
                .collect::<Vec<_>>()
        };
        assert_eq!(active("/"), ["Overview"]);
        assert_eq!(active("/sync/history"), ["History"]);
        assert_eq!(active("/sync/acme"), ["Sync status"]);
        assert_eq!(active("/admin/users/3"), ["Users"]);
        assert_eq!(active("/webhooksx"), Vec::<&str>::new());
        assert_eq!(active("/account"), Vec::<&str>::new());
    }
}
