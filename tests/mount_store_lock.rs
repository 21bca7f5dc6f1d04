//! One mount per store: a running `sfmount mount` holds its store's lock, so a second
//! mount of the same org and user runs memory-only (and says so), and `sfmount cache
//! clear` refuses to remove the store until the mount ends.

mod mount_support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::*;

fn mount(org: &FakeOrg, root: &Path, cache: &Path) -> MountProcess {
    let base_url = org.base_url();
    let args = [
        "--login-url",
        base_url.as_str(),
        "--client-id",
        org.client_id(),
        "--standard-objects",
        "Account",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--interval",
        "1h",
    ];
    let m = MountProcess::start(
        root,
        &args,
        &[("SFMOUNT_CLIENT_SECRET", org.client_secret())],
    );
    assert!(
        wait_for_mount(root, Duration::from_secs(30)),
        "not mounted: {}",
        m.log_text()
    );
    m
}

fn cache_command(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .arg("cache")
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .env_remove("SFMOUNT_CLIENT_SECRET")
        .output()
        .expect("run sfmount cache")
}

fn account_names(root: &Path) -> Vec<String> {
    names(&root.join("Standard Objects").join("Account"))
}

#[test]
fn a_second_mount_of_a_store_runs_memory_only_and_clear_waits_for_the_mount() {
    if !fuse_available("a_second_mount_of_a_store_runs_memory_only_and_clear_waits_for_the_mount") {
        return;
    }
    let org = FakeOrg::start(FakeOrgConfig {
        records: 20,
        ..FakeOrgConfig::default()
    })
    .expect("fake org");
    let cache = tempfile::tempdir().unwrap();
    let (root_a, root_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut first = mount(&org, root_a.path(), cache.path());
    let listed = account_names(root_a.path());
    assert!(listed.len() > 20, "listed: {listed:?}");

    let mut second = mount(&org, root_b.path(), cache.path());
    assert_eq!(
        account_names(root_b.path()),
        listed,
        "the second mount serves too"
    );
    let log = second.log_text();
    assert!(
        log.contains("another mount uses this org's local store"),
        "the fallback is said: {log}"
    );
    assert!(log.contains(&format!("pid {}", first.child.id())), "{log}");
    second.stop();

    let info = cache_command(cache.path(), &["info", "--json"]);
    let report: Value = serde_json::from_slice(&info.stdout).unwrap();
    let store = &report["stores"][0];
    assert_eq!(store["in_use"], true, "{report}");
    assert_eq!(store["pid"], first.child.id(), "{report}");
    assert_eq!(store["folders"][0]["object"], "Account", "{report}");
    assert_eq!(store["folders"][0]["complete"], true, "{report}");

    let clear = cache_command(cache.path(), &["clear"]);
    assert!(!clear.status.success(), "refused while mounted");
    let stderr = String::from_utf8_lossy(&clear.stderr);
    assert!(stderr.contains("running mount"), "{stderr}");
    let store_path = store["path"].as_str().unwrap().to_string();
    assert!(Path::new(&store_path).exists());

    first.stop();
    let clear = cache_command(cache.path(), &["clear"]);
    assert!(
        clear.status.success(),
        "{}",
        String::from_utf8_lossy(&clear.stderr)
    );
    assert!(
        !Path::new(&store_path).exists(),
        "removed once the mount ended"
    );
}
