//! [`Fleet`] on PostgreSQL: the lead is a session advisory lock held by a session of its
//! own (the server releases it when that session ends, however the mount died); a
//! listing lock is a session advisory lock on a connection the guard owns; a published
//! change is a row numbered by a sequence plus a `NOTIFY` on the store key's channel,
//! committed together, so a follower woken by the notice finds the row.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fallible_iterator::FallibleIterator;
use postgres::Client;

use super::rows::{from_nanos, to_nanos};
use super::session::off_runtime;
use super::{channel_name, lock_key, PostgresStore};
use crate::index::store::{Fleet, FleetChange, ListingLock, Published, StoreError};
use crate::index::Record;

/// Published changes kept per store key: a follower further behind than this (or than
/// [`KEEP_DAYS`]) reloads its folders from the store instead of replaying changes.
const KEEP_CHANGES: i64 = 100_000;
/// A week covers a follower stopped over a weekend and restarted.
const KEEP_DAYS: i32 = 7;
/// Pruning costs a scan of the kept numbers; once per this many publications is enough
/// (the table then holds at most this many beyond [`KEEP_CHANGES`]).
pub(super) const PRUNE_EVERY: u64 = 100;

/// The lead's session and whether it holds the lock now.
#[derive(Default)]
pub(super) struct LeadState {
    client: Option<Client>,
    held: bool,
}

/// A fleet member's name: the process and the moment it started, plus randomness so two
/// containers with the same pid (each the first process of its namespace) differ.
pub(super) fn new_member_id() -> String {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    format!(
        "{}-{started:x}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A listing lock's hold: its own session, unlocked and closed when dropped.
struct HeldListing {
    /// Taken when dropped (to close it off any async runtime).
    client: Option<Client>,
    key: i64,
}

impl Drop for HeldListing {
    fn drop(&mut self) {
        let key = self.key;
        let client = self.client.take();
        off_runtime(move || {
            // Unlocked at once rather than when the server notices the closed session. A
            // failure is harmless: closing the session (next) releases the lock anyway.
            if let Some(mut client) = client {
                let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&key]);
            }
        });
    }
}

impl PostgresStore {
    fn lead_key(&self) -> i64 {
        lock_key("lead", &self.store_key, "")
    }

    fn lead_here(&self) -> Result<bool, StoreError> {
        let mut state = crate::sync::lock(&self.lead);
        if state.held {
            // Held while its session lives: one round trip says so.
            let alive = state
                .client
                .as_mut()
                .is_some_and(|client| client.simple_query("SELECT 1").is_ok());
            if alive {
                return Ok(true);
            }
            tracing::warn!(member = %self.member, "the lead's session was lost; trying for the lead again");
            state.held = false;
            state.client = None;
        }
        match self.try_lead(&mut state) {
            Ok(held) => Ok(held),
            // A session found dead on the way is replaced once.
            Err(_) if state.client.is_none() => self.try_lead(&mut state),
            Err(error) => Err(error),
        }
    }

    fn lock_listing_here(
        &self,
        object: &str,
        deadline: Duration,
    ) -> Result<ListingLock, StoreError> {
        let started = Instant::now();
        let mut client = self
            .link
            .open()
            .map_err(|error| self.error("opening a listing lock's session", error))?;
        let left = deadline
            .saturating_sub(started.elapsed())
            .as_millis()
            .max(1);
        let key = lock_key("listing", &self.store_key, object);
        // Both deadlines: a lock wait is cut by lock_timeout, and the statement around it
        // must not be cut sooner by the session's own statement_timeout.
        client
            .batch_execute(&format!(
                "SET lock_timeout = {left}; SET statement_timeout = {}",
                left + 1000
            ))
            .and_then(|()| client.execute("SELECT pg_advisory_lock($1)", &[&key]))
            .map_err(|error| self.error("waiting for a folder's listing lock", error))?;
        // Back to the session's own deadline for the unlock.
        let _ = client.batch_execute("RESET lock_timeout; RESET statement_timeout");
        Ok(ListingLock::new(Box::new(HeldListing {
            client: Some(client),
            key,
        })))
    }

    /// Tries for the lead on the lead session (opened if absent or lost).
    fn try_lead(&self, state: &mut LeadState) -> Result<bool, StoreError> {
        if state.client.as_ref().is_none_or(Client::is_closed) {
            state.client = None;
            let client = self
                .link
                .open()
                .map_err(|error| self.error("opening the lead session", error))?;
            state.client = Some(client);
        }
        let client = state.client.as_mut().expect("opened above");
        match client.query_one("SELECT pg_try_advisory_lock($1)", &[&self.lead_key()]) {
            Ok(row) => {
                state.held = row.get(0);
                if state.held {
                    tracing::info!(member = %self.member, "this mount now leads the org's refresh");
                }
                Ok(state.held)
            }
            Err(error) => {
                state.client = None;
                Err(self.error("taking the lead", error))
            }
        }
    }
}

impl Fleet for PostgresStore {
    fn member_id(&self) -> &str {
        &self.member
    }

    fn lead(&self) -> Result<bool, StoreError> {
        off_runtime(|| self.lead_here())
    }

    fn lock_listing(&self, object: &str, deadline: Duration) -> Result<ListingLock, StoreError> {
        off_runtime(|| self.lock_listing_here(object, deadline))
    }

    fn publish(&self, change: &FleetChange) -> Result<u64, StoreError> {
        let records = serde_json::to_string(&change.records).map_err(|error| {
            StoreError::PostgresUnusable {
                target: self.link.shown().to_string(),
                reason: format!("a change to publish is not JSON: {error}"),
            }
        })?;
        let count = self.published.fetch_add(1, Ordering::Relaxed);
        let prune = count.is_multiple_of(PRUNE_EVERY);
        let channel = channel_name(&self.store_key);
        let publish_key = lock_key("publish", &self.store_key, "");
        self.with("publishing a change", |conn| {
            let mut transaction = conn.client.transaction()?;
            // One publisher at a time per store key, so numbers are committed in order
            // and a follower reading past a number never misses an earlier one.
            transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&publish_key])?;
            let seq: i64 = transaction
                .query_one(
                    "INSERT INTO sfmount.fleet_changes
                        (store_key, object, records, deleted, refreshed, publisher, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
                    &[
                        &self.store_key,
                        &change.object,
                        &records,
                        &change.deleted,
                        &change.refreshed,
                        &change.publisher,
                        &to_nanos(change.at),
                    ],
                )?
                .get(0);
            // The payload names the publisher, so it can ignore its own notices.
            transaction.execute("SELECT pg_notify($1, $2)", &[&channel, &self.member])?;
            if prune {
                prune_changes(&mut transaction, &self.store_key)?;
            }
            transaction.commit()?;
            Ok(seq.max(0) as u64)
        })
    }

    fn published_since(&self, after: u64, limit: usize) -> Result<Vec<Published>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.with("reading published changes", |conn| {
            conn.client.query(
                "SELECT seq, object, records, deleted, publisher, at, refreshed
                 FROM sfmount.fleet_changes
                 WHERE store_key = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&self.store_key, &after, &limit],
            )
        })?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.get(0);
                let text: &str = row.get(2);
                let records: Vec<Record> =
                    serde_json::from_str(text).map_err(|error| StoreError::PostgresUnusable {
                        target: self.link.shown().to_string(),
                        reason: format!("published change {seq} is not readable JSON: {error}"),
                    })?;
                Ok(Published {
                    seq: seq.max(0) as u64,
                    change: FleetChange {
                        object: row.get(1),
                        records,
                        deleted: row.get(3),
                        publisher: row.get(4),
                        at: from_nanos(row.get(5)),
                        refreshed: row.get(6),
                    },
                })
            })
            .collect()
    }

    fn latest_published(&self) -> Result<u64, StoreError> {
        self.with("reading the newest change's number", |conn| {
            let seq: Option<i64> = conn
                .client
                .query_one(
                    "SELECT MAX(seq) FROM sfmount.fleet_changes WHERE store_key = $1",
                    &[&self.store_key],
                )?
                .get(0);
            Ok(seq.unwrap_or(0).max(0) as u64)
        })
    }

    fn oldest_published(&self) -> Result<Option<u64>, StoreError> {
        self.with("reading the oldest change's number", |conn| {
            let seq: Option<i64> = conn
                .client
                .query_one(
                    "SELECT MIN(seq) FROM sfmount.fleet_changes WHERE store_key = $1",
                    &[&self.store_key],
                )?
                .get(0);
            Ok(seq.map(|seq| seq.max(0) as u64))
        })
    }

    fn wait_published(&self, timeout: Duration) {
        off_runtime(|| self.wait_published_here(timeout))
    }
}

impl PostgresStore {
    fn wait_published_here(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        let mut listen = crate::sync::lock(&self.listen);
        if listen.as_ref().is_none_or(Client::is_closed) {
            *listen = None;
            match self.open_listener() {
                Ok(client) => *listen = Some(client),
                Err(error) => {
                    drop(listen);
                    tracing::debug!(%error, "cannot listen for published changes");
                    // Waits out the time anyway: the caller catches up by number, and must
                    // not spin while the server is away.
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    return;
                }
            }
        }
        let lost = {
            let client = listen.as_mut().expect("opened above");
            loop {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break None;
                }
                let mut notifications = client.notifications();
                let next = notifications.timeout_iter(left).next();
                match next {
                    // Another mount's change: drain what else came, then wake the caller.
                    Ok(Some(notice)) if notice.payload() != self.member => {
                        while let Ok(Some(_)) = notifications.iter().next() {}
                        break None;
                    }
                    // Our own notice: keep waiting for the rest of the time.
                    Ok(Some(_)) => continue,
                    Ok(None) => break None,
                    Err(error) => break Some(error),
                }
            }
        };
        if let Some(error) = lost {
            tracing::debug!(error = %super::error_chain(&error), "the listening session was lost");
            *listen = None;
            drop(listen);
            // The caller catches up by number; it must not spin while the server is away.
            std::thread::sleep(until.saturating_duration_since(Instant::now()));
        }
    }
}

impl PostgresStore {
    /// A session that listens on the store key's channel.
    fn open_listener(&self) -> Result<Client, StoreError> {
        let mut client = self
            .link
            .open()
            .map_err(|error| self.error("opening the listening session", error))?;
        client
            .batch_execute(&format!("LISTEN {}", channel_name(&self.store_key)))
            .map_err(|error| self.error("listening for published changes", error))?;
        Ok(client)
    }
}

/// Drops the store key's changes beyond the newest [`KEEP_CHANGES`] and those older than
/// [`KEEP_DAYS`].
fn prune_changes(
    transaction: &mut postgres::Transaction<'_>,
    key: &str,
) -> Result<(), postgres::Error> {
    transaction.execute(
        "DELETE FROM sfmount.fleet_changes WHERE store_key = $1 AND published < now() - make_interval(days => $2)",
        &[&key, &KEEP_DAYS],
    )?;
    transaction.execute(
        "DELETE FROM sfmount.fleet_changes WHERE store_key = $1 AND seq <= (
            SELECT seq FROM sfmount.fleet_changes WHERE store_key = $1
            ORDER BY seq DESC OFFSET $2 LIMIT 1)",
        &[&key, &KEEP_CHANGES],
    )?;
    Ok(())
}
