//! Background refresh without FUSE: the refresh engine over an in-memory org that counts
//! calls, driven tick by tick, seen through the filesystem logic.

use std::ffi::OsStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::{Filesystem, FsError, ROOT_INO, STATUS_FILE};
use sfmount::index::refresh::{RefreshConfig, RefreshEngine, TickOutcome};
use sfmount::index::{
    ApiFloor, ApiUsage, ChangeSummary, FeedActivity, FileFormat, FolderSpec, Index, IndexConfig,
    ListingPlan, MemorySource, Record, SourceError,
};

/// Org time in these tests: years before the host's clock, so any use of the host clock
/// where the org's stamps belong (clock skew) would miss every change.
const ORG_DAY: &str = "2019-06-01";

fn stamp(second: u32) -> String {
    format!(
        "{ORG_DAY}T{:02}:{:02}:{:02}.000+0000",
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}

fn account(sequence: u64, name: &str, description: &str, second: u32) -> Record {
    let id = sfmount::sfid::make_id("001", "Hs0", sequence);
    let value = json!({
        "attributes": {"type": "Account"},
        "Id": id,
        "Name": name,
        "Description": description,
        "CreatedDate": "2019-01-15T10:30:00.000+0000",
        "LastModifiedDate": stamp(second),
        "SystemModstamp": stamp(second),
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal"),
    }
}

fn id(sequence: u64) -> String {
    sfmount::sfid::make_id("001", "Hs0", sequence)
}

fn at(second: u32) -> SystemTime {
    sfmount::index::parse_salesforce_datetime(&stamp(second)).unwrap()
}

fn plan() -> ListingPlan {
    ListingPlan {
        fields: vec![
            "Id".into(),
            "Name".into(),
            "Description".into(),
            "CreatedDate".into(),
            "LastModifiedDate".into(),
            "SystemModstamp".into(),
        ],
        name_field: Some("Name".into()),
        subqueries: Vec::new(),
    }
}

struct Fixture {
    fs: Filesystem,
    index: Index,
    source: Arc<MemorySource>,
    engine: RefreshEngine,
    changes: Arc<Mutex<Vec<(usize, ChangeSummary)>>>,
    _runtime: tokio::runtime::Runtime,
}

/// An org of `count` accounts (stamped at seconds 1..=count), the Account folder listed.
fn fixture(count: u64, tune: impl FnOnce(&mut RefreshConfig)) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let source = Arc::new(MemorySource::new());
    source.insert_object(
        "Account",
        plan(),
        (1..=count)
            .map(|i| account(i, &format!("Company {i}"), "first", i as u32))
            .collect(),
    );
    source.insert_object("Contact", plan(), Vec::new());
    let folders = ["Account", "Contact"]
        .iter()
        .map(|object| FolderSpec {
            object: object.to_string(),
            label: object.to_string(),
            group: Group::Standard,
            key_prefix: None,
            custom: false,
        })
        .collect();
    let index = Index::new(
        source.clone(),
        runtime.handle().clone(),
        folders,
        IndexConfig::new(
            vec![FileFormat::Json],
            "https://example.my.salesforce.com".into(),
        ),
    );
    index.listing(0).expect("listing");
    let mut config = RefreshConfig::new(Duration::from_secs(30));
    tune(&mut config);
    let changes: Arc<Mutex<Vec<(usize, ChangeSummary)>>> = Arc::default();
    let sink = changes.clone();
    let engine = RefreshEngine::new(
        index.clone(),
        config,
        Some(Arc::new(move |folder, summary: &ChangeSummary| {
            sink.lock().unwrap().push((folder, summary.clone()))
        })),
    );
    Fixture {
        fs: Filesystem::new(index.clone()),
        index,
        source,
        engine,
        changes,
        _runtime: runtime,
    }
}

impl Fixture {
    fn names(&self) -> Vec<String> {
        let listing = self.index.peek_listing(0).unwrap();
        listing.files().iter().map(|f| f.name.clone()).collect()
    }

    fn body_of(&self, record_id: &str) -> Value {
        let listing = self.index.peek_listing(0).unwrap();
        let file = listing.by_id(record_id).expect("listed");
        // By name, as the kernel does: the name leads to the current version's inode.
        let attr = self
            .fs
            .lookup(Filesystem::folder_ino(0), OsStr::new(&file.name))
            .unwrap();
        let opened = self.fs.open(attr.ino, false).unwrap();
        let data = self.fs.read(opened.fh, 0, 1 << 20).unwrap();
        let bytes = data.as_slice().to_vec();
        self.fs.release(opened.fh);
        assert_eq!(bytes.len() as u64, file.size, "size agrees with content");
        serde_json::from_slice(&bytes).unwrap()
    }

    fn sobject_json(&self) -> Value {
        serde_json::from_slice(&self.index.sobject_json(0).unwrap()).unwrap()
    }
}

#[test]
fn a_change_is_fetched_once_and_applied_once() {
    let mut f = fixture(10, |_| {});
    let calls = f.source.calls();
    // Nothing changed: the tick asks, fetches nothing.
    assert_eq!(
        f.engine.tick(),
        TickOutcome::Refreshed {
            folders: 1,
            changes: 0
        }
    );
    assert_eq!(f.source.calls().change_batches, calls.change_batches + 1);
    assert_eq!(f.source.calls().fetches_by_id, calls.fetches_by_id);

    f.source
        .upsert_record("Account", account(3, "Company 3", "second", 100));
    assert_eq!(
        f.engine.tick(),
        TickOutcome::Refreshed {
            folders: 1,
            changes: 1
        }
    );
    assert_eq!(f.body_of(&id(3))["Description"], "second");
    let fetched = f.source.calls().fetches_by_id;
    assert_eq!(fetched, calls.fetches_by_id + 1);
    let changes = f.changes.lock().unwrap().clone();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].1.updated, 1);
    assert_eq!(changes[0].1.stale_inodes.len(), 1);
    assert!(changes[0].1.stale_names.is_empty());

    // The overlap window shows the same row again: no fetch, no change.
    f.engine.tick();
    assert_eq!(f.source.calls().fetches_by_id, fetched);
    assert_eq!(f.changes.lock().unwrap().len(), 1);
    let status = f.sobject_json();
    assert_eq!(status["watermark"], "2019-06-01T00:01:40Z", "{status}");
    assert!(status["lastError"].is_null());
    assert_eq!(status["refreshChanges"]["updated"], 1);
}

#[test]
fn renames_creations_deletions_and_undeletions_converge() {
    let mut f = fixture(5, |_| {});
    let old_name = f
        .index
        .peek_listing(0)
        .unwrap()
        .by_id(&id(2))
        .unwrap()
        .name
        .clone();
    let mtime_before = f.index.peek_listing(0).unwrap().changed_at;
    // A rename to the title of another record, a record changed twice, a new record.
    f.source
        .upsert_record("Account", account(2, "Company 4", "renamed", 200));
    f.source
        .upsert_record("Account", account(5, "Company 5", "once", 201));
    f.source
        .upsert_record("Account", account(5, "Company 5", "twice", 202));
    f.source
        .upsert_record("Account", account(9, "Newcomer", "new", 203));
    // Deleted and undeleted between ticks: the latest row (live) wins.
    f.source.delete_record("Account", &id(1), at(204));
    f.source
        .upsert_record("Account", account(1, "Company 1", "back", 205));
    // Deleted for good.
    f.source.delete_record("Account", &id(3), at(206));
    f.engine.tick();

    let names = f.names();
    assert!(!names.contains(&old_name), "{names:?}");
    let both: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("Company 4"))
        .collect();
    assert_eq!(
        both.len(),
        2,
        "a colliding title keeps both files apart by Id: {names:?}"
    );
    assert_eq!(f.body_of(&id(5))["Description"], "twice");
    assert_eq!(f.body_of(&id(9))["Name"], "Newcomer");
    assert_eq!(f.body_of(&id(1))["Description"], "back");
    assert!(names.iter().all(|n| !n.contains(&id(3))), "{names:?}");
    assert_eq!(names.len(), 5);
    assert!(f.index.peek_listing(0).unwrap().changed_at > mtime_before);
    let change = f.changes.lock().unwrap().last().unwrap().1.clone();
    assert_eq!((change.added, change.renamed, change.removed), (1, 1, 1));
    assert!(change.stale_names.contains(&old_name));
    // The lookup of the old name fails, the folder's mtime moved.
    let folder_ino = Filesystem::folder_ino(0);
    assert_eq!(
        f.fs.lookup(folder_ino, OsStr::new(&old_name)),
        Err(FsError::NotFound)
    );
}

#[test]
fn feed_activity_renders_the_parent_again_once() {
    let mut f = fixture(4, |_| {});
    f.source.upsert_record("Account", {
        // The parent's own stamp does not move; its content (here the description standing
        // in for its feed) does.
        let mut record = account(2, "Company 2", "with a new post", 2);
        record.insert("Feeds".into(), json!([{"Body": "fresh post"}]));
        record
    });
    f.source.add_feed_activity(
        "Account",
        FeedActivity {
            id: "0D5000000000001AAA".into(),
            parent_id: id(2),
            modstamp: Some(at(300)),
        },
    );
    let before = f.source.calls().fetches_by_id;
    f.engine.tick();
    assert_eq!(f.body_of(&id(2))["Feeds"][0]["Body"], "fresh post");
    assert_eq!(f.source.calls().fetches_by_id, before + 1);
    // Seen once: the next tick's overlap window does not refetch it.
    f.engine.tick();
    assert_eq!(f.source.calls().fetches_by_id, before + 1);
    // The watermark moved with the feed row's stamp.
    assert_eq!(f.sobject_json()["watermark"], "2019-06-01T00:05:00Z");
}

#[test]
fn a_failed_tick_keeps_the_data_and_the_next_good_one_converges() {
    let mut f = fixture(5, |c| c.interval = Duration::from_secs(2));
    let names = f.names();
    f.source
        .upsert_record("Account", account(4, "Company 4", "during outage", 400));
    f.source.set_failure(Some(SourceError::Unavailable(
        "503 SERVER_UNAVAILABLE".into(),
    )));
    let outcome = f.engine.tick();
    assert!(
        matches!(outcome, TickOutcome::Failed { failed: 1, .. }),
        "{outcome:?}"
    );
    assert_eq!(f.names(), names);
    assert_eq!(f.body_of(&id(4))["Description"], "first");
    let status = f.sobject_json();
    assert!(
        status["lastError"].as_str().unwrap().contains("503"),
        "{status}"
    );
    // Backoff: the wait doubles per failure, up to the cap.
    assert_eq!(f.engine.next_delay(), Duration::from_secs(4));
    f.engine.tick();
    assert_eq!(f.engine.next_delay(), Duration::from_secs(8));
    let overview: Value = serde_json::from_slice(&f.index.status_json()).unwrap();
    assert!(overview["refresh"]["state"]
        .as_str()
        .unwrap()
        .starts_with("failing"));

    f.source.set_failure(None);
    f.engine.tick();
    assert_eq!(f.body_of(&id(4))["Description"], "during outage");
    assert!(f.sobject_json()["lastError"].is_null());
    assert_eq!(f.engine.next_delay(), Duration::from_secs(2));
}

#[test]
fn refresh_pauses_at_the_api_floor_without_calling() {
    let mut f = fixture(3, |c| c.api_floor = ApiFloor::new(80).unwrap());
    f.source
        .set_api_usage(Some(ApiUsage { used: 79, max: 100 }));
    f.engine.tick();
    let batches = f.source.calls().change_batches;
    f.source
        .set_api_usage(Some(ApiUsage { used: 80, max: 100 }));
    assert_eq!(f.engine.tick(), TickOutcome::Paused { used: 80, max: 100 });
    assert_eq!(f.source.calls().change_batches, batches);
    let status: Value = serde_json::from_slice(&f.index.status_json()).unwrap();
    assert!(status["refresh"]["state"]
        .as_str()
        .unwrap()
        .starts_with("paused"));
    assert_eq!(status["apiUsage"]["used"], 80);
    assert_eq!(status["apiUsage"]["max"], 100);
}

#[test]
fn a_paused_refresh_probes_the_usage_once_per_interval_and_resumes() {
    let probe_every = Duration::from_millis(300);
    let mut f = fixture(3, |c| {
        c.api_floor = ApiFloor::new(80).unwrap();
        c.paused_probe_every = probe_every;
    });
    f.source
        .set_api_usage(Some(ApiUsage { used: 90, max: 100 }));
    assert_eq!(f.engine.tick(), TickOutcome::Paused { used: 90, max: 100 });
    // Ticks in quick succession (a short interval, SIGHUPs) ask nothing.
    for _ in 0..5 {
        assert_eq!(f.engine.tick(), TickOutcome::Paused { used: 90, max: 100 });
    }
    assert_eq!(f.source.usage_probes(), 0);
    // Still at the floor when asked: one probe, the fresh figure shown, still paused.
    f.source.set_org_api_usage(ApiUsage { used: 95, max: 100 });
    std::thread::sleep(probe_every);
    assert_eq!(f.engine.tick(), TickOutcome::Paused { used: 95, max: 100 });
    assert_eq!(f.engine.tick(), TickOutcome::Paused { used: 95, max: 100 });
    assert_eq!(f.source.usage_probes(), 1);
    // The usage falls back: the next probe resumes refreshing in the same tick.
    f.source.set_org_api_usage(ApiUsage { used: 10, max: 100 });
    let batches = f.source.calls().change_batches;
    std::thread::sleep(probe_every);
    assert!(matches!(f.engine.tick(), TickOutcome::Refreshed { .. }));
    assert_eq!(f.source.usage_probes(), 2);
    assert_eq!(f.source.calls().change_batches, batches + 1);
    let status: Value = serde_json::from_slice(&f.index.status_json()).unwrap();
    assert_eq!(status["refresh"]["state"], "running", "{status}");
    assert_eq!(status["apiUsage"]["used"], 10);
    // Under the floor no probe is made.
    f.engine.tick();
    assert_eq!(f.source.usage_probes(), 2);
}

#[test]
fn formula_objects_are_reread_whole_on_their_own_schedule() {
    let mut f = fixture(4, |c| c.formula_interval = Duration::from_secs(3600));
    f.source.set_full_refresh_objects(&["Account"]);
    // A formula value changes: same stamp, same size, same mtime, new bytes.
    f.source
        .upsert_record("Account", account(2, "Company 2", "FIRST", 2));
    // Removed without a trace in the change feed (only a full read can see it).
    f.source.remove_record("Account", &id(4));
    let listings = f.source.calls().listings;
    f.engine.tick();
    assert_eq!(f.source.calls().listings, listings, "not due yet");
    assert_eq!(f.body_of(&id(2))["Description"], "first");

    let mut f = fixture(4, |c| c.formula_interval = Duration::ZERO);
    f.source.set_full_refresh_objects(&["Account"]);
    f.source
        .upsert_record("Account", account(2, "Company 2", "FIRST", 2));
    f.source.remove_record("Account", &id(4));
    let listings = f.source.calls().listings;
    f.engine.tick();
    assert_eq!(f.source.calls().listings, listings + 1);
    assert_eq!(f.body_of(&id(2))["Description"], "FIRST");
    assert!(f.names().iter().all(|n| !n.contains(&id(4))));
    let change = f.changes.lock().unwrap().last().unwrap().1.clone();
    assert_eq!((change.updated, change.removed), (1, 1));
    assert!(f.sobject_json()["lastFullRefresh"].is_string());
}

#[test]
fn the_root_status_file_lists_every_folder() {
    let mut f = fixture(2, |_| {});
    f.engine.tick();
    let attr = f.fs.lookup(ROOT_INO, OsStr::new(STATUS_FILE)).unwrap();
    let opened = f.fs.open(attr.ino, false).unwrap();
    let data = f.fs.read(opened.fh, 0, 1 << 20).unwrap();
    let status: Value = serde_json::from_slice(data.as_slice()).unwrap();
    assert_eq!(status["refresh"]["state"], "running");
    assert_eq!(status["refresh"]["intervalSeconds"], 30.0);
    assert_eq!(status["objects"][0]["object"], "Account");
    assert_eq!(status["objects"][0]["state"], "listed");
    assert_eq!(status["objects"][0]["recordCount"], 2);
    assert_eq!(status["objects"][1]["state"], "unlisted");
    assert!(f.fs.open(attr.ino, true).is_err(), "read-only");
}

#[test]
fn stopping_the_refresher_does_not_wait_for_a_slow_org() {
    let f = fixture(3, |_| {});
    f.source.set_latency(Duration::from_secs(30));
    let refresher = sfmount::index::refresh::Refresher::start(
        f.index.clone(),
        RefreshConfig::new(Duration::from_secs(3600)),
        None,
    )
    .unwrap();
    let ticks = f.index.refresh_overview().ticks;
    refresher.refresh_now();
    let started = std::time::Instant::now();
    while f.index.refresh_overview().ticks == ticks {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the tick started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The tick now waits on a 30 s answer; stopping must not.
    let stopping = std::time::Instant::now();
    refresher.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "{:?}",
        stopping.elapsed()
    );
    // The folder is untouched.
    assert_eq!(f.names().len(), 3);
}

#[test]
fn a_file_open_during_a_change_keeps_reading_its_version() {
    let mut f = fixture(3, |_| {});
    let ino = f.index.peek_listing(0).unwrap().by_id(&id(2)).unwrap().ino;
    let opened = f.fs.open(ino, false).unwrap();
    let before =
        f.fs.read(opened.fh, 0, 1 << 20)
            .unwrap()
            .as_slice()
            .to_vec();
    f.source.upsert_record(
        "Account",
        account(2, "Company 2", "a much longer description than before", 500),
    );
    f.engine.tick();
    // The open handle still reads the version it opened, whole.
    let during =
        f.fs.read(opened.fh, 0, 1 << 20)
            .unwrap()
            .as_slice()
            .to_vec();
    assert_eq!(during, before);
    assert_eq!(f.fs.handle_size(opened.fh), Some(before.len() as u64));
    f.fs.release(opened.fh);
    // The name leads to a new inode, the new version; the old inode is stale once closed.
    assert_eq!(f.fs.open(ino, false), Err(FsError::Stale));
    let name = f
        .index
        .peek_listing(0)
        .unwrap()
        .by_id(&id(2))
        .unwrap()
        .name
        .clone();
    let attr =
        f.fs.lookup(Filesystem::folder_ino(0), OsStr::new(&name))
            .unwrap();
    assert_ne!(attr.ino, ino);
    let reopened = f.fs.open(attr.ino, false).unwrap();
    assert_eq!(f.fs.handle_size(reopened.fh), Some(attr.size));
    f.fs.release(reopened.fh);
    assert_eq!(
        f.body_of(&id(2))["Description"],
        "a much longer description than before"
    );
    // Inode numbers survive the change.
    assert_eq!(
        f.index.peek_listing(0).unwrap().by_id(&id(2)).unwrap().ino,
        ino
    );
}

#[test]
fn a_deletion_older_than_the_version_held_is_ignored() {
    let mut f = fixture(3, |_| {});
    // Deleted, then undeleted and fetched in one tick; the old deletion row stays inside the
    // overlap window of later ticks.
    f.source.delete_record("Account", &id(2), at(600));
    f.source
        .upsert_record("Account", account(2, "Company 2", "restored", 601));
    f.engine.tick();
    assert_eq!(f.body_of(&id(2))["Description"], "restored");
    // Later ticks see only the old deletion row (the live row is hidden from the change feed
    // here by dropping its stamp), while the listing holds the newer version.
    let mut unstamped = account(2, "Company 2", "restored", 601);
    unstamped.remove("SystemModstamp");
    f.source.upsert_record("Account", unstamped);
    f.engine.tick();
    f.engine.tick();
    assert_eq!(f.body_of(&id(2))["Description"], "restored");
    assert_eq!(f.names().len(), 3);
}
