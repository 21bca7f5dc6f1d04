//! The index's door to the org: every call to the source goes through here, run on the
//! index's runtime and waited for with a deadline ([`Pending`]). The refresher asks the
//! org through these too, so it never drives the source or the runtime itself.

use crate::sync::{Abandoned, Pending};
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::{
    ApiUsage, ChangeRequest, ChangeSummary, Index, IndexError, ListingPlan, ObjectChanges,
    ObjectSource, Record, SourceError,
};

/// What a refresh's change queries answer: one result per request, in order.
pub type ChangeAnswers = Vec<Result<ObjectChanges, SourceError>>;

/// A little slack over the work's own timeout, so the work's answer (a timeout error from
/// the source side) normally wins over the waiter's.
pub(super) const WAIT_SLACK: Duration = Duration::from_secs(1);

/// The records of `object` whose Id is in `ids`, within `deadline`.
pub(super) async fn fetch_by_ids(
    source: Arc<dyn ObjectSource>,
    object: String,
    ids: Vec<String>,
    deadline: Duration,
) -> Result<Vec<Record>, IndexError> {
    let mut records = Vec::new();
    let mut sink = |page: Vec<Record>| records.extend(page);
    let fetch = source.fetch(&object, Some(&ids), &mut sink);
    match tokio::time::timeout(deadline, fetch).await {
        Ok(Ok(())) => Ok(records),
        Ok(Err(error)) => Err(IndexError::Source(error)),
        Err(_) => Err(IndexError::Source(SourceError::Timeout)),
    }
}

impl Index {
    /// The org's daily API usage as last reported (no request).
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.shared.source.api_usage()
    }

    /// Asks the org for its daily API usage now (one cheap call; see
    /// `ObjectSource::refresh_api_usage`).
    pub(crate) fn refresh_api_usage(
        &self,
        deadline: Duration,
        stop: &AtomicBool,
    ) -> Result<Option<ApiUsage>, IndexError> {
        let source = self.shared.source.clone();
        self.run("api usage", deadline, stop, async move {
            source.refresh_api_usage().await.map_err(IndexError::Source)
        })
    }

    /// Asks which rows of each requested object changed (one batch for all of them).
    pub(crate) fn changes(
        &self,
        requests: Vec<ChangeRequest>,
        deadline: Duration,
        stop: &AtomicBool,
    ) -> Result<ChangeAnswers, IndexError> {
        let source = self.shared.source.clone();
        self.run("refresh", deadline, stop, async move {
            source.changes(&requests).await.map_err(IndexError::Source)
        })
    }

    /// The folder's records with these Ids, as the org has them now (deleted ones missing).
    pub(crate) fn fetch_records(
        &self,
        folder: usize,
        ids: Vec<String>,
        deadline: Duration,
        stop: &AtomicBool,
    ) -> Result<Vec<Record>, IndexError> {
        let object = self.folder(folder)?.spec.object.clone();
        let source = self.shared.source.clone();
        let work = fetch_by_ids(source, object.clone(), ids, deadline);
        self.run(&object, deadline, stop, work)
    }

    /// What a listing of the folder's object selects now, from the org's describes (cached,
    /// or revalidated once per process).
    pub(crate) fn plan(
        &self,
        folder: usize,
        deadline: Duration,
        stop: &AtomicBool,
    ) -> Result<ListingPlan, IndexError> {
        let object = self.folder(folder)?.spec.object.clone();
        let source = self.shared.source.clone();
        let work_object = object.clone();
        self.run(&object, deadline, stop, async move {
            source.plan(&work_object).await.map_err(IndexError::Source)
        })
    }

    /// Whether the folder's object must be re-read whole now and then (formula fields, no
    /// stamp to follow).
    pub(crate) fn needs_full_refresh(
        &self,
        folder: usize,
        deadline: Duration,
        stop: &AtomicBool,
    ) -> Result<bool, IndexError> {
        let object = self.folder(folder)?.spec.object.clone();
        let source = self.shared.source.clone();
        let work_object = object.clone();
        self.run(&object, deadline, stop, async move {
            source
                .needs_full_refresh(&work_object)
                .await
                .map_err(IndexError::Source)
        })
    }

    /// Reads the folder's object whole and applies it page by page: changed values
    /// (formulas) update their files, records no longer in the org go. Costs a full
    /// listing's calls.
    pub(crate) fn reread(
        &self,
        folder: usize,
        deadline: Duration,
        stop: &AtomicBool,
    ) -> Result<ChangeSummary, IndexError> {
        let object = self.folder(folder)?.spec.object.clone();
        let index = self.clone();
        let work_object = object.clone();
        let (seen_ids, mut total) = self.run(&object, deadline, stop, async move {
            let mut seen_ids: HashSet<String> = HashSet::new();
            let mut total = ChangeSummary::default();
            let mut apply_error: Option<IndexError> = None;
            let mut sink = |page: Vec<Record>| {
                seen_ids.extend(
                    page.iter()
                        .filter_map(|r| r.get("Id").and_then(|v| v.as_str()).map(str::to_string)),
                );
                match index.apply_changes(folder, page, &[]) {
                    Ok(summary) => total.absorb(summary),
                    Err(error) => {
                        apply_error.get_or_insert(error);
                    }
                }
            };
            let source = index.shared.source.clone();
            source
                .fetch(&work_object, None, &mut sink)
                .await
                .map_err(IndexError::Source)?;
            match apply_error {
                Some(error) => Err(error),
                None => Ok((seen_ids, total)),
            }
        })?;
        if let Some(listing) = self.peek_listing(folder) {
            let gone: Vec<String> = listing
                .ids()
                .filter(|id| !seen_ids.contains(&***id))
                .map(|id| id.to_string())
                .collect();
            if !gone.is_empty() {
                total.absorb(self.apply_changes(folder, Vec::new(), &gone)?);
            }
        }
        Ok(total)
    }

    /// Runs `work` on the runtime within `deadline`; raising `stop` abandons it (the work
    /// is cancelled: unmount must not wait for a long re-read, nor apply it afterwards).
    fn run<T: Send + 'static>(
        &self,
        object: &str,
        deadline: Duration,
        stop: &AtomicBool,
        work: impl Future<Output = Result<T, IndexError>> + Send + 'static,
    ) -> Result<T, IndexError> {
        let pending = Pending::spawn(&self.shared.runtime, async move {
            tokio::time::timeout(deadline, work)
                .await
                .unwrap_or(Err(IndexError::Source(SourceError::Timeout)))
        });
        match pending.take(deadline + WAIT_SLACK, Some(stop)) {
            Ok(result) => result,
            Err(Abandoned::Stopped) => {
                pending.cancel();
                Err(IndexError::Stopped)
            }
            Err(Abandoned::Deadline) => {
                pending.cancel();
                Err(IndexError::Deadline {
                    object: object.to_string(),
                    seconds: deadline.as_secs(),
                })
            }
            Err(Abandoned::Panicked(message)) => Err(IndexError::Internal {
                object: object.to_string(),
                message,
            }),
        }
    }
}
