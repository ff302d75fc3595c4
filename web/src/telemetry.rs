//! Logging: `tracing` to stderr, as text or JSON lines (`METADECK_LOG_FORMAT=json`).

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
