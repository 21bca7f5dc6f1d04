//! `sfmount mount --max-cache-size`: with the store bounded below the size of the org's
//! bodies (and a small memory cache, so reads reach the store), `grep -r` still reads every
//! file whole, the store stays under its bound with every listing row kept, and the bodies
//! it dropped are fetched again in batches, which the fake org's query count shows against
//! an unbounded mount of the same org.

mod mount_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sfmount::fake_org::{FakeOrg, FakeOrgConfig};
use sfmount::index::store::{LocalStore, SqliteStore, STORE_FILE_NAME};

use mount_support::*;

const RECORDS: usize = 600;
/// Below the org's Account bodies (600 of about 2.8 KB: 1.6 MB) but above a refetched
/// batch of 200 of them, as docs/store.md advises: a smaller bound makes each batch evict
/// the next records before they are read.
const BOUND: u64 = 1 << 20;
/// Smaller than the store's bound, so a second read finds little in memory.
const MEMORY: &str = "16KiB";

fn mount(org: &FakeOrg, root: &Path, cache: &Path, extra: &[&str]) -> MountProcess {
    let base_url = org.base_url();
    let mut args = vec![
        "--login-url",
        base_url.as_str(),
        "--client-id",
        org.client_id(),
        "--standard-objects",
        "Account",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--memory-cache-size",
        MEMORY,
        // Long enough that only the catch-up tick at start runs during the test.
        "--interval",
        "1h",
    ];
    args.extend_from_slice(extra);
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

fn folder(root: &Path) -> PathBuf {
    root.join("Standard Objects").join("Account")
}

/// Every record file with its bytes; each file's size is its length.
fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let folder = folder(root);
    let mut all = BTreeMap::new();
    for name in file_names(&folder)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
    {
        let path = folder.join(&name);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            bytes.len() as u64,
            "{name}"
        );
        all.insert(name, bytes);
    }
    all
}

/// One `grep -rc` over the folder's record files: how many files it read, and how many
/// of them hold `needle`.
fn grep(root: &Path, needle: &str) -> (usize, usize) {
    let out = Command::new("grep")
        .args([
            "-r",
            "-c",
            "-F",
            needle,
            "--exclude=.*",
            "--exclude-dir=*.files",
        ])
        .arg(folder(root))
        .output()
        .expect("grep");
    let text = String::from_utf8_lossy(&out.stdout);
    let counts: Vec<u64> = text
        .lines()
        .map(|line| line.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    (counts.len(), counts.iter().filter(|n| **n > 0).count())
}

/// The one store under `cache`.
fn store_file(cache: &Path) -> PathBuf {
    let mut stores: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path().join(STORE_FILE_NAME))
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(stores.len(), 1, "{stores:?}");
    stores.remove(0)
}

/// Lists and reads everything once, then `grep -r`s it again: the queries of the second
/// pass, its contents, and the store's body bytes and listing rows after the mount ends.
fn run_passes(org: &FakeOrg, extra: &[&str]) -> (u64, BTreeMap<String, Vec<u8>>, u64, u64) {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut m = mount(org, root.path(), cache.path(), extra);
    let first = contents(root.path());
    assert_eq!(
        first.len(),
        RECORDS,
        "every record listed: {}",
        m.log_text()
    );
    org.reset_stats();
    // The kernel keeps the pages it read; the second pass must reach the mount.
    drop_page_cache();
    let (read, holding) = grep(root.path(), "\"attributes\"");
    assert_eq!(
        (read, holding),
        (RECORDS, RECORDS),
        "grep read every file whole"
    );
    let queries = org.stats().requests.query;
    let again = contents(root.path());
    assert_eq!(again, first, "the same bytes after eviction and refetch");
    m.stop();
    let store = SqliteStore::open_read_only(&store_file(cache.path())).unwrap();
    let info = store.info().unwrap();
    let bytes = store.body_bytes().unwrap();
    assert_eq!(
        info[0].body_bytes, bytes,
        "the running total is the real one"
    );
    (queries, again, bytes, info[0].files)
}

#[test]
fn a_bounded_store_stays_under_its_bound_and_refetches_what_it_dropped() {
    if !fuse_available("a_bounded_store_stays_under_its_bound_and_refetches_what_it_dropped") {
        return;
    }
    let org = FakeOrg::start(FakeOrgConfig {
        records: RECORDS,
        ..FakeOrgConfig::default()
    })
    .expect("fake org");

    let (free_queries, free_contents, free_bytes, free_rows) = run_passes(&org, &[]);
    let bound = BOUND.to_string();
    let (queries, contents, bytes, rows) = run_passes(&org, &["--max-cache-size", &bound]);
    println!(
        "unbounded: {free_queries} queries, {free_bytes} body bytes; bounded to {BOUND}: \
         {queries} queries, {bytes} body bytes"
    );

    assert!(
        free_bytes > BOUND + BOUND / 2,
        "premise: the bodies exceed the bound: {free_bytes}"
    );
    assert_eq!(
        free_queries, 0,
        "an unbounded store serves every second read"
    );
    assert_eq!(contents, free_contents, "both mounts serve the same bytes");
    assert!(bytes <= BOUND, "bodies stay under the bound: {bytes}");
    assert_eq!(
        (rows, free_rows),
        (RECORDS as u64, RECORDS as u64),
        "every listing row kept"
    );
    // What the store dropped is fetched again 200 records a query, not one by one: at most
    // one query per 200 records grep read.
    assert!(queries >= 1, "the dropped bodies were fetched again");
    let batches = RECORDS.div_ceil(200) as u64;
    assert!(
        queries <= batches,
        "in batches: {queries} queries for {RECORDS} records"
    );
}
