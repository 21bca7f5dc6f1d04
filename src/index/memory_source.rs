//! An in-memory org for tests and benchmarks of the layers above the client (only with the
//! `testing` feature or in this crate's unit tests: it is no part of a mount).

use crate::sync::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::source::{
    ApiUsage, ChangeRequest, ChangedRow, FeedActivity, ListingPlan, ObjectChanges, ObjectSource,
    Record, RecordSink, SourceError, SourceFuture,
};

/// Calls made to a [`MemorySource`], so tests can assert "zero calls after listing".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCalls {
    pub plans: u64,
    pub listings: u64,
    pub fetches_by_id: u64,
    /// Batches of change requests (one per refresh tick that asked anything).
    pub change_batches: u64,
    /// Downloads of attached files' bytes.
    pub downloads: u64,
}

/// An in-memory org for tests and benchmarks of the layers above the client: objects hold
/// records in insertion order; every call is counted; a failure or latency can be injected.
#[derive(Default)]
pub struct MemorySource {
    objects: Mutex<HashMap<String, (ListingPlan, Vec<Record>)>>,
    plans: AtomicU64,
    listings: AtomicU64,
    fetches_by_id: AtomicU64,
    failure: Mutex<Option<SourceError>>,
    latency: Mutex<Duration>,
    page_size: Option<usize>,
    /// (object, Id, stamp) of records deleted through [`MemorySource::delete_record`].
    tombstones: Mutex<Vec<(String, String, SystemTime)>>,
    /// (feed row Id, parent Id, stamp) per object.
    feed_activity: Mutex<HashMap<String, Vec<FeedActivity>>>,
    change_batches: AtomicU64,
    usage: Mutex<Option<ApiUsage>>,
    usage_probes: AtomicU64,
    /// The figure the org would report if asked now (`refresh_api_usage`), when it differs
    /// from the one last seen.
    org_usage: Mutex<Option<ApiUsage>>,
    full_refresh_objects: Mutex<Vec<String>>,
    /// ContentVersion Id -> bytes.
    documents: Mutex<HashMap<String, Vec<u8>>>,
    downloads: AtomicU64,
}

impl MemorySource {
    /// Records are delivered in pages of 2,000, Salesforce's default query page.
    pub const DEFAULT_PAGE: usize = 2000;

    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Delivers records in pages of `page_size` instead of 2,000.
    pub fn with_page_size(page_size: usize) -> MemorySource {
        MemorySource {
            page_size: Some(page_size.max(1)),
            ..MemorySource::default()
        }
    }

    /// The bytes of ContentVersion `version_id`, served by [`ObjectSource::document`].
    pub fn insert_document(&self, version_id: &str, bytes: Vec<u8>) {
        lock(&self.documents).insert(version_id.to_string(), bytes);
    }

    pub fn insert_object(&self, object: &str, plan: ListingPlan, records: Vec<Record>) {
        lock(&self.objects).insert(object.to_string(), (plan, records));
    }

    /// Replaces or adds one record (matched by `Id`), as a change in the org would.
    pub fn upsert_record(&self, object: &str, record: Record) {
        let mut objects = lock(&self.objects);
        let Some((_, records)) = objects.get_mut(object) else {
            return;
        };
        let id = record.get("Id").cloned();
        match records.iter_mut().find(|r| r.get("Id") == id.as_ref()) {
            Some(existing) => *existing = record,
            None => records.push(record),
        }
    }

    pub fn remove_record(&self, object: &str, id: &str) {
        let mut objects = lock(&self.objects);
        if let Some((_, records)) = objects.get_mut(object) {
            records.retain(|r| r.get("Id").and_then(|v| v.as_str()) != Some(id));
        }
    }

    /// Removes a record as a deletion in the org would, leaving a tombstone stamped `at`
    /// that change requests report (queryAll's `IsDeleted` rows).
    pub fn delete_record(&self, object: &str, id: &str, at: SystemTime) {
        self.remove_record(object, id);
        lock(&self.tombstones).push((object.to_string(), id.to_string(), at));
    }

    /// Records feed activity (a new feed item or comment) on a parent record of `object`.
    pub fn add_feed_activity(&self, object: &str, activity: FeedActivity) {
        lock(&self.feed_activity)
            .entry(object.to_string())
            .or_default()
            .push(activity);
    }

    /// What `api_usage` reports from now on.
    pub fn set_api_usage(&self, usage: Option<ApiUsage>) {
        *lock(&self.usage) = usage;
    }

    /// What the org reports from now on when asked (`refresh_api_usage`); `api_usage`
    /// keeps the last figure seen until then, as a client's does.
    pub fn set_org_api_usage(&self, usage: ApiUsage) {
        *lock(&self.org_usage) = Some(usage);
    }

    /// How many times `refresh_api_usage` asked for the usage figure.
    pub fn usage_probes(&self) -> u64 {
        self.usage_probes.load(Ordering::SeqCst)
    }

    /// Objects that `needs_full_refresh` answers true for.
    pub fn set_full_refresh_objects(&self, objects: &[&str]) {
        *lock(&self.full_refresh_objects) = objects.iter().map(|o| o.to_string()).collect();
    }

    /// Every later call fails with `error` (None: calls succeed again).
    pub fn set_failure(&self, error: Option<SourceError>) {
        *lock(&self.failure) = error;
    }

    /// Every later call waits this long before answering, like a slow org.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    pub fn calls(&self) -> SourceCalls {
        SourceCalls {
            plans: self.plans.load(Ordering::SeqCst),
            listings: self.listings.load(Ordering::SeqCst),
            fetches_by_id: self.fetches_by_id.load(Ordering::SeqCst),
            change_batches: self.change_batches.load(Ordering::SeqCst),
            downloads: self.downloads.load(Ordering::SeqCst),
        }
    }

    async fn before_call(&self) -> Result<(), SourceError> {
        let latency = *lock(&self.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match lock(&self.failure).clone() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl ObjectSource for MemorySource {
    fn plan<'a>(&'a self, object: &'a str) -> SourceFuture<'a, ListingPlan> {
        Box::pin(async move {
            self.plans.fetch_add(1, Ordering::SeqCst);
            self.before_call().await?;
            let objects = lock(&self.objects);
            objects
                .get(object)
                .map(|(plan, _)| plan.clone())
                .ok_or_else(|| SourceError::NotFound(object.to_string()))
        })
    }

    fn fetch<'a>(
        &'a self,
        object: &'a str,
        ids: Option<&'a [String]>,
        sink: RecordSink<'a>,
    ) -> SourceFuture<'a, ()> {
        Box::pin(async move {
            match ids {
                Some(_) => self.fetches_by_id.fetch_add(1, Ordering::SeqCst),
                None => self.listings.fetch_add(1, Ordering::SeqCst),
            };
            self.before_call().await?;
            let selected: Vec<Record> = {
                let objects = lock(&self.objects);
                let (_, records) = objects
                    .get(object)
                    .ok_or_else(|| SourceError::NotFound(object.to_string()))?;
                match ids {
                    None => records.clone(),
                    Some(ids) => records
                        .iter()
                        .filter(|r| {
                            r.get("Id")
                                .and_then(|v| v.as_str())
                                .is_some_and(|id| ids.iter().any(|wanted| wanted == id))
                        })
                        .cloned()
                        .collect(),
                }
            };
            let page = self.page_size.unwrap_or(Self::DEFAULT_PAGE);
            let mut rest = selected;
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(page));
                sink(rest);
                rest = tail;
            }
            Ok(())
        })
    }

    fn changes<'a>(
        &'a self,
        requests: &'a [ChangeRequest],
    ) -> SourceFuture<'a, Vec<Result<ObjectChanges, SourceError>>> {
        Box::pin(async move {
            self.change_batches.fetch_add(1, Ordering::SeqCst);
            self.before_call().await?;
            let objects = lock(&self.objects);
            let tombstones = lock(&self.tombstones);
            let feeds = lock(&self.feed_activity);
            Ok(requests
                .iter()
                .map(|request| {
                    let (_, records) = objects
                        .get(&request.object)
                        .ok_or_else(|| SourceError::NotFound(request.object.clone()))?;
                    let mut rows: Vec<ChangedRow> = records
                        .iter()
                        .filter_map(|record| {
                            let id = record.get("Id")?.as_str()?.to_string();
                            let stamp = record
                                .get("SystemModstamp")
                                .and_then(|v| v.as_str())
                                .and_then(super::time::parse_salesforce_datetime)?;
                            (stamp >= request.since).then_some(ChangedRow {
                                id,
                                modstamp: Some(stamp),
                                deleted: false,
                            })
                        })
                        .collect();
                    rows.extend(
                        tombstones
                            .iter()
                            .filter(|(object, _, at)| {
                                *object == request.object && *at >= request.since
                            })
                            .map(|(_, id, at)| ChangedRow {
                                id: id.clone(),
                                modstamp: Some(*at),
                                deleted: true,
                            }),
                    );
                    let feed_activity = feeds
                        .get(&request.object)
                        .map(|list| {
                            list.iter()
                                .filter(|a| a.modstamp.is_some_and(|m| m >= request.since))
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    Ok(ObjectChanges {
                        incremental: true,
                        rows,
                        feed_activity,
                    })
                })
                .collect())
        })
    }

    fn needs_full_refresh<'a>(&'a self, object: &'a str) -> SourceFuture<'a, bool> {
        Box::pin(async move { Ok(lock(&self.full_refresh_objects).iter().any(|o| o == object)) })
    }

    fn document<'a>(&'a self, version_id: &'a str, size: u64) -> SourceFuture<'a, Vec<u8>> {
        Box::pin(async move {
            self.downloads.fetch_add(1, Ordering::SeqCst);
            self.before_call().await?;
            let bytes = lock(&self.documents)
                .get(version_id)
                .cloned()
                .ok_or_else(|| SourceError::NotFound(version_id.to_string()))?;
            if bytes.len() as u64 != size {
                return Err(SourceError::Other(format!(
                    "{} bytes arrived where the document's size is {size}",
                    bytes.len()
                )));
            }
            Ok(bytes)
        })
    }

    fn api_usage(&self) -> Option<ApiUsage> {
        *lock(&self.usage)
    }

    fn refresh_api_usage(&self) -> SourceFuture<'_, Option<ApiUsage>> {
        Box::pin(async move {
            self.usage_probes.fetch_add(1, Ordering::SeqCst);
            self.before_call().await?;
            if let Some(fresh) = lock(&self.org_usage).take() {
                *lock(&self.usage) = Some(fresh);
            }
            Ok(*lock(&self.usage))
        })
    }
}
