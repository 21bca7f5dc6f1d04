//! The `sfmount mount` binary over a local store: a restart serves the stored listings at
//! once and follows the org from the stored watermark (no listing queries), an org out of
//! reach at start is served from the store with the status saying so, a crash during a
//! first listing never leaves a folder served half-listed, and the change journal lists
//! what changed.

mod mount_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use sfmount::fake_org::{FakeOrg, FakeOrgConfig, Faults};

use mount_support::*;

const OBJECTS: &str = "Account,Contact";

/// A fake org, a cache folder and a mountpoint that outlive the mounts of one test.
struct Setup {
    org: FakeOrg,
    cache: tempfile::TempDir,
    mountpoint: tempfile::TempDir,
}

impl Setup {
    fn new(records: usize) -> Setup {
        let org = FakeOrg::start(FakeOrgConfig {
            records,
            ..FakeOrgConfig::default()
        })
        .expect("fake org");
        Setup {
            org,
            cache: tempfile::tempdir().unwrap(),
            mountpoint: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.mountpoint.path()
    }

    /// Mounts and waits until the mount answers.
    fn mount(&self) -> MountProcess {
        let base_url = self.org.base_url();
        let cache = self.cache.path().to_str().unwrap().to_string();
        let args = [
            "--login-url",
            base_url.as_str(),
            "--client-id",
            self.org.client_id(),
            "--standard-objects",
            OBJECTS,
            "--cache-dir",
            cache.as_str(),
            // Long enough that only the catch-up tick at start runs during a test.
            "--interval",
            "1h",
        ];
        let m = MountProcess::start(
            self.root(),
            &args,
            &[("SFMOUNT_CLIENT_SECRET", self.org.client_secret())],
        );
        assert!(
            wait_for_mount(self.root(), Duration::from_secs(30)),
            "not mounted: {}",
            m.log_text()
        );
        m
    }

    fn folder(&self, object: &str) -> PathBuf {
        self.root().join("Standard Objects").join(object)
    }

    /// Every record file of the mounted objects with its bytes (listing them if needed).
    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        let mut all = BTreeMap::new();
        for object in OBJECTS.split(',') {
            let folder = self.folder(object);
            for name in file_names(&folder) {
                if name.starts_with('.') {
                    continue;
                }
                let path = folder.join(&name);
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(
                    std::fs::metadata(&path).unwrap().len(),
                    bytes.len() as u64,
                    "{name}: size equals bytes"
                );
                all.insert(format!("{object}/{name}"), bytes);
            }
        }
        all
    }

    fn status(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.root().join(".sfmount-status.json")).unwrap())
            .unwrap()
    }

    fn sobject(&self, object: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.folder(object).join(".sobject.json")).unwrap())
            .unwrap()
    }

    /// Waits until the catch-up tick after start has run (the root status shows a success).
    fn wait_for_first_tick(&self, m: &MountProcess) {
        let ticked = wait_until(Duration::from_secs(30), || {
            self.status()["refresh"]["lastSuccess"].is_string()
        });
        assert!(ticked.is_some(), "no refresh tick: {}", m.log_text());
    }

    /// No file under the cache folder (stores, describes, login pointers) holds the client
    /// secret or an access token, and every one is private.
    fn assert_no_secret_on_disk(&self) {
        let secret = self.org.client_secret().as_bytes().to_vec();
        let mut checked = 0;
        for file in walk_files(self.cache.path()) {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(&file).unwrap().permissions(),
            );
            assert_eq!(mode & 0o077, 0, "{} is private", file.display());
            let bytes = std::fs::read(&file).unwrap();
            checked += bytes.len();
            // Fake org tokens are `<org id, 15 characters>!<opaque>`, as Salesforce's are.
            let org_prefixes: Vec<Vec<u8>> = file
                .ancestors()
                .filter_map(|dir| dir.file_name()?.to_str()?.get(..15).map(str::to_string))
                .filter(|name| name.starts_with("00D"))
                .map(|org| format!("{org}!").into_bytes())
                .collect();
            for needle in std::iter::once(&secret).chain(&org_prefixes) {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == &needle[..]),
                    "{} holds {:?}",
                    file.display(),
                    String::from_utf8_lossy(needle)
                );
            }
        }
        assert!(checked > 10_000, "the store was checked ({checked} bytes)");
    }

    fn account_count(&self) -> usize {
        self.org.with_store(|store| store.record_count("Account"))
    }
}

/// The Account Ids among `contents`' file names (`Account/<title> [<Id>].json`).
fn account_ids(contents: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    contents
        .keys()
        .filter_map(|name| name.strip_prefix("Account/"))
        .map(|name| {
            name.rsplit_once('[')
                .unwrap()
                .1
                .trim_end_matches("].json")
                .to_string()
        })
        .collect()
}

/// Listing queries (first pages, further pages, Bulk jobs) the org answered.
fn listing_requests(org: &FakeOrg) -> u64 {
    let stats = org.stats().requests;
    stats.query + stats.query_more + stats.bulk_query_job + stats.bulk_query_results
}

#[test]
fn a_restart_serves_the_store_at_once_and_spends_no_listing_queries() {
    if !fuse_available("a_restart_serves_the_store_at_once_and_spends_no_listing_queries") {
        return;
    }
    let setup = Setup::new(40);
    let mut first = setup.mount();
    let before = setup.contents();
    assert!(before.len() >= 80, "both folders listed: {}", before.len());
    first.stop();

    setup.org.reset_stats();
    let second = setup.mount();
    let after = setup.contents();
    assert_eq!(after, before, "the same files, byte for byte");
    setup.wait_for_first_tick(&second);
    let requests = setup.org.stats().requests;
    assert_eq!(
        listing_requests(&setup.org),
        0,
        "no listing query: {requests:?}"
    );
    assert_eq!(requests.record, 0, "no record fetched: {requests:?}");
    assert_eq!(requests.token, 1, "{requests:?}");
    println!("restart requests: {requests:?}");
    assert_eq!(
        requests.describe_global, 1,
        "revalidated once: {requests:?}"
    );
    assert_eq!(
        requests.composite, 1,
        "one refresh tick's change queries: {requests:?}"
    );
    assert!(
        setup.contents() == before,
        "reading everything again after the tick costs nothing either"
    );
    assert_eq!(listing_requests(&setup.org), 0);
    let log = second.log_text();
    assert!(log.contains("serving the stored listings"), "{log}");
    assert_eq!(setup.sobject("Account")["stale"], Value::Null);
}

#[test]
fn changes_made_while_unmounted_are_caught_up_and_journaled() {
    if !fuse_available("changes_made_while_unmounted_are_caught_up_and_journaled") {
        return;
    }
    let setup = Setup::new(20);
    let mut first = setup.mount();
    let before = setup.contents();
    first.stop();

    let ids = account_ids(&before);
    let fields = json!({"Description": "edited while unmounted 7c1e"});
    setup
        .org
        .with_store(|store| store.update("Account", &ids[0], fields.as_object().unwrap()))
        .expect("update");
    setup
        .org
        .with_store(|store| store.delete("Account", &ids[1]))
        .expect("delete");
    let second = setup.mount();
    setup.wait_for_first_tick(&second);
    let after = setup.contents();
    let edited: Vec<&String> = after
        .iter()
        .filter(|(_, bytes)| String::from_utf8_lossy(bytes).contains("7c1e"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(edited.len(), 1, "the edit is visible: {edited:?}");
    assert!(
        !after.keys().any(|name| name.contains(&ids[1])),
        "the deletion too"
    );
    // (Deleting an Account also deletes its Contacts, as in Salesforce: count Accounts.)
    let accounts = |files: &BTreeMap<String, Vec<u8>>| {
        files
            .keys()
            .filter(|name| name.starts_with("Account/"))
            .count()
    };
    assert_eq!(accounts(&after), accounts(&before) - 1);

    let journal = std::fs::read_to_string(setup.root().join(".sfmount-changes.jsonl")).unwrap();
    let lines: Vec<Value> = journal
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    let listed = lines.iter().filter(|l| l["change"] == "listed").count();
    assert_eq!(listed, 2, "each folder's first listing: {journal}");
    let of = |change: &str, id: &str| {
        lines
            .iter()
            .filter(|l| l["change"] == change && l["id"] == id)
            .count()
    };
    assert_eq!(of("updated", &ids[0]), 1, "{journal}");
    assert_eq!(of("removed", &ids[1]), 1, "{journal}");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "numbered in order: {seqs:?}"
    );
    let updated = lines.iter().find(|l| l["change"] == "updated").unwrap();
    let path = setup.root().join(updated["path"].as_str().unwrap());
    assert!(
        std::fs::read_to_string(&path).unwrap().contains("7c1e"),
        "the journal's path is the file"
    );
}

#[test]
fn an_org_out_of_reach_at_start_is_served_from_the_store_and_caught_up_later() {
    if !fuse_available("an_org_out_of_reach_at_start_is_served_from_the_store_and_caught_up_later")
    {
        return;
    }
    let setup = Setup::new(20);
    let mut first = setup.mount();
    let before = setup.contents();
    first.stop();

    // Credentials refused: the token endpoint says no.
    setup.org.set_faults(Faults {
        no_run_as_user: Some(true),
        ..Faults::default()
    });
    let second = setup.mount();
    assert_eq!(setup.contents(), before, "every file served as stored");
    let status = setup.status();
    assert!(status["offline"]["reason"].is_string(), "{status}");
    let stale = &setup.sobject("Account")["stale"];
    assert!(
        stale["since"].is_string() && stale["reason"].is_string(),
        "{stale}"
    );
    let log = second.log_text();
    assert_eq!(
        log.matches("the org is out of reach").count(),
        1,
        "one line: {log}"
    );

    // The org answers again: a SIGHUP tick logs in and catches up.
    setup.org.set_faults(Faults {
        no_run_as_user: Some(false),
        ..Faults::default()
    });
    let caught_up = wait_until(Duration::from_secs(30), || {
        second.signal(libc::SIGHUP);
        std::thread::sleep(Duration::from_millis(300));
        setup.status()["offline"].is_null()
    });
    assert!(caught_up.is_some(), "{}", second.log_text());
    assert_eq!(setup.sobject("Account")["stale"], Value::Null);
    setup.assert_no_secret_on_disk();
}

#[test]
fn without_a_store_an_org_out_of_reach_fails_the_mount_as_before() {
    if !fuse_available("without_a_store_an_org_out_of_reach_fails_the_mount_as_before") {
        return;
    }
    let setup = Setup::new(5);
    setup.org.set_faults(Faults {
        no_run_as_user: Some(true),
        ..Faults::default()
    });
    let base_url = setup.org.base_url();
    let cache = setup.cache.path().to_str().unwrap().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .arg("mount")
        .arg(setup.root())
        .args([
            "--login-url",
            &base_url,
            "--client-id",
            setup.org.client_id(),
        ])
        .args(["--cache-dir", &cache])
        .env("SFMOUNT_CLIENT_SECRET", setup.org.client_secret())
        .output()
        .expect("run sfmount");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect to Salesforce"), "{stderr}");
    assert!(!is_mounted(setup.root()));
}

#[test]
fn a_kill_during_a_first_listing_never_serves_it_half_listed() {
    if !fuse_available("a_kill_during_a_first_listing_never_serves_it_half_listed") {
        return;
    }
    // Several pages per folder, each slow, so the kill lands mid-listing.
    let setup = Setup::new(5_000);
    setup.org.set_faults(Faults {
        latency_ms: Some(300),
        ..Faults::default()
    });
    let mut first = setup.mount();
    let folder = setup.folder("Account");
    let lister = std::thread::spawn(move || std::fs::read_dir(folder).map(|d| d.count()));
    // The listing's first pages are written; kill before the last one.
    std::thread::sleep(Duration::from_millis(1_500));
    first.kill_hard();
    let _ = lister.join();

    setup.org.set_faults(Faults {
        latency_ms: Some(0),
        ..Faults::default()
    });
    setup.org.reset_stats();
    let second = setup.mount();
    let accounts = file_names(&setup.folder("Account"))
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .count();
    assert_eq!(
        accounts,
        setup.account_count(),
        "listed whole: {}",
        second.log_text()
    );
    assert!(
        listing_requests(&setup.org) > 0,
        "listed afresh, not restored"
    );
    for (name, bytes) in setup.contents() {
        assert!(
            serde_json::from_slice::<Value>(&bytes).is_ok(),
            "{name} is whole JSON"
        );
    }
}

#[test]
fn a_kill_during_a_refresh_loses_nothing_and_the_restart_converges() {
    if !fuse_available("a_kill_during_a_refresh_loses_nothing_and_the_restart_converges") {
        return;
    }
    let setup = Setup::new(60);
    let mut first = setup.mount();
    let before = setup.contents();
    let ids = account_ids(&before);
    for (i, id) in ids.iter().enumerate().take(30) {
        let fields = json!({"Description": format!("edit {i} before the crash 5d2b")});
        setup
            .org
            .with_store(|store| store.update("Account", id, fields.as_object().unwrap()))
            .expect("update");
    }
    // Slow answers, so the kill lands while the tick is asking or applying.
    setup.org.set_faults(Faults {
        latency_ms: Some(400),
        ..Faults::default()
    });
    first.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(900));
    first.kill_hard();

    setup.org.set_faults(Faults {
        latency_ms: Some(0),
        ..Faults::default()
    });
    let second = setup.mount();
    setup.wait_for_first_tick(&second);
    let after = setup.contents();
    for (name, bytes) in &after {
        assert!(
            serde_json::from_slice::<Value>(bytes).is_ok(),
            "{name} is whole JSON"
        );
    }
    let edited = after
        .values()
        .filter(|bytes| String::from_utf8_lossy(bytes).contains("before the crash 5d2b"))
        .count();
    assert_eq!(edited, 30, "every edit arrived: {}", second.log_text());
    assert_eq!(after.len(), before.len());
}

#[test]
fn a_field_added_while_unmounted_re_reads_that_object_only() {
    if !fuse_available("a_field_added_while_unmounted_re_reads_that_object_only") {
        return;
    }
    let setup = Setup::new(30);
    let mut first = setup.mount();
    let before = setup.contents();
    first.stop();
    setup
        .org
        .with_store(|store| store.add_field("Account", "Region__c", "Region"))
        .expect("add a field");
    setup.org.reset_stats();
    let second = setup.mount();
    setup.wait_for_first_tick(&second);
    // The re-read is applied after the tick's success is recorded: wait for its files.
    let region = wait_until(Duration::from_secs(30), || {
        setup
            .contents()
            .iter()
            .filter(|(name, _)| name.starts_with("Account/"))
            .all(|(_, bytes)| String::from_utf8_lossy(bytes).contains("\"Region__c\""))
    });
    assert!(
        region.is_some(),
        "Account re-read with its new field: {}",
        second.log_text()
    );
    let after = setup.contents();
    for (name, bytes) in before
        .iter()
        .filter(|(name, _)| name.starts_with("Contact/"))
    {
        assert_eq!(after.get(name), Some(bytes), "{name}: Contact untouched");
    }
    let requests = setup.org.stats().requests;
    assert_eq!(
        requests.query, 1,
        "one listing query, Account's: {requests:?}"
    );
    let journal = std::fs::read_to_string(setup.root().join(".sfmount-changes.jsonl")).unwrap();
    let updated: Vec<Value> = journal
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["change"] == "updated")
        .collect();
    assert!(!updated.is_empty());
    assert!(
        updated.iter().all(|line| line["object"] == "Account"),
        "{journal}"
    );
}
