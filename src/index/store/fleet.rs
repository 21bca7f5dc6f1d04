//! What mounts that share one store (a server-backed engine: PostgreSQL) coordinate through
//! it, so that a fleet of mounts of one org spends the API calls of one:
//!
//! - **one refresher**: the mount holding the org's lead (a lock the database releases when
//!   its holder's session dies) runs the refresh ticks; the others follow;
//! - **changes published**: what the refresher applied to a folder (the changed records as
//!   the org returned them, and the Ids deleted) is published, numbered in order, and the
//!   followers are woken; each follower applies the same records the same way, so its
//!   names, bytes and kernel invalidations match the leader's without a call of its own;
//! - **first listings once**: a folder's first listing runs under a per-object lock; a mount
//!   that waited for it reads the listing from the store instead of from the org.
//!
//! The index decides when to use these; the engine only keeps the locks and the sequence.

use std::time::{Duration, SystemTime};

use super::StoreError;
use crate::index::Record;

/// What one refresh applied to one folder, as published to the other mounts.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetChange {
    /// The object's API name (the folder).
    pub object: String,
    /// Changed and new records, as the org returned them (applied as the refresher did).
    pub records: Vec<Record>,
    /// Ids of records deleted in the org.
    pub deleted: Vec<String>,
    /// Objects whose folders a leader's tick brought up to date at `at` (a tick's last
    /// change, usually with no records): followers show them as fresh as the leader's.
    pub refreshed: Vec<String>,
    /// Who published it ([`Fleet::member_id`]): a mount skips its own changes.
    pub publisher: String,
    pub at: SystemTime,
}

/// A published change with its number (increasing, gaps allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub seq: u64,
    pub change: FleetChange,
}

/// Holds a folder's listing lock until dropped (the engine releases it then, or when the
/// holder's connection dies).
pub struct ListingLock {
    _held: Box<dyn Send>,
}

impl ListingLock {
    pub fn new(held: Box<dyn Send>) -> ListingLock {
        ListingLock { _held: held }
    }
}

/// The coordination a shared store offers (see the module notes).
pub trait Fleet: Send + Sync {
    /// This mount's name among the fleet (unique per process, never a secret).
    fn member_id(&self) -> &str;

    /// Whether this mount leads the org's refresh now, taking the lead if nobody holds it.
    /// Called before each tick; `Ok(false)` while another mount leads. An error (the
    /// database is out of reach) means "not the leader" to the caller.
    fn lead(&self) -> Result<bool, StoreError>;

    /// Waits until this mount holds `object`'s listing lock, at most `deadline`.
    fn lock_listing(&self, object: &str, deadline: Duration) -> Result<ListingLock, StoreError>;

    /// Publishes one folder's applied change and wakes the followers; its number.
    fn publish(&self, change: &FleetChange) -> Result<u64, StoreError>;

    /// Changes published after `after`, oldest first, at most `limit`.
    fn published_since(&self, after: u64, limit: usize) -> Result<Vec<Published>, StoreError>;

    /// The number of the newest published change (0 when none): where a new follower starts
    /// once it has loaded its folders from the store.
    fn latest_published(&self) -> Result<u64, StoreError>;

    /// The oldest number still kept (older ones were pruned): a follower that is behind it
    /// has missed changes and must reload its folders from the store.
    fn oldest_published(&self) -> Result<Option<u64>, StoreError>;

    /// Blocks until another mount publishes (a notification arrives) or `timeout` passes.
    /// Returns early on a notification; a missed one is caught up by number anyway.
    fn wait_published(&self, timeout: Duration);
}
