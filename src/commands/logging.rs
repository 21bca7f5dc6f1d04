//! Where the log goes and how much of it: `--log-level` or `-v`/`-vv` (else `RUST_LOG`, else
//! `info`), to stderr, to `--log-file`, or to syslog when running as a daemon without a file.
//!
//! These are process options rather than settings: they must be known before the settings
//! file is read, so that a bad settings file is itself logged where the user looks.

use std::ffi::CString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The level when neither a flag nor `RUST_LOG` says otherwise: what an operator needs
/// (mounted, refreshed, warnings) without per-request lines.
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// Where log lines are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Stderr,
    /// Appended to, created with mode 0600 (a log may name orgs, users and records).
    File(PathBuf),
    /// The system log (facility `daemon`), which journald also collects.
    Syslog,
}

/// fuser warns "Unmount failed: Invalid argument" when its session ends after someone else
/// unmounted (`fusermount3 -u`, `umount`): it then tries to unmount a mount that is gone.
/// sfmount unmounts through `umount_and_join` and reports its own failures, so fuser's
/// mount-module warnings are only ever that false alarm; a filter naming fuser keeps them.
const QUIET_FUSER_UNMOUNT: &str = "fuser::mnt=error";

/// The filter: an explicit level (flag) wins over `RUST_LOG`, which wins over the default.
pub fn filter(level: Option<&str>, rust_log: Option<&str>) -> Result<EnvFilter, String> {
    let chosen = chosen_filter(level, rust_log)?;
    let names_fuser = level
        .or(rust_log)
        .is_some_and(|text| text.contains("fuser"));
    Ok(match names_fuser {
        true => chosen,
        false => chosen.add_directive(QUIET_FUSER_UNMOUNT.parse().expect("a valid directive")),
    })
}

fn chosen_filter(level: Option<&str>, rust_log: Option<&str>) -> Result<EnvFilter, String> {
    match (level, rust_log.filter(|text| !text.trim().is_empty())) {
        (Some(level), _) => EnvFilter::try_new(level).map_err(|error| {
            format!("bad log level {level:?}: {error} (expected error, warn, info, debug or trace)")
        }),
        (None, Some(env)) => {
            Ok(EnvFilter::try_new(env).unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_LEVEL)))
        }
        (None, None) => Ok(EnvFilter::new(DEFAULT_LOG_LEVEL)),
    }
}

/// `-v` is debug and `-vv` (or more) trace; `None` leaves the choice to `--log-level` or
/// `RUST_LOG`.
pub fn verbosity_level(count: u8) -> Option<&'static str> {
    match count {
        0 => None,
        1 => Some("debug"),
        _ => Some("trace"),
    }
}

/// Opens `path` for appending, private to the user.
pub fn open_log_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Installs the subscriber. Called once, after a daemon has detached (so a syslog
/// connection or file belongs to the process that writes to it).
pub fn init(filter: EnvFilter, target: &LogTarget) -> std::io::Result<()> {
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match target {
        LogTarget::Stderr => {
            // Colours only on a terminal; journald (JOURNAL_STREAM) stamps each line itself.
            let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let builder = builder.with_ansi(colour).with_writer(std::io::stderr);
            if std::env::var_os("JOURNAL_STREAM").is_some() {
                let _ = builder.without_time().try_init();
            } else {
                let _ = builder.try_init();
            }
        }
        LogTarget::File(path) => {
            let file = open_log_file(path)?;
            let _ = builder
                .with_ansi(false)
                .with_writer(Mutex::new(file))
                .try_init();
        }
        LogTarget::Syslog => {
            open_syslog();
            let _ = builder
                .with_ansi(false)
                .without_time()
                .with_target(false)
                .with_writer(SyslogWriter)
                .try_init();
        }
    }
    Ok(())
}

/// The identity syslog prefixes every line with; `openlog` keeps the pointer, so it lives
/// for the whole process.
static SYSLOG_IDENT: &[u8] = b"sfmount\0";

fn open_syslog() {
    // SAFETY: the identity is a static NUL-terminated string, as openlog requires.
    unsafe {
        libc::openlog(
            SYSLOG_IDENT.as_ptr().cast(),
            libc::LOG_PID | libc::LOG_NDELAY,
            libc::LOG_DAEMON,
        )
    };
}

/// Makes one [`SyslogLine`] per event, at the event's priority.
struct SyslogWriter;

impl<'a> MakeWriter<'a> for SyslogWriter {
    type Writer = SyslogLine;

    fn make_writer(&'a self) -> SyslogLine {
        SyslogLine::new(libc::LOG_INFO)
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> SyslogLine {
        let priority = match *meta.level() {
            tracing::Level::ERROR => libc::LOG_ERR,
            tracing::Level::WARN => libc::LOG_WARNING,
            tracing::Level::INFO => libc::LOG_INFO,
            _ => libc::LOG_DEBUG,
        };
        SyslogLine::new(priority)
    }
}

/// One event's text, collected and sent to syslog as one message when dropped.
struct SyslogLine {
    priority: libc::c_int,
    text: Vec<u8>,
}

impl SyslogLine {
    fn new(priority: libc::c_int) -> SyslogLine {
        SyslogLine {
            priority,
            text: Vec::new(),
        }
    }
}

impl Write for SyslogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine {
    fn drop(&mut self) {
        while self.text.last() == Some(&b'\n') {
            self.text.pop();
        }
        self.text.retain(|&byte| byte != 0);
        if self.text.is_empty() {
            return;
        }
        let Ok(message) = CString::new(std::mem::take(&mut self.text)) else {
            return;
        };
        // SAFETY: a constant "%s" format with one NUL-terminated string argument.
        unsafe { libc::syslog(self.priority, c"%s".as_ptr(), message.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_rust_log_which_wins_over_the_default() {
        let shown = |f: EnvFilter| f.to_string();
        assert_eq!(
            shown(filter(Some("debug"), Some("warn")).unwrap()),
            "fuser::mnt=error,debug"
        );
        assert_eq!(
            shown(filter(None, Some("warn")).unwrap()),
            "fuser::mnt=error,warn"
        );
        assert_eq!(shown(filter(None, None).unwrap()), "fuser::mnt=error,info");
        assert_eq!(
            shown(filter(None, Some("  ")).unwrap()),
            "fuser::mnt=error,info"
        );
        assert_eq!(
            shown(filter(None, Some("fuser=debug")).unwrap()),
            "fuser=debug"
        );
        let error = filter(Some("loud=="), None).unwrap_err();
        assert!(error.contains("bad log level"), "{error}");
    }

    #[test]
    fn each_v_is_one_level_more() {
        assert_eq!(verbosity_level(0), None);
        assert_eq!(verbosity_level(1), Some("debug"));
        assert_eq!(verbosity_level(3), Some("trace"));
    }

    #[test]
    fn a_log_file_is_private_and_appended_to() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sfmount.log");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        open_log_file(&path).unwrap().write_all(b"one\n").unwrap();
        open_log_file(&path).unwrap().write_all(b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        let fresh = dir.path().join("new.log");
        open_log_file(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
