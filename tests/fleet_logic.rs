//! A fleet of mounts sharing one store, without FUSE or a database server: three indexes
//! over one in-memory org (which counts calls) and one SQLite store, coordinated through an
//! in-process stand-in for the shared engine's [`Fleet`] (a lead, listing locks, a numbered
//! sequence of published changes). What is checked is the index's side of the fleet: who
//! lists, who refreshes, what followers apply and what it costs; the PostgreSQL engine's
//! side is tested against a real server in `store_postgres.rs` and `mount_fleet.rs`.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::index::refresh::{RefreshConfig, RefreshEngine, TickOutcome};
use sfmount::index::store::{
    Fleet, FleetChange, FolderHeader, FolderInfo, JournalEntry, ListingLock, LocalStore, Published,
    SqliteStore, StoreBatch, StoreError, StoredFolder,
};
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record, SourceCalls,
};

/// What the shared engine keeps for the whole fleet.
#[derive(Default)]
struct Hub {
    leader: Mutex<Option<String>>,
    locked: Mutex<HashSet<String>>,
    unlocked: Condvar,
    published: Mutex<Vec<Published>>,
    woken: Condvar,
}

/// One mount's view of the shared engine.
struct Member {
    store: Arc<SqliteStore>,
    hub: Arc<Hub>,
    id: String,
}

struct HeldListing {
    hub: Arc<Hub>,
    object: String,
}

impl Drop for HeldListing {
    fn drop(&mut self) {
        self.hub.locked.lock().unwrap().remove(&self.object);
        self.hub.unlocked.notify_all();
    }
}

impl Fleet for Member {
    fn member_id(&self) -> &str {
        &self.id
    }

    fn lead(&self) -> Result<bool, StoreError> {
        let mut leader = self.hub.leader.lock().unwrap();
        let holder = leader.get_or_insert_with(|| self.id.clone());
        Ok(*holder == self.id)
    }

    fn lock_listing(&self, object: &str, deadline: Duration) -> Result<ListingLock, StoreError> {
        let until = Instant::now() + deadline;
        let mut locked = self.hub.locked.lock().unwrap();
        while locked.contains(object) {
            let left = until.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "listing lock wait ran out");
            locked = self.hub.unlocked.wait_timeout(locked, left).unwrap().0;
        }
        locked.insert(object.to_string());
        Ok(ListingLock::new(Box::new(HeldListing {
            hub: self.hub.clone(),
            object: object.to_string(),
        })))
    }

    fn publish(&self, change: &FleetChange) -> Result<u64, StoreError> {
        let mut published = self.hub.published.lock().unwrap();
        let seq = published.len() as u64 + 1;
        published.push(Published {
            seq,
            change: change.clone(),
        });
        self.hub.woken.notify_all();
        Ok(seq)
    }

    fn published_since(&self, after: u64, limit: usize) -> Result<Vec<Published>, StoreError> {
        let published = self.hub.published.lock().unwrap();
        Ok(published
            .iter()
            .filter(|p| p.seq > after)
            .take(limit)
            .cloned()
            .collect())
    }

    fn latest_published(&self) -> Result<u64, StoreError> {
        Ok(self.hub.published.lock().unwrap().len() as u64)
    }

    fn oldest_published(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.hub.published.lock().unwrap().first().map(|p| p.seq))
    }

    fn wait_published(&self, timeout: Duration) {
        let published = self.hub.published.lock().unwrap();
        let _ = self.hub.woken.wait_timeout(published, timeout).unwrap();
    }
}

impl LocalStore for Member {
    fn apply(&self, object: &str, batch: &StoreBatch) -> Result<Vec<u64>, StoreError> {
        self.store.apply(object, batch)
    }
    fn get(
        &self,
        object: &str,
        id: &str,
        format: FileFormat,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(object, id, format)
    }
    fn begin_listing(&self, object: &str, header: &FolderHeader) -> Result<(), StoreError> {
        self.store.begin_listing(object, header)
    }
    fn load_folder(&self, object: &str) -> Result<Option<StoredFolder>, StoreError> {
        self.store.load_folder(object)
    }
    fn journal_tail(&self, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        self.store.journal_tail(limit)
    }
    fn info(&self) -> Result<Vec<FolderInfo>, StoreError> {
        self.store.info()
    }
    fn clear(&self) -> Result<(), StoreError> {
        self.store.clear()
    }
    fn fleet(&self) -> Option<&dyn Fleet> {
        Some(self)
    }
}

fn stamp(second: u32) -> String {
    format!(
        "2019-06-01T{:02}:{:02}:{:02}.000+0000",
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}

fn account(sequence: u64, name: &str, second: u32) -> Record {
    let value = json!({
        "attributes": {"type": "Account"},
        "Id": sfmount::sfid::make_id("001", "Fl0", sequence),
        "Name": name,
        "LastModifiedDate": stamp(second),
        "SystemModstamp": stamp(second),
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal"),
    }
}

fn plan() -> ListingPlan {
    ListingPlan {
        fields: vec![
            "Id".into(),
            "Name".into(),
            "LastModifiedDate".into(),
            "SystemModstamp".into(),
        ],
        name_field: Some("Name".into()),
        subqueries: Vec::new(),
    }
}

struct Fleet3 {
    source: Arc<MemorySource>,
    mounts: Vec<(Index, RefreshEngine)>,
    hub: Arc<Hub>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn fleet(count: u64) -> Fleet3 {
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
            .map(|i| account(i, &format!("Company {i}"), i as u32))
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let hub = Arc::new(Hub::default());
    let mounts = (0..3)
        .map(|n| {
            let member = Arc::new(Member {
                store: sqlite.clone(),
                hub: hub.clone(),
                id: format!("mount-{n}"),
            });
            let index = Index::with_store(
                source.clone(),
                runtime.handle().clone(),
                vec![FolderSpec {
                    object: "Account".into(),
                    label: "Accounts".into(),
                    group: Group::Standard,
                    key_prefix: None,
                    custom: false,
                }],
                IndexConfig::new(
                    vec![FileFormat::Json],
                    "https://example.my.salesforce.com".into(),
                ),
                Some(member as Arc<dyn LocalStore>),
            );
            let engine = RefreshEngine::new(
                index.clone(),
                RefreshConfig::new(Duration::from_secs(30)),
                None,
            );
            (index, engine)
        })
        .collect();
    Fleet3 {
        source,
        mounts,
        hub,
        _dir: dir,
        _runtime: runtime,
    }
}

fn names(index: &Index) -> Vec<String> {
    let listing = index.peek_listing(0).expect("listed");
    listing.files().iter().map(|f| f.name.clone()).collect()
}

fn calls_beyond(now: SourceCalls, before: SourceCalls) -> u64 {
    (now.plans - before.plans)
        + (now.listings - before.listings)
        + (now.fetches_by_id - before.fetches_by_id)
        + (now.change_batches - before.change_batches)
}

#[test]
fn a_folder_is_listed_once_for_the_whole_fleet() {
    let f = fleet(50);
    let first = f.mounts[0].0.listing(0).expect("first mount lists");
    let after_first = f.source.calls();
    assert_eq!(after_first.listings, 1);
    for (index, _) in &f.mounts[1..] {
        let listing = index.listing(0).expect("the others read the store");
        assert_eq!(listing.record_count(), first.record_count());
    }
    assert_eq!(
        calls_beyond(f.source.calls(), after_first),
        0,
        "the other mounts made no call"
    );
    assert_eq!(names(&f.mounts[1].0), names(&f.mounts[0].0));
}

#[test]
fn concurrent_first_listings_cost_one_listing() {
    let f = fleet(200);
    std::thread::scope(|scope| {
        for (index, _) in &f.mounts {
            scope.spawn(|| index.listing(0).expect("listed"));
        }
    });
    assert_eq!(f.source.calls().listings, 1, "one mount listed, two waited");
    let counts: Vec<usize> = f
        .mounts
        .iter()
        .map(|(index, _)| index.peek_listing(0).unwrap().record_count())
        .collect();
    assert_eq!(counts, vec![200, 200, 200]);
}

#[test]
fn only_the_leader_asks_the_org_and_followers_apply_what_it_publishes() {
    let mut f = fleet(20);
    for (index, _) in &f.mounts {
        index.listing(0).unwrap();
    }
    // The first to tick takes the lead; the others follow without a call.
    assert!(matches!(
        f.mounts[0].1.tick(),
        TickOutcome::Refreshed { .. }
    ));
    let before = f.source.calls();
    assert_eq!(f.mounts[1].1.tick(), TickOutcome::Following);
    assert_eq!(f.mounts[2].1.tick(), TickOutcome::Following);
    assert_eq!(calls_beyond(f.source.calls(), before), 0);

    f.source
        .upsert_record("Account", account(3, "Renamed Company", 5000));
    f.source.delete_record(
        "Account",
        &sfmount::sfid::make_id("001", "Fl0", 4),
        SystemTime::now(),
    );
    assert!(matches!(
        f.mounts[0].1.tick(),
        TickOutcome::Refreshed { changes, .. } if changes >= 2
    ));
    let leader_names = names(&f.mounts[0].0);
    assert!(leader_names
        .iter()
        .any(|n| n.starts_with("Renamed Company")));
    assert_eq!(leader_names.len(), 19);
    let before = f.source.calls();
    for (index, _) in &f.mounts[1..] {
        assert!(index.follow_published(None) >= 1);
        assert_eq!(
            names(index),
            leader_names,
            "a follower shows what the leader shows"
        );
        let role = index.fleet_role().unwrap();
        assert!(!role.leading);
    }
    assert_eq!(
        calls_beyond(f.source.calls(), before),
        0,
        "following costs no call"
    );
    // Applying again changes nothing.
    assert_eq!(f.mounts[1].0.follow_published(None), 0);
}

#[test]
fn a_follower_takes_the_lead_when_the_leader_is_gone_and_carries_on() {
    let mut f = fleet(10);
    for (index, _) in &f.mounts {
        index.listing(0).unwrap();
    }
    assert!(matches!(
        f.mounts[0].1.tick(),
        TickOutcome::Refreshed { .. }
    ));
    f.source
        .upsert_record("Account", account(2, "Changed Before Takeover", 6000));
    assert!(matches!(
        f.mounts[0].1.tick(),
        TickOutcome::Refreshed { .. }
    ));
    // The leader dies before mount 1 applied anything: its lead is released.
    let (dead, _) = f.mounts.remove(0);
    drop(dead);
    assert_eq!(f.mounts[0].0.fleet_role().unwrap().member, "mount-1");
    release_lead(&f);
    f.source
        .upsert_record("Account", account(5, "Changed After Takeover", 7000));
    // The new leader first applies what the old one published, then refreshes itself.
    assert!(matches!(
        f.mounts[0].1.tick(),
        TickOutcome::Refreshed { .. }
    ));
    let now = names(&f.mounts[0].0);
    assert!(now.iter().any(|n| n.starts_with("Changed Before Takeover")));
    assert!(now.iter().any(|n| n.starts_with("Changed After Takeover")));
    assert!(f.mounts[0].0.fleet_role().unwrap().leading);
    // And the remaining follower sees both.
    f.mounts[1].0.follow_published(None);
    assert_eq!(names(&f.mounts[1].0), now);
}

fn sobject(index: &Index) -> Value {
    serde_json::from_slice(&index.sobject_json(0).unwrap()).unwrap()
}

#[test]
fn a_quiet_tick_of_the_leader_keeps_followers_fresh() {
    let mut f = fleet(5);
    for (index, _) in &f.mounts {
        index.listing(0).unwrap();
    }
    // A second later than the listing (the status files show whole seconds), so the
    // tick's time is told apart from the listing's.
    std::thread::sleep(Duration::from_millis(1100));
    assert!(matches!(
        f.mounts[0].1.tick(),
        TickOutcome::Refreshed { changes: 0, .. }
    ));
    let leader = sobject(&f.mounts[0].0);
    let follower_before = sobject(&f.mounts[1].0);
    assert_ne!(follower_before["lastRefresh"], leader["lastRefresh"]);
    f.mounts[1].0.follow_published(None);
    let follower = sobject(&f.mounts[1].0);
    assert_eq!(follower["lastRefresh"], leader["lastRefresh"], "{follower}");
    assert!(follower["stale"].is_null(), "{follower}");
}

/// What the database does when the leader's session ends: its lead is free.
fn release_lead(f: &Fleet3) {
    *f.hub.leader.lock().unwrap() = None;
}
