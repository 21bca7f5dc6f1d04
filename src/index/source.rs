//! Where the index gets records from: a small trait, so the index and the filesystem logic
//! can be tested against an in-memory source that counts calls, and run against the
//! Salesforce client in production.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

/// The org's daily API usage, as last reported: the client's own figure.
pub use crate::salesforce::ApiUsage;

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

/// What a listing of one object selects, from the cached describes. Serialized into the
/// local store, so a restarted mount can tell whether the org's schema moved under it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListingPlan {
    /// The fields the listing query selects (scalar and relationship fields).
    pub fields: Vec<String>,
    /// Child relationships selected as subqueries (`ContentDocumentLinks`, `Feeds`).
    pub subqueries: Vec<String>,
    /// The field holding the record's name, if the object has one.
    pub name_field: Option<String>,
}

/// What an incremental refresh asks of one object: rows changed at or after `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    pub object: String,
    pub since: SystemTime,
}

/// A row that changed (or was deleted) at or after a request's `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedRow {
    pub id: String,
    /// SystemModstamp (or LastModifiedDate); None when the org sent none or an unreadable one.
    pub modstamp: Option<SystemTime>,
    pub deleted: bool,
}

/// A feed item or comment that changed since the request's `since`: its parent record's
/// file must be rendered again, although the parent's own stamp did not move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedActivity {
    /// The feed row's own Id (with `modstamp`, what makes applying it idempotent).
    pub id: String,
    pub parent_id: String,
    pub modstamp: Option<SystemTime>,
}

/// The answer to one [`ChangeRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectChanges {
    /// False when the object has no stamp to filter on: only full re-listings refresh it.
    pub incremental: bool,
    pub rows: Vec<ChangedRow>,
    pub feed_activity: Vec<FeedActivity>,
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

    /// The rows of each requested object changed at or after its `since`, deleted ones
    /// included, with the feed activity of objects that have feeds. One answer per request,
    /// in order; the outer error fails the whole batch (nothing answered). Meant to be cheap:
    /// the requests of a refresh tick go out together (5 objects per API call).
    fn changes<'a>(
        &'a self,
        requests: &'a [ChangeRequest],
    ) -> SourceFuture<'a, Vec<Result<ObjectChanges, SourceError>>> {
        Box::pin(async move {
            Ok(requests
                .iter()
                .map(|_| Ok(ObjectChanges::default()))
                .collect())
        })
    }

    /// From now on, use the object descriptions kept in a shared store as they are (as
    /// one process uses those it fetched): for a mount of a fleet, whose other members fetch
    /// and keep them. Nothing to do for a source without kept descriptions.
    fn trust_kept_schema(&self) {}

    /// Whether `object` holds values that change without its stamp moving (formula fields)
    /// or has no stamp at all: such objects are re-listed whole on a slow schedule.
    fn needs_full_refresh<'a>(&'a self, _object: &'a str) -> SourceFuture<'a, bool> {
        Box::pin(async { Ok(false) })
    }

    /// The bytes of ContentVersion `version_id` (an attached file), exactly `size` long: a
    /// download of another length is an error, never a short file.
    fn document<'a>(&'a self, version_id: &'a str, size: u64) -> SourceFuture<'a, Vec<u8>> {
        let _ = size;
        Box::pin(async move { Err(SourceError::NotFound(version_id.to_string())) })
    }

    /// The bytes of ContentVersion `version_id` (`size` long) from byte `from` to its end,
    /// handed to `sink` piece by piece with each piece's offset, in order, so no caller
    /// holds a whole file. `sink` returns false to stop early (the rest is not fetched).
    /// A source that cannot start at `from` may start earlier (the offsets say where).
    /// The default fetches the whole document with [`Self::document`] (for sources that
    /// hold their documents in memory anyway).
    fn document_from<'a>(
        &'a self,
        version_id: &'a str,
        size: u64,
        from: u64,
        sink: &'a mut (dyn FnMut(u64, &[u8]) -> bool + Send),
    ) -> SourceFuture<'a, ()> {
        Box::pin(async move {
            let bytes = self.document(version_id, size).await?;
            let from = from.min(bytes.len() as u64) as usize;
            sink(from as u64, &bytes[from..]);
            Ok(())
        })
    }

    /// The org's daily API usage as last seen, if the source knows it.
    fn api_usage(&self) -> Option<ApiUsage> {
        None
    }

    /// Asks the org for its daily API usage now (one cheap call), so a paused refresh can
    /// see the figure fall back; afterwards `api_usage` reports the fresh figure. A source
    /// without a cheaper way answers its last figure without a call.
    fn refresh_api_usage(&self) -> SourceFuture<'_, Option<ApiUsage>> {
        let usage = self.api_usage();
        Box::pin(async move { Ok(usage) })
    }
}
