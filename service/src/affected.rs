//! What else a destructive or disruptive change reaches, read before it is confirmed so the
//! question can name it ("held by 3 users: dora, …").

use serde::Serialize;

/// How many names a question shows before "and N more".
pub const SHOWN: u64 = 5;

/// The things a change reaches: how many there are, and the first few by name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Affected {
    /// How many there are in all.
    pub total: u64,
    /// The first [`SHOWN`] of them by name, in a stable order.
    pub names: Vec<String>,
}

impl Affected {
    /// Nothing is reached.
    pub fn none() -> Self {
        Self::default()
    }

    /// How many there are beyond those named.
    pub fn more(&self) -> u64 {
        self.total.saturating_sub(self.names.len() as u64)
    }

    /// True when nothing is reached.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}
