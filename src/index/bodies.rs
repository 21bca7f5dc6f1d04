//! A body cache miss: first the local store (the body as rendered when it was listed or
//! last changed, served only if its length and digest are the listing's); failing that,
//! the record and the ones after it in listing order are fetched again in one request
//! (readers such as `grep -r` go in listing order) and re-rendered. Readers of files in a
//! batch being fetched wait for that fetch instead of making their own.

use crate::sync::{lock, Abandoned, Pending};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::org::{fetch_by_ids, WAIT_SLACK};
use super::present::is_body_of;
use super::{Index, IndexError, Listing, RefetchResult};

impl Index {
    /// True when the body of `ino` is in memory, so [`Index::body`] answers without waiting
    /// (the filesystem decides from this whether a read waits on its own thread).
    pub fn body_in_memory(&self, ino: u64) -> bool {
        lock(&self.shared.bodies).get(ino).is_some()
    }

    /// The rendered body of a record file. From memory when cached, else from the local
    /// store; otherwise fetched again with its neighbours (one request shared by every
    /// reader of the batch).
    pub fn body(&self, folder: usize, ino: u64) -> Result<Arc<[u8]>, IndexError> {
        if let Some(body) = lock(&self.shared.bodies).get(ino) {
            self.shared.body_stats.memory_hit();
            return Ok(body);
        }
        let listing = self.listing(folder)?;
        if let Some(body) = self.stored_body(folder, &listing, ino) {
            self.shared.body_stats.store_hit();
            return Ok(body);
        }
        let body = self.fetched_body(folder, ino, listing);
        if body.is_ok() {
            self.shared.body_stats.fetched();
        }
        body
    }

    /// The body of `ino` once fetched from the org, by this reader or another.
    fn fetched_body(
        &self,
        folder: usize,
        ino: u64,
        listing: Arc<Listing>,
    ) -> Result<Arc<[u8]>, IndexError> {
        let f = self.folder(folder)?;
        let deadline = self.shared.config.operation_deadline;
        let started = Instant::now();
        loop {
            // Someone else's fetch may have brought it while we waited.
            if let Some(body) = lock(&self.shared.bodies).get(ino) {
                return Ok(body);
            }
            let (fetch, mine) = {
                let mut in_flight = lock(&f.refetching);
                match in_flight.get(&ino) {
                    Some(fetch) => (fetch.clone(), false),
                    None => {
                        let listing = self.peek_listing(folder).unwrap_or(listing.clone());
                        (
                            self.start_refetch(folder, &listing, ino, &mut in_flight)?,
                            true,
                        )
                    }
                }
            };
            let remaining = deadline.saturating_sub(started.elapsed());
            let wait = if mine {
                remaining + WAIT_SLACK
            } else {
                remaining
            };
            match fetch.wait(wait, None) {
                Ok(Ok(bodies)) => {
                    if let Some((_, body)) = bodies.into_iter().find(|(i, _)| *i == ino) {
                        return Ok(body);
                    }
                    if mine {
                        return Err(IndexError::NoSuchFile);
                    }
                }
                // Another reader's fetch failed: this reader tries for itself.
                Ok(Err(_)) if !mine => {}
                Ok(Err(error)) => return Err(error),
                Err(Abandoned::Panicked(message)) => {
                    return Err(IndexError::Internal {
                        object: f.spec.object.clone(),
                        message,
                    })
                }
                Err(Abandoned::Deadline | Abandoned::Stopped) => {
                    return Err(self.shared.deadline_error(folder, deadline))
                }
            }
        }
    }

    /// The body of `ino` from the local store, if the store has the version `listing`
    /// names. It is put back in memory only if no rewrite replaced that version meanwhile
    /// (a rewrite holds the folder's rewrite lock while it changes the cache and listing).
    fn stored_body(&self, folder: usize, listing: &Listing, ino: u64) -> Option<Arc<[u8]>> {
        let entry = listing.by_ino(ino)?;
        let f = self.folder(folder).ok()?;
        let stored = self
            .shared
            .store
            .read(&f.spec.object, &entry.id, entry.format)?;
        if !is_body_of(entry, &stored) {
            tracing::debug!(object = %f.spec.object, id = %entry.id, "stored body is another version");
            return None;
        }
        let body: Arc<[u8]> = stored.into();
        let _rewrite = lock(&f.rewrite);
        let current = self.peek_listing(folder);
        if current.and_then(|l| l.by_ino(ino).map(|e| e.digest)) == Some(entry.digest) {
            lock(&self.shared.bodies).insert(ino, body.clone());
        }
        Some(body)
    }

    /// Starts fetching the record of `ino` and the ones after it, and marks all their files
    /// as in flight (the caller holds the in-flight map, so no second fetch can start).
    fn start_refetch(
        &self,
        folder: usize,
        listing: &Listing,
        ino: u64,
        in_flight: &mut HashMap<u64, Arc<Pending<RefetchResult>>>,
    ) -> Result<Arc<Pending<RefetchResult>>, IndexError> {
        let (ids, inodes) = neighbours(listing, ino, self.shared.config.neighbour_batch)?;
        let index = self.clone();
        let done = RefetchDone {
            index: self.clone(),
            folder,
            inodes: inodes.clone(),
        };
        let source = self.shared.source.clone();
        let object = self.folder(folder)?.spec.object.clone();
        let deadline = self.shared.config.operation_deadline;
        let fetch = Pending::spawn(&self.shared.runtime, async move {
            // Taken out of the in-flight map when the fetch ends, however it ends.
            let _done = done;
            let records = fetch_by_ids(source, object, ids.clone(), deadline).await?;
            let returned: HashSet<&str> = records
                .iter()
                .filter_map(|r| r.get("Id").and_then(|v| v.as_str()))
                .collect();
            let gone: Vec<String> = ids
                .iter()
                .filter(|id| !returned.contains(id.as_str()))
                .cloned()
                .collect();
            index.apply_records(folder, records, &gone)
        });
        for ino in inodes {
            in_flight.insert(ino, fetch.clone());
        }
        Ok(fetch)
    }
}

/// The Ids of the record of `ino` and of up to `batch - 1` records after it, and the
/// inodes of all their files.
fn neighbours(
    listing: &Listing,
    ino: u64,
    batch: usize,
) -> Result<(Vec<String>, Vec<u64>), IndexError> {
    let position = listing.position_of(ino).ok_or(IndexError::NoSuchFile)?;
    let mut ids: Vec<String> = Vec::with_capacity(batch);
    let mut inodes: Vec<u64> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for file in &listing.files()[position..] {
        if seen.insert(&file.id) {
            if ids.len() >= batch {
                break;
            }
            ids.push(file.id.to_string());
        }
        inodes.push(file.ino);
    }
    Ok((ids, inodes))
}

/// Takes a batch of inodes out of the in-flight map when its fetch ends.
struct RefetchDone {
    index: Index,
    folder: usize,
    inodes: Vec<u64>,
}

impl Drop for RefetchDone {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.index.shared.folders[self.folder].refetching);
        for ino in &self.inodes {
            in_flight.remove(ino);
        }
    }
}
