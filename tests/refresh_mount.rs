//! Background refresh through real mounts: an in-process fake org changed through its REST
//! API while mounted, and the mount (index + filesystem + FUSE + refresher, wired as `sfmount
//! mount` wires them, with a 1 s interval) following it.

mod mount_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fake_org::{FakeOrg, Faults};
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::invalidate::start_invalidator;
use sfmount::fs::Filesystem;
use sfmount::index::refresh::{RefreshConfig, Refresher};
use sfmount::index::salesforce_source::{key_prefix, ClientSource};
use sfmount::index::{FileFormat, FolderSpec, Index, IndexConfig, RefreshState};

use mount_support::rest::Rest;
use mount_support::*;

const INTERVAL: Duration = Duration::from_secs(1);
/// Interval + margin: a change must show within this. The margin covers a tick's queries and
/// fetch on a loaded 2-core machine running other test binaries.
const VISIBLE_WITHIN: Duration = Duration::from_secs(6);

struct Mounted {
    refresher: Option<Refresher>,
    session: Option<fuser::BackgroundSession>,
    dir: tempfile::TempDir,
    index: Index,
    /// Kept alive: the index's requests run on it.
    _runtime: tokio::runtime::Runtime,
    org: FakeOrg,
    rest: Rest,
}

impl Mounted {
    fn folder(&self, object: &str) -> PathBuf {
        self.dir.path().join("Standard Objects").join(object)
    }

    fn refresh_now_and_wait(&self) {
        let before = self.index.refresh_overview().ticks;
        self.refresher.as_ref().unwrap().refresh_now();
        wait_until("a refresh tick", Duration::from_secs(30), || {
            let overview = self.index.refresh_overview();
            // A tick is counted when it starts: wait for it to finish (state written after).
            overview.ticks > before && overview.last_tick.is_some() && self.tick_done(before)
        });
    }

    fn tick_done(&self, before: u64) -> bool {
        let overview = self.index.refresh_overview();
        overview.ticks > before
            && (overview.last_success >= overview.last_tick
                || overview.consecutive_failures > 0
                || matches!(overview.state, RefreshState::Paused { .. }))
    }

    fn rest<T>(&self, f: impl FnOnce(&Rest) -> T) -> T {
        f(&self.rest)
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(refresher) = self.refresher.take() {
            refresher.stop();
        }
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
        force_unmount(self.dir.path());
    }
}

fn mount_org(records: usize, objects: &[&str], interval: Duration) -> Option<Mounted> {
    mount_org_with(records, objects, RefreshConfig::new(interval))
}

fn mount_org_with(records: usize, objects: &[&str], refresh: RefreshConfig) -> Option<Mounted> {
    if !fuse_available("refresh_mount") {
        return None;
    }
    let ConnectedOrg {
        org,
        runtime,
        client,
        global,
    } = connect_fake_org(records);
    let folders = objects
        .iter()
        .map(|object| FolderSpec {
            object: object.to_string(),
            label: object.to_string(),
            group: Group::Standard,
            key_prefix: key_prefix(&global, object),
            custom: false,
        })
        .collect();
    let config = IndexConfig::new(vec![FileFormat::Json], client.instance_url());
    let index = Index::new(
        Arc::new(ClientSource::new(client)),
        runtime.handle().clone(),
        folders,
        config,
    );
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index.clone()));
    let session = spawn_mount(fs.clone(), dir.path(), &MountConfig::default()).expect("mount");
    assert!(wait_for_mount(dir.path(), Duration::from_secs(20)));
    let listener = start_invalidator(session.notifier(), fs).unwrap();
    let refresher = Refresher::start(index.clone(), refresh, Some(listener)).expect("refresher");
    let rest = Rest::login(&org);
    Some(Mounted {
        refresher: Some(refresher),
        session: Some(session),
        dir,
        index,
        _runtime: runtime,
        org,
        rest,
    })
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if done() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The file of the record with this Id in `folder`, if listed.
fn file_of(folder: &Path, id: &str) -> Option<PathBuf> {
    file_names(folder)
        .into_iter()
        .find(|name| name.contains(&format!("[{id}]")))
        .map(|name| folder.join(name))
}

/// Reads a record file and checks its size agrees with its bytes.
fn read_record(path: &Path) -> Option<(Vec<u8>, Value)> {
    let bytes = std::fs::read(path).ok()?;
    let value: Value = serde_json::from_slice(&bytes).expect("a whole JSON record");
    Some((bytes, value))
}

fn assert_size_matches(path: &Path) {
    // The kernel may hold the old size for its TTL; once settled, stat agrees with read.
    wait_until("stat size equals content length", VISIBLE_WITHIN, || {
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        std::fs::read(path).is_ok_and(|bytes| bytes.len() as u64 == meta.len())
    });
}

#[test]
fn updates_renames_creates_deletes_undeletes_and_feed_changes_show_up() {
    let Some(m) = mount_org(30, &["Account", "Case"], INTERVAL) else {
        return;
    };
    let accounts = m.folder("Account");
    let cases = m.folder("Case");
    let first = names(&accounts);
    assert!(first.len() > 30);
    names(&cases);
    let folder_mtime = std::fs::metadata(&accounts).unwrap().modified().unwrap();

    // Update a field.
    let victim = &first[1];
    let id = victim
        .rsplit_once('[')
        .unwrap()
        .1
        .trim_end_matches("].json")
        .to_string();
    m.rest(|r| r.update("Account", &id, json!({"Description": "refreshed 4e1b"})));
    let took = wait_until("an updated field", VISIBLE_WITHIN, || {
        read_record(&accounts.join(victim))
            .is_some_and(|(_, v)| v["Description"] == "refreshed 4e1b")
    });
    println!("update visible after {took:?}");
    assert_size_matches(&accounts.join(victim));

    // Rename: a new title gives a new file name; the old one goes.
    m.rest(|r| r.update("Account", &id, json!({"Name": "Renamed Holdings 9c2d"})));
    let took = wait_until("a renamed record", VISIBLE_WITHIN, || {
        file_of(&accounts, &id)
            .is_some_and(|p| p.to_string_lossy().contains("Renamed Holdings 9c2d"))
    });
    println!("rename visible after {took:?}");
    // The listing shows the new name as soon as the index has it; the old name's kernel
    // dentry goes when the invalidation thread delivers its notice, so it is awaited
    // rather than checked in the same instant.
    wait_until("the old name is gone", VISIBLE_WITHIN, || {
        !accounts.join(victim).exists()
    });
    let renamed = file_of(&accounts, &id).unwrap();
    assert_size_matches(&renamed);

    // Create.
    let new_id = m.rest(|r| r.create("Account", json!({"Name": "Fresh Account 7f3a"})));
    let took = wait_until("a created record", VISIBLE_WITHIN, || {
        file_of(&accounts, &new_id).is_some()
    });
    println!("create visible after {took:?}");
    let created = file_of(&accounts, &new_id).unwrap();
    assert!(created.to_string_lossy().contains("Fresh Account 7f3a"));
    assert_size_matches(&created);
    let moved = std::fs::metadata(&accounts).unwrap().modified().unwrap();
    assert!(
        moved > folder_mtime,
        "the folder's mtime moved with its membership"
    );

    // Delete, then undelete.
    m.rest(|r| r.delete("Account", &new_id));
    let took = wait_until("a deleted record", VISIBLE_WITHIN, || {
        file_of(&accounts, &new_id).is_none() && !created.exists()
    });
    println!("delete visible after {took:?}");
    m.rest(|r| r.undelete(&new_id));
    let took = wait_until("an undeleted record", VISIBLE_WITHIN, || {
        file_of(&accounts, &new_id).is_some()
    });
    println!("undelete visible after {took:?}");
    assert_size_matches(&file_of(&accounts, &new_id).unwrap());

    // A feed item, then a comment on it, update the case's file.
    let case_name = names(&cases)
        .into_iter()
        .find(|n| n.ends_with(".json") && n != ".sobject.json")
        .unwrap();
    let case_id = case_name
        .rsplit_once('[')
        .unwrap()
        .1
        .trim_end_matches("].json")
        .to_string();
    let item_id = m.rest(|r| {
        r.create(
            "FeedItem",
            json!({"ParentId": case_id, "Type": "TextPost", "Body": "fresh post 5d0e"}),
        )
    });
    let took = wait_until("a new feed item", VISIBLE_WITHIN, || {
        file_of(&cases, &case_id)
            .and_then(|p| std::fs::read(p).ok())
            .is_some_and(|b| String::from_utf8_lossy(&b).contains("fresh post 5d0e"))
    });
    println!("feed item visible after {took:?}");
    let comment_id = m.rest(|r| {
        r.create(
            "FeedComment",
            json!({"FeedItemId": item_id, "CommentBody": "fresh comment 81c2"}),
        )
    });
    let took = wait_until("a new feed comment", VISIBLE_WITHIN, || {
        file_of(&cases, &case_id)
            .and_then(|p| std::fs::read(p).ok())
            .is_some_and(|b| String::from_utf8_lossy(&b).contains("fresh comment 81c2"))
    });
    println!("feed comment visible after {took:?}");
    assert_size_matches(&file_of(&cases, &case_id).unwrap());
    // A deleted comment leaves the case's file too (queryAll sees the deletion).
    m.rest(|r| r.delete("FeedComment", &comment_id));
    let took = wait_until("a deleted feed comment", VISIBLE_WITHIN, || {
        file_of(&cases, &case_id)
            .and_then(|p| std::fs::read(p).ok())
            .is_some_and(|b| {
                let text = String::from_utf8_lossy(&b);
                text.contains("fresh post 5d0e") && !text.contains("fresh comment 81c2")
            })
    });
    println!("feed comment deletion visible after {took:?}");

    // Status: .sobject.json and the root status file say how fresh the folder is.
    let sobject: Value =
        serde_json::from_slice(&std::fs::read(accounts.join(".sobject.json")).unwrap()).unwrap();
    assert!(sobject["lastRefresh"].is_string(), "{sobject}");
    assert!(sobject["watermark"].is_string(), "{sobject}");
    assert!(sobject["lastError"].is_null(), "{sobject}");
    assert_eq!(
        sobject["recordCount"].as_u64().unwrap() as usize,
        file_names(&accounts).len() - 1
    );
    assert!(sobject["refreshChanges"]["added"].as_u64().unwrap() >= 2);
    let status: Value =
        serde_json::from_slice(&std::fs::read(m.dir.path().join(".sfmount-status.json")).unwrap())
            .unwrap();
    assert_eq!(status["refresh"]["state"], "running", "{status}");
    assert!(status["apiUsage"]["used"].as_u64().unwrap() > 0, "{status}");
    assert_eq!(status["apiUsage"]["max"], 100_000);
    assert_eq!(status["objects"][0]["object"], "Account");
    assert_eq!(status["objects"][0]["state"], "listed");
}

#[test]
fn sixteen_readers_during_refresh_never_see_a_torn_file() {
    let Some(m) = mount_org(20, &["Account"], INTERVAL) else {
        return;
    };
    let accounts = m.folder("Account");
    let name = names(&accounts)[1].clone();
    let path = accounts.join(&name);
    let id = name
        .rsplit_once('[')
        .unwrap()
        .1
        .trim_end_matches("].json")
        .to_string();
    let original = read_record(&path).unwrap().1["Description"].to_string();
    let versions: Vec<String> = (0..8)
        .map(|i| format!("version {i} {}", "x".repeat(i * 97)))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let path = path.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut reads = 0u64;
                let mut seen = std::collections::HashSet::new();
                while !stop.load(Ordering::Relaxed) {
                    let bytes = std::fs::read(&path).expect("read during refresh");
                    let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!("torn file ({e}): {}", String::from_utf8_lossy(&bytes))
                    });
                    seen.insert(value["Description"].to_string());
                    reads += 1;
                }
                (reads, seen)
            })
        })
        .collect();
    for version in &versions {
        m.rest(|r| r.update("Account", &id, json!({ "Description": version })));
        std::thread::sleep(Duration::from_millis(700));
    }
    let last = versions.last().unwrap().clone();
    wait_until("the last version", VISIBLE_WITHIN, || {
        read_record(&path).is_some_and(|(_, v)| v["Description"] == last.as_str())
    });
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut all_seen = std::collections::HashSet::new();
    for reader in readers {
        let (reads, seen) = reader.join().expect("reader");
        total += reads;
        for description in seen {
            let known = description == original
                || versions.iter().any(|v| description == format!("\"{v}\""));
            assert!(known, "a version never written: {description}");
            all_seen.insert(description);
        }
    }
    println!(
        "{total} whole reads by 16 readers saw {} of the {} versions",
        all_seen.len(),
        versions.len() + 1
    );
    // The readers really ran across refreshes, not just before or after them.
    assert!(all_seen.len() >= 4, "{all_seen:?}");
    assert_size_matches(&path);
}

#[test]
fn a_quiet_tick_costs_one_call_per_five_listed_objects_and_no_describe() {
    let objects = [
        "Account",
        "Campaign",
        "Case",
        "Contact",
        "Lead",
        "Opportunity",
    ];
    // A long interval: this test drives the ticks itself.
    let Some(m) = mount_org(20, &objects, Duration::from_secs(3600)) else {
        return;
    };
    for object in objects {
        assert!(names(&m.folder(object)).len() > 1, "{object}");
    }
    // The first tick may fetch rows the listings met inside the overlap window once.
    m.refresh_now_and_wait();
    m.refresh_now_and_wait();
    let before = m.org.stats();
    m.refresh_now_and_wait();
    let after = m.org.stats();
    let calls = after.api_usage - before.api_usage;
    // One query per listed object, five more for Case (feed items, feed comments, emails,
    // tasks, events), five queries per composite call.
    let expected = (objects.len() + 5).div_ceil(5) as u64;
    println!(
        "quiet tick: {calls} API calls for {} listed objects",
        objects.len()
    );
    assert_eq!(calls, expected, "{before:?} -> {after:?}");
    assert_eq!(after.requests.describe, before.requests.describe);
    assert_eq!(
        after.requests.describe_global,
        before.requests.describe_global
    );
    assert_eq!(after.requests.query, before.requests.query);
    assert_eq!(after.requests.query_more, before.requests.query_more);
    assert_eq!(
        after.requests.composite - before.requests.composite,
        expected
    );
}

#[test]
fn a_failing_org_keeps_the_last_data_and_refresh_recovers_by_itself() {
    let Some(m) = mount_org(20, &["Account"], INTERVAL) else {
        return;
    };
    let accounts = m.folder("Account");
    let files = names(&accounts);
    let name = files[1].clone();
    let id = name
        .rsplit_once('[')
        .unwrap()
        .1
        .trim_end_matches("].json")
        .to_string();
    let before = std::fs::read(accounts.join(&name)).unwrap();

    m.org.set_faults(Faults {
        error_rate: Some(1.0),
        ..Faults::default()
    });
    wait_until("a failed tick", Duration::from_secs(30), || {
        m.index.refresh_overview().consecutive_failures > 0
    });
    // The last good data is still served, and the status says what is wrong.
    assert_eq!(names(&accounts), files);
    assert_eq!(std::fs::read(accounts.join(&name)).unwrap(), before);
    let sobject: Value =
        serde_json::from_slice(&std::fs::read(accounts.join(".sobject.json")).unwrap()).unwrap();
    assert!(sobject["lastError"].is_string(), "{sobject}");
    let status: Value =
        serde_json::from_slice(&std::fs::read(m.dir.path().join(".sfmount-status.json")).unwrap())
            .unwrap();
    assert!(
        status["refresh"]["state"]
            .as_str()
            .unwrap()
            .starts_with("failing"),
        "{status}"
    );

    // The org comes back; a change made meanwhile shows without anyone doing anything.
    m.org.set_faults(Faults {
        error_rate: Some(0.0),
        ..Faults::default()
    });
    m.rest(|r| {
        r.update(
            "Account",
            &id,
            json!({"Description": "after the outage 2b7e"}),
        )
    });
    let took = wait_until("recovery", Duration::from_secs(60), || {
        read_record(&accounts.join(&name))
            .is_some_and(|(_, v)| v["Description"] == "after the outage 2b7e")
    });
    println!("recovered after {took:?}");
    wait_until("a clean status", Duration::from_secs(10), || {
        m.index.refresh_overview().consecutive_failures == 0
    });
    let sobject: Value =
        serde_json::from_slice(&std::fs::read(accounts.join(".sobject.json")).unwrap()).unwrap();
    assert!(sobject["lastError"].is_null(), "{sobject}");
}

#[test]
fn refresh_stops_at_the_api_floor_and_keeps_serving() {
    let Some(m) = mount_org(20, &["Account", "Contact"], Duration::from_secs(3600)) else {
        return;
    };
    let accounts = m.folder("Account");
    let files = names(&accounts);
    names(&m.folder("Contact"));
    // 85 % of the daily limit used (the fake org's limit is 100,000).
    m.org.set_faults(Faults {
        api_remaining: Some(15_000),
        ..Faults::default()
    });
    // This tick still runs (the client's figure is older) and brings the new figure home.
    m.refresh_now_and_wait();
    let before = m.org.stats();
    m.refresh_now_and_wait();
    assert_eq!(
        m.org.stats().api_usage,
        before.api_usage,
        "no call at the floor"
    );
    let status: Value =
        serde_json::from_slice(&std::fs::read(m.dir.path().join(".sfmount-status.json")).unwrap())
            .unwrap();
    assert!(
        status["refresh"]["state"]
            .as_str()
            .unwrap()
            .starts_with("paused"),
        "{status}"
    );
    assert_eq!(status["refresh"]["stopsAtApiUsedPercent"], 80.0);
    assert!(
        status["apiUsage"]["used"].as_u64().unwrap() >= 85_000,
        "{status}"
    );
    // Serving goes on.
    assert_eq!(names(&accounts), files);
    read_record(&accounts.join(&files[1])).expect("still readable");
}

#[test]
fn a_paused_refresh_resumes_by_itself_once_the_org_has_calls_again() {
    let mut refresh = RefreshConfig::new(Duration::from_secs(1));
    // Probed every second here (a minute by default), so the test sees it within seconds.
    refresh.paused_probe_every = Duration::from_secs(1);
    let Some(m) = mount_org_with(20, &["Account"], refresh) else {
        return;
    };
    let accounts = m.folder("Account");
    let files = names(&accounts);
    m.org.set_faults(Faults {
        api_remaining: Some(1_000),
        ..Faults::default()
    });
    wait_until("paused at the floor", Duration::from_secs(30), || {
        matches!(
            m.index.refresh_overview().state,
            RefreshState::Paused { .. }
        )
    });
    let paused_stats = m.org.stats().requests;
    // The daily window rolled on: plenty of calls left again. Nothing else calls the org.
    m.org.set_faults(Faults {
        api_remaining: Some(99_000),
        ..Faults::default()
    });
    wait_until("refresh running again", Duration::from_secs(30), || {
        m.index.refresh_overview().state == RefreshState::Running
    });
    let resumed = m.org.stats().requests;
    assert!(
        resumed.limits > paused_stats.limits,
        "a GET /limits probe brought the news"
    );
    let status: Value =
        serde_json::from_slice(&std::fs::read(m.dir.path().join(".sfmount-status.json")).unwrap())
            .unwrap();
    assert!(
        status["apiUsage"]["used"].as_u64().unwrap() < 80_000,
        "the status shows the fresh usage: {status}"
    );
    assert_eq!(names(&accounts), files);
}
