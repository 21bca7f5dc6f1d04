//! `--daemon`: the process forks, the parent waits on a pipe, and the child tells it how the
//! mount went. The parent exits 0 once the mount serves, or with the child's error and exit
//! code, so `mount(8)`, a script or `sfmount ... --daemon && ls /mnt` see the truth.
//!
//! The fork happens first thing in `main`, before any thread exists (a fork copies only the
//! calling thread; a runtime started before it would be left without its workers).
//!
//! Readiness is also sent to systemd (`READY=1` on `$NOTIFY_SOCKET`) when the mount serves,
//! daemon or not: see [`super::notify`].

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context};

/// The pipe's first byte: the mount serves.
const READY: u8 = b'R';
/// The pipe's first byte: the start failed; the exit code and the message follow.
const FAILED: u8 = b'E';

/// The write end of the pipe to the waiting parent, in the daemon child until it reports.
static REPORT: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Forks. Returns in the child (detached: new session, working directory `/`, stdin and
/// stdout on /dev/null, stderr on `stderr_to` or /dev/null); the parent never returns: it
/// exits with what the child reports.
pub fn detach(stderr_to: Option<std::fs::File>) -> anyhow::Result<()> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot create the daemon's pipe");
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: no thread has been started yet (main calls this first), so the child is a
    // complete copy of the process.
    match unsafe { libc::fork() } {
        -1 => Err(std::io::Error::last_os_error()).context("cannot fork the daemon"),
        0 => {
            drop(read_end);
            become_daemon(stderr_to)?;
            *crate::sync::lock(&REPORT) = Some(std::fs::File::from(write_end));
            DAEMON.store(true, Ordering::Relaxed);
            Ok(())
        }
        _child => {
            drop(write_end);
            std::process::exit(wait_for_child(std::fs::File::from(read_end)))
        }
    }
}

/// The parent's side: prints the child's error, if any, and returns the exit code.
fn wait_for_child(mut pipe: std::fs::File) -> i32 {
    let mut report = Vec::new();
    let _ = pipe.read_to_end(&mut report);
    match report.split_first() {
        Some((&READY, _)) => 0,
        Some((&FAILED, rest)) if !rest.is_empty() => {
            let code = i32::from(rest[0]);
            eprintln!("sfmount: {}", String::from_utf8_lossy(&rest[1..]));
            code
        }
        _ => {
            eprintln!(
                "sfmount: the daemon ended before the mount was ready (see its log: --log-file, \
                 or the system log)"
            );
            super::exit::FAILURE
        }
    }
}

fn become_daemon(stderr_to: Option<std::fs::File>) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setsid and chdir take no pointers but the static path.
    unsafe {
        // A new session: no controlling terminal, so a closed terminal's SIGHUP does not
        // reach the daemon (SIGHUP means "refresh now" here).
        libc::setsid();
        // Not to keep the directory it was started in busy (it could not be unmounted).
        if libc::chdir(c"/".as_ptr()) != 0 {
            bail!("cannot change the daemon's directory to /");
        }
    }
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("cannot open /dev/null")?;
    let stderr = stderr_to.unwrap_or(null.try_clone().context("cannot open /dev/null")?);
    // SAFETY: dup2 onto the standard descriptors of this process.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(null.as_raw_fd(), 1);
        // A panic's message lands in the log file, if there is one.
        libc::dup2(stderr.as_raw_fd(), 2);
    }
    Ok(())
}

/// Set in the daemon child: its stderr is no terminal, so its last words are logged.
static DAEMON: AtomicBool = AtomicBool::new(false);

/// True in the process that went to the background.
pub fn is_daemon() -> bool {
    DAEMON.load(Ordering::Relaxed)
}

/// The mount serves: the parent exits 0. Does nothing outside a daemon child.
pub fn report_ready() {
    if let Some(mut pipe) = crate::sync::lock(&REPORT).take() {
        let _ = pipe.write_all(&[READY]);
    }
}

/// The start failed: the parent prints `message` and exits with `code`. Returns whether a
/// parent was told (else the caller prints the error itself).
pub fn report_failure(code: i32, message: &str) -> bool {
    let Some(mut pipe) = crate::sync::lock(&REPORT).take() else {
        return false;
    };
    let mut report = vec![FAILED, u8::try_from(code).unwrap_or(1)];
    report.extend_from_slice(message.as_bytes());
    pipe.write_all(&report).is_ok()
}
