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

use crate::sync;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::source::{ChangeRequest, ObjectChanges, Record, SourceError};
use super::{ChangeSummary, Index, IndexError};

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
    pub api_floor_used_fraction: f64,
    /// Longest wait between ticks after repeated failures.
    pub max_backoff: Duration,
    /// While stopped at the API floor, one tick this often still runs, so a usage figure
    /// that fell back (the daily window rolled on) is noticed even if nothing else calls.
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
    /// 80 % used: the remaining fifth is left to the org's other integrations.
    pub const DEFAULT_API_FLOOR_USED_PERCENT: u8 = 80;
    pub const DEFAULT_API_FLOOR_USED_FRACTION: f64 =
        Self::DEFAULT_API_FLOOR_USED_PERCENT as f64 / 100.0;
    /// Ten minutes: an org that is down for an hour costs six failed ticks, and one that
    /// comes back is followed again within ten minutes.
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10 * 60);
    pub const DEFAULT_PAUSED_PROBE_EVERY: Duration = Duration::from_secs(60 * 60);
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
            api_floor_used_fraction: Self::DEFAULT_API_FLOOR_USED_FRACTION,
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
    /// Set when the refresher is stopping: network work in progress is abandoned.
    stop: Arc<AtomicBool>,
}

/// How often a tick waiting on the network checks whether the refresher is stopping.
const STOP_POLL: Duration = Duration::from_millis(100);

async fn wait_for_stop(stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(STOP_POLL).await;
    }
}

impl RefreshEngine {
    pub fn new(index: Index, config: RefreshConfig, listener: Option<ChangeListener>) -> Self {
        index.update_refresh_overview(|o| {
            o.state = "running".to_string();
            o.interval = Some(config.interval);
            o.formula_interval = Some(config.formula_interval);
            o.api_floor_used_fraction = Some(config.api_floor_used_fraction);
        });
        RefreshEngine {
            index,
            config,
            listener,
            feed_seen: HashMap::new(),
            needs_full: HashMap::new(),
            condition: Condition::Healthy,
            last_paused_probe: None,
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
        if let Some(usage) = self.index.source().api_usage() {
            let at_floor = usage.used_fraction() >= self.config.api_floor_used_fraction;
            let probe_due = self
                .last_paused_probe
                .is_none_or(|at| at.elapsed() >= self.config.paused_probe_every);
            if at_floor && !(self.condition == Condition::Paused && probe_due) {
                if self.condition != Condition::Paused {
                    self.last_paused_probe = Some(Instant::now());
                }
                self.set_condition(Condition::Paused, &format!("{}/{}", usage.used, usage.max));
                let percent = (self.config.api_floor_used_fraction * 100.0).round();
                self.index.update_refresh_overview(|o| {
                    o.state = format!(
                        "paused: {} of {} daily API calls used (stops at {percent} %); serving the data already read",
                        usage.used, usage.max
                    );
                });
                return TickOutcome::Paused {
                    used: usage.used,
                    max: usage.max,
                };
            }
            if at_floor {
                self.last_paused_probe = Some(Instant::now());
            }
        }
        let listed = self.index.listed_folders();
        if listed.is_empty() {
            self.finish_tick(started, 0, None);
            return TickOutcome::Idle;
        }
        let requests: Vec<ChangeRequest> = listed
            .iter()
            .map(|&folder| ChangeRequest {
                object: self.object(folder),
                since: self.since(folder),
            })
            .collect();
        let source = self.index.source().clone();
        let deadline = self.config.tick_deadline;
        let answers = self.run(deadline, async {
            source.changes(&requests).await.map_err(IndexError::Source)
        });
        let answers: Vec<Result<ObjectChanges, IndexError>> = match answers {
            Ok(answers) if answers.len() == listed.len() => answers
                .into_iter()
                .map(|a| a.map_err(IndexError::Source))
                .collect(),
            Ok(answers) => listed
                .iter()
                .map(|_| {
                    Err(IndexError::Internal {
                        object: "refresh".into(),
                        message: format!(
                            "{} answers to {} change requests",
                            answers.len(),
                            listed.len()
                        ),
                    })
                })
                .collect(),
            Err(error) => listed.iter().map(|_| Err(error.clone())).collect(),
        };
        let mut changes = 0usize;
        let mut first_error: Option<IndexError> = None;
        let mut failed = 0usize;
        for ((&folder, request), answer) in listed.iter().zip(&requests).zip(answers) {
            let result = answer.and_then(|answer| self.apply(folder, request, answer));
            let result = result.and_then(|summary| {
                let mut total = summary;
                if self.full_refresh_due(folder) {
                    let full = self.full_refresh(folder)?;
                    merge(&mut total, full);
                }
                Ok(total)
            });
            match result {
                Ok(summary) => {
                    changes += summary.added + summary.updated + summary.renamed + summary.removed;
                    self.index.update_folder_refresh(folder, |r| {
                        r.last_success = Some(started);
                        r.last_error = None;
                        r.applied[0] += summary.added as u64;
                        r.applied[1] += summary.updated as u64;
                        r.applied[2] += summary.renamed as u64;
                        r.applied[3] += summary.removed as u64;
                    });
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
                }
                Err(error) => {
                    failed += 1;
                    let message = error.to_string();
                    self.index.update_folder_refresh(folder, |r| {
                        r.last_error = Some((message, SystemTime::now()));
                    });
                    first_error.get_or_insert(error);
                }
            }
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

    fn finish_tick(&mut self, started: SystemTime, failed: usize, error: Option<&IndexError>) {
        match error {
            None => {
                self.set_condition(Condition::Healthy, "");
                self.index.update_refresh_overview(|o| {
                    o.state = "running".to_string();
                    o.last_success = Some(started);
                    o.consecutive_failures = 0;
                });
            }
            Some(error) => {
                let message = error.to_string();
                self.set_condition(Condition::Failing(error_kind(error)), &message);
                self.index.update_refresh_overview(|o| {
                    o.consecutive_failures += 1;
                    o.state = format!(
                        "failing ({failed} folder(s)): {message}; serving the last data read, retrying with backoff"
                    );
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
                floor = self.config.api_floor_used_fraction,
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
        let refresh = self.index.folder_refresh(folder).unwrap_or_default();
        let listing = self.index.peek_listing(folder);
        let watermark = refresh
            .watermark
            .max(listing.as_ref().and_then(|l| l.watermark));
        match watermark {
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

    /// Applies one folder's changed rows: rows whose stamp the listing already has are
    /// skipped, deleted rows remove their files, the rest (and parents of new feed activity)
    /// are fetched by Id and applied; a row asked for but not returned was deleted meanwhile.
    fn apply(
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
        // The latest row per Id: a record deleted and undeleted between ticks shows twice.
        let mut latest: HashMap<&str, &super::source::ChangedRow> = HashMap::new();
        for row in &changes.rows {
            match latest.get(row.id.as_str()) {
                Some(seen) if seen.modstamp > row.modstamp => {}
                _ => {
                    latest.insert(&row.id, row);
                }
            }
        }
        let mut to_fetch: Vec<String> = Vec::new();
        let mut wanted: HashSet<String> = HashSet::new();
        let mut deleted: Vec<String> = Vec::new();
        for (id, row) in &latest {
            let known = listing.by_id(id);
            if row.deleted {
                // A deletion older than the version held (it was undeleted and fetched since)
                // is history, not news.
                let newer_held = matches!(
                    (known.and_then(|f| f.modstamp), row.modstamp),
                    (Some(have), Some(seen)) if have > seen
                );
                if known.is_some() && !newer_held {
                    deleted.push(id.to_string());
                }
                continue;
            }
            let up_to_date = matches!(
                (known.and_then(|f| f.modstamp), row.modstamp),
                (Some(have), Some(seen)) if have >= seen
            );
            if !up_to_date && wanted.insert(id.to_string()) {
                to_fetch.push(id.to_string());
            }
        }
        let seen = self.feed_seen.entry(folder).or_default();
        let deleted_set: HashSet<&str> = deleted.iter().map(String::as_str).collect();
        for activity in &changes.feed_activity {
            if seen.get(&activity.id) == Some(&activity.modstamp) {
                continue;
            }
            if !deleted_set.contains(activity.parent_id.as_str())
                && wanted.insert(activity.parent_id.clone())
            {
                to_fetch.push(activity.parent_id.clone());
            }
        }
        let mut records: Vec<Record> = Vec::new();
        if !to_fetch.is_empty() {
            records = self.fetch_by_ids(&request.object, &to_fetch)?;
            let returned: HashSet<&str> = records
                .iter()
                .filter_map(|r| r.get("Id").and_then(|v| v.as_str()))
                .collect();
            deleted.extend(
                to_fetch
                    .iter()
                    .filter(|id| !returned.contains(id.as_str()) && listing.by_id(id).is_some())
                    .cloned(),
            );
        }
        let summary = if records.is_empty() && deleted.is_empty() {
            ChangeSummary::default()
        } else {
            self.index.apply_changes(folder, records, &deleted)?
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

    fn fetch_by_ids(&self, object: &str, ids: &[String]) -> Result<Vec<Record>, IndexError> {
        let source = self.index.source().clone();
        let deadline = self.config.tick_deadline;
        self.run(deadline, async {
            let mut records = Vec::new();
            let mut sink = |page: Vec<Record>| records.extend(page);
            source
                .fetch(object, Some(ids), &mut sink)
                .await
                .map_err(IndexError::Source)?;
            Ok(records)
        })
    }

    /// Runs `work` on the index's runtime, bounded by `deadline` and cut short when the
    /// refresher is asked to stop (unmount must not wait for a long re-read).
    fn run<T>(
        &self,
        deadline: Duration,
        work: impl std::future::Future<Output = Result<T, IndexError>>,
    ) -> Result<T, IndexError> {
        let stop = self.stop.clone();
        self.index.runtime().block_on(async move {
            tokio::select! {
                result = tokio::time::timeout(deadline, work) => {
                    result.unwrap_or(Err(IndexError::Source(SourceError::Timeout)))
                }
                () = wait_for_stop(stop) => Err(IndexError::Internal {
                    object: "refresh".into(),
                    message: "stopped".into(),
                }),
            }
        })
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
        let object = self.object(folder);
        let source = self.index.source().clone();
        let needs = self.run(self.config.tick_deadline, async {
            source
                .needs_full_refresh(&object)
                .await
                .map_err(IndexError::Source)
        });
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
        let object = self.object(folder);
        let started = SystemTime::now();
        let source = self.index.source().clone();
        let index = self.index.clone();
        let deadline = self.index.config().listing_deadline;
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut total = ChangeSummary::default();
        let mut apply_error: Option<IndexError> = None;
        let fetched = self.run(deadline, async {
            let mut sink = |page: Vec<Record>| {
                seen_ids.extend(
                    page.iter()
                        .filter_map(|r| r.get("Id").and_then(|v| v.as_str()).map(str::to_string)),
                );
                match index.apply_changes(folder, page, &[]) {
                    Ok(summary) => merge(&mut total, summary),
                    Err(error) => {
                        apply_error.get_or_insert(error);
                    }
                }
            };
            source
                .fetch(&object, None, &mut sink)
                .await
                .map_err(IndexError::Source)
        });
        fetched?;
        if let Some(error) = apply_error {
            return Err(error);
        }
        if let Some(listing) = self.index.peek_listing(folder) {
            let gone: Vec<String> = listing
                .ids()
                .filter(|id| !seen_ids.contains(&***id))
                .map(|id| id.to_string())
                .collect();
            if !gone.is_empty() {
                merge(
                    &mut total,
                    self.index.apply_changes(folder, Vec::new(), &gone)?,
                );
            }
        }
        self.index.update_folder_refresh(folder, |r| {
            r.last_full_refresh = Some(started);
        });
        tracing::info!(object = %object, changes = total.added + total.updated + total.renamed + total.removed, "full re-read (formula fields) done");
        Ok(total)
    }
}

fn merge(total: &mut ChangeSummary, more: ChangeSummary) {
    total.added += more.added;
    total.updated += more.updated;
    total.renamed += more.renamed;
    total.removed += more.removed;
    total.stale_inodes.extend(more.stale_inodes);
    total.stale_names.extend(more.stale_names);
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
        IndexError::NoSuchFolder | IndexError::NoSuchFile | IndexError::Internal { .. } => {
            "internal"
        }
    }
}

#[derive(Default)]
struct ControlState {
    now: bool,
    stop: bool,
}

struct Control {
    state: Mutex<ControlState>,
    wake: Condvar,
    /// The engine's stop flag, so `stop` also ends a tick waiting on the network.
    engine_stop: Mutex<Option<Arc<AtomicBool>>>,
}

/// The refresher's thread. `refresh_now` (SIGHUP) runs a tick at once; dropping or
/// `stop` ends the thread promptly.
pub struct Refresher {
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

impl Refresher {
    /// Starts the thread; the first tick runs one interval from now (folders are listed on
    /// demand, so there is nothing to refresh at mount time).
    pub fn start(
        index: Index,
        config: RefreshConfig,
        listener: Option<ChangeListener>,
    ) -> std::io::Result<Refresher> {
        let control = Arc::new(Control {
            state: Mutex::new(ControlState::default()),
            wake: Condvar::new(),
            engine_stop: Mutex::new(None),
        });
        let engine = RefreshEngine::new(index, config, listener);
        *super::lock(&control.engine_stop) = Some(engine.stop_flag());
        let thread_control = control.clone();
        let thread = std::thread::Builder::new()
            .name("sfmount-refresh".to_string())
            .spawn(move || {
                let mut engine = engine;
                let mut delay = engine.config().interval;
                loop {
                    let wake_at = Instant::now() + delay;
                    {
                        let mut state = super::lock(&thread_control.state);
                        loop {
                            if state.stop {
                                return;
                            }
                            if state.now {
                                state.now = false;
                                break;
                            }
                            let now = Instant::now();
                            if now >= wake_at {
                                break;
                            }
                            state = sync::wait_timeout(&thread_control.wake, state, wake_at - now);
                        }
                    }
                    engine.tick();
                    delay = engine.next_delay();
                }
            })?;
        Ok(Refresher {
            control,
            thread: Some(thread),
        })
    }

    /// Runs a tick now (or right after the one in progress).
    pub fn refresh_now(&self) {
        super::lock(&self.control.state).now = true;
        self.control.wake.notify_all();
    }

    /// Ends the thread; a tick waiting on the network is abandoned (within 100 ms), its
    /// folders left as they were.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        super::lock(&self.control.state).stop = true;
        if let Some(flag) = super::lock(&self.control.engine_stop).as_ref() {
            flag.store(true, Ordering::Relaxed);
        }
        self.control.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.shutdown();
    }
}
