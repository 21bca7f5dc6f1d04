//! The local view of the org: per mounted object its listing (ids, file names, exact sizes,
//! times, stable inode numbers) and a bounded cache of rendered bodies.
//!
//! Rooms: `lifecycle` (a folder from unlisted through loading to listed), `rewrite` (a
//! changed listing and its diff), `bodies` (a body cache miss: memory, then the local
//! `store`, then the org), `status` (the status
//! documents), `org` (every call to the source, for the refresher too), `listing` (the
//! immutable listing), `time` (Salesforce datetimes).
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

mod api_floor;
mod bodies;
pub mod body_cache;
mod documents;
mod fleet;
mod journal;
mod lifecycle;
mod listing;
#[cfg(any(test, feature = "testing"))]
mod memory_source;
mod org;
mod persist;
mod present;
pub mod refresh;
mod rewrite;
pub mod salesforce_source;
pub mod source;
mod status;
pub mod store;
mod time;

use crate::catalog::Group;
use crate::sync::{lock, Pending};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use api_floor::ApiFloor;
pub use body_cache::BodyStatsSnapshot;
use body_cache::{BodyCache, BodyStats};
pub use documents::{Document, DocumentFolders, OpenDocument, RecordDocuments, DOCUMENT_CHUNK};
pub use fleet::FleetRole;
use journal::Journal;
use lifecycle::Failure;
pub use listing::{ChangeSummary, FileEntry, Listing};
#[cfg(any(test, feature = "testing"))]
pub use memory_source::{MemorySource, SourceCalls};
pub use source::{
    ApiUsage, ChangeRequest, ChangedRow, FeedActivity, ListingPlan, ObjectChanges, ObjectSource,
    Record, RecordSink, SourceError, SourceFuture,
};
pub use status::{AppliedChanges, FolderRefresh, RefreshOverview, RefreshState};
use store::{LocalStore, StoreGuard};
pub use time::{parse_salesforce_datetime, record_time, record_watermark, rfc3339};

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
    /// The group folder it lives in.
    pub group: Group,
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
    /// 64 MiB holds the hot set (the folders being read now); with the local store a miss
    /// is a disk read, so memory need not hold the whole org. Without a store a miss is a
    /// query per 200 records: raise it there (`memory_cache_size`).
    pub const DEFAULT_BODY_CACHE_BYTES: usize = 64 << 20;
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
    /// Background refresh is stopping: work waiting on the network was abandoned. The
    /// message is the one this case always had (it can reach a folder's `lastError`).
    #[error("refresh: internal error while listing: stopped")]
    Stopped,
}

/// Where a folder is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FolderState {
    Unlisted,
    Loading,
    Listed,
}

impl FolderState {
    /// The word the status documents show.
    fn word(self) -> &'static str {
        match self {
            FolderState::Unlisted => "unlisted",
            FolderState::Loading => "loading",
            FolderState::Listed => "listed",
        }
    }
}

/// What a first listing ends with: every caller waiting for it gets the same answer.
type LoadResult = Result<Arc<Listing>, IndexError>;

/// A freshly rendered body and the inode of its file.
type RenderedBody = (u64, Arc<[u8]>);

/// What one body refetch ends with: the bodies of the whole batch it fetched.
type RefetchResult = Result<Vec<RenderedBody>, IndexError>;

#[derive(Default)]
struct FolderStatus {
    listing: Option<Arc<Listing>>,
    refresh: FolderRefresh,
    /// The first listing in progress, shared by every caller (one load, however many wait).
    load: Option<Arc<Pending<LoadResult>>>,
    last_failure: Option<Failure>,
    /// Served from the local store, its plan not yet checked against the org's describes.
    plan_unverified: bool,
    /// Why the last attached-file download of the folder failed, and when (cleared by the
    /// next one that works): a read that got EIO is explained in `.sobject.json`.
    download_failure: Option<(String, SystemTime)>,
    /// Listed from a shared store by this mount of a fleet: the published changes numbered
    /// after this are applied to it on the next catch-up (`fleet.rs`).
    fleet_catch_up: Option<u64>,
}

impl FolderStatus {
    fn state(&self) -> FolderState {
        match (&self.listing, &self.load) {
            (Some(_), _) => FolderState::Listed,
            (None, Some(_)) => FolderState::Loading,
            (None, None) => FolderState::Unlisted,
        }
    }

    /// The newest org stamp seen: the refresher's, or the listing's own.
    fn watermark(&self) -> Option<SystemTime> {
        self.refresh
            .watermark
            .max(self.listing.as_ref().and_then(|l| l.watermark))
    }

    /// The last successful read of the org: a refresh tick, or else the listing itself.
    fn last_refresh(&self) -> Option<SystemTime> {
        self.refresh
            .last_success
            .or_else(|| self.listing.as_ref().map(|l| l.refreshed_at))
    }
}

struct Folder {
    spec: FolderSpec,
    status: Mutex<FolderStatus>,
    /// Serialises listing rewrites, so two concurrent changes cannot lose each other.
    rewrite: Mutex<()>,
    next_seq: AtomicU64,
    /// Inodes whose bodies are being fetched again, with the fetch: concurrent readers of
    /// the same neighbourhood wait for that one fetch instead of each making their own.
    refetching: Mutex<HashMap<u64, Arc<Pending<RefetchResult>>>>,
}

struct Shared {
    source: Arc<dyn ObjectSource>,
    runtime: tokio::runtime::Handle,
    folders: Vec<Folder>,
    config: IndexConfig,
    bodies: Mutex<BodyCache>,
    /// Where bodies came from, and attached files downloaded (for metrics).
    body_stats: BodyStats,
    /// Listings and bodies on disk: restored at start, read on a body cache miss before
    /// asking the org, written with every change.
    store: StoreGuard,
    /// The newest applied changes (`.sfmount-changes.jsonl`).
    journal: Mutex<Journal>,
    mounted_at: SystemTime,
    overview: Mutex<RefreshOverview>,
    /// When each file's content last changed after its first listing (dropped with the
    /// file), so the filesystem can tell how stale the kernel's cached size may be.
    content_changes: Mutex<HashMap<u64, Instant>>,
    /// Attached files' downloads (`documents.rs`).
    downloads: Mutex<documents::Downloads>,
    /// Where this mount stands in a fleet sharing its store (`fleet.rs`).
    fleet: fleet::FleetState,
}

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
        Index::with_store(source, runtime, folders, config, None)
    }

    /// As [`Index::new`], keeping listings and bodies in `store` too (None: memory only):
    /// folders the store holds are served at once, and a body evicted from memory is read
    /// from disk rather than fetched again.
    pub fn with_store(
        source: Arc<dyn ObjectSource>,
        runtime: tokio::runtime::Handle,
        folders: Vec<FolderSpec>,
        config: IndexConfig,
        store: Option<Arc<dyn LocalStore>>,
    ) -> Index {
        let folders = folders
            .into_iter()
            .map(|spec| Folder {
                spec,
                status: Mutex::new(FolderStatus::default()),
                rewrite: Mutex::new(()),
                refetching: Mutex::new(HashMap::new()),
                next_seq: AtomicU64::new(1),
            })
            .collect();
        let store = StoreGuard::new(store);
        let journal = Journal::from_stored(store.journal_tail(store::JOURNAL_KEEP));
        let shared = Shared {
            source,
            runtime,
            folders,
            bodies: Mutex::new(BodyCache::new(config.body_cache_bytes)),
            body_stats: BodyStats::default(),
            store,
            journal: Mutex::new(journal),
            config,
            mounted_at: SystemTime::now(),
            overview: Mutex::new(RefreshOverview::default()),
            content_changes: Mutex::new(HashMap::new()),
            downloads: Mutex::new(documents::Downloads::default()),
            fleet: fleet::FleetState::default(),
        };
        shared.start_following();
        shared.restore_folders();
        Index {
            shared: Arc::new(shared),
        }
    }

    /// Whether some folder is served from the store with its plan not yet checked (the
    /// refresher then ticks at once instead of after a whole interval).
    pub fn has_restored_folders(&self) -> bool {
        self.shared
            .folders
            .iter()
            .any(|f| lock(&f.status).plan_unverified)
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

    fn folder(&self, folder: usize) -> Result<&Folder, IndexError> {
        self.shared
            .folders
            .get(folder)
            .ok_or(IndexError::NoSuchFolder)
    }

    /// The folder a record file's inode belongs to.
    pub fn folder_of_ino(&self, ino: u64) -> Option<usize> {
        let folder = (ino >> RECORD_INO_SHIFT).checked_sub(1)? as usize;
        (folder < self.shared.folders.len()).then_some(folder)
    }

    /// The folder's listing if it has one, without loading it.
    pub fn peek_listing(&self, folder: usize) -> Option<Arc<Listing>> {
        let f = self.shared.folders.get(folder)?;
        lock(&f.status).listing.clone()
    }

    /// Folders that have a listing (the ones background refresh follows).
    pub(crate) fn listed_folders(&self) -> Vec<usize> {
        (0..self.shared.folders.len())
            .filter(|&folder| lock(&self.shared.folders[folder].status).listing.is_some())
            .collect()
    }

    /// When a file's content last changed in a refresh or a refetch (None: not since it
    /// was first listed). What that means for the kernel's caches is the filesystem's call.
    pub fn content_changed_at(&self, ino: u64) -> Option<Instant> {
        lock(&self.shared.content_changes).get(&ino).copied()
    }

    /// Bytes and entries held by the body cache (tests of the cache budget, and metrics).
    /// Where the bodies read so far came from, and attached files downloaded.
    pub fn body_stats(&self) -> BodyStatsSnapshot {
        self.shared.body_stats.snapshot()
    }

    pub fn body_cache_usage(&self) -> (usize, usize) {
        let bodies = lock(&self.shared.bodies);
        (bodies.bytes(), bodies.len())
    }

    /// Drops every cached body (tests and benchmarks of the miss path).
    #[cfg(any(test, feature = "testing"))]
    pub fn clear_body_cache(&self) {
        let budget = self.shared.config.body_cache_bytes;
        *lock(&self.shared.bodies) = BodyCache::new(budget);
    }
}

impl Shared {
    fn allocate_ino(&self, folder: usize) -> u64 {
        let seq = self.folders[folder]
            .next_seq
            .fetch_add(1, Ordering::Relaxed);
        ((folder as u64 + 1) << RECORD_INO_SHIFT) | seq
    }

    fn deadline_error(&self, folder: usize, waited: Duration) -> IndexError {
        IndexError::Deadline {
            object: self.folders[folder].spec.object.clone(),
            seconds: waited.as_secs(),
        }
    }
}
