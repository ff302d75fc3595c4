//! The event catalog and the subscription patterns that select from it.

use std::fmt;

use serde::Serialize;

macro_rules! events {
    ($($variant:ident = $name:literal;)*) => {
        /// One event Metadeck emits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum EventType {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            /// Every event, in catalog order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The wire name, e.g. `sync.started`.
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $name,)* }
            }
        }
    };
}

events! {
    SyncStarted = "sync.started";
    SyncCompleted = "sync.completed";
    SyncFailed = "sync.failed";
    SyncCanceled = "sync.canceled";
    DeviceCreated = "device.created";
    DeviceUpdated = "device.updated";
    DeviceDeleted = "device.deleted";
    RunSucceeded = "run.succeeded";
    RunFailed = "run.failed";
    ClientCreated = "client.created";
    ClientDeleted = "client.deleted";
    SystemBackupFailed = "system.backup_failed";
    GatewayMcpDrift = "gateway.mcp_drift";
    WebhookTest = "webhook.test";
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventType {
    /// The family prefix, e.g. `sync` for `sync.started`.
    pub fn family(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or_default()
    }
}

/// What a subscription lists: an event name, `<family>.*`, or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventPattern {
    /// Every event (`*`).
    All,
    /// Every event of one family (`sync.*`).
    Family(&'static str),
    /// One event.
    Exact(EventType),
}

impl EventPattern {
    /// Parses a subscription entry; `None` when it names nothing in the catalog.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "*" {
            return Some(Self::All);
        }
        if let Some(prefix) = text.strip_suffix(".*") {
            return EventType::ALL
                .iter()
                .map(|e| e.family())
                .find(|family| *family == prefix)
                .map(Self::Family);
        }
        EventType::ALL
            .iter()
            .find(|e| e.as_str() == text)
            .map(|e| Self::Exact(*e))
    }

    /// True when an event of `event` type goes to a subscription with this pattern.
    /// `webhook.test` is never matched: it goes only to the endpoint it was sent to.
    pub fn matches(&self, event: EventType) -> bool {
        if event == EventType::WebhookTest {
            return false;
        }
        match self {
            Self::All => true,
            Self::Family(family) => event.family() == *family,
            Self::Exact(e) => *e == event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse_only_catalog_names() {
        assert_eq!(EventPattern::parse("*"), Some(EventPattern::All));
        assert_eq!(
            EventPattern::parse("sync.*"),
            Some(EventPattern::Family("sync"))
        );
        assert_eq!(
            EventPattern::parse("device.created"),
            Some(EventPattern::Exact(EventType::DeviceCreated))
        );
        assert_eq!(EventPattern::parse("nope.*"), None);
        assert_eq!(EventPattern::parse("sync.exploded"), None);
        assert_eq!(EventPattern::parse(""), None);
    }

    #[test]
    fn families_match_their_members_and_tests_go_nowhere() {
        let sync = EventPattern::parse("sync.*").unwrap();
        assert!(sync.matches(EventType::SyncFailed));
        assert!(!sync.matches(EventType::DeviceCreated));
        assert!(!EventPattern::All.matches(EventType::WebhookTest));
    }
}
