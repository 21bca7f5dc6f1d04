//! A folder's life: unlisted → loading (one load shared by every caller) → listed. A failed
//! load leaves the folder unlisted with its error, answered again without a request until
//! [`IndexConfig::retry_after_failure`](super::IndexConfig::retry_after_failure) has passed.

use crate::sync::{lock, Abandoned, Pending};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::documents::{record_documents, DocumentFolders};
use super::present::{record_id, render_record, Presenter};
use super::store::{off_runtime, ChangeKind, JournalEntry, StoreBatch};
use super::time::record_watermark;
use super::{FileEntry, Index, IndexError, Listing, LoadResult, Record, Shared};

/// The last failed load of a folder.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub error: IndexError,
    /// When, for the retry rule.
    pub at: Instant,
    /// When, for the status documents.
    pub wall: SystemTime,
}

impl Index {
    /// The folder's listing, loading it first if needed (one load shared by all callers).
    pub fn listing(&self, folder: usize) -> Result<Arc<Listing>, IndexError> {
        let f = self.folder(folder)?;
        let load = {
            let mut status = lock(&f.status);
            if let Some(listing) = &status.listing {
                return Ok(listing.clone());
            }
            match &status.load {
                Some(load) => load.clone(),
                None => {
                    if let Some(failure) = &status.last_failure {
                        if failure.at.elapsed() < self.shared.config.retry_after_failure {
                            return Err(failure.error.clone());
                        }
                    }
                    let load = start_load(self.shared.clone(), folder);
                    status.load = Some(load.clone());
                    load
                }
            }
        };
        let deadline = self.shared.config.operation_deadline;
        match load.wait(deadline, None) {
            Ok(result) => result,
            Err(Abandoned::Panicked(message)) => Err(IndexError::Internal {
                object: f.spec.object.clone(),
                message,
            }),
            Err(Abandoned::Deadline | Abandoned::Stopped) => {
                Err(self.shared.deadline_error(folder, deadline))
            }
        }
    }
}

/// Starts the folder's first listing on the runtime. It goes on when its callers give up
/// at their deadline (bounded by the listing deadline), so a retry finds it done.
fn start_load(shared: Arc<Shared>, folder: usize) -> Arc<Pending<LoadResult>> {
    let runtime = shared.runtime.clone();
    Pending::spawn(&runtime, async move {
        let object = shared.folders[folder].spec.object.clone();
        let work_shared = shared.clone();
        let work = tokio::spawn(async move {
            let deadline = work_shared.config.listing_deadline;
            match tokio::time::timeout(deadline, load_listing(&work_shared, folder)).await {
                Ok(result) => result,
                Err(_) => Err(work_shared.deadline_error(folder, deadline)),
            }
        });
        // Awaiting the spawned work turns a panic in rendering into an error here, so the
        // folder never stays "loading" forever.
        let result = match work.await {
            Ok(result) => result,
            Err(join_error) => Err(IndexError::Internal {
                object: object.clone(),
                message: join_error.to_string(),
            }),
        };
        finish_load(&shared, folder, result)
    })
}

/// Records how the load ended in the folder's status (before any waiter sees the answer).
fn finish_load(shared: &Shared, folder: usize, result: Result<Listing, IndexError>) -> LoadResult {
    let f = &shared.folders[folder];
    let mut status = lock(&f.status);
    status.load = None;
    match result {
        Ok(listing) => {
            tracing::info!(
                object = %f.spec.object,
                records = listing.record_count(),
                "listed"
            );
            status.refresh.last_full_refresh = Some(listing.refreshed_at);
            let listing = Arc::new(listing);
            status.listing = Some(listing.clone());
            status.last_failure = None;
            status.plan_unverified = false;
            Ok(listing)
        }
        Err(error) => {
            tracing::warn!(object = %f.spec.object, error = %error, "listing failed");
            status.last_failure = Some(Failure {
                error: error.clone(),
                at: Instant::now(),
                wall: SystemTime::now(),
            });
            Err(error)
        }
    }
}

async fn load_listing(shared: &Shared, folder: usize) -> Result<Listing, IndexError> {
    let f = &shared.folders[folder];
    // In a fleet, one mount lists a folder while the others wait for it and then read its
    // listing from the shared store: the lock is held until the listing is complete there.
    let _listing_lock = match shared.store.fleet() {
        Some(fleet) => {
            let deadline = shared.config.listing_deadline;
            let locked = off_runtime(|| fleet.lock_listing(&f.spec.object, deadline));
            let held = shared.store.report(locked);
            let published = shared.published_now();
            if let Some(listing) = shared.listing_from_store(folder) {
                tracing::info!(object = %f.spec.object, "listed by another mount of the fleet: read from the shared store");
                lock(&f.status).fleet_catch_up = Some(published.unwrap_or(0));
                return Ok(listing);
            }
            held
        }
        None => None,
    };
    let plan = shared.source.plan(&f.spec.object).await?;
    let presenter = Presenter::new(&f.spec.object, &shared.config.instance_url, &plan);
    let mut files: Vec<FileEntry> = Vec::new();
    // Id -> position of its first file, so a record delivered twice (a page boundary moved
    // under a concurrent change) is kept once, with its latest version.
    let mut positions: HashMap<String, usize> = HashMap::new();
    let mut skipped_without_id = 0usize;
    let mut watermark: Option<SystemTime> = None;
    let mut documents: HashMap<String, super::RecordDocuments> = HashMap::new();
    let started = SystemTime::now();
    let incomplete = shared.header(&plan, started, false, None, started);
    shared.store.begin_listing(&f.spec.object, &incomplete);
    let mut sink = |page: Vec<Record>| {
        // One store transaction per page: a page is at most 2,000 records.
        let mut stored = StoreBatch::default();
        for record in page {
            watermark = watermark.max(record_watermark(&record));
            let Some(id) = record_id(&record) else {
                skipped_without_id += 1;
                continue;
            };
            match record_documents(&presenter, &record, id) {
                Some(docs) => documents.insert(id.to_string(), docs),
                None => documents.remove(id),
            };
            let rendered = render_record(&presenter, &shared.config.formats, &record, id);
            let existing = positions.get(id).copied();
            let mut bodies = lock(&shared.bodies);
            for (k, file) in rendered.into_iter().enumerate() {
                let ino = match existing {
                    Some(position) => files[position + k].ino,
                    None => shared.allocate_ino(folder),
                };
                let entry = file.entry(ino, id);
                if shared.store.is_enabled() {
                    stored.put_file(&entry, &file.body);
                }
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
        shared.store.write(&f.spec.object, &stored);
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
    listing.documents = DocumentFolders::listed(documents.into_values().collect());
    shared.persist_documents(folder, None, &listing.documents);
    // The last write of the listing: from here on a restart may serve it.
    let journal = vec![JournalEntry {
        seq: 0,
        at: now,
        kind: ChangeKind::Listed,
        object: f.spec.object.clone(),
        id: String::new(),
        path: shared.folder_path(folder),
        old_path: None,
    }];
    let complete = StoreBatch {
        header: Some(shared.header(&listing.plan, now, true, watermark, now)),
        journal: journal.clone(),
        ..Default::default()
    };
    let numbers = shared.store.write(&f.spec.object, &complete);
    lock(&shared.journal).record(journal, numbers);
    Ok(listing)
}
