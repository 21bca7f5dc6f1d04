//! The exit codes, decided here once (and listed in `sfmount mount --help` and
//! docs/running.md), and the last words of a failed run.

use crate::config::ConfigError;

/// Mounted and served until stopped; with `--daemon`, the parent once the mount serves.
pub const SUCCESS: i32 = 0;
/// The mount failed (login, org, mountpoint, FUSE) or ended with an error.
pub const FAILURE: i32 = 1;
/// The command line or the settings are wrong: nothing was tried (clap uses 2 as well).
pub const USAGE: i32 = 2;

/// The code for `error`: a settings problem anywhere in its chain is a usage error.
pub fn code_of(error: &anyhow::Error) -> i32 {
    if error.chain().any(|cause| cause.is::<ConfigError>()) {
        USAGE
    } else {
        FAILURE
    }
}

/// Ends the run: the error goes to the waiting parent of a daemon (which prints it), else
/// to stderr; a daemon logs it too, since its stderr is no terminal.
pub fn finish(result: anyhow::Result<()>) -> std::process::ExitCode {
    let code = match result {
        Ok(()) => SUCCESS,
        Err(error) => {
            let code = code_of(&error);
            // `{:#}` prints the context chain on one line: what failed and why.
            let message = format!("{error:#}");
            if super::daemon::is_daemon() {
                tracing::error!("{message}");
            }
            if !super::daemon::report_failure(code, &message) {
                eprintln!("sfmount: {message}");
            }
            code
        }
    };
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_errors_are_usage_errors_and_the_rest_failures() {
        let settings = anyhow::Error::new(ConfigError::MissingLogin).context("settings");
        assert_eq!(code_of(&settings), USAGE);
        assert_eq!(code_of(&anyhow::anyhow!("cannot mount")), FAILURE);
    }
}
