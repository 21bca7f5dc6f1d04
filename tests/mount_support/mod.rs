//! Helpers shared by the real-mount tests: FUSE availability, a guard that always unmounts,
//! and small file-walking helpers.

#![allow(dead_code)] // each test file uses a different subset

pub mod rest;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Real mounts need /dev/fuse and the right to mount (root here and in CI). Without them the
/// test prints why it is skipped and passes, so `cargo test` works on any machine; it also
/// records its name in [`SKIPPED_LIST`], which `scripts/test` prints as a summary after the
/// run, so a skip is never a silent pass.
pub fn fuse_available(test: &str) -> bool {
    let device = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse");
    match device {
        Ok(_) => true,
        Err(error) => {
            println!("SKIP {test}: /dev/fuse is not usable ({error})");
            record_skip(test, &error.to_string());
            false
        }
    }
}

/// Where skipped real-mount tests are listed, one per line; `scripts/test` empties it
/// before the run and prints it after.
pub const SKIPPED_LIST: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-real-mount-tests");

fn record_skip(test: &str, reason: &str) {
    use std::io::Write;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(SKIPPED_LIST);
    if let Ok(mut file) = file {
        let _ = writeln!(file, "{test}: /dev/fuse is not usable ({reason})");
    }
}

pub fn is_mounted(path: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let wanted = path.to_string_lossy().to_string();
    mounts
        .lines()
        .any(|line| line.split_whitespace().nth(1) == Some(wanted.as_str()))
}

/// Lazily unmounts `path` if it is still mounted: the last line of defence so a failing test
/// never leaves a mount behind.
pub fn force_unmount(path: &Path) {
    if is_mounted(path) {
        let _ = Command::new("fusermount3")
            .arg("-u")
            .arg("-z")
            .arg(path)
            .status();
    }
    if is_mounted(path) {
        let _ = Command::new("umount").arg("-l").arg(path).status();
    }
}

/// Waits until `path` shows in /proc/mounts and its root can be listed.
pub fn wait_for_mount(path: &Path, timeout: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if is_mounted(path) && std::fs::read_dir(path).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Every regular file under `root`, sorted.
pub fn walk_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}

/// The names of `dir`'s regular files, sorted: an object folder's record files and
/// `.sobject.json`, without the records' `.files` folders of attached documents.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().expect("file type").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

pub fn errno_of(result: std::io::Result<impl Sized>) -> Option<i32> {
    result.err().and_then(|e| e.raw_os_error())
}

/// Every kind of change a user or tool can attempt on `existing` (a record file of `folder`)
/// and in `folder` itself must fail with EROFS, and leave the file as it was.
pub fn assert_every_mutation_fails_with_erofs(folder: &Path, existing: &Path) {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;

    let before = std::fs::read(existing).expect("read before");
    let c_path = std::ffi::CString::new(existing.as_os_str().as_bytes()).expect("no NUL");
    let attempts: Vec<(&str, Option<i32>)> = vec![
        (
            "create",
            errno_of(std::fs::write(folder.join("new.json"), b"x")),
        ),
        (
            "open for writing",
            errno_of(std::fs::OpenOptions::new().write(true).open(existing)),
        ),
        (
            "open for appending",
            errno_of(std::fs::OpenOptions::new().append(true).open(existing)),
        ),
        ("mkdir", errno_of(std::fs::create_dir(folder.join("d")))),
        ("unlink", errno_of(std::fs::remove_file(existing))),
        (
            "rename",
            errno_of(std::fs::rename(existing, folder.join("renamed.json"))),
        ),
        ("rmdir", errno_of(std::fs::remove_dir(folder))),
        (
            "link",
            errno_of(std::fs::hard_link(existing, folder.join("link.json"))),
        ),
        (
            "symlink",
            errno_of(std::os::unix::fs::symlink(
                existing,
                folder.join("symlink.json"),
            )),
        ),
        (
            "setattr: chmod",
            errno_of(std::fs::set_permissions(
                existing,
                std::fs::Permissions::from_mode(0o644),
            )),
        ),
        ("setattr: truncate", {
            // SAFETY: a valid NUL-terminated path; truncate(2) touches no other memory.
            let rc = unsafe { libc::truncate(c_path.as_ptr(), 0) };
            (rc != 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }),
        ("setattr: utimes", {
            // SAFETY: as above; a null `times` means "now" for both timestamps.
            let rc =
                unsafe { libc::utimensat(libc::AT_FDCWD, c_path.as_ptr(), std::ptr::null(), 0) };
            (rc != 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }),
    ];
    for (what, errno) in attempts {
        assert_eq!(errno, Some(libc::EROFS), "{what}");
    }
    assert_eq!(
        std::fs::read(existing).expect("read after"),
        before,
        "nothing changed"
    );
}

/// A fake org of `records` records per object and a client logged in to it, on a runtime
/// the test keeps alive: the start of every in-process mount test.
#[cfg(feature = "fake-org")]
pub struct ConnectedOrg {
    pub org: sfmount::fake_org::FakeOrg,
    pub runtime: tokio::runtime::Runtime,
    pub client: sfmount::salesforce::SalesforceClient,
    pub global: std::sync::Arc<sfmount::salesforce::DescribeGlobal>,
}

#[cfg(feature = "fake-org")]
pub fn connect_fake_org(records: usize) -> ConnectedOrg {
    use sfmount::fake_org::{FakeOrg, FakeOrgConfig};
    use sfmount::salesforce::{ClientSettings, LoginTarget, SalesforceClient, Secret};
    let org = FakeOrg::start(FakeOrgConfig {
        records,
        ..FakeOrgConfig::default()
    })
    .expect("fake org");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = runtime
        .block_on(SalesforceClient::connect(ClientSettings::new(
            LoginTarget::Url(org.base_url()),
            org.client_id(),
            Secret::new(org.client_secret().to_string()),
        )))
        .expect("connect");
    let global = runtime.block_on(client.describe_global()).unwrap();
    ConnectedOrg {
        org,
        runtime,
        client,
        global,
    }
}

/// A `sfmount mount` process of the test binary: SIGTERM on drop (then SIGKILL if it
/// lingers), and the mountpoint unmounted whatever happened.
pub struct MountProcess {
    pub child: std::process::Child,
    pub mountpoint: PathBuf,
    /// Its stderr (the log).
    pub log: tempfile::NamedTempFile,
}

impl MountProcess {
    /// Starts `sfmount mount <mountpoint> <args>` with `envs`, logging at info level (unless
    /// `envs` sets `RUST_LOG`).
    pub fn start(mountpoint: &Path, args: &[&str], envs: &[(&str, &str)]) -> MountProcess {
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sfmount"))
            .arg("mount")
            .arg(mountpoint)
            .args(args)
            .env("RUST_LOG", "info")
            .envs(envs.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("spawn sfmount");
        MountProcess {
            child,
            mountpoint: mountpoint.to_path_buf(),
            log,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the pid of a child we own and have not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }

    /// SIGTERM, then waits for the process to end (SIGKILL after 20 s).
    pub fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        force_unmount(&self.mountpoint);
    }

    /// SIGKILL: the process ends at once, as in a crash (the mount is cleaned up after).
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        force_unmount(&self.mountpoint);
    }
}

impl Drop for MountProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `done` every 50 ms for up to `timeout`; how long it took, or `None`.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A settings file for `org` in `dir` (mode 0600, as a file holding a secret should be):
/// Accounts only, no refresh tick during a test, a store under `dir`; `extra` lines are
/// appended as they are.
#[cfg(feature = "fake-org")]
pub fn write_settings(org: &sfmount::fake_org::FakeOrg, dir: &Path, extra: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("sfmount.toml");
    let text = format!(
        "login_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
         standard_objects_to_sync = [\"Account\"]\ninterval = \"1h\"\ncache_dir = \"{}\"\n{extra}",
        org.base_url(),
        org.client_id(),
        org.client_secret(),
        dir.join("cache").display()
    );
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Pids of the sfmount processes serving `mountpoint` (found by their command line, since a
/// daemon's parent has exited).
pub fn serving_pids(mountpoint: &Path) -> Vec<i32> {
    let wanted = mountpoint.to_string_lossy().to_string();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let words: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|w| String::from_utf8_lossy(w).to_string())
            .collect();
        let is_sfmount = words
            .first()
            .is_some_and(|program| program.ends_with("sfmount"));
        if is_sfmount && words.contains(&wanted) {
            pids.push(pid);
        }
    }
    pids
}

/// True while `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

/// The type of the mount at `path` in /proc/mounts (`fuse`, `fuse.sfmount`...).
pub fn mount_type(path: &Path) -> Option<String> {
    let wanted = path.to_string_lossy().to_string();
    std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .rev()
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&wanted.as_str())).then(|| fields[2].to_string())
        })
}

/// Drops the kernel's clean page cache (root only), so the next read of a mounted file asks
/// the filesystem again instead of being served from pages the kernel kept (`keep_cache`).
pub fn drop_page_cache() {
    // Sync first: only clean pages are dropped.
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    std::fs::write("/proc/sys/vm/drop_caches", "1")
        .expect("dropping the page cache needs root (as the real-mount tests do)");
}
