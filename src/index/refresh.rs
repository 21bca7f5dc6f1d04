//! Background incremental refresh: the mount follows the org.
//!
//! Every `interval`, one tick asks the org, for every listed folder at once, which rows
//! changed since the folder's watermark minus an overlap window (queryAll, so deleted rows
//! come too; 5 objects per composite call), then fetches by Id only the rows whose stamp is
//! newer than what the listing holds, applies them through [`Index::apply_changes`] and hands
//! each [`ChangeSummary`] to a listener (the FUSE layer turns it into kernel invalidations on
//! a thread of its own). A quiet tick therefore costs the change queries and nothing else.
//!
//! Why an overlap window of minutes: a row's SystemModstamp is taken when its transaction
//! starts, but the row becomes visible when the transaction commits, seconds or (for big
//! batches and triggers) minutes later. A query that ran between the two misses the row and
//! a later query starting exactly at the watermark misses it again. Sync tools that used a
//! 10-second overlap lost rows this way; re-reading five minutes costs a few rows per tick,
//! which are skipped by Id and stamp without another call.
//!
//! Failures keep the last good data, are logged once per change of condition, and back off
//! (interval doubling up to `max_backoff`); the next good tick converges because the
//! watermark only moves after a folder's changes were applied.

mod changes;
mod control;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::source::{ChangeRequest, ObjectChanges, SourceError};
use super::{ApiFloor, ChangeSummary, Index, IndexError, RefreshState};
pub use control::Refresher;

/// Receives what each folder's refresh changed (called on the refresher's thread).
pub type ChangeListener = Arc<dyn Fn(usize, &ChangeSummary) + Send + Sync>;

#[derive(Debug, Clone)]
pub struct RefreshConfig {
    /// Time between ticks while all is well.
    pub interval: Duration,
    /// How far before the watermark each change query starts (see the module notes).
    pub overlap: Duration,
    /// How often folders of objects with formula fields (or without a stamp) are re-read
    /// whole: formula values change without moving SystemModstamp.
    pub formula_interval: Duration,
    /// Background refresh stops once this share of the org's daily API limit is used.
    pub api_floor: ApiFloor,
    /// Longest wait between ticks after repeated failures.
    pub max_backoff: Duration,
    /// While stopped at the API floor, the org's usage is asked again this often (one cheap
    /// call), so a figure that fell back (the daily window rolled on, the limit was raised)
    /// is noticed even if nothing else calls.
    pub paused_probe_every: Duration,
    /// Longest a tick's change queries, or one folder's fetch, may take.
    pub tick_deadline: Duration,
}

impl RefreshConfig {
    /// Five minutes: far above commit delays seen in practice (seconds; a minute for big
    /// trigger-heavy batches), and cheap, since rows already applied cost no call.
    pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(5 * 60);
    /// Formula values change without moving SystemModstamp, so objects with formula fields
    /// are re-read whole on this slower schedule (a full listing's calls, once a day).
    pub const DEFAULT_FORMULA_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);
    /// Ten minutes: an org that is down for an hour costs six failed ticks, and one that
    /// comes back is followed again within ten minutes.
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10 * 60);
    /// One minute: refresh resumes about a minute after the org's usage falls back under
    /// the floor, and a probe is one call (`GET /limits`), so a whole day paused costs at
    /// most 1,440 calls, 1.4 % of a 100,000-call org (the ticks between probes cost none).
    pub const DEFAULT_PAUSED_PROBE_EVERY: Duration = Duration::from_secs(60);
    /// Two client request deadlines with a retry each fit in it.
    pub const DEFAULT_TICK_DEADLINE: Duration = Duration::from_secs(120);
    /// A folder listed while its object was empty has no watermark from the org: its first
    /// change query reaches this far back from the listing's (host) time, which covers any
    /// plausible clock skew between host and org. Rows found are applied once.
    pub const EMPTY_FOLDER_LOOKBACK: Duration = Duration::from_secs(24 * 60 * 60);

    pub fn new(interval: Duration) -> RefreshConfig {
        RefreshConfig {
            interval,
            overlap: Self::DEFAULT_OVERLAP,
            formula_interval: Self::DEFAULT_FORMULA_INTERVAL,
            api_floor: ApiFloor::DEFAULT,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            paused_probe_every: Self::DEFAULT_PAUSED_PROBE_EVERY,
            tick_deadline: Self::DEFAULT_TICK_DEADLINE,
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickOutcome {
    /// No folder is listed yet: nothing to ask.
    Idle,
    /// Every listed folder was brought up to date; `changes` files were added, updated,
    /// renamed or removed.
    Refreshed { folders: usize, changes: usize },
    /// Some or all folders failed (their last good data stays); the first error.
    Failed { failed: usize, error: String },
    /// Stopped at the API floor.
    Paused { used: u64, max: u64 },
    /// Another mount of the fleet leads the refresh; this one follows it.
    Following,
}

/// The condition logged once when it changes, not once per tick.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Healthy,
    Paused,
    Failing(&'static str),
}

/// One refresh tick at a time, with the state kept between ticks. The [`Refresher`] runs one
/// on its thread; tests drive one directly.
pub struct RefreshEngine {
    index: Index,
    config: RefreshConfig,
    listener: Option<ChangeListener>,
    /// Per folder: feed rows already applied (Id -> stamp), so the overlap window does not
    /// refetch their parents on every tick.
    feed_seen: HashMap<usize, HashMap<String, Option<SystemTime>>>,
    /// Per folder: whether the object needs full re-reads (formula fields, no stamp).
    needs_full: HashMap<usize, bool>,
    condition: Condition,
    last_paused_probe: Option<Instant>,
    /// Folders whose plan changed and whose re-read failed: tried again next tick.
    pending_rereads: HashSet<usize>,
    /// Set when the refresher is stopping: network work in progress is abandoned.
    stop: Arc<AtomicBool>,
}

impl RefreshEngine {
    pub fn new(index: Index, config: RefreshConfig, listener: Option<ChangeListener>) -> Self {
        index.update_refresh_overview(|o| {
            o.state = RefreshState::Running;
            o.interval = Some(config.interval);
            o.formula_interval = Some(config.formula_interval);
            o.api_floor = Some(config.api_floor);
        });
        RefreshEngine {
            index,
            config,
            listener,
            feed_seen: HashMap::new(),
            needs_full: HashMap::new(),
            condition: Condition::Healthy,
            last_paused_probe: None,
            pending_rereads: HashSet::new(),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The flag that, once set, cuts the current and later ticks short.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    pub fn config(&self) -> &RefreshConfig {
        &self.config
    }

    /// One refresh of every listed folder (and the full re-read of folders whose formula
    /// refresh is due).
    pub fn tick(&mut self) -> TickOutcome {
        let started = SystemTime::now();
        self.index.update_refresh_overview(|o| {
            o.ticks += 1;
            o.last_tick = Some(started);
        });
        // In a fleet only the leader asks the org; the others follow what it publishes.
        match self.index.fleet_lead(self.listener.as_ref()) {
            Some(false) => return TickOutcome::Following,
            Some(true) => self.index.adopt_fleet_listings(),
            None => {}
        }
        if let Some(paused) = self.stay_paused() {
            return paused;
        }
        let listed = self.index.listed_folders();
        if listed.is_empty() {
            self.finish_tick(started, 0, None);
            return TickOutcome::Idle;
        }
        let mut replanned = self.verify_restored_plans(&listed);
        self.index.trust_fleet_schema();
        replanned.extend(self.pending_rereads.drain());
        let requests: Vec<ChangeRequest> = listed
            .iter()
            .map(|&folder| ChangeRequest {
                object: self.object(folder),
                since: self.since(folder),
            })
            .collect();
        let answers = self.ask_changes(&requests);
        let mut changes = 0usize;
        let mut first_error: Option<IndexError> = None;
        let mut failed = 0usize;
        let mut refreshed = Vec::with_capacity(listed.len());
        for ((&folder, request), answer) in listed.iter().zip(&requests).zip(answers) {
            let full = replanned.remove(&folder);
            match self.refresh_folder(folder, request, answer, started, full) {
                Ok(changed) => {
                    changes += changed;
                    refreshed.push(folder);
                }
                Err(error) => {
                    failed += 1;
                    first_error.get_or_insert(error);
                }
            }
        }
        self.index.publish_refreshed(&refreshed, started);
        if first_error.is_none() && self.index.refresh_overview().offline.is_some() {
            tracing::info!("the org answers again: the mount is caught up and follows it");
            self.index.update_refresh_overview(|o| o.offline = None);
        }
        let outcome = match &first_error {
            None => TickOutcome::Refreshed {
                folders: listed.len(),
                changes,
            },
            Some(error) => TickOutcome::Failed {
                failed,
                error: error.to_string(),
            },
        };
        self.finish_tick(started, failed, first_error.as_ref());
        outcome
    }

    /// Folders served from the local store whose selected fields changed in the org since
    /// the store was written (checked once per folder, on the first tick that can reach the
    /// org): they are re-read whole this tick, and only they.
    fn verify_restored_plans(&self, listed: &[usize]) -> HashSet<usize> {
        let mut replanned = HashSet::new();
        for &folder in listed {
            match self
                .index
                .verify_restored_plan(folder, self.config.tick_deadline, &self.stop)
            {
                Ok(true) => {
                    replanned.insert(folder);
                }
                Ok(false) => {}
                // Checked again next tick; the folder is served as stored meanwhile.
                Err(error) => {
                    tracing::debug!(object = %self.object(folder), %error, "cannot check the stored plan yet")
                }
            }
        }
        replanned
    }

    /// `Some(Paused)` while the org's usage is at the API floor. Once paused, the usage is
    /// asked again (one cheap call) at the first tick after each `paused_probe_every`, so
    /// refresh resumes by itself soon after the figure falls back, whatever else calls.
    /// A failed probe keeps the pause: the next one is a probe interval later.
    fn stay_paused(&mut self) -> Option<TickOutcome> {
        let floor = self.config.api_floor;
        let mut usage = self.index.api_usage()?;
        if !floor.is_reached_by(usage) {
            return None;
        }
        let probe_due = self.condition == Condition::Paused
            && self
                .last_paused_probe
                .is_none_or(|at| at.elapsed() >= self.config.paused_probe_every);
        if probe_due || self.condition != Condition::Paused {
            self.last_paused_probe = Some(Instant::now());
        }
        if probe_due {
            match self
                .index
                .refresh_api_usage(self.config.tick_deadline, &self.stop)
            {
                Ok(fresh) => usage = fresh.unwrap_or(usage),
                // Debug: the pause is already logged and shown; a failed probe changes neither.
                Err(error) => tracing::debug!(%error, "asking the org for its API usage failed"),
            }
            if !floor.is_reached_by(usage) {
                return None;
            }
        }
        self.set_condition(Condition::Paused, &format!("{}/{}", usage.used, usage.max));
        let floor_percent = f64::from(floor.stop_at_used_percent());
        self.index.update_refresh_overview(|o| {
            o.state = RefreshState::Paused {
                used: usage.used,
                max: usage.max,
                floor_percent,
            };
        });
        Some(TickOutcome::Paused {
            used: usage.used,
            max: usage.max,
        })
    }

    /// The change queries of one tick (one batch), one answer per request.
    fn ask_changes(&self, requests: &[ChangeRequest]) -> Vec<Result<ObjectChanges, IndexError>> {
        let answers = self
            .index
            .changes(requests.to_vec(), self.config.tick_deadline, &self.stop);
        match answers {
            Ok(answers) if answers.len() == requests.len() => answers
                .into_iter()
                .map(|a| a.map_err(IndexError::Source))
                .collect(),
            Ok(answers) => requests
                .iter()
                .map(|_| {
                    Err(IndexError::Internal {
                        object: "refresh".into(),
                        message: format!(
                            "{} answers to {} change requests",
                            answers.len(),
                            requests.len()
                        ),
                    })
                })
                .collect(),
            Err(error) => requests.iter().map(|_| Err(error.clone())).collect(),
        }
    }

    /// Applies one folder's answer (and its formula re-read when due), records the outcome
    /// in its status and tells the listener; the number of files changed.
    fn refresh_folder(
        &mut self,
        folder: usize,
        request: &ChangeRequest,
        answer: Result<ObjectChanges, IndexError>,
        started: SystemTime,
        replanned: bool,
    ) -> Result<usize, IndexError> {
        let result = answer.and_then(|answer| self.apply(folder, request, answer));
        let result = result.and_then(|mut total| {
            if replanned || self.full_refresh_due(folder) {
                total.absorb(self.full_refresh(folder)?);
            }
            Ok(total)
        });
        let summary = match result {
            Ok(summary) => summary,
            Err(error) => {
                if replanned {
                    self.pending_rereads.insert(folder);
                }
                let message = error.to_string();
                self.index.update_folder_refresh(folder, |r| {
                    r.last_error = Some((message, SystemTime::now()));
                });
                return Err(error);
            }
        };
        self.index.update_folder_refresh(folder, |r| {
            r.last_success = Some(started);
            r.last_error = None;
            r.applied.count(&summary);
        });
        // The watermark and the time of this success, so a restart starts from here.
        self.index.shared.persist_header(folder);
        if summary != ChangeSummary::default() {
            tracing::debug!(
                object = %request.object,
                added = summary.added,
                updated = summary.updated,
                renamed = summary.renamed,
                removed = summary.removed,
                "refreshed"
            );
            if let Some(listener) = &self.listener {
                listener(folder, &summary);
            }
        }
        Ok(summary.total())
    }

    fn finish_tick(&mut self, started: SystemTime, failed: usize, error: Option<&IndexError>) {
        match error {
            None => {
                self.set_condition(Condition::Healthy, "");
                self.index.update_refresh_overview(|o| {
                    o.state = RefreshState::Running;
                    o.last_success = Some(started);
                    o.consecutive_failures = 0;
                });
            }
            Some(error) => {
                let message = error.to_string();
                self.set_condition(Condition::Failing(error_kind(error)), &message);
                self.index.update_refresh_overview(|o| {
                    o.consecutive_failures += 1;
                    o.state = RefreshState::Failing {
                        folders: failed,
                        message,
                    };
                });
            }
        }
    }

    fn set_condition(&mut self, condition: Condition, detail: &str) {
        if condition == self.condition {
            return;
        }
        match &condition {
            Condition::Healthy => tracing::info!("background refresh is working again"),
            Condition::Paused => tracing::warn!(
                usage = detail,
                floor_percent = self.config.api_floor.stop_at_used_percent(),
                "background refresh stopped: the org's daily API usage reached the floor; serving the data already read"
            ),
            Condition::Failing(_) => tracing::warn!(
                error = detail,
                "background refresh failed; serving the last data read and retrying with backoff"
            ),
        }
        self.condition = condition;
    }

    /// How long to wait before the next tick: the interval, doubled per consecutive
    /// failure up to `max_backoff`.
    pub fn next_delay(&self) -> Duration {
        let failures = self.index.refresh_overview().consecutive_failures;
        if failures == 0 {
            return self.config.interval;
        }
        let factor = 1u32 << failures.min(16);
        self.config
            .interval
            .saturating_mul(factor)
            .min(self.config.max_backoff.max(self.config.interval))
    }

    fn object(&self, folder: usize) -> String {
        self.index
            .folder_spec(folder)
            .map(|s| s.object.clone())
            .unwrap_or_default()
    }

    /// Where the folder's change query starts: its watermark minus the overlap window.
    fn since(&self, folder: usize) -> SystemTime {
        let listing = self.index.peek_listing(folder);
        match self.index.watermark(folder) {
            Some(watermark) => watermark
                .checked_sub(self.config.overlap)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            None => listing
                .map(|l| l.refreshed_at)
                .unwrap_or_else(SystemTime::now)
                .checked_sub(RefreshConfig::EMPTY_FOLDER_LOOKBACK)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }

    fn full_refresh_due(&mut self, folder: usize) -> bool {
        let last = self
            .index
            .folder_refresh(folder)
            .and_then(|r| r.last_full_refresh);
        let due = last.is_none_or(|at| {
            at.elapsed()
                .is_ok_and(|age| age >= self.config.formula_interval)
        });
        if !due {
            return false;
        }
        if let Some(&needs) = self.needs_full.get(&folder) {
            return needs;
        }
        let needs = self
            .index
            .needs_full_refresh(folder, self.config.tick_deadline, &self.stop);
        match needs {
            Ok(needs) => {
                self.needs_full.insert(folder, needs);
                needs
            }
            Err(_) => false,
        }
    }

    /// Reads the folder's object whole and applies it: changed values (formulas) update their
    /// files, records no longer in the org go. Costs a full listing's calls.
    pub fn full_refresh(&mut self, folder: usize) -> Result<ChangeSummary, IndexError> {
        let started = SystemTime::now();
        let deadline = self.index.config().listing_deadline;
        let total = self.index.reread(folder, deadline, &self.stop)?;
        self.index.update_folder_refresh(folder, |r| {
            r.last_full_refresh = Some(started);
        });
        tracing::info!(object = %self.object(folder), changes = total.total(), "full re-read (formula fields) done");
        Ok(total)
    }
}

/// The kind of a failure, for logging once per change of condition.
fn error_kind(error: &IndexError) -> &'static str {
    match error {
        IndexError::Source(SourceError::Timeout) | IndexError::Deadline { .. } => "timeout",
        IndexError::Source(SourceError::Unavailable(_)) => "unavailable",
        IndexError::Source(SourceError::LimitExceeded(_)) => "limit",
        IndexError::Source(SourceError::Auth(_)) => "auth",
        IndexError::Source(SourceError::NotFound(_)) => "not found",
        IndexError::Source(SourceError::Other(_)) => "other",
        IndexError::NoSuchFolder
        | IndexError::NoSuchFile
        | IndexError::Internal { .. }
        | IndexError::Stopped => "internal",
    }
}
