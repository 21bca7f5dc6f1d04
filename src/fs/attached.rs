//! Attached files: the `.files` folder beside a record file, and one inode per document
//! version (a document linked from several records is the same inode in each folder, so
//! the kernel keeps one copy of its pages and the org is asked for its bytes once).
//!
//! Inode numbers are handed out here on first sight and kept for the mount's life: folder
//! `k` is `ATTACHED_INO_BASE + 2k`, document `k` is `ATTACHED_INO_BASE + 2k + 1`. The table
//! grows with the folders and documents looked at, which the org bounds.

use crate::sync::lock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::index::Document;

/// Above every other number: records are below `1 << 62`, versions count up from it.
pub(super) const ATTACHED_INO_BASE: u64 = 1 << 63;

/// What an attached-files inode names.
#[derive(Debug, Clone)]
pub(super) enum AttachedNode {
    /// A record's `.files` folder: the object folder and the record Id.
    Folder(usize, Arc<str>),
    /// A document, and the object folder it was first seen in (whose status tells why a
    /// download failed).
    Document(Arc<Document>, usize),
}

#[derive(Default)]
struct Table {
    folders: Vec<(usize, Arc<str>)>,
    folder_of: HashMap<(usize, Arc<str>), u64>,
    documents: Vec<(Arc<Document>, usize)>,
    /// By ContentVersion Id: a new version of a document is a new inode.
    document_of: HashMap<Arc<str>, u64>,
    /// Per `.files` folder inode, the names last served from it: what the kernel may hold
    /// in its cache, to be told about once a refresh changes them.
    served: HashMap<u64, Vec<String>>,
}

pub(super) struct Attached {
    table: Mutex<Table>,
    /// Documents read by inode lately (no-open mode), each with its download state, so the
    /// reads of one file share one transfer whose bytes stream through the store (or a
    /// temporary file), never through memory. A document's bytes never change, so one
    /// dropped from here is simply opened again.
    opened: Mutex<lru::LruCache<u64, Arc<LazyDocument>>>,
}

/// Documents kept open for reads by inode: far more than a reader reads at once; each is a
/// small state (its bytes are in the store or a temporary file).
const OPENED_BY_INODE: usize = 256;

impl Attached {
    pub fn new() -> Attached {
        Attached {
            table: Mutex::default(),
            opened: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(OPENED_BY_INODE).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn clear_recent(&self) {
        lock(&self.opened).clear();
    }

    /// The inode of record `id`'s `.files` folder in object folder `folder`.
    pub fn folder_ino(&self, folder: usize, id: &Arc<str>) -> u64 {
        let mut table = lock(&self.table);
        if let Some(&ino) = table.folder_of.get(&(folder, id.clone())) {
            return ino;
        }
        let ino = ATTACHED_INO_BASE + 2 * table.folders.len() as u64;
        table.folders.push((folder, id.clone()));
        table.folder_of.insert((folder, id.clone()), ino);
        ino
    }

    /// The inode of `document`'s current version, seen in object folder `folder`.
    pub fn document_ino(&self, document: &Arc<Document>, folder: usize) -> u64 {
        let mut table = lock(&self.table);
        if let Some(&ino) = table.document_of.get(&document.version_id) {
            return ino;
        }
        let ino = ATTACHED_INO_BASE + 2 * table.documents.len() as u64 + 1;
        table.documents.push((document.clone(), folder));
        table.document_of.insert(document.version_id.clone(), ino);
        ino
    }

    /// Notes the names a `.files` folder was served with.
    fn served(&self, ino: u64, names: Vec<String>) {
        lock(&self.table).served.insert(ino, names);
    }

    /// The `.files` folders of object folder `folder` the kernel was shown, with the names
    /// they were shown with.
    fn shown_in(&self, folder: usize) -> Vec<(u64, Arc<str>, Vec<String>)> {
        let table = lock(&self.table);
        table
            .served
            .iter()
            .filter_map(|(&ino, names)| {
                let k = ((ino - ATTACHED_INO_BASE) / 2) as usize;
                let (f, id) = table.folders.get(k)?;
                (*f == folder).then(|| (ino, id.clone(), names.clone()))
            })
            .collect()
    }

    pub fn node(&self, ino: u64) -> Option<AttachedNode> {
        let offset = ino.checked_sub(ATTACHED_INO_BASE)?;
        let k = (offset / 2) as usize;
        let table = lock(&self.table);
        if offset.is_multiple_of(2) {
            let (folder, id) = table.folders.get(k)?;
            Some(AttachedNode::Folder(*folder, id.clone()))
        } else {
            let (document, folder) = table.documents.get(k)?;
            Some(AttachedNode::Document(document.clone(), *folder))
        }
    }
}

use super::handles::{Handle, LazyDocument};
use super::{Attr, Filesystem, FsError};

impl Filesystem {
    /// The attributes of an attached-files inode.
    pub(super) fn attached_attr(&self, ino: u64) -> Result<Attr, FsError> {
        match self.attached.node(ino).ok_or(FsError::NotFound)? {
            AttachedNode::Folder(folder, _) => {
                let mut attr = self.getattr(Self::folder_ino(folder))?;
                attr.ino = ino;
                Ok(attr)
            }
            AttachedNode::Document(document, _) => {
                let mut attr = Self::file_attr(ino, document.size, document.mtime, document.mtime);
                attr.nlink = self.document_places(&document.version_id).max(1);
                Ok(attr)
            }
        }
    }

    /// In how many `.files` folders a document version is, over the folders listed so far
    /// (its link count: one hard link per record it is attached to). One lookup per object
    /// folder, never a listing.
    fn document_places(&self, version_id: &str) -> u32 {
        (0..self.index.folder_count())
            .filter_map(|folder| self.index.peek_listing(folder))
            .map(|listing| listing.documents.places(version_id))
            .sum()
    }

    /// The `.files` folder named `name` in object folder `folder`, if a record has one.
    pub(super) fn lookup_files_folder(
        &self,
        folder: usize,
        listing: &crate::index::Listing,
        name: &str,
    ) -> Option<Result<Attr, FsError>> {
        let record = listing.documents.by_name(name)?;
        Some(self.attached_attr(self.attached.folder_ino(folder, &record.record_id)))
    }

    /// The documents a `.files` folder holds now, with their inodes.
    pub(super) fn files_folder_entries(&self, ino: u64) -> Result<Vec<(String, u64)>, FsError> {
        let Some(AttachedNode::Folder(folder, id)) = self.attached.node(ino) else {
            return Err(FsError::NotADirectory);
        };
        let listing = self.index.listing(folder)?;
        let entries: Vec<(String, u64)> = match listing.documents.of_record(&id) {
            Some(record) => record
                .documents
                .iter()
                .map(|d| (d.name.clone(), self.attached.document_ino(d, folder)))
                .collect(),
            None => Vec::new(),
        };
        self.attached
            .served(ino, entries.iter().map(|(n, _)| n.clone()).collect());
        Ok(entries)
    }

    /// After a refresh changed object folder `folder`: each `.files` folder in it whose
    /// documents differ from what the kernel was shown, with the names to forget (gone
    /// ones, which would still resolve, and new ones, which may be remembered as missing).
    /// The folder inode itself is then invalidated too (its cached listing and times).
    pub(super) fn stale_files_folders(&self, folder: usize) -> Vec<(u64, Vec<String>)> {
        let Some(listing) = self.index.peek_listing(folder) else {
            return Vec::new();
        };
        let mut stale = Vec::new();
        for (ino, id, shown) in self.attached.shown_in(folder) {
            let now: Vec<String> = listing
                .documents
                .of_record(&id)
                .map(|r| r.documents.iter().map(|d| d.name.clone()).collect())
                .unwrap_or_default();
            if now == shown {
                continue;
            }
            let mut names: Vec<String> = shown
                .iter()
                .filter(|n| !now.contains(n))
                .chain(now.iter().filter(|n| !shown.contains(n)))
                .cloned()
                .collect();
            names.sort();
            self.attached.served(ino, now);
            stale.push((ino, names));
        }
        stale
    }

    pub(super) fn lookup_in_files_folder(&self, parent: u64, name: &str) -> Result<Attr, FsError> {
        let (_, ino) = self
            .files_folder_entries(parent)?
            .into_iter()
            .find(|(n, _)| n == name)
            .ok_or(FsError::NotFound)?;
        self.attached_attr(ino)
    }

    /// The object folder a `.files` folder sits in (its `..`).
    pub(super) fn attached_parent(&self, ino: u64) -> u64 {
        match self.attached.node(ino) {
            Some(AttachedNode::Folder(folder, _)) => Self::folder_ino(folder),
            _ => super::ROOT_INO,
        }
    }

    pub(super) fn open_attached(&self, ino: u64) -> Result<Handle, FsError> {
        match self.attached.node(ino).ok_or(FsError::NotFound)? {
            AttachedNode::Folder(..) => Err(FsError::IsADirectory),
            AttachedNode::Document(document, folder) => Ok(Handle::Document(Arc::new(
                self.index.open_document(folder, document),
            ))),
        }
    }

    /// Bytes of an open document, downloaded (in chunks, from the offset) as needed.
    pub(super) fn read_document(
        &self,
        open: &LazyDocument,
        offset: u64,
        size: u32,
    ) -> Result<super::ReadData, FsError> {
        let (bytes, start, end) = self.index.read_document(open, offset, size)?;
        Ok(super::ReadData { bytes, start, end })
    }

    /// A read of an attached file may always wait (for the store or the org): it is
    /// served off the FUSE thread.
    pub(super) fn document_read_would_wait(&self, _open: &LazyDocument) -> bool {
        true
    }

    /// A read of attached file `ino` with no handle (no-open mode): as a read of an open
    /// handle, through a state kept per inode.
    pub(super) fn read_attached_inode(
        &self,
        ino: u64,
        offset: u64,
        size: u32,
    ) -> Result<super::ReadData, FsError> {
        let open = {
            let mut opened = lock(&self.attached.opened);
            match opened.get(&ino) {
                Some(open) => open.clone(),
                None => {
                    let AttachedNode::Document(document, folder) =
                        self.attached.node(ino).ok_or(FsError::NotFound)?
                    else {
                        return Err(FsError::IsADirectory);
                    };
                    let open = Arc::new(self.index.open_document(folder, document));
                    opened.put(ino, open.clone());
                    open
                }
            }
        };
        self.read_document(&open, offset, size)
    }

    /// Like a read of an open document, one by inode may always wait.
    pub(super) fn attached_read_would_wait(&self, ino: u64) -> bool {
        matches!(self.attached.node(ino), Some(AttachedNode::Document(..)))
    }
}
