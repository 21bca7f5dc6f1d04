//! A listed folder rewritten with changed and deleted records: inode numbers are kept per
//! (Id, format), the folder's mtime moves when file names come or go, and the diff says
//! what the kernel must forget ([`ChangeSummary`]).

use crate::sync::lock;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::documents::{record_documents, DocumentFolders};
use super::fleet::Origin;
use super::present::{record_id, render_record, Presenter};
use super::store::{ChangeKind, JournalEntry, StoreBatch};
use super::time::record_watermark;
use super::{ChangeSummary, FileEntry, FileFormat, Index, IndexError, Listing, Record};
use super::{RefetchResult, RenderedBody};

/// The changed records, rendered, before they are merged into the listing.
struct Renders {
    /// Id -> its new files (a record changed twice in one batch keeps its last version).
    replacements: HashMap<String, Vec<FileEntry>>,
    /// The Ids of `replacements` in the order the changes arrived.
    order: Vec<String>,
    bodies: Vec<RenderedBody>,
    /// The same bodies by Id and format, for the local store.
    stored: StoreBatch,
}

/// The listing's new files and what changed on the way.
struct Merge {
    files: Vec<FileEntry>,
    summary: ChangeSummary,
    removed_inos: Vec<u64>,
    unchanged: bool,
    /// Per changed file, for the journal: what happened, the file (the old one when
    /// removed), and its old name when renamed.
    changes: Vec<(ChangeKind, FileEntry, Option<String>)>,
    /// Records fetched again whose files came out the same: their listing rows stand.
    same_ids: HashSet<Arc<str>>,
}

impl Index {
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
        self.apply_changes_from(folder, changed, deleted, Origin::Org)
    }

    /// As `apply_changes`, for changes read from the org by this mount or published by
    /// another mount of its fleet.
    pub(super) fn apply_changes_from(
        &self,
        folder: usize,
        changed: Vec<Record>,
        deleted: &[String],
        origin: Origin,
    ) -> Result<ChangeSummary, IndexError> {
        let f = self.folder(folder)?;
        let _rewrite = lock(&f.rewrite);
        let Some(old) = lock(&f.status).listing.clone() else {
            return Ok(ChangeSummary::default());
        };
        let (summary, _) = self.rewrite_listing(folder, &old, changed, deleted, origin);
        Ok(summary)
    }

    /// As `apply_changes`, returning the freshly rendered bodies.
    pub(super) fn apply_records(
        &self,
        folder: usize,
        changed: Vec<Record>,
        deleted: &[String],
    ) -> RefetchResult {
        let f = self.folder(folder)?;
        let _rewrite = lock(&f.rewrite);
        let old = lock(&f.status)
            .listing
            .clone()
            .ok_or(IndexError::NoSuchFile)?;
        Ok(self
            .rewrite_listing(folder, &old, changed, deleted, Origin::Org)
            .1)
    }

    fn rewrite_listing(
        &self,
        folder: usize,
        old: &Listing,
        changed: Vec<Record>,
        deleted: &[String],
        origin: Origin,
    ) -> (ChangeSummary, Vec<RenderedBody>) {
        let renders = self.render_changes(folder, old, &changed, origin);
        let documents = self.changed_documents(folder, old, &changed, deleted);
        let deleted_ids = deleted;
        let deleted: HashSet<&str> = deleted
            .iter()
            .map(String::as_str)
            .filter(|id| !renders.replacements.contains_key(*id))
            .collect();
        let mut merge = merge_runs(old, &renders, &deleted);
        self.store_bodies(&merge, &renders.bodies);
        let now = SystemTime::now();
        let changed_at = if merge.summary.membership_changed() {
            now
        } else {
            old.changed_at
        };
        let watermark = changed
            .iter()
            .filter_map(record_watermark)
            .chain(old.watermark)
            .max();
        let journal: Vec<JournalEntry> = merge
            .changes
            .drain(..)
            .map(|(kind, file, old_name)| {
                self.shared
                    .file_change(folder, kind, &file, old_name.as_deref(), now)
            })
            .collect();
        // One store transaction per rewrite, written before the new listing is published;
        // if it fails the store keeps older bodies, which their digests then refuse.
        let mut stored = renders.stored;
        // Their rows stand as stored (with the ctime they keep); their bodies are written
        // again, since a body fetched again on a miss was not usable in the store.
        stored
            .files
            .retain(|file| !merge.same_ids.contains(&file.id));
        stored.delete_ids = deleted.iter().map(|id| Arc::from(*id)).collect();
        if !merge.unchanged {
            let refreshed_at = lock(&self.shared.folders[folder].status)
                .last_refresh()
                .unwrap_or(now);
            let header = self
                .shared
                .header(&old.plan, changed_at, true, watermark, refreshed_at);
            stored.header = Some(header);
        }
        stored.journal = journal.clone();
        let object = &self.shared.folders[folder].spec.object;
        // A change another mount published is in the shared store already: written and
        // numbered there by that mount.
        let numbers = match origin {
            Origin::Org => self.shared.store.write(object, &stored),
            Origin::Fleet => None,
        };
        lock(&self.shared.journal).record(journal, numbers);
        if origin == Origin::Org && !(merge.unchanged && deleted.is_empty()) {
            self.shared.publish(object, changed, deleted_ids);
        }
        if !merge.unchanged {
            let mut listing = Listing::new(merge.files, old.plan.clone(), now, changed_at);
            listing.watermark = watermark;
            self.shared
                .persist_documents(folder, Some(&old.documents), &documents);
            listing.documents = documents;
            lock(&self.shared.folders[folder].status).listing = Some(listing.into());
        }
        (merge.summary, renders.bodies)
    }

    /// The listing's `.files` folders after these changes.
    fn changed_documents(
        &self,
        folder: usize,
        old: &Listing,
        changed: &[Record],
        deleted: &[String],
    ) -> DocumentFolders {
        let f = &self.shared.folders[folder];
        let presenter = Presenter::new(&f.spec.object, &self.shared.config.instance_url, &old.plan);
        let changed = changed
            .iter()
            .filter_map(|r| {
                let id = record_id(r)?;
                Some((Arc::from(id), record_documents(&presenter, r, id)))
            })
            .collect();
        old.documents.updated(changed, deleted)
    }

    fn render_changes(
        &self,
        folder: usize,
        old: &Listing,
        changed: &[Record],
        origin: Origin,
    ) -> Renders {
        let f = &self.shared.folders[folder];
        let presenter = Presenter::new(&f.spec.object, &self.shared.config.instance_url, &old.plan);
        let old_inos: HashMap<(&str, FileFormat), u64> = old
            .files()
            .iter()
            .map(|file| ((&*file.id, file.format), file.ino))
            .collect();
        let mut renders = Renders {
            replacements: HashMap::new(),
            order: Vec::new(),
            bodies: Vec::new(),
            stored: StoreBatch::default(),
        };
        for record in changed {
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
                    .unwrap_or_else(|| self.shared.allocate_ino(folder));
                let entry = file.entry(ino, id);
                if origin == Origin::Org && self.shared.store.is_enabled() {
                    renders.stored.put_file(&entry, &file.body);
                }
                entries.push(entry);
                renders.bodies.push((ino, file.body));
            }
            if renders
                .replacements
                .insert(id.to_string(), entries)
                .is_none()
            {
                renders.order.push(id.to_string());
            }
        }
        renders
    }

    /// Puts the new bodies in the cache, drops the removed ones, and notes when changed
    /// files changed.
    fn store_bodies(&self, merge: &Merge, rendered: &[RenderedBody]) {
        {
            let mut bodies = lock(&self.shared.bodies);
            for ino in &merge.removed_inos {
                bodies.remove(*ino);
            }
            for (ino, body) in rendered {
                bodies.insert(*ino, body.clone());
            }
        }
        if !merge.summary.stale_inodes.is_empty() {
            let now = Instant::now();
            let mut changes = lock(&self.shared.content_changes);
            for ino in &merge.summary.stale_inodes {
                changes.insert(*ino, now);
            }
            // A removed file's inode is never used again: nothing to remember for it.
            for ino in &merge.removed_inos {
                changes.remove(ino);
            }
        }
    }
}

/// Walks the old listing record by record (a record's files are adjacent, one per format),
/// keeping, replacing or dropping each, then appends the new records.
fn merge_runs(old: &Listing, renders: &Renders, deleted: &HashSet<&str>) -> Merge {
    let old_files = old.files();
    let mut merge = Merge {
        files: Vec::with_capacity(old_files.len() + renders.order.len()),
        summary: ChangeSummary::default(),
        removed_inos: Vec::new(),
        unchanged: true,
        changes: Vec::new(),
        same_ids: HashSet::new(),
    };
    let mut emitted: HashSet<&str> = HashSet::new();
    let mut position = 0;
    while position < old_files.len() {
        let id = &old_files[position].id;
        let run_end = old_files[position..]
            .iter()
            .position(|f| f.id != *id)
            .map_or(old_files.len(), |len| position + len);
        let old_run = &old_files[position..run_end];
        position = run_end;
        if deleted.contains(&**id) {
            if emitted.insert(id) {
                merge.summary.removed += 1;
            }
            for file in old_run {
                merge.removed_inos.push(file.ino);
                merge.summary.stale_inodes.push(file.ino);
                merge.summary.stale_names.push(file.name.clone());
                merge
                    .changes
                    .push((ChangeKind::Removed, file.clone(), None));
            }
            merge.unchanged = false;
            continue;
        }
        let Some(entries) = renders.replacements.get(&**id) else {
            merge.files.extend(old_run.iter().cloned());
            continue;
        };
        if emitted.insert(id) {
            replace_run(&mut merge, old_run, entries);
        }
    }
    for id in &renders.order {
        if !emitted.contains(id.as_str()) {
            merge.summary.added += 1;
            merge.unchanged = false;
            for file in &renders.replacements[id] {
                merge.changes.push((ChangeKind::Added, file.clone(), None));
                merge.files.push(file.clone());
            }
        }
    }
    merge
}

/// One record's old files replaced by its new ones: a rename when a name differs, an
/// update when only content (size, mtime or bytes) does.
fn replace_run(merge: &mut Merge, old_run: &[FileEntry], entries: &[FileEntry]) {
    let same_names = old_run.len() == entries.len()
        && old_run.iter().zip(entries).all(|(o, n)| o.name == n.name);
    let same_content = same_names
        && old_run
            .iter()
            .zip(entries)
            .all(|(o, n)| o.size == n.size && o.mtime == n.mtime && o.digest == n.digest);
    if !same_names {
        merge.summary.renamed += 1;
        merge
            .summary
            .stale_names
            .extend(old_run.iter().map(|o| o.name.clone()));
    } else if !same_content {
        merge.summary.updated += 1;
    }
    if !same_content {
        merge
            .summary
            .stale_inodes
            .extend(old_run.iter().map(|o| o.ino));
        merge.unchanged = false;
        for (k, entry) in entries.iter().enumerate() {
            let old_name = old_run.get(k).map(|o| o.name.clone());
            let change = match old_name {
                Some(name) if name != entry.name => {
                    (ChangeKind::Renamed, entry.clone(), Some(name))
                }
                Some(_) => (ChangeKind::Updated, entry.clone(), None),
                None => (ChangeKind::Added, entry.clone(), None),
            };
            merge.changes.push(change);
        }
        merge.files.extend(entries.iter().cloned());
    } else {
        if let Some(first) = entries.first() {
            merge.same_ids.insert(first.id.clone());
        }
        // Same bytes: the file keeps the time the mount last saw its content change.
        merge
            .files
            .extend(entries.iter().zip(old_run).map(|(entry, old)| FileEntry {
                ctime: old.ctime,
                ..entry.clone()
            }));
    }
}
