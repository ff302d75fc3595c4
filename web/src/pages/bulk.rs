//! Bulk actions on a list: a box per row (and one ticking the whole page) and a button per
//! action, posting the ticked ids to the list's bulk route, which asks first as a single
//! action does (see [`crate::pages::Confirmation`]).
//!
//! Every list offers its actions from the same closed set, so the buttons, the questions and
//! the messages read alike on every list.

/// What a bulk action does to the ticked items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Delete,
    Enable,
    Disable,
    /// Ends sessions (the session list).
    SignOut,
}

impl BulkAction {
    /// Every action, in the order a list shows its buttons.
    pub const ALL: &'static [Self] = &[Self::Enable, Self::Disable, Self::SignOut, Self::Delete];

    /// The action a submitted `action` value names.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.value() == raw.trim())
    }

    /// The value its button sends as `action`.
    pub fn value(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Enable => "enable",
            Self::Disable => "disable",
            Self::SignOut => "sign_out",
        }
    }

    /// The verb of its question and its confirming button ("Delete 3 entities?").
    pub fn verb(self) -> &'static str {
        match self {
            Self::Delete => "Delete",
            Self::Enable => "Enable",
            Self::Disable => "Disable",
            Self::SignOut => "Sign out",
        }
    }

    /// The participle of its message once done ("3 entities were deleted.").
    pub fn done(self) -> &'static str {
        match self {
            Self::Delete => "deleted",
            Self::Enable => "enabled",
            Self::Disable => "disabled",
            Self::SignOut => "signed out",
        }
    }

    /// The list's button ("Delete selected…").
    pub fn label(self) -> &'static str {
        match self {
            Self::Delete => "Delete selected…",
            Self::Enable => "Enable selected…",
            Self::Disable => "Disable selected…",
            Self::SignOut => "Sign out selected…",
        }
    }

    /// Whether its button is styled as danger: everything but enabling takes something away.
    pub fn danger(self) -> bool {
        self != Self::Enable
    }
}

/// The bulk part of a list: where the ticked ids post, the buttons, the row ids.
#[derive(Debug, Clone, Default)]
pub struct Bulk {
    /// Where the ticked ids post.
    pub action: String,
    /// The list's actions, one button each.
    pub actions: Vec<BulkAction>,
    /// The id of each row, in row order.
    pub ids: Vec<String>,
    /// The list page to come back to (kept with its filters).
    pub back: String,
}

impl Bulk {
    /// The bulk part posting to `route`, offering `actions` on the rows `ids`, coming back to
    /// `back`.
    pub fn new(
        route: impl Into<String>,
        actions: &[BulkAction],
        ids: Vec<String>,
        back: impl Into<String>,
    ) -> Self {
        Self {
            action: route.into(),
            actions: actions.to_vec(),
            ids,
            back: back.into(),
        }
    }

    /// The id of the row at `row` (by reference, as templates pass their arguments).
    pub fn id(&self, row: &usize) -> &str {
        self.ids.get(*row).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::BulkAction;

    #[test]
    fn an_action_reads_back_from_the_value_its_button_sends() {
        for a in BulkAction::ALL {
            assert_eq!(BulkAction::parse(a.value()), Some(*a));
        }
        assert_eq!(BulkAction::parse("drop"), None);
        assert!(!BulkAction::Enable.danger() && BulkAction::Delete.danger());
    }
}
