//! AD group mappings: which role a group received from an identity provider gives, and
//! [`resolve`], the one function that turns a user's groups into roles (used by single
//! sign-on at every login and by the console's simulator). The matching rules are in
//! [`super::group_match`].

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::{ad_group_mappings, rbac_roles};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use super::group_match::Matcher;
use crate::Result;

/// One role a set of groups gives, and the mapping that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MappedRole {
    pub role_id: i64,
    pub role_name: String,
    /// The mapping that gave the role (the first one matched, in the order groups arrived).
    pub mapping_id: Uuid,
    /// The mapping's group.
    pub ad_group: String,
    /// The group value that matched.
    pub received: String,
}

/// What a set of groups maps to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GroupResolution {
    /// One per role, sorted by role name.
    pub roles: Vec<MappedRole>,
    /// Received groups no mapping matched, each once, in the order received.
    pub unmatched: Vec<String>,
}

/// The roles `groups` give through the stored mappings, and the groups that gave none.
///
/// Values are trimmed; empty ones are ignored. Several groups giving one role yield that
/// role once, credited to the first group (in the order given) that matched.
#[tracing::instrument(name = "gateway.ad_mappings.resolve", skip_all, fields(groups = groups.len()))]
pub async fn resolve<C: ConnectionTrait>(db: &C, groups: &[String]) -> Result<GroupResolution> {
    let mappings = ad_group_mappings::Entity::find()
        .order_by_asc(ad_group_mappings::Column::AdGroup)
        .all(db)
        .await?;
    let role_ids: HashSet<i64> = mappings.iter().map(|m| m.role_id).collect();
    let roles: HashMap<i64, String> = if role_ids.is_empty() {
        HashMap::new()
    } else {
        rbac_roles::Entity::find()
            .filter(rbac_roles::Column::Id.is_in(role_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect()
    };
    Ok(resolve_with(&mappings, &roles, groups))
}

/// [`resolve`] over mappings and role names already read.
fn resolve_with(
    mappings: &[ad_group_mappings::Model],
    roles: &HashMap<i64, String>,
    groups: &[String],
) -> GroupResolution {
    let mut by_key: HashMap<Matcher, Vec<&ad_group_mappings::Model>> = HashMap::new();
    for mapping in mappings {
        by_key
            .entry(Matcher::new(&mapping.ad_group))
            .or_default()
            .push(mapping);
    }
    let mut given: BTreeMap<(String, i64), MappedRole> = BTreeMap::new();
    let mut unmatched = Vec::new();
    let mut seen = HashSet::new();
    for received in groups.iter().map(|g| g.trim()) {
        if received.is_empty() || !seen.insert(received) {
            continue;
        }
        let mut matched = false;
        for key in Matcher::keys_of(received) {
            for mapping in by_key.get(&key).into_iter().flatten() {
                let Some(role_name) = roles.get(&mapping.role_id) else {
                    continue;
                };
                matched = true;
                given
                    .entry((role_name.clone(), mapping.role_id))
                    .or_insert_with(|| MappedRole {
                        role_id: mapping.role_id,
                        role_name: role_name.clone(),
                        mapping_id: mapping.id,
                        ad_group: mapping.ad_group.clone(),
                        received: received.to_string(),
                    });
            }
        }
        if !matched {
            unmatched.push(received.to_string());
        }
    }
    GroupResolution {
        roles: given.into_values().collect(),
        unmatched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(ad_group: &str, role_id: i64) -> ad_group_mappings::Model {
        ad_group_mappings::Model {
            id: Uuid::now_v7(),
            ad_group: ad_group.into(),
            role_id,
            created_at: chrono::Utc::now().fixed_offset(),
        }
    }

    fn roles() -> HashMap<i64, String> {
        HashMap::from([
            (1, "admin".into()),
            (2, "viewer".into()),
            (3, "operator".into()),
        ])
    }

    fn groups(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_and_dns_give_their_roles_sorted_by_role_name() {
        let maps = [
            mapping("Ops", 3),
            mapping("CN=Admins,OU=Groups,DC=example,DC=com", 1),
            mapping("Readers", 2),
        ];
        let got = resolve_with(
            &maps,
            &roles(),
            &groups(&[
                "CN=Ops,OU=Groups,DC=example,DC=com",
                "cn=Admins, ou=Groups, dc=example, dc=com",
                "Nobody",
                "CN=Admins,OU=Elsewhere",
            ]),
        );
        let names: Vec<_> = got.roles.iter().map(|r| r.role_name.as_str()).collect();
        assert_eq!(names, ["admin", "operator"]);
        assert_eq!(got.roles[1].ad_group, "Ops");
        assert_eq!(got.roles[1].received, "CN=Ops,OU=Groups,DC=example,DC=com");
        assert_eq!(got.unmatched, ["Nobody", "CN=Admins,OU=Elsewhere"]);
    }

    #[test]
    fn two_groups_giving_one_role_give_it_once_credited_to_the_first() {
        let maps = [mapping("Ops", 3), mapping("Oncall", 3)];
        let got = resolve_with(&maps, &roles(), &groups(&["Oncall", "Ops", "Ops"]));
        assert_eq!(got.roles.len(), 1);
        assert_eq!(got.roles[0].ad_group, "Oncall");
        assert_eq!(got.roles[0].received, "Oncall");
        assert!(got.unmatched.is_empty());
    }

    #[test]
    fn no_groups_give_no_roles() {
        let got = resolve_with(&[mapping("Ops", 3)], &roles(), &groups(&["", "  "]));
        assert_eq!(got, GroupResolution::default());
    }
}
