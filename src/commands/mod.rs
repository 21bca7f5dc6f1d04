//! The CLI commands: wiring of the library pieces, with context added to errors.

pub mod cache;
pub mod check;
mod connect;
pub mod daemon;
#[cfg(feature = "fake-org")]
pub mod demo;
pub mod exit;
#[cfg(feature = "fake-org")]
pub mod fake_org;
pub mod flag_hints;
pub mod fstab;
pub mod logging;
pub mod manual;
pub mod metrics;
pub mod mount;
pub mod mountpoint;
pub mod notify;
mod offline;
mod store;
#[cfg(not(feature = "fake-org"))]
mod without_fake_org;
#[cfg(not(feature = "fake-org"))]
pub use without_fake_org::{demo, fake_org};

/// Before any command runs: a `mount --daemon` forks (the parent waits and exits), then the
/// log is set up in the process that stays. Nothing here may start a thread before the fork.
pub fn prepare(cli: &mut crate::cli::Cli) -> anyhow::Result<()> {
    use anyhow::Context;
    let daemon = match &mut cli.command {
        crate::cli::Command::Mount(args) if args.run.daemon => {
            args.absolutize()
                .context("cannot resolve the paths of the mount's arguments")?;
            true
        }
        _ => false,
    };
    let log_file = match &cli.log.log_file {
        Some(path) if path.is_relative() => Some(std::env::current_dir()?.join(path)),
        other => other.clone(),
    };
    // Opened before forking, so a log file that cannot be written is said on the terminal.
    let stderr_to = match (&log_file, daemon) {
        (Some(path), true) => Some(
            logging::open_log_file(path)
                .with_context(|| format!("cannot open log file {}", path.display()))?,
        ),
        _ => None,
    };
    if daemon {
        daemon::detach(stderr_to)?;
    }
    let level = logging::verbosity_level(cli.log.verbose).or(cli.log.log_level.as_deref());
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = logging::filter(level, rust_log.as_deref()).map_err(anyhow::Error::msg)?;
    let target = match (log_file, daemon) {
        (Some(path), _) => logging::LogTarget::File(path),
        (None, true) => logging::LogTarget::Syslog,
        (None, false) => logging::LogTarget::Stderr,
    };
    logging::init(filter, &target).context("cannot open the log")?;
    Ok(())
}
