//! The `sfmount mount` binary follows the org: SIGHUP refreshes at once, whatever the
//! interval, and the root status file reports the refresh.

mod mount_support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::*;

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
    let args = [
        "--login-url",
        &org.base_url(),
        "--client-id",
        org.client_id(),
        // An hour: only SIGHUP can make this refresh happen within the test.
        "--interval",
        "1h",
        "--standard-objects",
        "Account",
        // Memory only: this test is about refresh, and must not write into ~/.cache.
        "--no-cache",
    ];
    let m = MountProcess::start(
        dir.path(),
        &args,
        &[("SFMOUNT_CLIENT_SECRET", org.client_secret())],
    );
    assert!(wait_for_mount(dir.path(), Duration::from_secs(30)));
    let accounts = dir.path().join("Standard Objects/Account");
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

    m.signal(libc::SIGHUP);
    let took = wait_until(Duration::from_secs(10), || changed(&path));
    let stderr = m.log_text();
    let took = took.unwrap_or_else(|| panic!("SIGHUP did not refresh: {stderr}"));
    println!("SIGHUP refresh visible after {took:?}");
    assert!(stderr.contains("SIGHUP"), "{stderr}");

    let status: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(".sfmount-status.json")).unwrap())
            .unwrap();
    assert_eq!(status["refresh"]["state"], "running", "{status}");
    assert_eq!(status["refresh"]["intervalSeconds"], 3600.0);
    assert_eq!(status["refresh"]["stopsAtApiUsedPercent"], 80.0);
    assert_eq!(status["objects"][0]["object"], "Account");
    assert!(status["objects"][0]["lastRefresh"].is_string());
    // The process is still alive and serving after the signal.
    assert!(names(&accounts).len() > 1);
}
