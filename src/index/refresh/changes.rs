//! One folder's answer to a tick's change query, applied: which changed rows the listing
//! already holds, which must be fetched by Id, which are gone.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use super::RefreshEngine;
use crate::index::source::{ChangeRequest, ChangedRow, ObjectChanges};
use crate::index::{ChangeSummary, IndexError, Listing, Record};

/// What a folder's changed rows ask for.
#[derive(Default)]
struct Wanted {
    /// Ids to fetch (changed rows newer than the listing's, parents of new feed activity).
    fetch: Vec<String>,
    /// Ids whose files go.
    deleted: Vec<String>,
}

impl RefreshEngine {
    /// Applies one folder's changed rows: rows whose stamp the listing already has are
    /// skipped, deleted rows remove their files, the rest (and parents of new feed activity)
    /// are fetched by Id and applied; a row asked for but not returned was deleted meanwhile.
    pub(super) fn apply(
        &mut self,
        folder: usize,
        request: &ChangeRequest,
        changes: ObjectChanges,
    ) -> Result<ChangeSummary, IndexError> {
        if !changes.incremental {
            return Ok(ChangeSummary::default());
        }
        let Some(listing) = self.index.peek_listing(folder) else {
            return Ok(ChangeSummary::default());
        };
        let seen = self.feed_seen.entry(folder).or_default();
        let mut wanted = wanted(&listing, &changes, seen);
        let mut records: Vec<Record> = Vec::new();
        if !wanted.fetch.is_empty() {
            let deadline = self.config.tick_deadline;
            records =
                self.index
                    .fetch_records(folder, wanted.fetch.clone(), deadline, &self.stop)?;
            let returned: HashSet<&str> = records
                .iter()
                .filter_map(|r| r.get("Id").and_then(|v| v.as_str()))
                .collect();
            wanted.deleted.extend(
                wanted
                    .fetch
                    .iter()
                    .filter(|id| !returned.contains(id.as_str()) && listing.by_id(id).is_some())
                    .cloned(),
            );
        }
        let summary = if records.is_empty() && wanted.deleted.is_empty() {
            ChangeSummary::default()
        } else {
            self.index.apply_changes(folder, records, &wanted.deleted)?
        };
        // Only now that everything applied: remember the feed rows and move the watermark.
        let seen = self.feed_seen.entry(folder).or_default();
        for activity in &changes.feed_activity {
            seen.insert(activity.id.clone(), activity.modstamp);
        }
        seen.retain(|_, stamp| stamp.is_some_and(|s| s >= request.since));
        let newest = changes
            .rows
            .iter()
            .map(|r| r.modstamp)
            .chain(changes.feed_activity.iter().map(|a| a.modstamp))
            .max()
            .flatten();
        self.index.update_folder_refresh(folder, |r| {
            r.watermark = r.watermark.max(newest).max(listing.watermark);
        });
        Ok(summary)
    }
}

/// Sorts a folder's changed rows against its listing and the feed rows already applied
/// (`seen`: feed row Id -> stamp).
fn wanted(
    listing: &Listing,
    changes: &ObjectChanges,
    seen: &HashMap<String, Option<SystemTime>>,
) -> Wanted {
    // The latest row per Id: a record deleted and undeleted between ticks shows twice.
    let mut latest: HashMap<&str, &ChangedRow> = HashMap::new();
    for row in &changes.rows {
        match latest.get(row.id.as_str()) {
            Some(seen) if seen.modstamp > row.modstamp => {}
            _ => {
                latest.insert(&row.id, row);
            }
        }
    }
    let mut wanted = Wanted::default();
    let mut asked: HashSet<String> = HashSet::new();
    for (id, row) in &latest {
        let held = listing.by_id(id).map(|f| f.modstamp);
        if row.deleted {
            // A deletion older than the version held (it was undeleted and fetched since)
            // is history, not news.
            let newer_held = matches!(
                (held.flatten(), row.modstamp),
                (Some(have), Some(seen)) if have > seen
            );
            if held.is_some() && !newer_held {
                wanted.deleted.push(id.to_string());
            }
            continue;
        }
        let up_to_date = matches!(
            (held.flatten(), row.modstamp),
            (Some(have), Some(seen)) if have >= seen
        );
        if !up_to_date && asked.insert(id.to_string()) {
            wanted.fetch.push(id.to_string());
        }
    }
    let deleted: HashSet<&str> = wanted.deleted.iter().map(String::as_str).collect();
    let mut parents = Vec::new();
    for activity in &changes.feed_activity {
        if seen.get(&activity.id) == Some(&activity.modstamp) {
            continue;
        }
        if !deleted.contains(activity.parent_id.as_str())
            && asked.insert(activity.parent_id.clone())
        {
            parents.push(activity.parent_id.clone());
        }
    }
    wanted.fetch.extend(parents);
    wanted
}
