//! The difference between two states as JSON paths added, removed and changed, for the
//! console's view of a resource's history.

use serde_json::Value;

/// One difference at one JSON path (`$.a.b[2]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    /// The compact JSON before (absent for an addition).
    pub old: Option<String>,
    /// The compact JSON after (absent for a removal).
    pub new: Option<String>,
}

/// What happened at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    /// The word the console shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
        }
    }
}

/// Every difference from `old` to `new`, objects compared key by key (sorted) and arrays
/// index by index; other values that differ are one change at their path.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("$".into(), Some(old), Some(new), &mut out);
    out
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn walk(path: String, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<Change>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(format!("{path}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(format!("{path}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        (Some(a), Some(b)) if a == b => {}
        (Some(a), Some(b)) => out.push(Change {
            path,
            kind: ChangeKind::Changed,
            old: Some(compact(a)),
            new: Some(compact(b)),
        }),
        (Some(a), None) => out.push(Change {
            path,
            kind: ChangeKind::Removed,
            old: Some(compact(a)),
            new: None,
        }),
        (None, Some(b)) => out.push(Change {
            path,
            kind: ChangeKind::Added,
            old: None,
            new: Some(compact(b)),
        }),
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn additions_removals_and_changes_are_named_by_path() {
        let changes = diff(
            &json!({"a": 1, "b": {"c": [1, 2]}, "gone": true}),
            &json!({"a": 2, "b": {"c": [1, 2, 3]}, "new": "x"}),
        );
        let seen: Vec<(String, &str)> = changes
            .iter()
            .map(|c| (c.path.clone(), c.kind.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("$.a".into(), "changed"),
                ("$.b.c[2]".into(), "added"),
                ("$.gone".into(), "removed"),
                ("$.new".into(), "added"),
            ]
        );
        assert_eq!(changes[0].old.as_deref(), Some("1"));
        assert_eq!(changes[0].new.as_deref(), Some("2"));
    }
}
