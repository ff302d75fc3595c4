//! Single sign-on through upstream identity providers (spec 08): the authorization-code grant
//! with PKCE (S256), `state` and, when the provider's scopes include `openid`, a `nonce`.
//!
//! - [`flow`]: the start (the authorization URL, the one-use flow row) and what the browser
//!   carries back (a [`PendingFlow`], kept by the console in an encrypted cookie).
//! - [`upstream`]: the two calls to the provider (token endpoint with `client_secret_basic`,
//!   then userinfo) under the outbound rules of webhooks and MCP checks.
//! - [`id_token`]: what is checked of an ID token.
//! - [`claims`]: the groups at `groups_claim` (a dotted path) and the username to give.
//! - [`callback`]: the callback's decision and the audit row of a refusal.
//! - `accounts`: the linked (or new) local user, its roles, the audit row of a sign-in.
//!
//! Every refusal is a [`Refusal`] with a reason the audit row names; no refusal creates a
//! session.

mod accounts;
pub mod callback;
pub mod claims;
pub mod flow;
pub mod id_token;
pub mod upstream;

pub use callback::{CallbackParams, Outcome, SignedIn, finish};
pub use flow::{PendingFlow, Started, start};

/// Why a single sign-on was refused. Each maps to one short reason in the audit row and one
/// sentence on the refusal page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The callback's `state` is not the one this browser's flow sent (or the browser has
    /// no flow at all): a forged or crossed callback.
    WrongState,
    /// The flow was already completed (or expired and was swept): a replayed callback.
    Replayed,
    /// The provider is disabled or gone.
    ProviderUnavailable,
    /// The provider answered the authorization request with an error.
    ProviderError(String),
    /// The token endpoint refused the code or could not be reached.
    TokenExchange(String),
    /// The ID token's `nonce` is not the one sent.
    WrongNonce,
    /// The ID token cannot be read, or is not for this client.
    InvalidIdToken(String),
    /// The userinfo endpoint failed or answered something unusable.
    Userinfo(String),
    /// The userinfo `sub` differs from the ID token's: the userinfo answer was tampered with.
    SubjectMismatch,
    /// The groups received map to no role.
    Unmapped { groups: Vec<String> },
    /// The linked local user is deactivated.
    UserInactive,
}

impl Refusal {
    /// The reason as the audit row's details name it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongState => "wrong_state",
            Self::Replayed => "replayed_callback",
            Self::ProviderUnavailable => "provider_disabled",
            Self::ProviderError(_) => "provider_error",
            Self::TokenExchange(_) => "token_exchange_failed",
            Self::WrongNonce => "wrong_nonce",
            Self::InvalidIdToken(_) => "invalid_id_token",
            Self::Userinfo(_) => "userinfo_failed",
            Self::SubjectMismatch => "subject_mismatch",
            Self::Unmapped { .. } => "no_mapped_role",
            Self::UserInactive => "user_inactive",
        }
    }

    /// The sentence the refusal page shows.
    pub fn message(&self) -> String {
        match self {
            Self::WrongState => {
                "The sign-in answer does not belong to a sign-in this browser started.".into()
            }
            Self::Replayed => "This sign-in answer was already used or has expired.".into(),
            Self::ProviderUnavailable => "This identity provider is not enabled.".into(),
            Self::ProviderError(e) => format!("The identity provider refused the sign-in: {e}."),
            Self::TokenExchange(e) => {
                format!("The identity provider did not confirm the sign-in: {e}.")
            }
            Self::WrongNonce => "The identity provider's answer does not match this sign-in (nonce).".into(),
            Self::InvalidIdToken(e) => format!("The identity provider's ID token is unusable: {e}."),
            Self::Userinfo(e) => format!("The identity provider's user information is unusable: {e}."),
            Self::SubjectMismatch => {
                "The identity provider's user information names another user than its ID token."
                    .into()
            }
            Self::Unmapped { groups } if groups.is_empty() => {
                "Your account at the identity provider has no groups, and no role is given without a group mapping.".into()
            }
            Self::Unmapped { .. } => {
                "None of your groups at the identity provider is mapped to a role.".into()
            }
            Self::UserInactive => "Your Metadeck account is deactivated.".into(),
        }
    }
}
