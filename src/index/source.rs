//! Where the index gets records from: a small trait, so the index and the filesystem logic
//! can be tested against an in-memory source that counts calls, and run against the
//! Salesforce client in production.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// One record as Salesforce returns it (fields in SELECT order, relationships nested).
pub type Record = serde_json::Map<String, serde_json::Value>;

/// A boxed future, so the trait stays object-safe (`Arc<dyn ObjectSource>`).
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

/// Receives records page by page, so a listing never holds more than a page of raw JSON.
pub type RecordSink<'a> = &'a mut (dyn FnMut(Vec<Record>) + Send);

/// Why a source could not answer. Kinds, not messages: `fs::errno` maps each kind to an
/// errno, and the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("Salesforce did not answer within the deadline")]
    Timeout,
    #[error("Salesforce is unreachable or unavailable: {0}")]
    Unavailable(String),
    #[error("the org's API request limit is exhausted: {0}")]
    LimitExceeded(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("object or record not found: {0}")]
    NotFound(String),
    #[error("Salesforce request failed: {0}")]
    Other(String),
}

/// What a listing of one object selects, from the cached describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingPlan {
    /// The fields the listing query selects (scalar and relationship fields).
    pub fields: Vec<String>,
    /// Child relationships selected as subqueries (`ContentDocumentLinks`, `Feeds`).
    pub subqueries: Vec<String>,
    /// The field holding the record's name, if the object has one.
    pub name_field: Option<String>,
}

/// Everything the index needs from the org.
pub trait ObjectSource: Send + Sync + 'static {
    /// What a listing of `object` selects. Must not cost an API call once the object's
    /// describe is cached.
    fn plan<'a>(&'a self, object: &'a str) -> SourceFuture<'a, ListingPlan>;

    /// Every record of `object` (or only those whose Id is in `ids`), page by page.
    fn fetch<'a>(
        &'a self,
        object: &'a str,
        ids: Option<&'a [String]>,
        sink: RecordSink<'a>,
    ) -> SourceFuture<'a, ()>;
}

/// Calls made to a [`MemorySource`], so tests can assert "zero calls after listing".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCalls {
    pub plans: u64,
    pub listings: u64,
    pub fetches_by_id: u64,
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

    pub fn insert_object(&self, object: &str, plan: ListingPlan, records: Vec<Record>) {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(object.to_string(), (plan, records));
    }

    /// Replaces or adds one record (matched by `Id`), as a change in the org would.
    pub fn upsert_record(&self, object: &str, record: Record) {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
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
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, records)) = objects.get_mut(object) {
            records.retain(|r| r.get("Id").and_then(|v| v.as_str()) != Some(id));
        }
    }

    /// Every later call fails with `error` (None: calls succeed again).
    pub fn set_failure(&self, error: Option<SourceError>) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    /// Every later call waits this long before answering, like a slow org.
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap_or_else(|e| e.into_inner()) = latency;
    }

    pub fn calls(&self) -> SourceCalls {
        SourceCalls {
            plans: self.plans.load(Ordering::SeqCst),
            listings: self.listings.load(Ordering::SeqCst),
            fetches_by_id: self.fetches_by_id.load(Ordering::SeqCst),
        }
    }

    async fn before_call(&self) -> Result<(), SourceError> {
        let latency = *self.latency.lock().unwrap_or_else(|e| e.into_inner());
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match self
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
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
            let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
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
                let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
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
}
