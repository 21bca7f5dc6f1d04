//! `sfmount cache info` and `sfmount cache clear`, driving the binary against stores the
//! library wrote in a temporary cache folder: no org, no credentials, no mount.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use sfmount::index::store::{
    store_path, FolderHeader, LocalStore, SqliteStore, StoreBatch, StoreLock,
};
use sfmount::index::{FileEntry, FileFormat};

const ORG_A: &str = "00D000000000001AAA";
const ORG_B: &str = "00D000000000002AAA";
const USER: &str = "005000000000001AAA";

/// `sfmount cache <args>` with no Salesforce settings in its environment and a HOME of
/// its own, so neither credentials nor the real ~/.cache can play a part.
fn sfmount_cache(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .arg("cache")
        .args(args)
        .env_remove("SFMOUNT_DOMAIN")
        .env_remove("SFMOUNT_CLIENT_ID")
        .env_remove("SFMOUNT_CLIENT_SECRET")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", home)
        .output()
        .expect("run sfmount")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn entry(id: &str, format: FileFormat, size: u64) -> FileEntry {
    FileEntry {
        ino: 0,
        name: format!("Record [{id}].{}", format.extension()),
        id: Arc::from(id),
        format,
        size,
        mtime: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ctime: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        modstamp: None,
        digest: 1,
    }
}

/// A store of `org` with a complete Account folder of `records` records in two formats
/// (10-byte bodies) and an incomplete Case folder, plus a login pointer naming it.
fn make_store(cache: &Path, org: &str, records: usize) -> PathBuf {
    let path = store_path(cache, org, USER);
    let store = SqliteStore::open(&path).unwrap();
    let header = |complete| FolderHeader {
        plan: "{}".into(),
        presentation: "test".into(),
        complete,
        watermark: None,
        refreshed_at: UNIX_EPOCH + Duration::from_secs(1_767_225_600), // 2026-01-01T00:00:00Z
        changed_at: UNIX_EPOCH,
    };
    let mut batch = StoreBatch {
        header: Some(header(true)),
        ..StoreBatch::default()
    };
    for n in 0..records {
        let id = format!("001000000000{n:03}AAA");
        for format in [FileFormat::Json, FileFormat::Text] {
            let body: Arc<[u8]> = b"0123456789".to_vec().into();
            batch.put_file(&entry(&id, format, 10), &body);
        }
    }
    store.apply("Account", &batch).unwrap();
    store.begin_listing("Case", &header(false)).unwrap();
    store
        .set_meta("instance_url", "https://acme.my.salesforce.com")
        .unwrap();
    let logins = cache.join("logins");
    std::fs::create_dir_all(&logins).unwrap();
    std::fs::write(
        logins.join(format!("pointer-{org}")),
        format!("{org}-{USER}\n"),
    )
    .unwrap();
    path
}

#[test]
fn info_lists_each_store_with_its_folders_and_counts_as_a_table_and_as_json() {
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let store = make_store(cache.path(), ORG_A, 3);
    let dir = cache.path().to_str().unwrap();
    let folder_files = || {
        let mut names: Vec<String> = std::fs::read_dir(store.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = folder_files();

    let out = sfmount_cache(home.path(), &["info", "--cache-dir", dir]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for needle in [
        ORG_A,
        USER,
        "https://acme.my.salesforce.com",
        store.to_str().unwrap(),
        "Account",
        "Case",
        "2026-01-01T00:00:00",
        "in use   no",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle:?} missing from:\n{stdout}"
        );
    }
    let account = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Account"))
        .unwrap();
    let columns: Vec<&str> = account.split_whitespace().collect();
    // FOLDER RECORDS FILES BODIES(2 words) COMPLETE REFRESHED
    assert_eq!(&columns[..5], ["Account", "3", "6", "60", "B"], "{account}");
    assert_eq!(columns[5], "yes", "{account}");

    let out = sfmount_cache(home.path(), &["info", "--cache-dir", dir, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stores = report["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 1);
    let s = &stores[0];
    assert_eq!(s["org_id"], ORG_A);
    assert_eq!(s["user_id"], USER);
    assert_eq!(s["instance_url"], "https://acme.my.salesforce.com");
    assert_eq!(s["in_use"], false);
    assert_eq!(s["schema_version"], 4);
    assert!(s["disk_bytes"].as_u64().unwrap() > 0);
    let folders = s["folders"].as_array().unwrap();
    assert_eq!(folders.len(), 2);
    assert_eq!(folders[0]["object"], "Account");
    assert_eq!(folders[0]["records"], 3);
    assert_eq!(folders[0]["files"], 6);
    assert_eq!(folders[0]["body_bytes"], 60);
    assert_eq!(folders[0]["complete"], true);
    assert_eq!(folders[0]["refreshed_at"], "2026-01-01T00:00:00Z");
    assert_eq!(folders[1]["object"], "Case");
    assert_eq!(folders[1]["complete"], false);
    assert_eq!(folders[1]["records"], 0);
    assert_eq!(
        folder_files(),
        before,
        "looking leaves no lock, -wal or -shm behind"
    );
}

#[test]
fn info_finds_the_folder_through_the_config_file_and_never_creates_one() {
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    make_store(cache.path(), ORG_A, 1);
    let config = home.path().join("sfmount.toml");
    std::fs::write(&config, format!("cache_dir = {:?}\n", cache.path())).unwrap();
    let out = sfmount_cache(home.path(), &["info", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(ORG_A), "{}", text(&out.stdout));

    // The default folder is under HOME; looking at it when it is absent creates nothing.
    let out = sfmount_cache(home.path(), &["info"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no local stores"),
        "{}",
        text(&out.stdout)
    );
    assert!(!home.path().join(".cache").exists());
    // A store folder holding something that is not a store is reported, not repaired.
    let bogus = cache.path().join(format!("{ORG_B}-{USER}"));
    std::fs::create_dir_all(&bogus).unwrap();
    std::fs::write(bogus.join("store.sqlite3"), b"not a database").unwrap();
    let out = sfmount_cache(
        home.path(),
        &["info", "--cache-dir", cache.path().to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("unreadable"), "{stdout}");
    assert_eq!(
        std::fs::read(bogus.join("store.sqlite3")).unwrap(),
        b"not a database"
    );
}

#[test]
fn clear_removes_one_orgs_store_and_pointer_or_all_of_them() {
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let a = make_store(cache.path(), ORG_A, 2);
    let b = make_store(cache.path(), ORG_B, 2);
    let dir = cache.path().to_str().unwrap();
    let pointer = |org: &str| cache.path().join("logins").join(format!("pointer-{org}"));

    let out = sfmount_cache(
        home.path(),
        &["clear", "--cache-dir", dir, "--org", "00D000000000001"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!a.parent().unwrap().exists(), "org A's folder is gone");
    assert!(!pointer(ORG_A).exists(), "and its pointer");
    assert!(b.exists() && pointer(ORG_B).exists(), "org B is kept");
    assert!(
        text(&out.stdout).contains("cleared 1 store"),
        "{}",
        text(&out.stdout)
    );

    let out = sfmount_cache(home.path(), &["clear", "--cache-dir", dir, "--org", ORG_A]);
    assert!(!out.status.success(), "no store of that org is an error");
    assert!(
        text(&out.stderr).contains("no store of org"),
        "{}",
        text(&out.stderr)
    );

    let out = sfmount_cache(home.path(), &["clear", "--cache-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!b.parent().unwrap().exists() && !pointer(ORG_B).exists());
    let out = sfmount_cache(home.path(), &["info", "--cache-dir", dir, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["stores"].as_array().unwrap().len(), 0);
}

#[test]
fn clear_refuses_while_a_mount_holds_the_store_and_removes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let a = make_store(cache.path(), ORG_A, 2);
    let b = make_store(cache.path(), ORG_B, 2);
    let dir = cache.path().to_str().unwrap();
    // What a running mount holds for its lifetime.
    let held = StoreLock::acquire(&a).unwrap();

    let out = sfmount_cache(home.path(), &["info", "--cache-dir", dir, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let in_use: Vec<(bool, Value)> = report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["in_use"].as_bool().unwrap(), s["pid"].clone()))
        .collect();
    assert_eq!(
        in_use,
        [
            (true, Value::from(std::process::id())),
            (false, Value::Null)
        ]
    );

    let out = sfmount_cache(home.path(), &["clear", "--cache-dir", dir]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(stderr.contains("running mount"), "{stderr}");
    assert!(stderr.contains(&format!("{ORG_A}-{USER}")), "{stderr}");
    assert!(a.exists() && b.exists(), "all or nothing: both stores stay");

    drop(held);
    let out = sfmount_cache(home.path(), &["clear", "--cache-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!a.exists() && !b.exists());
}
