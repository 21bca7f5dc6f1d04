//! The status documents: each folder's `.sobject.json` and the mount root's
//! `.sfmount-status.json`, built from memory on every open (no request), and the refresh
//! bookkeeping they show.

use crate::sync::lock;
use std::fmt;
use std::time::{Duration, SystemTime};

use super::time::rfc3339;
use super::{ChangeSummary, FolderStatus, Index, IndexError};

/// Where background refresh of one folder stands (shown in its `.sobject.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderRefresh {
    /// When a refresh tick last brought this folder up to date with the org.
    pub last_success: Option<SystemTime>,
    /// Where the next incremental query starts (before the overlap window is taken off).
    pub watermark: Option<SystemTime>,
    /// The last refresh failure, kept until a refresh succeeds.
    pub last_error: Option<(String, SystemTime)>,
    /// When the folder was last read whole (its first listing or a formula refresh).
    pub last_full_refresh: Option<SystemTime>,
    /// Changes applied by refreshes since mount.
    pub applied: AppliedChanges,
}

/// Files changed by refreshes since mount (`refreshChanges` in `.sobject.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppliedChanges {
    pub added: u64,
    pub updated: u64,
    pub renamed: u64,
    pub removed: u64,
}

impl AppliedChanges {
    /// Counts what one refresh of the folder changed.
    pub fn count(&mut self, summary: &ChangeSummary) {
        self.added += summary.added as u64;
        self.updated += summary.updated as u64;
        self.renamed += summary.renamed as u64;
        self.removed += summary.removed as u64;
    }
}

/// Where the background refresher as a whole stands. Its words in the status file come
/// from [`fmt::Display`], the one place they are written.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum RefreshState {
    /// No refresher runs (refresh is off, or not started yet).
    #[default]
    Off,
    Running,
    /// Stopped at the API floor: `used` of `max` daily calls, the floor in percent.
    Paused {
        used: u64,
        max: u64,
        floor_percent: f64,
    },
    /// The last tick failed for `folders` folders; the first error.
    Failing {
        folders: usize,
        message: String,
    },
}

impl fmt::Display for RefreshState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshState::Off => write!(f, "off"),
            RefreshState::Running => write!(f, "running"),
            RefreshState::Paused {
                used,
                max,
                floor_percent,
            } => write!(
                f,
                "paused: {used} of {max} daily API calls used (stops at {floor_percent} %); serving the data already read"
            ),
            RefreshState::Failing { folders, message } => write!(
                f,
                "failing ({folders} folder(s)): {message}; serving the last data read, retrying with backoff"
            ),
        }
    }
}

/// Where the background refresher as a whole stands (shown in the root status file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshOverview {
    pub state: RefreshState,
    pub interval: Option<Duration>,
    pub formula_interval: Option<Duration>,
    /// Where background refresh stops spending the daily API limit.
    pub api_floor: Option<super::ApiFloor>,
    pub last_tick: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub consecutive_failures: u32,
    pub ticks: u64,
    /// Why the mount started without the org (it serves the local store); cleared by the
    /// first tick that reaches the org.
    pub offline: Option<String>,
}

impl FolderStatus {
    /// Since when and why the folder's files may be behind the org: a refresh is failing,
    /// or it is served from the local store and no tick has reached the org since mount.
    fn stale(
        &self,
        mounted_at: SystemTime,
        offline: Option<&str>,
    ) -> Option<(Option<SystemTime>, String)> {
        self.listing.as_ref()?;
        let since = self.last_refresh();
        if let Some((message, _)) = &self.refresh.last_error {
            return Some((since, message.clone()));
        }
        if since.is_some_and(|at| at >= mounted_at) {
            return None;
        }
        let reason = offline.map_or_else(
            || "served from the local store; not yet refreshed from the org".to_string(),
            str::to_string,
        );
        Some((since, reason))
    }

    /// The last failure: the refresher's, or else the failed first listing's.
    fn last_error(&self) -> Option<(String, SystemTime)> {
        self.refresh.last_error.clone().or_else(|| {
            self.last_failure
                .as_ref()
                .map(|fail| (fail.error.to_string(), fail.wall))
        })
    }
}

impl Index {
    /// The folder's `.sobject.json`: what is mounted and how fresh it is. Costs no request.
    pub fn sobject_json(&self, folder: usize) -> Result<Vec<u8>, IndexError> {
        let f = self.folder(folder)?;
        let status = lock(&f.status);
        let listing = status.listing.as_ref();
        let refresh = &status.refresh;
        let last_error = status.last_error();
        let offline = lock(&self.shared.overview).offline.clone();
        let stale = status.stale(self.shared.mounted_at, offline.as_deref());
        let summary = serde_json::json!({
            "object": f.spec.object,
            "label": f.spec.label,
            "keyPrefix": f.spec.key_prefix,
            "custom": f.spec.custom,
            "state": status.state().word(),
            "fields": listing.map(|l| l.plan.fields.clone()),
            "subqueries": listing.map(|l| l.plan.subqueries.clone()),
            "recordCount": listing.map(|l| l.record_count()),
            "lastRefresh": status.last_refresh().map(rfc3339),
            "lastFullRefresh": refresh.last_full_refresh.map(rfc3339),
            "watermark": status.watermark().map(rfc3339),
            "lastError": last_error.as_ref().map(|(message, _)| message.clone()),
            "lastErrorTime": last_error.as_ref().map(|(_, at)| rfc3339(*at)),
            "lastDownloadError": status.download_failure.as_ref().map(|(message, _)| message.clone()),
            "lastDownloadErrorTime": status.download_failure.as_ref().map(|(_, at)| rfc3339(*at)),
            "stale": stale_json(stale),
            "refreshChanges": {
                "added": refresh.applied.added,
                "updated": refresh.applied.updated,
                "renamed": refresh.applied.renamed,
                "removed": refresh.applied.removed,
            },
        });
        drop(status);
        Ok(pretty(&summary))
    }

    /// The mount root's status file: API usage and every folder's refresh state. Costs no
    /// request (the usage figure is the last one the org sent).
    pub fn status_json(&self) -> Vec<u8> {
        let overview = self.refresh_overview();
        let usage = self.api_usage();
        let mounted_at = self.shared.mounted_at;
        let folders: Vec<serde_json::Value> = self
            .shared
            .folders
            .iter()
            .map(|f| {
                let status = lock(&f.status);
                serde_json::json!({
                    "object": f.spec.object,
                    "state": status.state().word(),
                    "recordCount": status.listing.as_ref().map(|l| l.record_count()),
                    "lastRefresh": status.last_refresh().map(rfc3339),
                    "watermark": status.watermark().map(rfc3339),
                    "lastError": status.last_error().map(|(message, _)| message),
                    "stale": stale_json(status.stale(mounted_at, overview.offline.as_deref())),
                })
            })
            .collect();
        let summary = serde_json::json!({
            "refresh": {
                "state": overview.state.to_string(),
                "intervalSeconds": overview.interval.map(|d| d.as_secs_f64()),
                "formulaIntervalSeconds": overview.formula_interval.map(|d| d.as_secs_f64()),
                "stopsAtApiUsedPercent": overview.api_floor.map(|floor| f64::from(floor.stop_at_used_percent())),
                "lastTick": overview.last_tick.map(rfc3339),
                "lastSuccess": overview.last_success.map(rfc3339),
                "consecutiveFailures": overview.consecutive_failures,
                "ticks": overview.ticks,
            },
            "offline": overview.offline.as_ref().map(|reason| serde_json::json!({
                "since": rfc3339(mounted_at),
                "reason": reason,
            })),
            "fleet": self.fleet_role().map(|role| serde_json::json!({
                "member": role.member,
                "role": if role.leading { "leader" } else { "follower" },
                "appliedChange": role.applied,
            })),
            "apiUsage": usage.map(|u| serde_json::json!({
                "used": u.used,
                "max": u.max,
            })),
            "objects": folders,
        });
        pretty(&summary)
    }

    /// The folder's refresh state.
    pub(crate) fn folder_refresh(&self, folder: usize) -> Option<FolderRefresh> {
        let f = self.shared.folders.get(folder)?;
        Some(lock(&f.status).refresh.clone())
    }

    /// Changes the folder's refresh state (the refresher's bookkeeping).
    pub(crate) fn update_folder_refresh(
        &self,
        folder: usize,
        update: impl FnOnce(&mut FolderRefresh),
    ) {
        if let Some(f) = self.shared.folders.get(folder) {
            update(&mut lock(&f.status).refresh);
        }
    }

    /// The newest org stamp the folder has seen (refresher's or listing's).
    pub(crate) fn watermark(&self, folder: usize) -> Option<SystemTime> {
        let f = self.shared.folders.get(folder)?;
        lock(&f.status).watermark()
    }

    pub fn refresh_overview(&self) -> RefreshOverview {
        lock(&self.shared.overview).clone()
    }

    /// The mount started without the org (`reason`): the status documents say so, and the
    /// files are served from the local store until a refresh tick reaches the org.
    pub fn start_offline(&self, reason: String) {
        self.update_refresh_overview(|o| o.offline = Some(reason));
    }

    pub(crate) fn update_refresh_overview(&self, update: impl FnOnce(&mut RefreshOverview)) {
        update(&mut lock(&self.shared.overview));
    }
}

/// `{"since": …, "reason": …}`, or null when the folder is up to date.
fn stale_json(stale: Option<(Option<SystemTime>, String)>) -> serde_json::Value {
    match stale {
        Some((since, reason)) => serde_json::json!({
            "since": since.map(rfc3339),
            "reason": reason,
        }),
        None => serde_json::Value::Null,
    }
}

/// A status document's bytes: pretty JSON and a final newline (for `cat`).
fn pretty(summary: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_states_in_the_status_file_s_words() {
        let paused = RefreshState::Paused {
            used: 81,
            max: 100,
            floor_percent: 80.0,
        };
        let failing = RefreshState::Failing {
            folders: 2,
            message: "down".into(),
        };
        assert_eq!(RefreshState::default().to_string(), "off");
        assert_eq!(RefreshState::Running.to_string(), "running");
        assert_eq!(
            paused.to_string(),
            "paused: 81 of 100 daily API calls used (stops at 80 %); serving the data already read"
        );
        assert_eq!(
            failing.to_string(),
            "failing (2 folder(s)): down; serving the last data read, retrying with backoff"
        );
    }
}
