//! The `sfmount mount` binary follows the org: SIGHUP refreshes at once, whatever the
//! interval, and the root status file reports the refresh.

mod mount_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_sfmount");

struct MountProcess {
    child: Child,
    dir: tempfile::TempDir,
    log: tempfile::NamedTempFile,
}

impl Drop for MountProcess {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid of a child we own and have not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        force_unmount(self.dir.path());
    }
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn patch_account(org: &FakeOrg, id: &str, fields: serde_json::Map<String, Value>) {
    org.with_store(|store| store.update("Account", id, &fields))
        .expect("update");
}

#[test]
fn sighup_refreshes_now_and_the_status_file_says_so() {
    if !fuse_available("sighup_refreshes_now") {
        return;
    }
    let org = FakeOrg::start(FakeOrgConfig {
        records: 20,
        ..FakeOrgConfig::default()
    })
    .expect("fake org");
    let dir = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = Command::new(BINARY)
        .arg("mount")
        .arg(dir.path())
        .args([
            "--login-url",
            &org.base_url(),
            "--client-id",
            org.client_id(),
        ])
        // An hour: only SIGHUP can make this refresh happen within the test.
        .args(["--interval", "1h", "--standard-objects", "Account"])
        // Memory only: this test is about refresh, and must not write into ~/.cache.
        .arg("--no-cache")
        .env("SFMOUNT_CLIENT_SECRET", org.client_secret())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("spawn sfmount");
    let m = MountProcess { child, dir, log };
    assert!(wait_for_mount(m.dir.path(), Duration::from_secs(30)));
    let accounts = m.dir.path().join("Standard Objects/Account");
    let name = names(&accounts)[1].clone();
    let id = name
        .rsplit_once('[')
        .unwrap()
        .1
        .trim_end_matches("].json")
        .to_string();
    let fields = json!({"Description": "after SIGHUP 3a9f"});
    patch_account(&org, &id, fields.as_object().unwrap().clone());
    let path = accounts.join(&name);
    let changed = |path: &Path| {
        std::fs::read(path).is_ok_and(|b| String::from_utf8_lossy(&b).contains("after SIGHUP 3a9f"))
    };
    std::thread::sleep(Duration::from_millis(500));
    assert!(!changed(&path), "no refresh before the signal");

    // SAFETY: kill(2) on the pid of a child we own and have not reaped.
    unsafe { libc::kill(m.child.id() as libc::pid_t, libc::SIGHUP) };
    let took = wait_until(Duration::from_secs(10), || changed(&path));
    let stderr = std::fs::read_to_string(m.log.path()).unwrap_or_default();
    let took = took.unwrap_or_else(|| panic!("SIGHUP did not refresh: {stderr}"));
    println!("SIGHUP refresh visible after {took:?}");
    assert!(stderr.contains("SIGHUP"), "{stderr}");

    let status: Value =
        serde_json::from_slice(&std::fs::read(m.dir.path().join(".sfmount-status.json")).unwrap())
            .unwrap();
    assert_eq!(status["refresh"]["state"], "running", "{status}");
    assert_eq!(status["refresh"]["intervalSeconds"], 3600.0);
    assert_eq!(status["refresh"]["stopsAtApiUsedPercent"], 80.0);
    assert_eq!(status["objects"][0]["object"], "Account");
    assert!(status["objects"][0]["lastRefresh"].is_string());
    // The process is still alive and serving after the signal.
    assert!(names(&accounts).len() > 1);
}
