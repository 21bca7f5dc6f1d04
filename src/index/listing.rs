//! A folder's listing: immutable once built, so a reader holding one (a readdir snapshot)
//! keeps a consistent view while refreshes build the next.
//!
//! Memory: a listing is the one structure that grows with the org (every record of every
//! listed folder, for the whole mount), so its lookups cost 4 bytes a file and a control
//! byte rather than a second copy of each name or Id. The three tables hold positions into
//! `files`, hashed by the entry's own name, inode or Id, and compare against the entry.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::SystemTime;

use hashbrown::hash_table::{Entry, HashTable};

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
    /// Positions in `files`, hashed by name (names are unique in a folder).
    by_name: HashTable<u32>,
    /// Positions in `files`, hashed by inode number.
    by_ino: HashTable<u32>,
    /// Position of each record's first file, hashed by Id.
    by_id: HashTable<u32>,
    /// One random seed per listing: names come from the org, so a fixed hash would let
    /// crafted record titles collide on purpose.
    hasher: RandomState,
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

/// Which of two files with the same key a table keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// The first (an Id maps to its record's first file).
    First,
    /// The last (as a map built by `collect` would).
    Last,
}

impl Listing {
    pub(super) fn new(
        mut files: Vec<FileEntry>,
        plan: ListingPlan,
        refreshed_at: SystemTime,
        changed_at: SystemTime,
    ) -> Listing {
        // The builders grow `files` by doubling; a listing lives for the whole mount, so the
        // spare capacity (up to half the vector) is given back once here.
        files.shrink_to_fit();
        let hasher = RandomState::new();
        let by_name = build_table(
            &files,
            Keep::Last,
            |f| hasher.hash_one(f.name.as_str()),
            |a, b| a.name == b.name,
        );
        let by_ino = build_table(
            &files,
            Keep::Last,
            |f| hasher.hash_one(f.ino),
            |a, b| a.ino == b.ino,
        );
        let by_id = build_table(
            &files,
            Keep::First,
            |f| hasher.hash_one(&*f.id),
            |a, b| a.id == b.id,
        );
        Listing {
            files,
            by_name,
            by_ino,
            by_id,
            hasher,
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
        let hash = self.hasher.hash_one(name);
        self.by_name
            .find(hash, |&i| self.files[i as usize].name == name)
            .map(|&i| &self.files[i as usize])
    }

    pub fn by_ino(&self, ino: u64) -> Option<&FileEntry> {
        self.position_of(ino).map(|i| &self.files[i])
    }

    pub fn position_of(&self, ino: u64) -> Option<usize> {
        let hash = self.hasher.hash_one(ino);
        self.by_ino
            .find(hash, |&i| self.files[i as usize].ino == ino)
            .map(|&i| i as usize)
    }

    pub fn record_count(&self) -> usize {
        self.by_id.len()
    }

    /// The first file of the record with this Id.
    pub fn by_id(&self, id: &str) -> Option<&FileEntry> {
        self.first_of_id(id).map(|i| &self.files[i])
    }

    fn first_of_id(&self, id: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.by_id
            .find(hash, |&i| &*self.files[i as usize].id == id)
            .map(|&i| i as usize)
    }

    /// Every record Id of the listing, in listing order.
    pub fn ids(&self) -> impl Iterator<Item = &Arc<str>> + '_ {
        self.files
            .iter()
            .enumerate()
            .filter(|(i, f)| self.first_of_id(&f.id) == Some(*i))
            .map(|(_, f)| &f.id)
    }

    /// Bytes this listing holds on the heap, the entries' names and Ids included, before
    /// the allocator's rounding (the per-file figure of the Memory section of
    /// docs/filesystem.md).
    pub fn heap_bytes(&self) -> usize {
        let entries = self.files.capacity() * std::mem::size_of::<FileEntry>();
        let strings: usize = self
            .files
            .iter()
            // An Arc<str> carries two reference counts before its bytes.
            .map(|f| f.name.capacity() + f.id.len() + 2 * std::mem::size_of::<usize>())
            .sum();
        let tables: usize = [&self.by_name, &self.by_ino, &self.by_id]
            .iter()
            .map(|t| t.allocation_size())
            .sum();
        entries + strings + tables
    }
}

/// A table of positions into `files`, each hashed by `hash` of its entry; of two entries
/// equal under `same`, `keep` says which one stays.
fn build_table(
    files: &[FileEntry],
    keep: Keep,
    hash: impl Fn(&FileEntry) -> u64,
    same: impl Fn(&FileEntry, &FileEntry) -> bool,
) -> HashTable<u32> {
    let mut table = HashTable::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let entry = table.entry(
            hash(file),
            |&j: &u32| same(&files[j as usize], file),
            |&j| hash(&files[j as usize]),
        );
        match entry {
            Entry::Occupied(mut slot) if keep == Keep::Last => *slot.get_mut() = i as u32,
            Entry::Occupied(_) => {}
            Entry::Vacant(slot) => {
                slot.insert(i as u32);
            }
        }
    }
    // Sized for every file; an Id table of a two-format folder needs only half.
    table.shrink_to_fit(|&j| hash(&files[j as usize]));
    table
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(ino: u64, name: &str, id: &str, format: FileFormat) -> FileEntry {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(ino);
        FileEntry {
            ino,
            name: name.to_string(),
            id: Arc::from(id),
            format,
            size: ino * 10,
            mtime: t,
            ctime: t,
            modstamp: Some(t),
            digest: ino,
        }
    }

    fn listing(files: Vec<FileEntry>) -> Listing {
        let t = SystemTime::UNIX_EPOCH;
        Listing::new(files, ListingPlan::default(), t, t)
    }

    /// Two records in two formats each, in listing order.
    fn two_formats() -> Listing {
        listing(vec![
            entry(11, "Acme-001.json", "001", FileFormat::Json),
            entry(12, "Acme-001.txt", "001", FileFormat::Text),
            entry(13, "Globex-002.json", "002", FileFormat::Json),
            entry(14, "Globex-002.txt", "002", FileFormat::Text),
        ])
    }

    #[test]
    fn finds_files_by_name_inode_and_id() {
        let l = two_formats();
        assert_eq!(l.by_name("Globex-002.txt").map(|f| f.ino), Some(14));
        assert_eq!(l.by_name("Globex-002"), None);
        assert_eq!(l.by_ino(12).map(|f| f.name.as_str()), Some("Acme-001.txt"));
        assert_eq!(l.by_ino(99), None);
        assert_eq!(l.position_of(13), Some(2));
        assert_eq!(l.position_of(10), None);
        // An Id finds its record's first file (the first format).
        assert_eq!(l.by_id("002").map(|f| f.ino), Some(13));
        assert_eq!(l.by_id("003"), None);
    }

    #[test]
    fn counts_records_and_lists_each_id_once_in_order() {
        let l = two_formats();
        assert_eq!(l.files().len(), 4);
        assert_eq!(l.record_count(), 2);
        let ids: Vec<&str> = l.ids().map(|id| &**id).collect();
        assert_eq!(ids, ["001", "002"]);
    }

    #[test]
    fn an_empty_listing_finds_nothing() {
        let l = listing(Vec::new());
        assert_eq!(l.record_count(), 0);
        assert_eq!(l.ids().count(), 0);
        assert!(l.by_name("").is_none() && l.by_ino(0).is_none() && l.by_id("").is_none());
    }

    #[test]
    fn on_a_repeated_key_names_and_inodes_keep_the_last_file_and_ids_the_first() {
        // Not produced by the loaders; the rule is the one the maps had before.
        let l = listing(vec![
            entry(1, "same.json", "A", FileFormat::Json),
            entry(2, "same.json", "B", FileFormat::Json),
            entry(2, "other.json", "A", FileFormat::Json),
        ]);
        assert_eq!(l.by_name("same.json").map(|f| f.ino), Some(2));
        assert_eq!(l.by_ino(2).map(|f| f.name.as_str()), Some("other.json"));
        assert_eq!(l.by_id("A").map(|f| f.ino), Some(1));
        let ids: Vec<&str> = l.ids().map(|id| &**id).collect();
        assert_eq!(ids, ["A", "B"]);
    }

    #[test]
    fn many_files_are_all_found_and_cost_little_beyond_their_entries() {
        let files: Vec<FileEntry> = (0..10_000u64)
            .map(|i| {
                let id = format!("001Ka{i:013}");
                entry(
                    1000 + i,
                    &format!("Record {i}-{id}.json"),
                    &id,
                    FileFormat::Json,
                )
            })
            .collect();
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        let l = listing(files);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(l.by_name(name).map(|f| f.ino), Some(1000 + i as u64));
            assert_eq!(l.position_of(1000 + i as u64), Some(i));
        }
        assert_eq!(l.record_count(), 10_000);
        // The entries themselves (struct, name, Id) and what the tables add on top: three
        // tables of 4-byte positions with a control byte each, at most half empty.
        let entry_bytes: usize = l
            .files()
            .iter()
            .map(|f| std::mem::size_of::<FileEntry>() + f.name.len() + f.id.len() + 16)
            .sum();
        let per_file = (l.heap_bytes() - entry_bytes) / l.files().len();
        assert!(per_file <= 3 * 2 * 5, "tables cost {per_file} bytes a file");
    }
}
