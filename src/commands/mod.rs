//! The CLI commands: wiring of the library pieces, with context added to errors.

pub mod cache;
pub mod check;
mod connect;
#[cfg(feature = "fake-org")]
pub mod demo;
#[cfg(feature = "fake-org")]
pub mod fake_org;
pub mod flag_hints;
pub mod mount;
mod offline;
#[cfg(not(feature = "fake-org"))]
mod without_fake_org;
#[cfg(not(feature = "fake-org"))]
pub use without_fake_org::{demo, fake_org};

/// Logs go to stderr through `tracing`; `RUST_LOG` overrides the default `info` level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or journal would otherwise fill with escapes.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}
