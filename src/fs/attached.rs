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
}

pub(super) struct Attached {
    table: Mutex<Table>,
    /// Documents read by inode lately (no-open mode), so each read of one is not another
    /// download; a document's bytes never change, so evicting them is always safe.
    recent: Mutex<RecentBytes>,
}

impl Attached {
    pub fn new(recent_budget: usize) -> Attached {
        Attached {
            table: Mutex::default(),
            recent: Mutex::new(RecentBytes::new(recent_budget)),
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn clear_recent(&self) {
        lock(&self.recent).clear();
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
use super::retained::RecentBytes;
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
            AttachedNode::Document(document, _) => Ok(Self::file_attr(
                ino,
                document.size,
                document.mtime,
                document.mtime,
            )),
        }
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
        let Some(record) = listing.documents.of_record(&id) else {
            return Ok(Vec::new());
        };
        Ok(record
            .documents
            .iter()
            .map(|d| (d.name.clone(), self.attached.document_ino(d, folder)))
            .collect())
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
            AttachedNode::Document(document, folder) => {
                Ok(Handle::Document(Arc::new(LazyDocument {
                    document,
                    folder,
                    bytes: Mutex::new(None),
                })))
            }
        }
    }

    /// The bytes of an open document, downloaded on the first read that needs them.
    pub(super) fn document_bytes(&self, lazy: &LazyDocument) -> Result<Arc<[u8]>, FsError> {
        if let Some(bytes) = lock(&lazy.bytes).clone() {
            return Ok(bytes);
        }
        let bytes = self.index.document_bytes(lazy.folder, &lazy.document)?;
        *lock(&lazy.bytes) = Some(bytes.clone());
        Ok(bytes)
    }

    pub(super) fn document_read_would_wait(&self, lazy: &LazyDocument) -> bool {
        lock(&lazy.bytes).is_none() && !self.index.document_in_memory(&lazy.document)
    }

    /// The bytes of document `ino` read with no handle, kept for its next reads.
    pub(super) fn attached_bytes(&self, ino: u64) -> Result<Arc<[u8]>, FsError> {
        if let Some(bytes) = lock(&self.attached.recent).get(ino) {
            return Ok(bytes);
        }
        let AttachedNode::Document(document, folder) =
            self.attached.node(ino).ok_or(FsError::NotFound)?
        else {
            return Err(FsError::IsADirectory);
        };
        let bytes = self.index.document_bytes(folder, &document)?;
        lock(&self.attached.recent).insert(ino, bytes.clone());
        Ok(bytes)
    }

    pub(super) fn attached_read_would_wait(&self, ino: u64) -> bool {
        if lock(&self.attached.recent).contains(ino) {
            return false;
        }
        match self.attached.node(ino) {
            Some(AttachedNode::Document(document, _)) => !self.index.document_in_memory(&document),
            _ => false,
        }
    }
}
