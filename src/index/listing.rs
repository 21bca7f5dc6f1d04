//! A folder's listing: immutable once built, so a reader holding one (a readdir snapshot)
//! keeps a consistent view while refreshes build the next.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::{FileFormat, ListingPlan};

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
    /// The `.files` folders of records with attached documents.
    pub documents: super::DocumentFolders,
}

impl Listing {
    pub(super) fn new(
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
            documents: Default::default(),
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

    /// Files added, updated, renamed and removed.
    pub fn total(&self) -> usize {
        self.added + self.updated + self.renamed + self.removed
    }

    /// Adds `more` to this summary (several passes over one folder in one tick).
    pub fn absorb(&mut self, more: ChangeSummary) {
        self.added += more.added;
        self.updated += more.updated;
        self.renamed += more.renamed;
        self.removed += more.removed;
        self.stale_inodes.extend(more.stale_inodes);
        self.stale_names.extend(more.stale_names);
    }
}
