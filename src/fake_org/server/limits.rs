//! `GET .../limits`: every limit a current Enterprise Edition production org lists, each as
//! `{"Max", "Remaining"}`, in the alphabetical order real orgs send (what `sf org list
//! limits` prints).
//!
//! The limits the fake can measure follow its counters: `DailyApiRequests` the daily API
//! usage, `DailyBulkV2QueryJobs` the Bulk API 2.0 query jobs created, `DataStorageMB` the
//! live records (2 KB each, Salesforce's rule for most objects) and `FileStorageMB` the
//! ContentVersion bytes. The others are the allocations of an org that never used them, so
//! `Remaining` equals `Max`. Keys that only exist from some API version on (or only up to
//! one) follow the version asked for, as the docs list them.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::dispatch::{major_version, Incoming};
use super::query::read_store;
use super::reply::{ApiError, Reply};
use super::state::Shared;
use crate::fake_org::model::DataSource;
use crate::fake_org::store::Store;
use crate::sync::lock;

/// Enterprise Edition's base data and file storage: 10 GB each.
const DATA_STORAGE_MB: u64 = 10 * 1024;
const FILE_STORAGE_MB: u64 = 10 * 1024;
/// Salesforce counts most records as 2 KB of data storage, whatever their fields hold.
const KB_PER_RECORD: u64 = 2;
/// Bulk API 2.0 allows 10,000 query jobs a rolling day.
const DAILY_BULK_V2_QUERY_JOBS: u64 = 10_000;
/// ... whose results may take 1 TB (976,562 MB as real orgs report it) a rolling day.
const DAILY_BULK_V2_QUERY_FILE_STORAGE_MB: u64 = 976_562;

/// Limits that do not depend on anything the fake does: (key, Max), with the first API
/// version that lists the key and, for renamed keys, the last one.
struct FixedLimit {
    key: &'static str,
    max: u64,
    since: u32,
    until: u32,
}

const fn fixed(key: &'static str, max: u64) -> FixedLimit {
    FixedLimit {
        key,
        max,
        since: 0,
        until: u32::MAX,
    }
}

const fn since(key: &'static str, max: u64, version: u32) -> FixedLimit {
    FixedLimit {
        key,
        max,
        since: version,
        until: u32::MAX,
    }
}

/// An Enterprise Edition org's allocations (the values a freshly provisioned org reports).
const FIXED_LIMITS: &[FixedLimit] = &[
    fixed("ActiveScratchOrgs", 0),
    fixed("AnalyticsExternalDataSizeMB", 40_960),
    fixed("ConcurrentAsyncGetReportInstances", 200),
    fixed("ConcurrentEinsteinDataInsightsStoryCreation", 5),
    fixed("ConcurrentEinsteinDiscoveryStoryCreation", 2),
    fixed("ConcurrentSyncReportRuns", 20),
    fixed("DailyAnalyticsDataflowJobExecutions", 60),
    fixed("DailyAnalyticsUploadedFilesSizeMB", 51_200),
    fixed("DailyAsyncApexExecutions", 250_000),
    // Listed from v56.0 (Winter '23).
    since("DailyAsyncApexTests", 500, 56),
    // Bulk API batches: `DailyBulkApiRequests` up to v48.0, `DailyBulkApiBatches` from v49.0.
    FixedLimit {
        key: "DailyBulkApiRequests",
        max: 15_000,
        since: 0,
        until: 48,
    },
    since("DailyBulkApiBatches", 15_000, 49),
    fixed("DailyDeliveredPlatformEvents", 50_000),
    // The durable streaming limits replaced the plain ones' meaning in v37.0.
    since("DailyDurableGenericStreamingApiEvents", 10_000, 37),
    since("DailyDurableStreamingApiEvents", 1_000_000, 37),
    fixed("DailyEinsteinDataInsightsStoryCreation", 1_000),
    fixed("DailyEinsteinDiscoveryPredictAPICalls", 50_000),
    fixed("DailyEinsteinDiscoveryPredictionsByCDC", 500_000),
    fixed("DailyEinsteinDiscoveryStoryCreation", 100),
    fixed("DailyFunctionsApiCallLimit", 235_000),
    fixed("DailyGenericStreamingApiEvents", 10_000),
    fixed("DailyScratchOrgs", 0),
    fixed("DailyStandardVolumePlatformEvents", 25_000),
    fixed("DailyStreamingApiEvents", 1_000_000),
    fixed("DailyWorkflowEmails", 2_000_000),
    since("DurableStreamingApiConcurrentClients", 2_000, 37),
    fixed("HourlyAsyncReportRuns", 1_200),
    fixed("HourlyDashboardRefreshes", 200),
    fixed("HourlyDashboardResults", 5_000),
    fixed("HourlyDashboardStatuses", 999_999_999),
    fixed("HourlyLongTermIdMapping", 100_000),
    fixed("HourlyManagedContentPublicRequests", 50_000),
    fixed("HourlyODataCallout", 10_000),
    fixed("HourlyPublishedPlatformEvents", 250_000),
    fixed("HourlyPublishedStandardVolumePlatformEvents", 100_000),
    fixed("HourlyShortTermIdMapping", 100_000),
    fixed("HourlySyncReportRuns", 500),
    fixed("HourlyTimeBasedWorkflow", 1_000),
    fixed("MassEmail", 5_000),
    fixed("MonthlyEinsteinDiscoveryStoryCreation", 500),
    fixed("MonthlyPlatformEventsUsageEntitlement", 0),
    fixed("Package2VersionCreates", 0),
    fixed("Package2VersionCreatesWithoutValidation", 0),
    fixed("PrivateConnectOutboundCalloutHourlyLimitMB", 0),
    fixed("PublishCallbackUsageInApex", 5),
    fixed("SingleEmail", 5_000),
    fixed("StreamingApiConcurrentClients", 2_000),
];

/// Permission sets an Enterprise Edition org may hold, and how many of them custom ones.
const PERMISSION_SETS_MAX: u64 = 1_500;
const CUSTOM_PERMISSION_SETS_MAX: u64 = 1_000;

/// `GET .../limits` and `GET .../limits/recordCount?sObjects=Account,Contact`.
pub(super) fn route(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    sub: &[&str],
) -> Result<Reply, ApiError> {
    if req.method != "GET" {
        return Err(ApiError::method_not_allowed(&req.method, &["GET", "HEAD"]));
    }
    match sub {
        [] => Ok(Reply::ok(limits(shared, major_version(version)))),
        ["recordCount"] => Ok(Reply::ok(record_counts(shared, req))),
        _ => Err(ApiError::not_found()),
    }
}

fn entry(max: u64, remaining: u64) -> Value {
    json!({"Max": max, "Remaining": remaining.min(max)})
}

/// The whole body for API version `major` (e.g. 59).
fn limits(shared: &Shared, major: u32) -> Value {
    let (records, file_bytes) = {
        let store = read_store(shared);
        (live_record_count(&store), content_bytes(&store))
    };
    let bulk_jobs = lock(&shared.bulk_jobs).created_today();
    let data_used_mb = (records * KB_PER_RECORD).div_ceil(1024);
    let file_used_mb = file_bytes.div_ceil(1024 * 1024);
    let mut body: Vec<(&str, Value)> = FIXED_LIMITS
        .iter()
        .filter(|l| (l.since..=l.until).contains(&major))
        .map(|l| (l.key, entry(l.max, l.max)))
        .collect();
    body.push((
        "DailyApiRequests",
        entry(shared.api_limit, shared.api_remaining()),
    ));
    if major >= 47 {
        // Bulk API 2.0 query limits are listed from v47.0, when query jobs arrived.
        body.push((
            "DailyBulkV2QueryJobs",
            entry(
                DAILY_BULK_V2_QUERY_JOBS,
                DAILY_BULK_V2_QUERY_JOBS.saturating_sub(bulk_jobs),
            ),
        ));
        body.push((
            "DailyBulkV2QueryFileStorageMB",
            entry(
                DAILY_BULK_V2_QUERY_FILE_STORAGE_MB,
                DAILY_BULK_V2_QUERY_FILE_STORAGE_MB,
            ),
        ));
    }
    body.push((
        "DataStorageMB",
        entry(
            DATA_STORAGE_MB,
            DATA_STORAGE_MB.saturating_sub(data_used_mb),
        ),
    ));
    body.push((
        "FileStorageMB",
        entry(
            FILE_STORAGE_MB,
            FILE_STORAGE_MB.saturating_sub(file_used_mb),
        ),
    ));
    // The only limit real orgs nest: custom permission sets are a share of all of them.
    body.push((
        "PermissionSets",
        json!({
            "Max": PERMISSION_SETS_MAX,
            "Remaining": PERMISSION_SETS_MAX,
            "CreateCustom": entry(CUSTOM_PERMISSION_SETS_MAX, CUSTOM_PERMISSION_SETS_MAX),
        }),
    ));
    body.sort_by(|a, b| a.0.cmp(b.0));
    let map: Map<String, Value> = body.into_iter().map(|(k, v)| (k.into(), v)).collect();
    Value::Object(map)
}

fn record_counts(shared: &Shared, req: &Incoming) -> Value {
    let store = read_store(shared);
    let names: Vec<String> = req
        .param("sObjects")
        .map(|s| {
            s.split(',')
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let entries: Vec<Value> = names
        .iter()
        .map(|name| json!({"count": store.record_count(name), "name": name}))
        .collect();
    json!({ "sObjects": entries })
}

/// Live records of every object, each counted once: a view object (CaseFeed over
/// FeedItem) shares its storage object's key prefix, so per prefix only the largest count
/// is kept.
fn live_record_count(store: &Store) -> u64 {
    let global = store.describe_global(crate::fake_org::store::DEFAULT_API_VERSION);
    let mut by_prefix: HashMap<String, usize> = HashMap::new();
    for entry in global["sobjects"].as_array().into_iter().flatten() {
        let (Some(name), Some(prefix)) = (entry["name"].as_str(), entry["keyPrefix"].as_str())
        else {
            continue;
        };
        let count = store.record_count(name);
        let kept = by_prefix.entry(prefix.to_string()).or_default();
        *kept = (*kept).max(count);
    }
    by_prefix.values().sum::<usize>() as u64
}

/// Bytes held by live ContentVersions: what file storage counts.
fn content_bytes(store: &Store) -> u64 {
    store
        .records("ContentVersion")
        .filter(|&row| store.value(row, "IsDeleted") != Value::Bool(true))
        .filter_map(|row| store.value(row, "ContentSize").as_u64())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_and_late_keys_follow_the_version() {
        let keys = |major: u32| -> Vec<&str> {
            FIXED_LIMITS
                .iter()
                .filter(|l| (l.since..=l.until).contains(&major))
                .map(|l| l.key)
                .collect()
        };
        assert!(keys(48).contains(&"DailyBulkApiRequests"));
        assert!(!keys(48).contains(&"DailyBulkApiBatches"));
        assert!(keys(59).contains(&"DailyBulkApiBatches"));
        assert!(!keys(55).contains(&"DailyAsyncApexTests"));
        assert!(keys(56).contains(&"DailyAsyncApexTests"));
        assert!(!keys(36).contains(&"DailyDurableStreamingApiEvents"));
    }
}
