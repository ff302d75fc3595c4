//! The statuses of runs and plan units with their state machines, plan-unit actions and
//! event levels.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Error, Result};

/// Generates a text enum with its `as_str`, `parse` and list of values.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stored text; anything else is a validation error of `field`.
            pub fn parse(raw: &str, field: &str) -> Result<Self> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(Error::invalid(field, format!(
                        "must be one of: {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

text_enum!(
    /// Where a run is: `pending → running → succeeded | failed`, any non-terminal → `canceled`.
    RunStatus { Pending = "pending", Running = "running", Succeeded = "succeeded", Failed = "failed", Canceled = "canceled" }
);

text_enum!(
    /// Where a plan unit is: `pending → running → succeeded | failed`, `pending → skipped`.
    UnitStatus { Pending = "pending", Running = "running", Succeeded = "succeeded", Failed = "failed", Skipped = "skipped" }
);

text_enum!(
    /// What a plan unit does to its resource.
    Action { Create = "create", Update = "update", Delete = "delete", Noop = "noop" }
);

text_enum!(
    /// How much an event matters, least first.
    Level { Debug = "debug", Info = "info", Warn = "warn", Error = "error" }
);

impl RunStatus {
    /// Whether the run has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }

    /// Whether a run may go from `self` to `to` (a move to the same status is not one).
    pub fn may_become(self, to: Self) -> bool {
        use RunStatus::*;
        matches!(
            (self, to),
            (Pending, Running) | (Running, Succeeded | Failed) | (Pending | Running, Canceled)
        )
    }
}

impl UnitStatus {
    /// Whether the unit has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }

    /// Whether a unit may go from `self` to `to` (a move to the same status is not one).
    pub fn may_become(self, to: Self) -> bool {
        use UnitStatus::*;
        matches!(
            (self, to),
            (Pending, Running | Skipped) | (Running, Succeeded | Failed)
        )
    }
}

impl Level {
    /// This level and every more serious one (`warn` → warn and error).
    pub fn and_above(self) -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|l| **l >= self)
            .map(|l| l.as_str())
            .collect()
    }
}

impl PartialOrd for Level {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Level {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |l: &Self| Self::ALL.iter().position(|x| x == l).unwrap_or(0);
        rank(self).cmp(&rank(other))
    }
}

/// The `409` of a transition the state machine does not allow.
pub(crate) fn illegal(what: &str, id: &str, from: &str, to: &str) -> Error {
    Error::Conflict {
        message: format!("{what} {id} cannot go from {from} to {to}"),
        details: vec![crate::FieldError::new(
            "status",
            format!("cannot go from {from} to {to}"),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_machine_allows_only_its_arrows() {
        use RunStatus::*;
        let allowed: Vec<(RunStatus, RunStatus)> = RunStatus::ALL
            .iter()
            .flat_map(|a| RunStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.may_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Running),
                (Pending, Canceled),
                (Running, Succeeded),
                (Running, Failed),
                (Running, Canceled)
            ]
        );
    }

    #[test]
    fn the_unit_machine_allows_only_its_arrows() {
        use UnitStatus::*;
        let allowed: Vec<(UnitStatus, UnitStatus)> = UnitStatus::ALL
            .iter()
            .flat_map(|a| UnitStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.may_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Running),
                (Pending, Skipped),
                (Running, Succeeded),
                (Running, Failed)
            ]
        );
    }

    #[test]
    fn warn_and_above_is_warn_and_error() {
        assert_eq!(Level::Warn.and_above(), vec!["warn", "error"]);
        assert!(Level::parse("fatal", "level").is_err());
    }
}
