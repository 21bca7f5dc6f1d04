//! The filesystem logic, as plain structs and results, so it is tested without FUSE;
//! `fuse.rs` only translates to and from fuser.
//!
//! Tree: `/` → group folders (`Standard Objects`, `Custom Objects`) → one folder per object
//! → `.sobject.json` and one file per record (and format). Group and object folders exist
//! from mount time; an object folder's records are listed on its first lookup or opendir.
//!
//! Rooms: `versions` (one inode number per version of a file), `dir` (readdir snapshots),
//! `handles` (open handles), `timing` (the kernel's TTLs), `invalidate` (what a refresh
//! tells the kernel to forget), `requests` (the per-operation counter), `errno`, `fuse`
//! and `offload` (the fuser adapter, and the threads that wait on Salesforce for it).
//!
//! Consistency: an inode number names one version of a file's bytes, and an open handle
//! keeps the bytes it opened; so `fstat` of an open file, the kernel's cached pages and the
//! bytes read always agree, and a change shows as the name leading to a new inode.

mod attached;
mod dir;
pub mod errno;
pub mod fuse;
mod handles;
pub mod invalidate;
pub mod mount;
pub mod offload;
pub mod requests;
mod retained;
pub mod timing;
pub mod versions;

use crate::sync::lock;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::catalog::Group;
use crate::index::{FileEntry, Index, IndexError, RECORD_INO_SHIFT};
use handles::{FileHandle, Handle, Handles, LazyRecord};
use requests::RequestCounts;
use timing::CacheTiming;
use versions::{Content, FileKey, Versions, VERSION_INO_BASE};

/// The root directory's inode number, fixed by FUSE.
pub const ROOT_INO: u64 = 1;
/// Group folders are `GROUP_INO_BASE + group`.
const GROUP_INO_BASE: u64 = 2;
/// Object folder `i` is `FOLDER_INO_BASE + 2 i`. Far above the groups and far below the
/// index's record numbers (`1 << 40`).
const FOLDER_INO_BASE: u64 = 1 << 20;
/// The per-folder status file.
pub const SOBJECT_JSON: &str = ".sobject.json";
/// The mount root's status file: API usage and every folder's refresh state.
pub const STATUS_FILE: &str = ".sfmount-status.json";
/// The root's request counter (FUSE operations by kind); found by name, not listed, so
/// `ls` and `find` of the mount are as before and a walk does not count itself.
pub const REQUESTS_FILE: &str = ".sfmount-requests.json";
/// Marks the status file among the root's fixed children (its inodes are versions).
const STATUS_INO: u64 = FOLDER_INO_BASE - 1;
/// The mount root's change journal: one JSON line per applied change, newest last.
pub const CHANGES_FILE: &str = ".sfmount-changes.jsonl";
/// Marks the journal among the root's fixed children, as `STATUS_INO` does the status file.
const CHANGES_INO: u64 = STATUS_INO - 1;

/// Directory permissions: read and traverse for everyone, never write (the default of
/// `dir_mode`, which the FUSE adapter applies).
pub const DIR_PERM: u16 = 0o555;
/// File permissions: read for everyone, never write (the default of `file_mode`).
pub const FILE_PERM: u16 = 0o444;
/// "No such name" answers remembered per folder, to be forgotten by the kernel when a name
/// appears; past this the answer is not cached (a scan probing many names, e.g. a build
/// tool's lookups of `.git` and friends, stays bounded in memory).
const NEGATIVE_NAMES_PER_FOLDER: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    #[error("no such file or directory")]
    NotFound,
    #[error("not a directory")]
    NotADirectory,
    #[error("is a directory")]
    IsADirectory,
    #[error("read-only filesystem")]
    ReadOnly,
    #[error("bad file handle")]
    BadHandle,
    #[error("this version of the file was replaced")]
    Stale,
    #[error(transparent)]
    Index(#[from] IndexError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Directory,
    File,
}

/// What `stat` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    pub ino: u64,
    pub kind: NodeKind,
    pub size: u64,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
    pub perm: u16,
    pub nlink: u32,
}

/// One readdir entry; `next_offset` is the cookie the kernel hands back to continue after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub next_offset: u64,
    pub name: String,
    pub attr: Attr,
    /// False when the listing was taken before a change to this file: the name is listed as
    /// the snapshot had it, but the kernel must not trust it (zero entry TTL) and looks it
    /// up again before using it.
    pub trusted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statfs {
    /// Total blocks: those the listed files use plus [`Statfs::free_blocks`].
    pub blocks: u64,
    pub free_blocks: u64,
    /// Total inodes: those listed plus [`Statfs::free_files`].
    pub files: u64,
    pub free_files: u64,
    pub block_size: u32,
    pub max_name_length: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Root,
    Group(usize),
    Folder(usize),
    /// A version of a file (record or generated).
    File,
    /// A `.files` folder or an attached file (`attached.rs`).
    Attached(u64),
}

/// An open file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub fh: u64,
}

/// A slice of an open file's bytes.
pub struct ReadData {
    bytes: Arc<[u8]>,
    start: usize,
    end: usize,
}

impl ReadData {
    /// `size` bytes of `bytes` from `offset`, fewer at the end.
    fn cut(bytes: Arc<[u8]>, offset: u64, size: u32) -> ReadData {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(size as usize).min(bytes.len());
        ReadData { bytes, start, end }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }
}

pub struct Filesystem {
    index: Index,
    groups: Vec<Group>,
    /// Object folders of each group, by name.
    group_members: Vec<Vec<(String, usize)>>,
    handles: Handles,
    versions: Versions,
    timing: CacheTiming,
    /// Names answered "no such name" per folder, which the kernel may be caching.
    negatives: Mutex<HashMap<usize, HashSet<String>>>,
    requests: Arc<RequestCounts>,
    attached: attached::Attached,
}

impl Filesystem {
    pub fn new(index: Index) -> Filesystem {
        Filesystem::with_timing(index, CacheTiming::default())
    }

    pub fn with_timing(index: Index, timing: CacheTiming) -> Filesystem {
        let mut groups: Vec<Group> = Vec::new();
        let mut group_members: Vec<Vec<(String, usize)>> = Vec::new();
        for folder in 0..index.folder_count() {
            let Some(spec) = index.folder_spec(folder) else {
                continue;
            };
            let group = match groups.iter().position(|g| *g == spec.group) {
                Some(group) => group,
                None => {
                    groups.push(spec.group);
                    group_members.push(Vec::new());
                    groups.len() - 1
                }
            };
            group_members[group].push((spec.object.clone(), folder));
        }
        let recent_budget = retained::recent_budget(index.config().body_cache_bytes);
        Filesystem {
            index,
            groups,
            group_members,
            handles: Handles::default(),
            versions: Versions::new(recent_budget),
            timing,
            negatives: Mutex::new(HashMap::new()),
            requests: Arc::default(),
            attached: attached::Attached::new(),
        }
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Forgets every body held in memory that can be had again: the index's cache and the
    /// bytes kept here of current versions and documents (tests of the miss path).
    #[cfg(any(test, feature = "testing"))]
    pub fn clear_body_cache(&self) {
        self.index.clear_body_cache();
        self.versions.clear_recent();
        self.attached.clear_recent();
    }

    pub fn timing(&self) -> &CacheTiming {
        &self.timing
    }

    pub fn requests(&self) -> &Arc<RequestCounts> {
        &self.requests
    }

    fn node(&self, ino: u64) -> Option<Node> {
        if ino == ROOT_INO {
            return Some(Node::Root);
        }
        if ino >= attached::ATTACHED_INO_BASE {
            return self.attached.node(ino).map(|_| Node::Attached(ino));
        }
        if ino >= 1 << RECORD_INO_SHIFT {
            return Some(Node::File);
        }
        if ino >= FOLDER_INO_BASE {
            let offset = ino - FOLDER_INO_BASE;
            let folder = (offset / 2) as usize;
            return (offset.is_multiple_of(2) && folder < self.index.folder_count())
                .then_some(Node::Folder(folder));
        }
        let group = ino.checked_sub(GROUP_INO_BASE)? as usize;
        (group < self.groups.len()).then_some(Node::Group(group))
    }

    /// The inode of object folder `folder` (what change invalidations name as the parent).
    pub fn folder_ino(folder: usize) -> u64 {
        FOLDER_INO_BASE + 2 * folder as u64
    }

    fn dir_attr(&self, ino: u64, mtime: SystemTime) -> Attr {
        Attr {
            ino,
            kind: NodeKind::Directory,
            size: 0,
            mtime,
            ctime: mtime,
            perm: DIR_PERM,
            // 2 without counting subdirectories: counting would need listings (find copes).
            nlink: 2,
        }
    }

    fn file_attr(ino: u64, size: u64, mtime: SystemTime, ctime: SystemTime) -> Attr {
        Attr {
            ino,
            kind: NodeKind::File,
            size,
            mtime,
            ctime,
            perm: FILE_PERM,
            nlink: 1,
        }
    }

    fn folder_attr(&self, folder: usize) -> Attr {
        let mtime = self
            .index
            .peek_listing(folder)
            .map(|l| l.changed_at)
            .unwrap_or_else(|| self.index.mounted_at());
        self.dir_attr(Self::folder_ino(folder), mtime)
    }

    /// The version of a record file that `entry` describes.
    fn record_version(&self, folder: usize, entry: &FileEntry, counted: bool) -> Attr {
        let current_entry = || {
            self.index
                .peek_listing(folder)
                .and_then(|l| l.by_ino(entry.ino).cloned())
        };
        let mut entry = std::borrow::Cow::Borrowed(entry);
        // Tries before giving up on the race: each retry means another change to this very
        // record landed between reading the listing and recording the version.
        for _ in 0..3 {
            let attr = Self::file_attr(entry.ino, entry.size, entry.mtime, entry.ctime);
            let digest = entry.digest;
            let fresh = || current_entry().map(|e| e.digest) == Some(digest);
            if let Some(attr) = self.versions.record(folder, &entry, attr, counted, fresh) {
                return attr;
            }
            // The caller read the listing before a change: the current entry instead.
            match current_entry() {
                Some(now) => entry = std::borrow::Cow::Owned(now),
                None => break,
            }
        }
        let attr = Self::file_attr(entry.ino, entry.size, entry.mtime, entry.ctime);
        self.versions
            .record(folder, &entry, attr, counted, || true)
            .unwrap_or(attr)
    }

    fn sobject_version(&self, folder: usize, counted: bool) -> Result<Attr, FsError> {
        let bytes = self.index.sobject_json(folder)?;
        let mtime = self
            .index
            .peek_listing(folder)
            .map(|l| l.refreshed_at)
            .unwrap_or_else(|| self.index.mounted_at());
        let attr = Self::file_attr(0, bytes.len() as u64, mtime, mtime);
        Ok(self
            .versions
            .generated(FileKey::Sobject(folder), bytes, attr, counted))
    }

    fn status_version(&self, counted: bool) -> Attr {
        self.root_file_version(FileKey::Status, self.index.status_json().into(), counted)
    }

    fn changes_version(&self, counted: bool) -> Attr {
        self.root_file_version(FileKey::Changes, self.index.changes_jsonl(), counted)
    }

    /// A version of a generated root file (status, journal): dated by the last refresh
    /// tick, since that is what changes them.
    fn root_file_version(&self, key: FileKey, bytes: Arc<[u8]>, counted: bool) -> Attr {
        let mtime = self
            .index
            .refresh_overview()
            .last_tick
            .unwrap_or_else(|| self.index.mounted_at());
        let attr = Self::file_attr(0, bytes.len() as u64, mtime, mtime);
        self.versions.generated(key, bytes, attr, counted)
    }

    fn requests_version(&self, counted: bool) -> Attr {
        let bytes = self
            .requests
            .to_json(self.versions.len(), self.handles.len());
        let now = SystemTime::now();
        let attr = Self::file_attr(0, bytes.len() as u64, now, now);
        self.versions
            .generated(FileKey::Requests, bytes, attr, counted)
    }

    pub fn getattr(&self, ino: u64) -> Result<Attr, FsError> {
        match self.node(ino).ok_or(FsError::NotFound)? {
            Node::Root => Ok(self.dir_attr(ROOT_INO, self.index.mounted_at())),
            Node::Group(group) => {
                Ok(self.dir_attr(GROUP_INO_BASE + group as u64, self.index.mounted_at()))
            }
            Node::Folder(folder) => Ok(self.folder_attr(folder)),
            Node::Attached(ino) => self.attached_attr(ino),
            Node::File => match self.versions.get(ino) {
                Some((attr, _)) => Ok(attr),
                None => self.adopt(ino),
            },
        }
    }

    /// A record inode the version table does not hold (a caller that skipped lookup, such
    /// as the tests): the current version of the index's file, if that is the number.
    fn adopt(&self, ino: u64) -> Result<Attr, FsError> {
        if ino >= VERSION_INO_BASE {
            return Err(FsError::Stale);
        }
        let folder = self.index.folder_of_ino(ino).ok_or(FsError::NotFound)?;
        let listing = self.index.peek_listing(folder).ok_or(FsError::NotFound)?;
        let entry = listing.by_ino(ino).ok_or(FsError::NotFound)?;
        let attr = self.record_version(folder, entry, false);
        if attr.ino == ino {
            Ok(attr)
        } else {
            Err(FsError::Stale)
        }
    }

    /// True when a lookup or opendir under `parent` would wait for a first listing.
    pub fn would_list(&self, parent: u64) -> bool {
        matches!(self.node(parent), Some(Node::Folder(folder)) if self.index.peek_listing(folder).is_none())
    }

    /// Looks `name` up in `parent`; a found file counts as one kernel lookup of its inode.
    pub fn lookup(&self, parent: u64, name: &OsStr) -> Result<Attr, FsError> {
        // Names we serve are all UTF-8; anything else cannot exist here.
        let name = name.to_str().ok_or(FsError::NotFound)?;
        match self.node(parent).ok_or(FsError::NotFound)? {
            Node::Root => match name {
                STATUS_FILE => Ok(self.status_version(true)),
                CHANGES_FILE => Ok(self.changes_version(true)),
                REQUESTS_FILE => Ok(self.requests_version(true)),
                _ => {
                    let group = self
                        .groups
                        .iter()
                        .position(|g| g.folder_name() == name)
                        .ok_or(FsError::NotFound)?;
                    self.getattr(GROUP_INO_BASE + group as u64)
                }
            },
            Node::Group(group) => {
                let folder = self.group_members[group]
                    .iter()
                    .find(|(object, _)| object == name)
                    .map(|&(_, folder)| folder)
                    .ok_or(FsError::NotFound)?;
                Ok(self.folder_attr(folder))
            }
            Node::Folder(folder) => {
                if name == SOBJECT_JSON {
                    return self.sobject_version(folder, true);
                }
                let listing = self.index.listing(folder)?;
                match listing.by_name(name) {
                    Some(entry) => Ok(self.record_version(folder, entry, true)),
                    None => self
                        .lookup_files_folder(folder, &listing, name)
                        .unwrap_or(Err(FsError::NotFound)),
                }
            }
            Node::Attached(ino) => self.lookup_in_files_folder(ino, name),
            Node::File => Err(FsError::NotADirectory),
        }
    }

    /// Whether the generated-file rules (names never trusted) apply to this inode.
    pub fn is_generated(&self, ino: u64) -> bool {
        matches!(self.versions.get(ino), Some((_, Content::Generated(_))))
    }

    /// How long the kernel may cache "no such `name` in `parent`": the fixed folders never
    /// change, an object folder's remembered names are forgotten when they appear (see
    /// [`Filesystem::take_negatives`]); zero when the name cannot be remembered.
    pub fn negative_ttl(&self, parent: u64, name: &OsStr) -> Duration {
        match self.node(parent) {
            Some(Node::Root | Node::Group(_)) => self.timing.negative_ttl(),
            Some(Node::Folder(folder)) => {
                let Some(name) = name.to_str() else {
                    return self.timing.negative_ttl();
                };
                let mut negatives = lock(&self.negatives);
                let names = negatives.entry(folder).or_default();
                if names.len() < NEGATIVE_NAMES_PER_FOLDER || names.contains(name) {
                    names.insert(name.to_string());
                    self.timing.negative_ttl()
                } else {
                    Duration::ZERO
                }
            }
            _ => Duration::ZERO,
        }
    }

    /// The names of `folder` the kernel may remember as missing, forgotten here: a change
    /// to the folder invalidates them all (the cheap rule; a name still missing is simply
    /// asked again).
    pub fn take_negatives(&self, folder: usize) -> Vec<String> {
        lock(&self.negatives)
            .remove(&folder)
            .map(|names| names.into_iter().collect())
            .unwrap_or_default()
    }

    /// The kernel dropped `count` lookups of `ino`.
    pub fn forget(&self, ino: u64, count: u64) {
        self.versions.forget(ino, count);
    }

    /// Opens a version of a file for reading; the handle keeps that version until release.
    /// Write access is refused. A record version no longer current is stale: the kernel
    /// looks the name up again and opens the new version. Opening never waits: a record's
    /// bytes are read on the first read that needs them.
    pub fn open(&self, ino: u64, write_access: bool) -> Result<Opened, FsError> {
        let handle = self.open_handle(ino, write_access)?;
        Ok(Opened {
            fh: self.handles.insert(handle),
        })
    }

    /// What [`Filesystem::open`] checks, without a handle: the answer to an open in
    /// no-open mode, where every read comes by inode.
    pub fn may_open(&self, ino: u64, write_access: bool) -> Result<(), FsError> {
        self.open_handle(ino, write_access).map(drop)
    }

    fn open_handle(&self, ino: u64, write_access: bool) -> Result<Handle, FsError> {
        let node = self.node(ino).ok_or(FsError::NotFound)?;
        if !matches!(node, Node::File | Node::Attached(_)) {
            return Err(FsError::IsADirectory);
        }
        if write_access {
            return Err(FsError::ReadOnly);
        }
        if let Node::Attached(ino) = node {
            return self.open_attached(ino);
        }
        let (attr, content) = self.version(ino)?;
        Ok(match content {
            Content::Generated(bytes) => Handle::File(bytes),
            Content::Record {
                folder,
                index_ino,
                digest,
            } => {
                if !self.is_current_body(folder, index_ino, digest) {
                    return Err(FsError::Stale);
                }
                Handle::Record(Arc::new(LazyRecord {
                    ino,
                    size: attr.size,
                    bytes: Mutex::new(None),
                }))
            }
        })
    }

    /// Version `ino`'s attributes and content (adopting an index number never looked up).
    fn version(&self, ino: u64) -> Result<(Attr, Content), FsError> {
        match self.versions.get(ino) {
            Some(found) => Ok(found),
            None => {
                self.adopt(ino)?;
                self.versions.get(ino).ok_or(FsError::Stale)
            }
        }
    }

    /// True when the index's body of `index_ino` is the version with `digest`.
    fn is_current_body(&self, folder: usize, index_ino: u64, digest: u64) -> bool {
        self.index
            .peek_listing(folder)
            .and_then(|l| l.by_ino(index_ino).map(|e| e.digest))
            == Some(digest)
    }

    /// The whole bytes of file version `ino`: kept ones, else the index's body if it is
    /// still this version's (then kept for the next read). A replaced version whose bytes
    /// are no longer kept is stale: no whole copy of it is left to serve.
    fn version_bytes(&self, ino: u64) -> Result<Arc<[u8]>, FsError> {
        if let Some(bytes) = self.versions.bytes(ino) {
            return Ok(bytes);
        }
        let (attr, content) = self.version(ino)?;
        let Content::Record {
            folder,
            index_ino,
            digest,
        } = content
        else {
            return Err(FsError::Stale);
        };
        let current = || self.is_current_body(folder, index_ino, digest);
        if !current() {
            return Err(FsError::Stale);
        }
        let bytes = self.index.body(folder, index_ino)?;
        // Changed while the body was read: those bytes may be the next version's.
        if !current() || bytes.len() as u64 != attr.size {
            return Err(FsError::Stale);
        }
        self.versions.keep(ino, &bytes);
        Ok(bytes)
    }

    /// The bytes of a lazily opened record, read now if the handle has none yet.
    fn record_bytes(&self, record: &LazyRecord) -> Result<Arc<[u8]>, FsError> {
        if let Some(bytes) = lock(&record.bytes).clone() {
            return Ok(bytes);
        }
        let bytes = self.version_bytes(record.ino)?;
        *lock(&record.bytes) = Some(bytes.clone());
        Ok(bytes)
    }

    /// True when a read of `fh` would wait for its bytes (the local store or the org).
    pub fn read_would_wait(&self, fh: u64) -> bool {
        match self.handles.file(fh) {
            Some(Ok(FileHandle::Record(record))) => {
                lock(&record.bytes).is_none() && self.inode_read_would_wait(record.ino)
            }
            Some(Ok(FileHandle::Document(document))) => self.document_read_would_wait(&document),
            _ => false,
        }
    }

    /// True when a read of file `ino` by inode would wait for its bytes.
    pub fn inode_read_would_wait(&self, ino: u64) -> bool {
        match self.node(ino) {
            Some(Node::File) => {
                self.versions.bytes(ino).is_none()
                    && match self.versions.get(ino) {
                        Some((_, Content::Record { index_ino, .. })) => {
                            !self.index.body_in_memory(index_ino)
                        }
                        _ => false,
                    }
            }
            Some(Node::Attached(ino)) => self.attached_read_would_wait(ino),
            _ => false,
        }
    }

    pub fn read(&self, fh: u64, offset: u64, size: u32) -> Result<ReadData, FsError> {
        let bytes = match self.handles.file(fh) {
            Some(Ok(FileHandle::Bytes(bytes))) => bytes,
            Some(Ok(FileHandle::Record(record))) => self.record_bytes(&record)?,
            Some(Ok(FileHandle::Document(document))) => {
                return self.read_document(&document, offset, size)
            }
            Some(Err(())) => return Err(FsError::IsADirectory),
            None => return Err(FsError::BadHandle),
        };
        Ok(ReadData::cut(bytes, offset, size))
    }

    /// Reads file `ino` with no open handle (no-open mode: the kernel sends no open, and
    /// every read names the inode, which is one version of the file).
    pub fn read_inode(&self, ino: u64, offset: u64, size: u32) -> Result<ReadData, FsError> {
        let bytes = match self.node(ino).ok_or(FsError::NotFound)? {
            Node::File => self.version_bytes(ino)?,
            Node::Attached(ino) => return self.read_attached_inode(ino, offset, size),
            _ => return Err(FsError::IsADirectory),
        };
        Ok(ReadData::cut(bytes, offset, size))
    }

    /// The size of the version a handle holds (what `fstat` says for it).
    pub fn handle_size(&self, fh: u64) -> Option<u64> {
        match self.handles.file(fh) {
            Some(Ok(FileHandle::Bytes(bytes))) => Some(bytes.len() as u64),
            Some(Ok(FileHandle::Record(record))) => Some(record.size),
            Some(Ok(FileHandle::Document(document))) => Some(document.document.size),
            _ => None,
        }
    }

    pub fn release(&self, fh: u64) {
        self.handles.remove(fh);
    }

    /// How many handles are open (tests: every open is released).
    #[cfg(any(test, feature = "testing"))]
    pub fn open_handles(&self) -> usize {
        self.handles.len()
    }

    /// Totals over the folders listed so far; never lists anything.
    pub fn statfs(&self) -> Statfs {
        const BLOCK_SIZE: u64 = 4096;
        // Nothing can be written (every mutation is EROFS), so free space is notional. It is
        // reported rather than zero because tools read zero free as a full disk: `df` shows
        // 100 %, file managers warn, and some copy or backup tools refuse to start. 1 TiB
        // and a million inodes are far above any org's listed bytes and records, so `df`'s
        // used column (the listed files) stays exact and its percentage small.
        const FREE_BYTES: u64 = 1 << 40;
        const FREE_FILES: u64 = 1 << 20;
        let mut bytes = 0u64;
        let mut files = 2 + self.groups.len() as u64 + 2 * self.index.folder_count() as u64;
        for folder in 0..self.index.folder_count() {
            if let Some(listing) = self.index.peek_listing(folder) {
                files += listing.files().len() as u64;
                bytes += listing.files().iter().map(|f| f.size).sum::<u64>();
            }
        }
        let free_blocks = FREE_BYTES / BLOCK_SIZE;
        Statfs {
            blocks: bytes.div_ceil(BLOCK_SIZE) + free_blocks,
            free_blocks,
            files: files + FREE_FILES,
            free_files: FREE_FILES,
            block_size: BLOCK_SIZE as u32,
            max_name_length: 255,
        }
    }

    /// Every mutation (create, write, unlink, mkdir, rename, setattr, ...) answers this.
    pub fn mutation(&self) -> FsError {
        FsError::ReadOnly
    }
}
