//! The bound on stored body bytes (`max_cache_size`): which bodies were used least
//! recently, and evicting them once the total is over the bound. Only bodies go; listing
//! rows stay, because the mount needs them to serve names and sizes, and a body that is
//! gone is simply fetched again by Id on its next miss (`index/bodies.rs`).
//!
//! Reads are not written one by one: a read only notes its key in memory, and the notes
//! are written to `used` in one transaction once [`TOUCH_BATCH`] have gathered, before any
//! write (so a body read since the last write is not evicted as unused), and when the
//! store is closed. Without a bound nothing is noted: reads stay free of writes.

use std::collections::HashSet;

use rusqlite::{params, Connection, Transaction};

use super::SqliteStore;
use crate::index::store::StoreError;
use crate::index::FileFormat;

/// Reads noted before they are written: one small transaction per 256 reads is noise next
/// to the reads themselves (each returns a whole body), and a crash loses at most that
/// many notes, which only makes those bodies look older than they are.
pub(super) const TOUCH_BATCH: usize = 256;

/// Eviction goes down to this share of the bound (in per cent), not to the bound itself:
/// otherwise once full, every later write would evict again (a query and a delete per
/// listing page); a tenth of headroom makes one pass last for many pages.
const LOW_WATER_PERCENT: u64 = 90;

/// The bound, the clock and the reads not yet written.
pub(super) struct Usage {
    limit: Option<u64>,
    /// The highest `used` value given out; the next event gets one more.
    clock: i64,
    touched: HashSet<(String, String, &'static str)>,
}

impl Usage {
    /// The clock of an open store continues from its highest stamp (one index lookup).
    pub(super) fn load(connection: &Connection) -> Result<Usage, rusqlite::Error> {
        let clock = connection.query_row(
            "SELECT MAX((SELECT COALESCE(MAX(used), 0) FROM bodies),
                        (SELECT COALESCE(MAX(used), 0) FROM document_chunks))",
            [],
            |row| row.get(0),
        )?;
        Ok(Usage {
            limit: None,
            clock,
            touched: HashSet::new(),
        })
    }

    /// A store opened only to be looked at: no bound, no notes, no writes.
    pub(super) fn read_only() -> Usage {
        Usage {
            limit: None,
            clock: 0,
            touched: HashSet::new(),
        }
    }

    pub(super) fn limit(&self) -> Option<u64> {
        self.limit
    }

    pub(super) fn tick(&mut self) -> i64 {
        self.clock += 1;
        self.clock
    }

    /// Writes the noted reads, all with one new stamp (they happened after the last write
    /// and before this one, which is all the order eviction needs).
    fn flush(&mut self, transaction: &Transaction<'_>) -> Result<(), rusqlite::Error> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let stamp = self.tick();
        let mut update = transaction.prepare_cached(
            "UPDATE bodies SET used = ?1 WHERE object = ?2 AND id = ?3 AND format = ?4",
        )?;
        for (object, id, format) in self.touched.drain() {
            update.execute(params![stamp, object, id, format])?;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Bounds the bytes of stored bodies (`None`: no bound, the default), evicting the
    /// least recently used at once if the store is already over it.
    pub fn set_body_limit(&self, limit: Option<u64>) -> Result<(), StoreError> {
        self.with(|connection| {
            let mut usage = crate::sync::lock(&self.usage);
            usage.limit = limit;
            let transaction = connection.transaction()?;
            usage.flush(&transaction)?;
            evict(&transaction, limit)?;
            transaction.commit()
        })
    }

    /// The bytes of all stored bodies, as the store counts them for its bound.
    pub fn body_bytes(&self) -> Result<u64, StoreError> {
        self.with(|connection| {
            connection
                .query_row("SELECT total FROM body_bytes", [], |row| {
                    row.get::<_, i64>(0)
                })
                .map(|total| total.max(0) as u64)
        })
    }

    /// Before a write, in its transaction: writes the noted reads and returns the stamp of
    /// the bodies this write puts.
    pub(super) fn before_write(
        &self,
        transaction: &Transaction<'_>,
    ) -> Result<i64, rusqlite::Error> {
        let mut usage = crate::sync::lock(&self.usage);
        usage.flush(transaction)?;
        Ok(usage.tick())
    }

    /// After a write, in its transaction: keeps the bodies under the bound.
    pub(super) fn after_write(&self, transaction: &Transaction<'_>) -> Result<(), rusqlite::Error> {
        let limit = crate::sync::lock(&self.usage).limit;
        evict(transaction, limit)
    }

    /// Notes that a body was read (with a bound only), writing the notes once a batch has
    /// gathered. A failed write of notes is logged and forgotten: it costs only accuracy.
    pub(super) fn note_read(
        &self,
        connection: &mut Connection,
        object: &str,
        id: &str,
        format: FileFormat,
    ) {
        let mut usage = crate::sync::lock(&self.usage);
        if usage.limit.is_none() {
            return;
        }
        usage
            .touched
            .insert((object.to_string(), id.to_string(), format.extension()));
        if usage.touched.len() < TOUCH_BATCH {
            return;
        }
        let written = connection.transaction().and_then(|transaction| {
            usage.flush(&transaction)?;
            transaction.commit()
        });
        if let Err(error) = written {
            usage.touched.clear();
            tracing::debug!(store = %self.path.display(), %error, "cannot note which bodies were read");
        }
    }
}

impl Drop for SqliteStore {
    /// The last reads' notes are written when the store closes (with a bound only).
    fn drop(&mut self) {
        let connection = self.connection.get_mut().unwrap_or_else(|p| p.into_inner());
        let usage = self.usage.get_mut().unwrap_or_else(|p| p.into_inner());
        if usage.touched.is_empty() {
            return;
        }
        let written = connection.transaction().and_then(|transaction| {
            usage.flush(&transaction)?;
            transaction.commit()
        });
        if let Err(error) = written {
            tracing::debug!(store = %self.path.display(), %error, "cannot note which bodies were read");
        }
    }
}

/// Deletes the least recently used bodies until the total is at the low-water mark, when
/// it is over `limit`. Oldest stamp first; among bodies of one stamp (one write: a listing
/// page or a refetched batch, in listing order) the last written go first, because readers
/// such as `grep -r` go in listing order and read the front of a batch soonest. Taking the
/// front first instead makes a batch larger than the bound evict exactly the bodies read
/// next, and every read a refetch of 200 records.
fn evict(transaction: &Transaction<'_>, limit: Option<u64>) -> Result<(), rusqlite::Error> {
    let Some(limit) = limit else {
        return Ok(());
    };
    let total: i64 = transaction.query_row("SELECT total FROM body_bytes", [], |row| row.get(0))?;
    let total = total.max(0) as u64;
    if total <= limit {
        return Ok(());
    }
    let target = limit / 100 * LOW_WATER_PERCENT + limit % 100 * LOW_WATER_PERCENT / 100;
    let mut to_free = total - target;
    // Bodies and attached files' chunks in one order of use (kind 0 a body, 1 a chunk).
    let mut victims: Vec<(i64, i64)> = Vec::new();
    {
        let mut oldest = transaction.prepare_cached(
            "SELECT 0, rowid, LENGTH(body), used FROM bodies
             UNION ALL SELECT 1, rowid, LENGTH(bytes), used FROM document_chunks
             ORDER BY 4, 2 DESC",
        )?;
        let mut rows = oldest.query([])?;
        while to_free > 0 {
            let Some(row) = rows.next()? else { break };
            let kind: i64 = row.get(0)?;
            let rowid: i64 = row.get(1)?;
            let length: i64 = row.get(2)?;
            victims.push((kind, rowid));
            to_free = to_free.saturating_sub(length.max(0) as u64);
        }
    }
    let mut delete_body = transaction.prepare_cached("DELETE FROM bodies WHERE rowid = ?1")?;
    let mut delete_chunk =
        transaction.prepare_cached("DELETE FROM document_chunks WHERE rowid = ?1")?;
    for (kind, rowid) in &victims {
        match kind {
            0 => delete_body.execute(params![rowid])?,
            _ => delete_chunk.execute(params![rowid])?,
        };
    }
    tracing::debug!(
        evicted = victims.len(),
        before = total,
        limit,
        "stored bodies and files over the bound; the least recently used were evicted"
    );
    Ok(())
}

#[cfg(test)]
mod tests;
