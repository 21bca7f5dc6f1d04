//! The Salesforce REST client: OAuth client credentials with token reuse and one shared
//! re-authentication on 401, request deadlines, retries with backoff for safe requests,
//! `Sforce-Limit-Info` tracking, describe caches, query plans, the SOQL builder, paginated
//! and composite queries, wide-object field splitting and Case feeds.
//!
//! See DESIGN.md: this layer knows nothing of files, inodes or FUSE.

mod client;
mod describe;
mod error;
mod fetch;
mod limits;
mod login;
mod plan;
mod query;
pub mod soql;

pub use crate::secret::Secret;
pub use client::{error_from_response, ClientSettings, SalesforceClient, DEFAULT_REQUEST_TIMEOUT};
pub use describe::{
    ChildRelationship, DescribeGlobal, FieldDescribe, GlobalSObject, SObjectDescribe,
};
pub use error::SfError;
pub use fetch::{FetchFilter, FetchSummary};
pub use limits::{parse_limit_info, ApiUsage};
pub use login::{validate_domain, validate_login_url, LoginProblem, LoginTarget};
pub use plan::{ActivitySource, FeedCommentPlan, ObjectPlan, SubqueryPlan};
pub use query::QueryPage;

/// A record as Salesforce returns it: `attributes` first, then the selected fields in SELECT
/// order, relationship fields as nested objects.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// Background work stops when less than this share of the org's daily API limit remains,
/// leaving the rest to the other integrations that share the quota (other products commonly
/// keep 10 % back too).
pub const DEFAULT_MIN_REMAINING_FRACTION: f64 = 0.1;
