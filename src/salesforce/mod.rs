//! The Salesforce REST client: OAuth client credentials with token reuse and one shared
//! re-authentication on 401, request deadlines, retries with backoff for safe requests,
//! `Sforce-Limit-Info` tracking, describe and plan caches (describes kept between runs and
//! revalidated with `If-Modified-Since`), the SOQL builder, paginated
//! and composite queries, wide-object field splitting, Case feeds and the "what changed
//! since" queries. What a listing selects is decided above (`catalog::listing_plan`); the
//! client builds and runs the SOQL of the plan it is given, and names no CLI flag.
//!
//! See docs/architecture.md: this layer knows nothing of files, inodes or FUSE.

mod changes;
mod children;
mod client;
mod content;
pub use content::VersionStream;
mod describe;
mod describe_cache;
mod describe_store;
mod error;
mod fetch;
mod limits;
mod login;
mod plan;
mod query;
mod session;
pub mod soql;
mod transport;

pub use crate::secret::Secret;
pub use changes::{ChangeQuery, RecentChanges, RecentFeedActivity, RecentRow};
pub use client::{ClientSettings, SalesforceClient, DEFAULT_REQUEST_TIMEOUT};
pub use describe::{
    ChildRelationship, DescribeGlobal, FieldDescribe, GlobalSObject, SObjectDescribe,
    NAME_PSEUDO_OBJECT_FIELDS,
};
pub use describe_store::{DescribeStore, StoredDescribe};
pub use error::{error_from_response, SetupHint, SfError};
pub use fetch::{FetchFilter, FetchSummary};
pub use limits::{parse_limit_info, ApiUsage};
pub use login::{validate_domain, validate_login_url, LoginProblem, LoginTarget};
pub use plan::{ActivitySource, ChildQueryPlan, FeedCommentPlan, ObjectPlan, SubqueryPlan};
pub use query::QueryPage;
pub use session::OrgIdentity;

/// A record as Salesforce returns it: `attributes` first, then the selected fields in SELECT
/// order, relationship fields as nested objects.
pub type Record = serde_json::Map<String, serde_json::Value>;
