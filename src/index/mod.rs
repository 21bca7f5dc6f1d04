//! The local view of the org: per mounted object its listing (ids, file names, exact sizes,
//! times, stable inode numbers) and a bounded cache of rendered bodies.
//!
//! States of an object folder: unlisted (known from the settings and describeGlobal, no
//! records yet) → loading (one load shared by every caller) → listed. A failed load leaves
//! the folder unlisted with its error recorded; the next access after
//! [`IndexConfig::retry_after_failure`] tries again. Listings are immutable `Arc`s: a
//! change ([`Index::apply_changes`]) builds a new one, so a reader holding the old one (a
//! readdir snapshot) keeps a consistent view.
//!
//! Blocking: the filesystem calls this layer from FUSE worker threads. Network work runs on
//! the tokio runtime given at construction; callers wait for it at most
//! [`IndexConfig::operation_deadline`], then get a deadline error (EIO), while the listing
//! itself may go on in the background (bounded by [`IndexConfig::listing_deadline`]) so a
//! retry finds it done.

pub mod body_cache;
mod present;
pub mod refresh;
pub mod salesforce_source;
pub mod source;

use crate::sync::{self, lock};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use body_cache::BodyCache;
use present::Presenter;
pub use source::{
    ApiUsageFigure, ChangeRequest, ChangedRow, FeedActivity, ListingPlan, MemorySource,
    ObjectChanges, ObjectSource, Record, RecordSink, SourceCalls, SourceError, SourceFuture,
};

/// Record files have inode numbers at or above this: `(folder + 1) << RECORD_INO_SHIFT |
/// sequence`. The bits below leave room for 2^40 files per folder (far beyond any org), the
/// bits above for 2^23 folders, and everything below `1 << RECORD_INO_SHIFT` is free for the
/// filesystem's own directories and status files.
pub const RECORD_INO_SHIFT: u32 = 40;

/// Kept in `index` too: the index's configuration speaks of it, and callers import it here.
pub use crate::render::FileFormat;

/// A mounted object, known before any record is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSpec {
    /// API name, also the folder's name.
    pub object: String,
    pub label: String,
    /// The group folder it lives in ("Standard Objects" or "Custom Objects").
    pub group_folder: String,
    pub key_prefix: Option<String>,
    pub custom: bool,
}

#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// One file per record per format, in this order.
    pub formats: Vec<FileFormat>,
    /// Base of each record's link in the text view.
    pub instance_url: String,
    /// How long a filesystem operation waits for the network before failing with EIO.
    pub operation_deadline: Duration,
    /// How long a whole listing (all pages of one object) may take in the background.
    pub listing_deadline: Duration,
    /// Byte budget of rendered bodies kept in memory.
    pub body_cache_bytes: usize,
    /// How many records a body miss fetches at once (the missing one and the ones after it).
    pub neighbour_batch: usize,
    /// After a failed listing, accesses within this time get the same error without a new
    /// request, so `ls` in a loop against a down org does not spend API calls.
    pub retry_after_failure: Duration,
}

impl IndexConfig {
    /// 256 MiB keeps every body of a typical mount (six objects of tens of thousands of
    /// records of a few KiB) in memory, while a huge org degrades to re-fetching rather than
    /// exhausting the machine.
    pub const DEFAULT_BODY_CACHE_BYTES: usize = 256 << 20;
    /// 200 Ids of 18 characters make a query of about 4.5 KB, well within the 16 KB URI
    /// limit, and cover what a sequential reader (grep -r) reads next.
    pub const DEFAULT_NEIGHBOUR_BATCH: usize = 200;
    /// A user waiting on `ls` gives up long before this; it is longer than the client's
    /// request timeout (30 s) so one slow request with a retry can still succeed.
    pub const DEFAULT_OPERATION_DEADLINE: Duration = Duration::from_secs(60);
    /// 100,000 records are 50 pages; even at 2 s a page that is under 2 minutes, so 10
    /// minutes only stops a load that is truly stuck.
    pub const DEFAULT_LISTING_DEADLINE: Duration = Duration::from_secs(600);
    pub const DEFAULT_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

    pub fn new(formats: Vec<FileFormat>, instance_url: String) -> IndexConfig {
        IndexConfig {
            formats,
            instance_url,
            operation_deadline: Self::DEFAULT_OPERATION_DEADLINE,
            listing_deadline: Self::DEFAULT_LISTING_DEADLINE,
            body_cache_bytes: Self::DEFAULT_BODY_CACHE_BYTES,
            neighbour_batch: Self::DEFAULT_NEIGHBOUR_BATCH,
            retry_after_failure: Self::DEFAULT_RETRY_AFTER_FAILURE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{object}: no answer from Salesforce within {seconds} s")]
    Deadline { object: String, seconds: u64 },
    #[error("no such folder")]
    NoSuchFolder,
    #[error("no such file")]
    NoSuchFile,
    #[error("{object}: internal error while listing: {message}")]
    Internal { object: String, message: String },
}

/// One file of a listed folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub ino: u64,
    pub name: String,
    pub id: Arc<str>,
    pub format: FileFormat,
    /// Exact length of the rendered body.
    pub size: u64,
    /// The record's LastModifiedDate.
    pub mtime: SystemTime,
    /// The record's CreatedDate.
    pub ctime: SystemTime,
    /// The record's SystemModstamp (LastModifiedDate when it has none): a refresh skips a
    /// changed row whose stamp is not newer than this (rows are applied once per version).
    pub modstamp: Option<SystemTime>,
    /// Hash of the rendered body: a change that keeps size and mtime (a formula value, a
    /// feed comment of the same length) is still seen as a change.
    pub digest: u64,
}

/// An immutable listing of one folder, in the order the org returned its records.
#[derive(Debug)]
pub struct Listing {
    files: Vec<FileEntry>,
    by_name: HashMap<String, u32>,
    by_ino: HashMap<u64, u32>,
    /// Id -> position of the record's first file.
    by_id: HashMap<Arc<str>, u32>,
    record_count: usize,
    pub plan: ListingPlan,
    /// When the records were last read from the org.
    pub refreshed_at: SystemTime,
    /// When the set of file names last changed (the folder's mtime).
    pub changed_at: SystemTime,
    /// The latest SystemModstamp (or LastModifiedDate) among the records read: where an
    /// incremental refresh starts.
    pub watermark: Option<SystemTime>,
}

impl Listing {
    fn new(
        files: Vec<FileEntry>,
        plan: ListingPlan,
        refreshed_at: SystemTime,
        changed_at: SystemTime,
    ) -> Listing {
        let by_name = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i as u32))
            .collect();
        let by_ino = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.ino, i as u32))
            .collect();
        let mut by_id: HashMap<Arc<str>, u32> = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            by_id.entry(f.id.clone()).or_insert(i as u32);
        }
        let record_count = by_id.len();
        Listing {
            files,
            by_name,
            by_ino,
            by_id,
            record_count,
            plan,
            refreshed_at,
            changed_at,
            watermark: None,
        }
    }

    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    pub fn by_name(&self, name: &str) -> Option<&FileEntry> {
        self.by_name.get(name).map(|&i| &self.files[i as usize])
    }

    pub fn by_ino(&self, ino: u64) -> Option<&FileEntry> {
        self.by_ino.get(&ino).map(|&i| &self.files[i as usize])
    }

    pub fn position_of(&self, ino: u64) -> Option<usize> {
        self.by_ino.get(&ino).map(|&i| i as usize)
    }

    pub fn record_count(&self) -> usize {
        self.record_count
    }

    /// The first file of the record with this Id.
    pub fn by_id(&self, id: &str) -> Option<&FileEntry> {
        self.by_id.get(id).map(|&i| &self.files[i as usize])
    }

    /// Every record Id of the listing, in listing order.
    pub fn ids(&self) -> impl Iterator<Item = &Arc<str>> + '_ {
        self.files
            .iter()
            .enumerate()
            .filter(|(i, f)| self.by_id.get(&f.id) == Some(&(*i as u32)))
            .map(|(_, f)| &f.id)
    }
}

/// Where a folder is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderState {
    Unlisted,
    Loading,
    Listed,
}

/// What happened to a folder in one [`Index::apply_changes`], and what the kernel must
/// forget (for a refresher to send through fuser's notifier).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSummary {
    pub added: usize,
    pub updated: usize,
    pub renamed: usize,
    pub removed: usize,
    /// Files whose content or size changed, or that are gone (`inval_inode`).
    pub stale_inodes: Vec<u64>,
    /// Names no longer in the folder: removed files and old names of renamed ones
    /// (`inval_entry` on the folder).
    pub stale_names: Vec<String>,
}

impl ChangeSummary {
    pub fn membership_changed(&self) -> bool {
        self.added + self.renamed + self.removed > 0
    }
}

#[derive(Debug, Clone)]
struct Failure {
    error: IndexError,
    at: Instant,
    wall: SystemTime,
}

/// Where background refresh of one folder stands (shown in its `.sobject.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderRefresh {
    /// When a refresh tick last brought this folder up to date with the org.
    pub last_success: Option<SystemTime>,
    /// Where the next incremental query starts (before the overlap window is taken off).
    pub watermark: Option<SystemTime>,
    /// The last refresh failure, kept until a refresh succeeds.
    pub last_error: Option<(String, SystemTime)>,
    /// When the folder was last read whole (its first listing or a formula refresh).
    pub last_full_refresh: Option<SystemTime>,
    /// Changes applied by refreshes since mount: added, updated, renamed, removed.
    pub applied: [u64; 4],
}

/// Where the background refresher as a whole stands (shown in the root status file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshOverview {
    /// "off", "running", "paused: ..." or "failing: ..." — one line for people.
    pub state: String,
    pub interval: Option<Duration>,
    pub formula_interval: Option<Duration>,
    /// Share of the daily API limit at which background refresh stops.
    pub api_floor_used_fraction: Option<f64>,
    pub last_tick: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub consecutive_failures: u32,
    pub ticks: u64,
}

#[derive(Debug, Default)]
struct FolderStatus {
    listing: Option<Arc<Listing>>,
    refresh: FolderRefresh,
    loading: bool,
    /// Bumped when a load ends, so waiters can tell "my load failed" from a spurious wakeup.
    loads_finished: u64,
    last_failure: Option<Failure>,
}

struct Folder {
    spec: FolderSpec,
    status: Mutex<FolderStatus>,
    load_done: Condvar,
    /// Serialises listing rewrites, so two concurrent changes cannot lose each other.
    rewrite: Mutex<()>,
    next_seq: AtomicU64,
    /// Inodes whose bodies are being fetched again, so concurrent readers of the same
    /// neighbourhood wait for one fetch instead of each making their own.
    refetching: Mutex<HashSet<u64>>,
    refetch_done: Condvar,
}

/// Takes a batch of inodes out of the in-flight set when the fetch ends, however it ends.
struct RefetchGuard<'a> {
    folder: &'a Folder,
    inodes: Vec<u64>,
}

impl Drop for RefetchGuard<'_> {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.folder.refetching);
        for ino in &self.inodes {
            in_flight.remove(ino);
        }
        self.folder.refetch_done.notify_all();
    }
}

struct Shared {
    source: Arc<dyn ObjectSource>,
    runtime: tokio::runtime::Handle,
    folders: Vec<Folder>,
    config: IndexConfig,
    bodies: Mutex<BodyCache>,
    mounted_at: SystemTime,
    overview: Mutex<RefreshOverview>,
    /// Inodes whose content changed recently, and when: the kernel may still hold their old
    /// size for up to its attribute TTL, so opens of these read past it (direct I/O).
    recent_changes: Mutex<HashMap<u64, Instant>>,
}

/// How long after a change an open bypasses the kernel's cached size: well over the kernel
/// TTL (1 s) plus the time an invalidation takes to reach the kernel on a loaded machine.
pub const RECENT_CHANGE_WINDOW: Duration = Duration::from_secs(10);

/// The index of every mounted object. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Index {
    shared: Arc<Shared>,
}

impl Index {
    /// `runtime` runs the source's futures; the index must be used from threads outside it
    /// (FUSE workers, test threads), since callers block waiting for results.
    pub fn new(
        source: Arc<dyn ObjectSource>,
        runtime: tokio::runtime::Handle,
        folders: Vec<FolderSpec>,
        config: IndexConfig,
    ) -> Index {
        let folders = folders
            .into_iter()
            .map(|spec| Folder {
                spec,
                status: Mutex::new(FolderStatus::default()),
                load_done: Condvar::new(),
                rewrite: Mutex::new(()),
                refetching: Mutex::new(HashSet::new()),
                refetch_done: Condvar::new(),
                next_seq: AtomicU64::new(1),
            })
            .collect();
        Index {
            shared: Arc::new(Shared {
                source,
                runtime,
                folders,
                bodies: Mutex::new(BodyCache::new(config.body_cache_bytes)),
                config,
                mounted_at: SystemTime::now(),
                overview: Mutex::new(RefreshOverview {
                    state: "off".to_string(),
                    ..RefreshOverview::default()
                }),
                recent_changes: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn config(&self) -> &IndexConfig {
        &self.shared.config
    }

    pub fn mounted_at(&self) -> SystemTime {
        self.shared.mounted_at
    }

    pub fn folder_count(&self) -> usize {
        self.shared.folders.len()
    }

    pub fn folder_spec(&self, folder: usize) -> Option<&FolderSpec> {
        self.shared.folders.get(folder).map(|f| &f.spec)
    }

    /// The folder a record file's inode belongs to.
    pub fn folder_of_ino(&self, ino: u64) -> Option<usize> {
        let folder = (ino >> RECORD_INO_SHIFT).checked_sub(1)? as usize;
        (folder < self.shared.folders.len()).then_some(folder)
    }

    pub fn state(&self, folder: usize) -> FolderState {
        let Some(f) = self.shared.folders.get(folder) else {
            return FolderState::Unlisted;
        };
        let status = lock(&f.status);
        match (&status.listing, status.loading) {
            (Some(_), _) => FolderState::Listed,
            (None, true) => FolderState::Loading,
            (None, false) => FolderState::Unlisted,
        }
    }

    /// The folder's listing if it has one, without loading it.
    pub fn peek_listing(&self, folder: usize) -> Option<Arc<Listing>> {
        let f = self.shared.folders.get(folder)?;
        lock(&f.status).listing.clone()
    }

    /// The folder's listing, loading it first if needed (one load shared by all callers).
    pub fn listing(&self, folder: usize) -> Result<Arc<Listing>, IndexError> {
        let f = self
            .shared
            .folders
            .get(folder)
            .ok_or(IndexError::NoSuchFolder)?;
        let deadline = Instant::now() + self.shared.config.operation_deadline;
        let mut status = lock(&f.status);
        loop {
            if let Some(listing) = &status.listing {
                return Ok(listing.clone());
            }
            if !status.loading {
                if let Some(failure) = &status.last_failure {
                    if failure.at.elapsed() < self.shared.config.retry_after_failure {
                        return Err(failure.error.clone());
                    }
                }
                status.loading = true;
                self.start_load(folder);
            }
            let loads_before = status.loads_finished;
            let now = Instant::now();
            if now >= deadline {
                return Err(IndexError::Deadline {
                    object: f.spec.object.clone(),
                    seconds: self.shared.config.operation_deadline.as_secs(),
                });
            }
            status = sync::wait_timeout(&f.load_done, status, deadline - now);
            if status.loads_finished != loads_before && status.listing.is_none() {
                if let Some(failure) = &status.last_failure {
                    return Err(failure.error.clone());
                }
            }
        }
    }

    fn start_load(&self, folder: usize) {
        let shared = self.shared.clone();
        let runtime = self.shared.runtime.clone();
        self.shared.runtime.spawn(async move {
            let object = shared.folders[folder].spec.object.clone();
            let work_shared = shared.clone();
            let work = runtime.spawn(async move {
                let deadline = work_shared.config.listing_deadline;
                match tokio::time::timeout(deadline, load_listing(&work_shared, folder)).await {
                    Ok(result) => result,
                    Err(_) => Err(IndexError::Deadline {
                        object: work_shared.folders[folder].spec.object.clone(),
                        seconds: deadline.as_secs(),
                    }),
                }
            });
            // Awaiting the spawned work turns a panic in rendering into an error here, so
            // waiters are always woken and the folder never stays "loading" forever.
            let result = match work.await {
                Ok(result) => result,
                Err(join_error) => Err(IndexError::Internal {
                    object: object.clone(),
                    message: join_error.to_string(),
                }),
            };
            let f = &shared.folders[folder];
            let mut status = lock(&f.status);
            status.loading = false;
            status.loads_finished += 1;
            match result {
                Ok(listing) => {
                    tracing::info!(
                        object = %object,
                        records = listing.record_count(),
                        "listed"
                    );
                    status.refresh.last_full_refresh = Some(listing.refreshed_at);
                    status.listing = Some(Arc::new(listing));
                    status.last_failure = None;
                }
                Err(error) => {
                    tracing::warn!(object = %object, error = %error, "listing failed");
                    status.last_failure = Some(Failure {
                        error,
                        at: Instant::now(),
                        wall: SystemTime::now(),
                    });
                }
            }
            f.load_done.notify_all();
        });
    }

    /// The rendered body of a record file. From memory when cached; otherwise the record and
    /// the ones after it in listing order are fetched again (one request) and re-rendered.
    pub fn body(&self, folder: usize, ino: u64) -> Result<Arc<[u8]>, IndexError> {
        if let Some(body) = lock(&self.shared.bodies).get(ino) {
            return Ok(body);
        }
        let listing = self.listing(folder)?;
        let f = &self.shared.folders[folder];
        let deadline = Instant::now() + self.shared.config.operation_deadline;
        let mut in_flight = lock(&f.refetching);
        while in_flight.contains(&ino) {
            let now = Instant::now();
            if now >= deadline {
                return Err(IndexError::Deadline {
                    object: f.spec.object.clone(),
                    seconds: self.shared.config.operation_deadline.as_secs(),
                });
            }
            in_flight = sync::wait_timeout(&f.refetch_done, in_flight, deadline - now);
        }
        // Someone else's fetch may have brought it while we waited.
        if let Some(body) = lock(&self.shared.bodies).get(ino) {
            return Ok(body);
        }
        let listing = self.peek_listing(folder).unwrap_or(listing);
        let position = listing.position_of(ino).ok_or(IndexError::NoSuchFile)?;
        let mut ids: Vec<String> = Vec::with_capacity(self.shared.config.neighbour_batch);
        let mut inodes: Vec<u64> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for file in &listing.files()[position..] {
            if seen.insert(&file.id) {
                if ids.len() >= self.shared.config.neighbour_batch {
                    break;
                }
                ids.push(file.id.to_string());
            }
            inodes.push(file.ino);
        }
        in_flight.extend(inodes.iter().copied());
        drop(in_flight);
        let _guard = RefetchGuard { folder: f, inodes };
        let records = self.fetch_by_ids(folder, ids.clone())?;
        let returned: HashSet<String> = records
            .iter()
            .filter_map(|r| r.get("Id").and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        let gone: Vec<String> = ids
            .into_iter()
            .filter(|id| !returned.contains(id))
            .collect();
        let rendered = self.apply_records(folder, records, &gone)?;
        rendered
            .into_iter()
            .find(|(rendered_ino, _)| *rendered_ino == ino)
            .map(|(_, body)| body)
            .ok_or(IndexError::NoSuchFile)
    }

    fn fetch_by_ids(&self, folder: usize, ids: Vec<String>) -> Result<Vec<Record>, IndexError> {
        let spec = &self.shared.folders[folder].spec;
        let object = spec.object.clone();
        let source = self.shared.source.clone();
        let deadline = self.shared.config.operation_deadline;
        let (sender, receiver) = std::sync::mpsc::channel();
        self.shared.runtime.spawn(async move {
            let mut records = Vec::new();
            let mut sink = |page: Vec<Record>| records.extend(page);
            let fetch = source.fetch(&object, Some(&ids), &mut sink);
            let result = match tokio::time::timeout(deadline, fetch).await {
                Ok(Ok(())) => Ok(records),
                Ok(Err(error)) => Err(IndexError::Source(error)),
                Err(_) => Err(IndexError::Source(SourceError::Timeout)),
            };
            // The receiver may have given up at its own deadline; nothing to do then.
            let _ = sender.send(result);
        });
        // A little slack over the task's own timeout, so the task's answer normally wins.
        match receiver.recv_timeout(deadline + Duration::from_secs(1)) {
            Ok(result) => result,
            Err(_) => Err(IndexError::Deadline {
                object: spec.object.clone(),
                seconds: deadline.as_secs(),
            }),
        }
    }

    /// Applies records changed in the org (new content, new title, new records) and the Ids
    /// of deleted records to a listed folder: inode numbers are kept per (Id, format), the
    /// folder's mtime moves when file names come or go. A folder not listed yet is left
    /// alone (its first listing will read everything).
    pub fn apply_changes(
        &self,
        folder: usize,
        changed: Vec<Record>,
        deleted: &[String],
    ) -> Result<ChangeSummary, IndexError> {
        let f = self
            .shared
            .folders
            .get(folder)
            .ok_or(IndexError::NoSuchFolder)?;
        let _rewrite = lock(&f.rewrite);
        let Some(old) = lock(&f.status).listing.clone() else {
            return Ok(ChangeSummary::default());
        };
        let (summary, _) = self.rewrite_listing(folder, &old, changed, deleted);
        Ok(summary)
    }

    /// As `apply_changes`, returning the freshly rendered bodies.
    fn apply_records(
        &self,
        folder: usize,
        changed: Vec<Record>,
        deleted: &[String],
    ) -> Result<Vec<RenderedBody>, IndexError> {
        let f = &self.shared.folders[folder];
        let _rewrite = lock(&f.rewrite);
        let old = lock(&f.status)
            .listing
            .clone()
            .ok_or(IndexError::NoSuchFile)?;
        Ok(self.rewrite_listing(folder, &old, changed, deleted).1)
    }

    fn rewrite_listing(
        &self,
        folder: usize,
        old: &Listing,
        changed: Vec<Record>,
        deleted: &[String],
    ) -> (ChangeSummary, Vec<RenderedBody>) {
        let f = &self.shared.folders[folder];
        let presenter = self.presenter(folder, &old.plan);
        let old_inos: HashMap<(&str, FileFormat), u64> = old
            .files
            .iter()
            .map(|file| ((&*file.id, file.format), file.ino))
            .collect();
        let mut summary = ChangeSummary::default();
        let mut rendered_bodies = Vec::new();
        // Id -> its new files, in the order the changes arrived (a record changed twice in
        // one batch keeps its last version).
        let mut replacements: HashMap<String, Vec<FileEntry>> = HashMap::new();
        let mut new_ids: Vec<String> = Vec::new();
        for record in &changed {
            let Some(id) = record_id(record) else {
                tracing::warn!(object = %f.spec.object, "skipping a changed record without Id");
                continue;
            };
            let rendered = render_record(&presenter, &self.shared.config.formats, record, id);
            let mut entries = Vec::with_capacity(rendered.len());
            for file in rendered {
                let ino = old_inos
                    .get(&(id, file.format))
                    .copied()
                    .unwrap_or_else(|| self.allocate_ino(folder));
                entries.push(file.entry(ino, id));
                rendered_bodies.push((ino, file.body));
            }
            if replacements.insert(id.to_string(), entries).is_none() {
                new_ids.push(id.to_string());
            }
        }
        let deleted: HashSet<&str> = deleted
            .iter()
            .map(String::as_str)
            .filter(|id| !replacements.contains_key(*id))
            .collect();

        let mut unchanged = true;
        let mut files = Vec::with_capacity(old.files.len() + new_ids.len());
        let mut emitted: HashSet<&str> = HashSet::new();
        let mut removed_inos = Vec::new();
        let mut position = 0;
        while position < old.files.len() {
            // A record's files are adjacent (one per format), so its run starts here.
            let id = &old.files[position].id;
            let run_end = old.files[position..]
                .iter()
                .position(|f| f.id != *id)
                .map_or(old.files.len(), |len| position + len);
            let old_run = &old.files[position..run_end];
            position = run_end;
            if deleted.contains(&**id) {
                if emitted.insert(id) {
                    summary.removed += 1;
                }
                for file in old_run {
                    removed_inos.push(file.ino);
                    summary.stale_inodes.push(file.ino);
                    summary.stale_names.push(file.name.clone());
                }
                unchanged = false;
                continue;
            }
            let Some(entries) = replacements.get(&**id) else {
                files.extend(old_run.iter().cloned());
                continue;
            };
            if !emitted.insert(id) {
                continue;
            }
            let same_names = old_run.len() == entries.len()
                && old_run.iter().zip(entries).all(|(o, n)| o.name == n.name);
            let same_content = same_names
                && old_run
                    .iter()
                    .zip(entries)
                    .all(|(o, n)| o.size == n.size && o.mtime == n.mtime && o.digest == n.digest);
            if !same_names {
                summary.renamed += 1;
                summary
                    .stale_names
                    .extend(old_run.iter().map(|o| o.name.clone()));
            } else if !same_content {
                summary.updated += 1;
            }
            if !same_content {
                summary.stale_inodes.extend(old_run.iter().map(|o| o.ino));
                unchanged = false;
            }
            files.extend(entries.iter().cloned());
        }
        for id in &new_ids {
            if !emitted.contains(id.as_str()) {
                summary.added += 1;
                unchanged = false;
                files.extend(replacements[id].iter().cloned());
            }
        }

        {
            let mut bodies = lock(&self.shared.bodies);
            for ino in &removed_inos {
                bodies.remove(*ino);
            }
            for (ino, body) in &rendered_bodies {
                bodies.insert(*ino, body.clone());
            }
        }
        if !summary.stale_inodes.is_empty() {
            let now = Instant::now();
            let mut recent = lock(&self.shared.recent_changes);
            recent.retain(|_, at| now.duration_since(*at) < RECENT_CHANGE_WINDOW);
            for ino in &summary.stale_inodes {
                recent.insert(*ino, now);
            }
        }
        if !unchanged {
            let now = SystemTime::now();
            let changed_at = if summary.membership_changed() {
                now
            } else {
                old.changed_at
            };
            let mut listing = Listing::new(files, old.plan.clone(), now, changed_at);
            listing.watermark = changed
                .iter()
                .filter_map(record_watermark)
                .chain(old.watermark)
                .max();
            lock(&f.status).listing = Some(Arc::new(listing));
        }
        (summary, rendered_bodies)
    }

    fn allocate_ino(&self, folder: usize) -> u64 {
        let seq = self.shared.folders[folder]
            .next_seq
            .fetch_add(1, Ordering::Relaxed);
        ((folder as u64 + 1) << RECORD_INO_SHIFT) | seq
    }

    fn presenter(&self, folder: usize, plan: &ListingPlan) -> Presenter {
        Presenter {
            object: self.shared.folders[folder].spec.object.clone(),
            instance_url: self.shared.config.instance_url.clone(),
            name_field: plan.name_field.clone(),
        }
    }

    /// The folder's `.sobject.json`: what is mounted and how fresh it is. Costs no request.
    pub fn sobject_json(&self, folder: usize) -> Result<Vec<u8>, IndexError> {
        let f = self
            .shared
            .folders
            .get(folder)
            .ok_or(IndexError::NoSuchFolder)?;
        let (listing, loading, failure, refresh) = {
            let status = lock(&f.status);
            (
                status.listing.clone(),
                status.loading,
                status.last_failure.clone(),
                status.refresh.clone(),
            )
        };
        // The last successful read of the org: a refresh tick, or else the listing itself.
        let last_refresh = refresh
            .last_success
            .or_else(|| listing.as_ref().map(|l| l.refreshed_at));
        let watermark = refresh
            .watermark
            .max(listing.as_ref().and_then(|l| l.watermark));
        let last_error = refresh.last_error.clone().or_else(|| {
            failure
                .as_ref()
                .map(|fail| (fail.error.to_string(), fail.wall))
        });
        let state = match (&listing, loading) {
            (Some(_), _) => "listed",
            (None, true) => "loading",
            (None, false) => "unlisted",
        };
        let summary = serde_json::json!({
            "object": f.spec.object,
            "label": f.spec.label,
            "keyPrefix": f.spec.key_prefix,
            "custom": f.spec.custom,
            "state": state,
            "fields": listing.as_ref().map(|l| l.plan.fields.clone()),
            "subqueries": listing.as_ref().map(|l| l.plan.subqueries.clone()),
            "recordCount": listing.as_ref().map(|l| l.record_count()),
            "lastRefresh": last_refresh.map(rfc3339),
            "lastFullRefresh": refresh.last_full_refresh.map(rfc3339),
            "watermark": watermark.map(rfc3339),
            "lastError": last_error.as_ref().map(|(message, _)| message.clone()),
            "lastErrorTime": last_error.as_ref().map(|(_, at)| rfc3339(*at)),
            "refreshChanges": {
                "added": refresh.applied[0],
                "updated": refresh.applied[1],
                "renamed": refresh.applied[2],
                "removed": refresh.applied[3],
            },
        });
        let mut bytes = serde_json::to_vec_pretty(&summary).unwrap_or_default();
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The mount root's status file: API usage and every folder's refresh state. Costs no
    /// request (the usage figure is the last one the org sent).
    pub fn status_json(&self) -> Vec<u8> {
        let overview = lock(&self.shared.overview).clone();
        let usage = self.shared.source.api_usage();
        let folders: Vec<serde_json::Value> = self
            .shared
            .folders
            .iter()
            .map(|f| {
                let status = lock(&f.status);
                let state = match (&status.listing, status.loading) {
                    (Some(_), _) => "listed",
                    (None, true) => "loading",
                    (None, false) => "unlisted",
                };
                let refresh = &status.refresh;
                let watermark = refresh
                    .watermark
                    .max(status.listing.as_ref().and_then(|l| l.watermark));
                serde_json::json!({
                    "object": f.spec.object,
                    "state": state,
                    "recordCount": status.listing.as_ref().map(|l| l.record_count()),
                    "lastRefresh": refresh.last_success.or_else(|| status.listing.as_ref().map(|l| l.refreshed_at)).map(rfc3339),
                    "watermark": watermark.map(rfc3339),
                    "lastError": refresh.last_error.as_ref().map(|(m, _)| m.clone())
                        .or_else(|| status.last_failure.as_ref().map(|fail| fail.error.to_string())),
                })
            })
            .collect();
        let summary = serde_json::json!({
            "refresh": {
                "state": overview.state,
                "intervalSeconds": overview.interval.map(|d| d.as_secs_f64()),
                "formulaIntervalSeconds": overview.formula_interval.map(|d| d.as_secs_f64()),
                "stopsAtApiUsedPercent": overview.api_floor_used_fraction.map(|f| (f * 100.0).round()),
                "lastTick": overview.last_tick.map(rfc3339),
                "lastSuccess": overview.last_success.map(rfc3339),
                "consecutiveFailures": overview.consecutive_failures,
                "ticks": overview.ticks,
            },
            "apiUsage": usage.map(|u| serde_json::json!({
                "used": u.used,
                "max": u.max,
            })),
            "objects": folders,
        });
        let mut bytes = serde_json::to_vec_pretty(&summary).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Whether a file's content changed within [`RECENT_CHANGE_WINDOW`].
    pub fn changed_recently(&self, ino: u64) -> bool {
        lock(&self.shared.recent_changes)
            .get(&ino)
            .is_some_and(|at| at.elapsed() < RECENT_CHANGE_WINDOW)
    }

    /// The folder's refresh state.
    pub fn folder_refresh(&self, folder: usize) -> Option<FolderRefresh> {
        let f = self.shared.folders.get(folder)?;
        Some(lock(&f.status).refresh.clone())
    }

    /// Changes the folder's refresh state (the refresher's bookkeeping).
    pub fn update_folder_refresh(&self, folder: usize, update: impl FnOnce(&mut FolderRefresh)) {
        if let Some(f) = self.shared.folders.get(folder) {
            update(&mut lock(&f.status).refresh);
        }
    }

    pub fn refresh_overview(&self) -> RefreshOverview {
        lock(&self.shared.overview).clone()
    }

    pub fn update_refresh_overview(&self, update: impl FnOnce(&mut RefreshOverview)) {
        update(&mut lock(&self.shared.overview));
    }

    /// Folders that have a listing (the ones background refresh follows).
    pub fn listed_folders(&self) -> Vec<usize> {
        (0..self.shared.folders.len())
            .filter(|&folder| lock(&self.shared.folders[folder].status).listing.is_some())
            .collect()
    }

    pub(crate) fn source(&self) -> &Arc<dyn ObjectSource> {
        &self.shared.source
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.shared.runtime
    }

    /// Bytes and entries held by the body cache.
    pub fn body_cache_usage(&self) -> (usize, usize) {
        let bodies = lock(&self.shared.bodies);
        (bodies.bytes(), bodies.len())
    }

    /// Drops every cached body (tests and benchmarks of the miss path).
    pub fn clear_body_cache(&self) {
        let budget = self.shared.config.body_cache_bytes;
        *lock(&self.shared.bodies) = BodyCache::new(budget);
    }
}

async fn load_listing(shared: &Shared, folder: usize) -> Result<Listing, IndexError> {
    let f = &shared.folders[folder];
    let plan = shared.source.plan(&f.spec.object).await?;
    let presenter = Presenter {
        object: f.spec.object.clone(),
        instance_url: shared.config.instance_url.clone(),
        name_field: plan.name_field.clone(),
    };
    let mut files: Vec<FileEntry> = Vec::new();
    // Id -> position of its first file, so a record delivered twice (a page boundary moved
    // under a concurrent change) is kept once, with its latest version.
    let mut positions: HashMap<String, usize> = HashMap::new();
    let mut skipped_without_id = 0usize;
    let mut watermark: Option<SystemTime> = None;
    let mut sink = |page: Vec<Record>| {
        for record in page {
            watermark = watermark.max(record_watermark(&record));
            let Some(id) = record_id(&record) else {
                skipped_without_id += 1;
                continue;
            };
            let rendered = render_record(&presenter, &shared.config.formats, &record, id);
            let existing = positions.get(id).copied();
            let mut bodies = lock(&shared.bodies);
            for (k, file) in rendered.into_iter().enumerate() {
                let ino = match existing {
                    Some(position) => files[position + k].ino,
                    None => {
                        let seq = f.next_seq.fetch_add(1, Ordering::Relaxed);
                        ((folder as u64 + 1) << RECORD_INO_SHIFT) | seq
                    }
                };
                let entry = file.entry(ino, id);
                bodies.insert(ino, file.body);
                match existing {
                    Some(position) => files[position + k] = entry,
                    None => files.push(entry),
                }
            }
            if existing.is_none() {
                positions.insert(id.to_string(), files.len() - shared.config.formats.len());
            }
        }
    };
    shared.source.fetch(&f.spec.object, None, &mut sink).await?;
    if skipped_without_id > 0 {
        tracing::warn!(
            object = %f.spec.object,
            count = skipped_without_id,
            "records without an Id cannot be named and were skipped"
        );
    }
    let now = SystemTime::now();
    let mut listing = Listing::new(files, plan, now, now);
    listing.watermark = watermark;
    Ok(listing)
}

/// A freshly rendered body and the inode of its file.
type RenderedBody = (u64, Arc<[u8]>);

/// One file of a record, rendered: its entry (inode not yet chosen) and its bytes.
struct Rendered {
    format: FileFormat,
    name: String,
    body: Arc<[u8]>,
    mtime: SystemTime,
    ctime: SystemTime,
    modstamp: Option<SystemTime>,
}

impl Rendered {
    fn entry(&self, ino: u64, id: &str) -> FileEntry {
        FileEntry {
            ino,
            name: self.name.clone(),
            id: Arc::from(id),
            format: self.format,
            size: self.body.len() as u64,
            mtime: self.mtime,
            ctime: self.ctime,
            modstamp: self.modstamp,
            digest: body_digest(&self.body),
        }
    }
}

fn body_digest(body: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

fn render_record(
    presenter: &Presenter,
    formats: &[FileFormat],
    record: &Record,
    id: &str,
) -> Vec<Rendered> {
    let title = presenter.title(record);
    let mtime = record_time(record, "LastModifiedDate");
    let ctime = record_time(record, "CreatedDate");
    let modstamp = record_watermark(record);
    formats
        .iter()
        .map(|&format| Rendered {
            format,
            name: presenter.file_name(&title, id, format),
            body: presenter.render(record, &title, format).into(),
            mtime,
            ctime,
            modstamp,
        })
        .collect()
}

/// The record's SystemModstamp, or its LastModifiedDate when the object has none.
pub fn record_watermark(record: &Record) -> Option<SystemTime> {
    ["SystemModstamp", "LastModifiedDate"]
        .iter()
        .find_map(|field| record.get(*field)?.as_str())
        .and_then(parse_salesforce_datetime)
}

fn record_id(record: &Record) -> Option<&str> {
    record
        .get("Id")
        .and_then(|v| v.as_str())
        .filter(|id| !id.is_empty())
}

/// A record's datetime field as a SystemTime; the epoch when absent or unparsable (an honest
/// "unknown" rather than a made-up time).
pub fn record_time(record: &Record, field: &str) -> SystemTime {
    record
        .get(field)
        .and_then(|v| v.as_str())
        .and_then(parse_salesforce_datetime)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Salesforce writes `2024-01-15T10:30:00.000+0000`; RFC 3339 is accepted too.
pub fn parse_salesforce_datetime(text: &str) -> Option<SystemTime> {
    let parsed = chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()?;
    Some(SystemTime::from(parsed.with_timezone(&chrono::Utc)))
}

pub fn rfc3339(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
