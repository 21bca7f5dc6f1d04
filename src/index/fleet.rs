//! This mount as one of a fleet sharing a store (`store/fleet.rs`): the leader's applied
//! changes are published, a follower applies what others published, and a follower that
//! takes the lead catches up before its first tick.
//!
//! Why followers apply the leader's records rather than re-reading rows from the store:
//! the same records through the same rewrite give the same names, bytes, inode reuse and
//! [`ChangeSummary`] (so the same kernel invalidations) as on the leader, with no code of
//! their own to drift, and the `.files` folders and watermarks come along. The leader has
//! already written the rows and bodies, so a follower's application writes nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use super::refresh::ChangeListener;
use super::store::{off_runtime, FleetChange, Published};
use super::{ChangeSummary, Index, Record, Shared};
use crate::sync::lock;

/// Published changes read from the store at once (a catch-up of many pages goes on).
const CATCH_UP_PAGE: usize = 500;

/// A follower's place in the published sequence, and whether it leads.
#[derive(Default)]
pub(super) struct FleetState {
    /// The newest published change applied (or skipped as this mount's own).
    applied: Mutex<u64>,
    /// As of the last tick: whether this mount holds the lead.
    leading: AtomicBool,
}

/// Where a change being applied came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// Read from the org by this mount: written to the store and published.
    Org,
    /// Published by another mount, which wrote the store already: applied in memory only.
    Fleet,
}

/// This mount's part in the fleet, for the status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRole {
    pub member: String,
    pub leading: bool,
    pub applied: u64,
}

impl Shared {
    /// Notes where this mount starts in the published sequence: read before the folders are
    /// restored, so a change published meanwhile is applied again (harmlessly) rather than
    /// missed.
    pub(super) fn start_following(&self) {
        let Some(fleet) = self.store.fleet() else {
            return;
        };
        if let Some(latest) = self.store.report(off_runtime(|| fleet.latest_published())) {
            *lock(&self.fleet.applied) = latest;
        }
    }

    /// The fleet's newest published number now (a folder loaded from the store catches up
    /// from there once it is listed).
    pub(super) fn published_now(&self) -> Option<u64> {
        let fleet = self.store.fleet()?;
        self.store.report(off_runtime(|| fleet.latest_published()))
    }

    /// Publishes what this mount applied to `object` from the org.
    pub(super) fn publish(&self, object: &str, records: Vec<Record>, deleted: &[String]) {
        let Some(fleet) = self.store.fleet() else {
            return;
        };
        if records.is_empty() && deleted.is_empty() {
            return;
        }
        let change = FleetChange {
            object: object.to_string(),
            records,
            deleted: deleted.to_vec(),
            refreshed: Vec::new(),
            publisher: fleet.member_id().to_string(),
            at: SystemTime::now(),
        };
        self.store.report(off_runtime(|| fleet.publish(&change)));
    }

    /// After a leader's tick: which folders it brought up to date, and as of when, so that
    /// followers' status files say how fresh they are (one small row per tick).
    pub(super) fn publish_refreshed(&self, folders: &[usize], at: SystemTime) {
        let Some(fleet) = self.store.fleet() else {
            return;
        };
        if folders.is_empty() {
            return;
        }
        let change = FleetChange {
            object: String::new(),
            records: Vec::new(),
            deleted: Vec::new(),
            refreshed: folders
                .iter()
                .map(|&folder| self.folders[folder].spec.object.clone())
                .collect(),
            publisher: fleet.member_id().to_string(),
            at,
        };
        self.store.report(off_runtime(|| fleet.publish(&change)));
    }
}

impl Index {
    /// After a leader's first check of its restored plans: the describes the fleet keeps are
    /// used as they are from then on, as a single mount uses the ones it fetched (the
    /// folders other mounts listed need their plans for the change queries).
    pub(crate) fn trust_fleet_schema(&self) {
        if self.in_fleet() {
            self.shared.source.trust_kept_schema();
        }
    }

    /// Whether the mount is one of a fleet sharing its store.
    pub fn in_fleet(&self) -> bool {
        self.shared.store.fleet().is_some()
    }

    /// Waits up to `timeout` for another mount to publish a change (outside a fleet it
    /// just sleeps, so a caller's loop does not spin).
    pub(crate) fn wait_published(&self, timeout: std::time::Duration) {
        match self.shared.store.fleet() {
            Some(fleet) => off_runtime(|| fleet.wait_published(timeout)),
            None => std::thread::sleep(timeout),
        }
    }

    /// This mount's part in the fleet, if it is in one.
    pub fn fleet_role(&self) -> Option<FleetRole> {
        let fleet = self.shared.store.fleet()?;
        Some(FleetRole {
            member: fleet.member_id().to_string(),
            leading: self.shared.fleet.leading.load(Ordering::Relaxed),
            applied: *lock(&self.shared.fleet.applied),
        })
    }

    /// Before a tick: `None` when the mount is not in a fleet (it always refreshes);
    /// otherwise whether it leads now, taking the lead if it is free. A mount that takes the
    /// lead first applies everything published, so its first tick starts where the last
    /// leader stopped (the watermarks came with the published records).
    pub(crate) fn fleet_lead(&self, listener: Option<&ChangeListener>) -> Option<bool> {
        let fleet = self.shared.store.fleet()?;
        let leading = self
            .shared
            .store
            .report(off_runtime(|| fleet.lead()))
            .unwrap_or(false);
        let was = self.shared.fleet.leading.swap(leading, Ordering::Relaxed);
        if leading && !was {
            self.follow_published(listener);
            tracing::info!(
                member = fleet.member_id(),
                "this mount leads the fleet's refresh now"
            );
        } else if was && !leading {
            tracing::info!("another mount leads the fleet's refresh now; following it");
        }
        Some(leading)
    }

    /// For the leader: folders another mount of the fleet listed, which this one has not,
    /// are served from the shared store, so that the leader's ticks follow them too.
    pub(crate) fn adopt_fleet_listings(&self) {
        for (folder, f) in self.shared.folders.iter().enumerate() {
            {
                let status = lock(&f.status);
                if status.listing.is_some() || status.load.is_some() {
                    continue;
                }
            }
            let published = self.shared.published_now();
            let Some(listing) = self.shared.listing_from_store(folder) else {
                continue;
            };
            let mut status = lock(&f.status);
            if status.listing.is_none() {
                tracing::info!(object = %f.spec.object, "another mount of the fleet listed this folder: following it from the shared store");
                super::persist::install_stored(&mut status, listing);
                status.fleet_catch_up = published;
            }
        }
    }

    /// Applies every change other mounts published since the last call, telling `listener`
    /// what changed (kernel invalidations); the number of published changes applied.
    pub fn follow_published(&self, listener: Option<&ChangeListener>) -> usize {
        let Some(fleet) = self.shared.store.fleet() else {
            return 0;
        };
        let member = fleet.member_id().to_string();
        // One catch-up at a time: the follower's thread and a tick taking the lead.
        let mut applied = lock(&self.shared.fleet.applied);
        self.catch_up_loaded_folders(&member, listener);
        let mut count = 0;
        loop {
            let after = *applied;
            let page = off_runtime(|| fleet.published_since(after, CATCH_UP_PAGE));
            let Some(page) = self.shared.store.report(page) else {
                return count;
            };
            if page.is_empty() {
                return count;
            }
            if let Some(first) = page.first() {
                if after > 0 && first.seq > after + 1 && self.missed_changes(after) {
                    tracing::warn!(
                        after,
                        first = first.seq,
                        "published changes were pruned before this mount applied them; \
                         re-reading its folders from the store"
                    );
                    self.reload_from_store(listener);
                }
            }
            for published in page {
                *applied = published.seq;
                if published.change.publisher != member {
                    self.apply_published(published, listener);
                    count += 1;
                }
            }
        }
    }

    /// Whether numbers after `after` are gone (pruned), not just skipped by the sequence.
    fn missed_changes(&self, after: u64) -> bool {
        let Some(fleet) = self.shared.store.fleet() else {
            return false;
        };
        let oldest = off_runtime(|| fleet.oldest_published());
        matches!(self.shared.store.report(oldest), Some(Some(oldest)) if oldest > after + 1)
    }

    /// Folders listed from the store since the last catch-up: the changes published while
    /// they were being loaded are applied to them (again, harmlessly, if the store had them).
    fn catch_up_loaded_folders(&self, member: &str, listener: Option<&ChangeListener>) {
        let Some(fleet) = self.shared.store.fleet() else {
            return;
        };
        for f in &self.shared.folders {
            let Some(from) = lock(&f.status).fleet_catch_up.take() else {
                continue;
            };
            let mut after = from;
            loop {
                let page = off_runtime(|| fleet.published_since(after, CATCH_UP_PAGE));
                let Some(page) = self.shared.store.report(page) else {
                    break;
                };
                let Some(last) = page.last() else {
                    break;
                };
                after = last.seq;
                for published in page {
                    let theirs = published.change.publisher != member;
                    let refreshed = published.change.refreshed.contains(&f.spec.object);
                    if theirs && (published.change.object == f.spec.object || refreshed) {
                        self.apply_published(published, listener);
                    }
                }
            }
        }
    }

    /// Tells followers which folders this leader's tick brought up to date.
    pub(crate) fn publish_refreshed(&self, folders: &[usize], at: SystemTime) {
        self.shared.publish_refreshed(folders, at);
    }

    fn apply_published(&self, published: Published, listener: Option<&ChangeListener>) {
        let change = published.change;
        self.note_refreshed(&change.refreshed, change.at);
        if change.object.is_empty() {
            return;
        }
        let Some(folder) = self
            .shared
            .folders
            .iter()
            .position(|f| f.spec.object == change.object)
        else {
            return;
        };
        let at = change.at;
        match self.apply_changes_from(folder, change.records, &change.deleted, Origin::Fleet) {
            Ok(summary) => {
                self.update_folder_refresh(folder, |r| {
                    r.last_success = Some(r.last_success.map_or(at, |last| last.max(at)));
                    r.applied.count(&summary);
                });
                if summary != ChangeSummary::default() {
                    if let Some(listener) = listener {
                        listener(folder, &summary);
                    }
                }
            }
            Err(error) => {
                tracing::debug!(object = %self.shared.folders[folder].spec.object, %error, "cannot apply a published change");
            }
        }
    }

    /// The leader refreshed these objects' folders at `at`: so are this mount's copies.
    fn note_refreshed(&self, objects: &[String], at: SystemTime) {
        if objects.is_empty() {
            return;
        }
        for (folder, f) in self.shared.folders.iter().enumerate() {
            if objects.contains(&f.spec.object) {
                self.update_folder_refresh(folder, |r| {
                    r.last_success = Some(r.last_success.map_or(at, |last| last.max(at)));
                    r.last_error = None;
                });
            }
        }
        self.update_refresh_overview(|o| {
            o.last_success = Some(o.last_success.map_or(at, |last| last.max(at)));
        });
    }

    /// After missed changes: every listed folder is read again from the store and the
    /// kernel told to forget it whole.
    fn reload_from_store(&self, listener: Option<&ChangeListener>) {
        for folder in self.listed_folders() {
            if let Some(summary) = self.replace_from_store(folder) {
                if let Some(listener) = listener {
                    listener(folder, &summary);
                }
            }
        }
    }
}
