//! The filesystem logic, as plain structs and results, so it is tested without FUSE;
//! `fuse.rs` only translates to and from fuser.
//!
//! Tree: `/` → group folders (`Standard Objects`, `Custom Objects`) → one folder per object
//! → `.sobject.json` and one file per record (and format). Group and object folders exist
//! from mount time; an object folder's records are listed on its first lookup or opendir.
//!
//! Inode numbers are stable for the life of the mount: fixed numbers for the root, groups,
//! object folders and their `.sobject.json`, and the index's per-record numbers (kept per
//! record Id and format across changes). Forget is ignored: nothing is ever reused.
//!
//! Consistency: an open file handle keeps the bytes it opened; a readdir handle keeps the
//! listing it opened (entry `k` is at offset `k + 1`, so every entry is listed exactly once
//! however the kernel splits the reads).

pub mod errno;
pub mod fuse;

use crate::sync::lock;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::catalog::Group;
use crate::index::{FileEntry, Index, IndexError, Listing, RECORD_INO_SHIFT};

/// The root directory's inode number, fixed by FUSE.
pub const ROOT_INO: u64 = 1;
/// Group folders are `GROUP_INO_BASE + group`.
const GROUP_INO_BASE: u64 = 2;
/// Object folder `i` is `FOLDER_INO_BASE + 2 i`, its `.sobject.json` the number after it.
/// Far above the groups and far below the index's record numbers (`1 << 40`).
const FOLDER_INO_BASE: u64 = 1 << 20;
/// The per-folder status file.
pub const SOBJECT_JSON: &str = ".sobject.json";
/// The mount root's status file: API usage and every folder's refresh state.
pub const STATUS_FILE: &str = ".sfmount-status.json";
/// Its inode: just below the object folders, far above any group.
pub const STATUS_INO: u64 = FOLDER_INO_BASE - 1;
/// The mount root's change journal: one JSON line per applied change, newest last.
pub const CHANGES_FILE: &str = ".sfmount-changes.jsonl";
/// Its inode: just below the status file's.
pub const CHANGES_INO: u64 = STATUS_INO - 1;

/// Directory permissions: read and traverse for everyone, never write (the default of
/// `dir_mode`, which the FUSE adapter applies).
pub const DIR_PERM: u16 = 0o555;
/// File permissions: read for everyone, never write (the default of `file_mode`).
pub const FILE_PERM: u16 = 0o444;

/// How long after a change an open bypasses the kernel's cached size: well over the kernel
/// TTL (1 s) plus the time an invalidation takes to reach the kernel on a loaded machine.
pub const RECENT_CHANGE_WINDOW: Duration = Duration::from_secs(10);

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statfs {
    pub blocks: u64,
    pub files: u64,
    pub block_size: u32,
    pub max_name_length: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Root,
    Status,
    Changes,
    Group(usize),
    Folder(usize),
    SobjectJson(usize),
    Record { folder: usize, ino: u64 },
}

/// What an opendir saw: the names it will list, whatever changes later.
struct DirSnapshot {
    ino: u64,
    parent: u64,
    entries: SnapshotEntries,
}

enum SnapshotEntries {
    /// Root and group folders: a few fixed children.
    Fixed(Vec<(String, u64)>),
    /// An object folder: `.sobject.json`, then the listing's files.
    Folder {
        folder: usize,
        listing: Arc<Listing>,
    },
}

enum Handle {
    Dir(Arc<DirSnapshot>),
    File(Arc<[u8]>),
}

/// An open file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub fh: u64,
    /// Reads must bypass the kernel's page cache and cached size (FOPEN_DIRECT_IO): the
    /// bytes may not match the size the kernel was last told, and `cat` must still read to
    /// their end.
    pub direct_io: bool,
}

/// A slice of an open file's bytes.
pub struct ReadData {
    bytes: Arc<[u8]>,
    start: usize,
    end: usize,
}

impl ReadData {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }
}

pub struct Filesystem {
    index: Index,
    groups: Vec<Group>,
    /// Object folders of each group, by name.
    group_members: Vec<Vec<(String, usize)>>,
    handles: Mutex<HashMap<u64, Handle>>,
    next_handle: AtomicU64,
}

impl Filesystem {
    pub fn new(index: Index) -> Filesystem {
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
        Filesystem {
            index,
            groups,
            group_members,
            handles: Mutex::new(HashMap::new()),
            next_handle: AtomicU64::new(1),
        }
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    fn node(&self, ino: u64) -> Option<Node> {
        if ino == ROOT_INO {
            return Some(Node::Root);
        }
        if ino == STATUS_INO {
            return Some(Node::Status);
        }
        if ino == CHANGES_INO {
            return Some(Node::Changes);
        }
        if ino >= 1 << RECORD_INO_SHIFT {
            let folder = self.index.folder_of_ino(ino)?;
            return Some(Node::Record { folder, ino });
        }
        if ino >= FOLDER_INO_BASE {
            let offset = ino - FOLDER_INO_BASE;
            let folder = (offset / 2) as usize;
            if folder >= self.index.folder_count() {
                return None;
            }
            return Some(if offset.is_multiple_of(2) {
                Node::Folder(folder)
            } else {
                Node::SobjectJson(folder)
            });
        }
        let group = ino.checked_sub(GROUP_INO_BASE)? as usize;
        (group < self.groups.len()).then_some(Node::Group(group))
    }

    /// The inode of object folder `folder` (what change invalidations name as the parent).
    pub fn folder_ino(folder: usize) -> u64 {
        FOLDER_INO_BASE + 2 * folder as u64
    }

    pub fn sobject_ino(folder: usize) -> u64 {
        Self::folder_ino(folder) + 1
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

    fn file_attr(entry: &FileEntry) -> Attr {
        Attr {
            ino: entry.ino,
            kind: NodeKind::File,
            size: entry.size,
            mtime: entry.mtime,
            ctime: entry.ctime,
            perm: FILE_PERM,
            nlink: 1,
        }
    }

    fn sobject_attr(&self, folder: usize) -> Result<Attr, FsError> {
        let size = self.index.sobject_json(folder)?.len() as u64;
        let mtime = self
            .index
            .peek_listing(folder)
            .map(|l| l.refreshed_at)
            .unwrap_or_else(|| self.index.mounted_at());
        Ok(Attr {
            ino: Self::sobject_ino(folder),
            kind: NodeKind::File,
            size,
            mtime,
            ctime: mtime,
            perm: FILE_PERM,
            nlink: 1,
        })
    }

    fn folder_attr(&self, folder: usize) -> Attr {
        let mtime = self
            .index
            .peek_listing(folder)
            .map(|l| l.changed_at)
            .unwrap_or_else(|| self.index.mounted_at());
        self.dir_attr(Self::folder_ino(folder), mtime)
    }

    fn changes_attr(&self) -> Attr {
        Attr {
            ino: CHANGES_INO,
            size: self.index.changes_jsonl().len() as u64,
            ..self.status_attr()
        }
    }

    fn status_attr(&self) -> Attr {
        let mtime = self
            .index
            .refresh_overview()
            .last_tick
            .unwrap_or_else(|| self.index.mounted_at());
        Attr {
            ino: STATUS_INO,
            kind: NodeKind::File,
            size: self.index.status_json().len() as u64,
            mtime,
            ctime: mtime,
            perm: FILE_PERM,
            nlink: 1,
        }
    }

    fn attr_of(&self, node: Node) -> Result<Attr, FsError> {
        match node {
            Node::Root => Ok(self.dir_attr(ROOT_INO, self.index.mounted_at())),
            Node::Status => Ok(self.status_attr()),
            Node::Changes => Ok(self.changes_attr()),
            Node::Group(group) => {
                Ok(self.dir_attr(GROUP_INO_BASE + group as u64, self.index.mounted_at()))
            }
            Node::Folder(folder) => Ok(self.folder_attr(folder)),
            Node::SobjectJson(folder) => self.sobject_attr(folder),
            Node::Record { folder, ino } => {
                // A record inode came from a listing, so this never loads anything new.
                let listing = self.index.listing(folder)?;
                listing
                    .by_ino(ino)
                    .map(Self::file_attr)
                    .ok_or(FsError::NotFound)
            }
        }
    }

    pub fn getattr(&self, ino: u64) -> Result<Attr, FsError> {
        let node = self.node(ino).ok_or(FsError::NotFound)?;
        self.attr_of(node)
    }

    pub fn lookup(&self, parent: u64, name: &OsStr) -> Result<Attr, FsError> {
        // Names we serve are all UTF-8; anything else cannot exist here.
        let name = name.to_str().ok_or(FsError::NotFound)?;
        match self.node(parent).ok_or(FsError::NotFound)? {
            Node::Root => {
                if name == STATUS_FILE {
                    return Ok(self.status_attr());
                }
                if name == CHANGES_FILE {
                    return Ok(self.changes_attr());
                }
                let group = self
                    .groups
                    .iter()
                    .position(|g| g.folder_name() == name)
                    .ok_or(FsError::NotFound)?;
                self.attr_of(Node::Group(group))
            }
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
                    return self.sobject_attr(folder);
                }
                let listing = self.index.listing(folder)?;
                listing
                    .by_name(name)
                    .map(Self::file_attr)
                    .ok_or(FsError::NotFound)
            }
            Node::Status | Node::Changes | Node::SobjectJson(_) | Node::Record { .. } => {
                Err(FsError::NotADirectory)
            }
        }
    }

    fn parent_of(&self, node: Node) -> u64 {
        match node {
            Node::Root | Node::Status | Node::Changes | Node::Group(_) => ROOT_INO,
            Node::Folder(folder) | Node::SobjectJson(folder) | Node::Record { folder, .. } => {
                let spec_group = self.index.folder_spec(folder).map(|s| s.group);
                let group = self.groups.iter().position(|g| Some(*g) == spec_group);
                match (node, group) {
                    (Node::Folder(_), Some(group)) => GROUP_INO_BASE + group as u64,
                    (Node::Folder(_), None) => ROOT_INO,
                    _ => Self::folder_ino(folder),
                }
            }
        }
    }

    fn new_handle(&self, handle: Handle) -> u64 {
        let fh = self.next_handle.fetch_add(1, Ordering::Relaxed);
        lock(&self.handles).insert(fh, handle);
        fh
    }

    /// Opens a directory: takes the snapshot that every later readdir of this handle lists.
    /// An object folder is listed first if it was not yet.
    pub fn opendir(&self, ino: u64) -> Result<u64, FsError> {
        let node = self.node(ino).ok_or(FsError::NotFound)?;
        let entries =
            match node {
                Node::Root => SnapshotEntries::Fixed(
                    [
                        (CHANGES_FILE.to_string(), CHANGES_INO),
                        (STATUS_FILE.to_string(), STATUS_INO),
                    ]
                    .into_iter()
                    .chain(self.groups.iter().enumerate().map(|(g, group)| {
                        (group.folder_name().to_string(), GROUP_INO_BASE + g as u64)
                    }))
                    .collect(),
                ),
                Node::Group(group) => SnapshotEntries::Fixed(
                    self.group_members[group]
                        .iter()
                        .map(|(name, folder)| (name.clone(), Self::folder_ino(*folder)))
                        .collect(),
                ),
                Node::Folder(folder) => SnapshotEntries::Folder {
                    folder,
                    listing: self.index.listing(folder)?,
                },
                Node::Status | Node::Changes | Node::SobjectJson(_) | Node::Record { .. } => {
                    return Err(FsError::NotADirectory)
                }
            };
        let snapshot = DirSnapshot {
            ino,
            parent: self.parent_of(node),
            entries,
        };
        Ok(self.new_handle(Handle::Dir(Arc::new(snapshot))))
    }

    fn dir_snapshot(&self, fh: u64) -> Result<Arc<DirSnapshot>, FsError> {
        match lock(&self.handles).get(&fh) {
            Some(Handle::Dir(snapshot)) => Ok(snapshot.clone()),
            Some(Handle::File(_)) => Err(FsError::NotADirectory),
            None => Err(FsError::BadHandle),
        }
    }

    /// Lists the snapshot from `offset` (0 at the start, then the `next_offset` of the last
    /// entry taken), handing entries to `add` until it returns true (reply buffer full).
    pub fn readdir(
        &self,
        fh: u64,
        offset: u64,
        mut add: impl FnMut(DirEntry) -> bool,
    ) -> Result<(), FsError> {
        let snapshot = self.dir_snapshot(fh)?;
        let fixed_count = 2 + match &snapshot.entries {
            SnapshotEntries::Fixed(children) => children.len(),
            SnapshotEntries::Folder { .. } => 1,
        };
        let total = fixed_count
            + match &snapshot.entries {
                SnapshotEntries::Fixed(_) => 0,
                SnapshotEntries::Folder { listing, .. } => listing.files().len(),
            };
        let mut position = usize::try_from(offset).unwrap_or(usize::MAX);
        while position < total {
            let entry = self.snapshot_entry(&snapshot, position, fixed_count)?;
            if add(entry) {
                break;
            }
            position += 1;
        }
        Ok(())
    }

    fn snapshot_entry(
        &self,
        snapshot: &DirSnapshot,
        position: usize,
        fixed_count: usize,
    ) -> Result<DirEntry, FsError> {
        let next_offset = position as u64 + 1;
        let dot = |name: &str, ino: u64| -> Result<DirEntry, FsError> {
            Ok(DirEntry {
                ino,
                next_offset,
                name: name.to_string(),
                attr: self.getattr(ino)?,
            })
        };
        match position {
            0 => return dot(".", snapshot.ino),
            1 => return dot("..", snapshot.parent),
            _ => {}
        }
        match &snapshot.entries {
            SnapshotEntries::Fixed(children) => {
                let (name, ino) = &children[position - 2];
                dot(name, *ino)
            }
            SnapshotEntries::Folder { folder, listing } => {
                if position == 2 {
                    return Ok(DirEntry {
                        ino: Self::sobject_ino(*folder),
                        next_offset,
                        name: SOBJECT_JSON.to_string(),
                        attr: self.sobject_attr(*folder)?,
                    });
                }
                let file = &listing.files()[position - fixed_count];
                Ok(DirEntry {
                    ino: file.ino,
                    next_offset,
                    name: file.name.clone(),
                    attr: Self::file_attr(file),
                })
            }
        }
    }

    pub fn releasedir(&self, fh: u64) {
        lock(&self.handles).remove(&fh);
    }

    /// Opens a file for reading; the handle keeps these bytes until release, so a reader
    /// sees one version even if the record changes meanwhile. Write access is refused.
    pub fn open(&self, ino: u64, write_access: bool) -> Result<Opened, FsError> {
        let node = self.node(ino).ok_or(FsError::NotFound)?;
        if write_access {
            return Err(FsError::ReadOnly);
        }
        let (bytes, size_may_be_stale): (Arc<[u8]>, bool) = match node {
            Node::Root | Node::Group(_) | Node::Folder(_) => return Err(FsError::IsADirectory),
            // Its size changes as the folder is listed or fails, so the kernel's cached size
            // may be older than these bytes.
            Node::SobjectJson(folder) => (self.index.sobject_json(folder)?.into(), true),
            // Changes with every refresh tick, like `.sobject.json`.
            Node::Status => (self.index.status_json().into(), true),
            // Grows with every applied change.
            Node::Changes => (self.index.changes_jsonl(), true),
            Node::Record { folder, ino } => {
                let listed_size = self
                    .index
                    .peek_listing(folder)
                    .and_then(|l| l.by_ino(ino).map(|f| f.size));
                let bytes = self.index.body(folder, ino)?;
                // A body fetched again may differ from what the listing said (the record
                // changed in the org); then the kernel's size is stale too.
                let stale = listed_size != Some(bytes.len() as u64);
                // A refresh just changed it: the kernel may still hold the old size until
                // the invalidation lands or its TTL ends, and must not cut the new bytes.
                let changed_recently = self
                    .index
                    .content_changed_at(ino)
                    .is_some_and(|at| at.elapsed() < RECENT_CHANGE_WINDOW);
                (bytes, stale || changed_recently)
            }
        };
        Ok(Opened {
            fh: self.new_handle(Handle::File(bytes)),
            direct_io: size_may_be_stale,
        })
    }

    pub fn read(&self, fh: u64, offset: u64, size: u32) -> Result<ReadData, FsError> {
        let bytes = match lock(&self.handles).get(&fh) {
            Some(Handle::File(bytes)) => bytes.clone(),
            Some(Handle::Dir(_)) => return Err(FsError::IsADirectory),
            None => return Err(FsError::BadHandle),
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(size as usize).min(bytes.len());
        Ok(ReadData { bytes, start, end })
    }

    /// The size of what a handle holds (what `fstat` should say for it).
    pub fn handle_size(&self, fh: u64) -> Option<u64> {
        match lock(&self.handles).get(&fh) {
            Some(Handle::File(bytes)) => Some(bytes.len() as u64),
            _ => None,
        }
    }

    pub fn release(&self, fh: u64) {
        lock(&self.handles).remove(&fh);
    }

    /// How many handles are open (tests: every open is released).
    #[cfg(any(test, feature = "testing"))]
    pub fn open_handles(&self) -> usize {
        lock(&self.handles).len()
    }

    /// Totals over the folders listed so far; never lists anything.
    pub fn statfs(&self) -> Statfs {
        const BLOCK_SIZE: u64 = 4096;
        let mut bytes = 0u64;
        let mut files = 2 + self.groups.len() as u64 + 2 * self.index.folder_count() as u64;
        for folder in 0..self.index.folder_count() {
            if let Some(listing) = self.index.peek_listing(folder) {
                files += listing.files().len() as u64;
                bytes += listing.files().iter().map(|f| f.size).sum::<u64>();
            }
        }
        Statfs {
            blocks: bytes.div_ceil(BLOCK_SIZE),
            files,
            block_size: BLOCK_SIZE as u32,
            max_name_length: 255,
        }
    }

    /// Every mutation (create, write, unlink, mkdir, rename, setattr, ...) answers this.
    pub fn mutation(&self) -> FsError {
        FsError::ReadOnly
    }
}
