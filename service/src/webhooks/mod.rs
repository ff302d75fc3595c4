//! Webhook subscriptions and the durable delivery outbox.
//!
//! Areas that emit events call [`outbox::emit`] inside the transaction of the change, so an
//! event exists exactly when its change does; the [`dispatcher`] sends the rows later,
//! signed to the Standard Webhooks specification.

pub mod catalog;
pub mod crypto;
pub mod deliveries;
pub mod dispatcher;
pub mod input;
pub mod legacy_import;
pub mod outbox;
pub mod sender;
pub mod ssrf;
mod store;
pub mod subscriptions;

use std::time::Duration;

pub use catalog::{EventPattern, EventType};
pub use crypto::{SecretCipher, WebhookSecret};
pub use outbox::{Event, emit};
pub use ssrf::WebhookUrl;

/// The default retry schedule after the immediate first attempt.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

/// What the webhook area needs from the configuration.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Encrypts the stored secrets (key derived from `METADECK_SECRET_KEY`).
    pub cipher: SecretCipher,
    /// `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS`: lets URLs reach private, loopback and
    /// link-local destinations.
    pub allow_private_networks: bool,
    /// `METADECK_WEBHOOK_RETRY_SCHEDULE`: the waits before the second, third, … attempt.
    pub retry_schedule: Vec<Duration>,
}

/// Parses a retry schedule such as `5s,5m,30m,2h` (1 to 20 waits, each from 1 s to 7 days).
pub fn parse_retry_schedule(raw: &str) -> Result<Vec<Duration>, String> {
    let waits: Vec<&str> = raw.split(',').map(str::trim).collect();
    if waits.is_empty() || waits.len() > 20 {
        return Err("must list 1 to 20 waits such as 5s,5m,2h".into());
    }
    waits
        .into_iter()
        .map(|w| {
            let (number, unit) = w.split_at(w.len().saturating_sub(1));
            let n: u64 = number
                .parse()
                .map_err(|_| format!("{w:?} is not a wait such as 5s, 5m or 2h"))?;
            let secs = match unit {
                "s" => n,
                "m" => n.saturating_mul(60),
                "h" => n.saturating_mul(3600),
                _ => return Err(format!("{w:?} is not a wait such as 5s, 5m or 2h")),
            };
            if !(1..=7 * 24 * 3600).contains(&secs) {
                return Err(format!("{w:?} must be between 1s and 168h"));
            }
            Ok(Duration::from_secs(secs))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_parses_to_seven_waits() {
        let s = parse_retry_schedule(DEFAULT_RETRY_SCHEDULE).unwrap();
        assert_eq!(s.len(), 7);
        assert_eq!(s[0], Duration::from_secs(5));
        assert_eq!(s[6], Duration::from_secs(36_000));
    }

    #[test]
    fn bad_schedules_are_refused() {
        for raw in ["", "5", "5x", "0s", "1s,,2s", "-1s", "200h"] {
            assert!(parse_retry_schedule(raw).is_err(), "{raw}");
        }
    }
}
