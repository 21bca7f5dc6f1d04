//! Bulk API 2.0 query jobs under `/services/data/vXX.X/jobs/query`: create, info, list,
//! results as CSV pages with `Sforce-Locator`, abort and delete.
//!
//! A job's query is checked and run when the job is created (its matching Ids are kept,
//! like a REST query locator); rows are read page by page when results are fetched. The job
//! answers `UploadComplete` at creation, then `InProgress` until the `bulk_processing_ms`
//! fault (default 0) has passed on the server clock, then `JobComplete`.
//!
//! Refusals: the documented ones (compound fields, parent-to-child subqueries, `COUNT()`,
//! OFFSET) answer 400 `API_ERROR` with the messages real orgs send for the first two; the
//! docs name no code for bad job settings, and the fake uses `INVALIDJOB` for those and
//! `API_ERROR` for results asked of a job that is not complete. Unknown job Ids are 404
//! `NOT_FOUND`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::bulk_csv::{csv_columns, write_page, ColumnDelimiter, LineEnding};
use super::dispatch::{json_object, major_version, Incoming};
use super::query::read_store;
use super::reply::{ApiError, Payload, Reply};
use super::state::Shared;
use crate::fake_org::model::FieldType;
use crate::fake_org::soql::{self, Column, ExecOptions, Execution};
use crate::sync::lock;

/// Bulk API 2.0 query jobs exist from API version 47.0 (Winter '20).
const MIN_BULK_API_VERSION: u32 = 47;
/// Rows in a results page when the request gives no `maxRecords`. Real orgs cut pages by
/// size; 50,000 rows is the fake's stand-in (and simple-salesforce's own default page).
pub const DEFAULT_RESULTS_PAGE: usize = 50_000;
/// Query jobs have key prefix 750; the middle part matches the store's Ids.
const JOB_KEY_PREFIX: &str = "750";
const JOB_ID_POD: &str = "8d0";

/// Real orgs' wording, which clients (Airbyte among them) match to fall back to REST.
const COMPOUND_REFUSAL: &str = "Selecting compound data not supported in Bulk Query";
const SUBQUERY_REFUSAL: &str =
    "Aggregate Relationships not supported in Bulk V2 Query with CSV content type.";

/// Routes `.../jobs/query` and below; `job` is the path after `jobs/query`, `version` the
/// checked `59.0` form.
pub(super) fn route(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    job: &[&str],
) -> Result<Reply, ApiError> {
    if major_version(version) < MIN_BULK_API_VERSION {
        return Err(ApiError::not_found());
    }
    let method = req.method.as_str();
    match job {
        [] => match method {
            "POST" => create(shared, req, version),
            "GET" => Ok(list(shared, req)),
            other => Err(ApiError::method_not_allowed(other, &["GET", "POST"])),
        },
        [id] => match method {
            "GET" => info(shared, id),
            "PATCH" => abort(shared, req, id),
            "DELETE" => delete(shared, id),
            other => Err(ApiError::method_not_allowed(
                other,
                &["GET", "HEAD", "PATCH", "DELETE"],
            )),
        },
        [id, "results"] => match method {
            "GET" => results(shared, req, version, id),
            other => Err(ApiError::method_not_allowed(other, &["GET", "HEAD"])),
        },
        _ => Err(ApiError::not_found()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobState {
    UploadComplete,
    InProgress,
    JobComplete,
    Aborted,
}

impl JobState {
    fn name(self) -> &'static str {
        match self {
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Aborted => "Aborted",
        }
    }
}

struct QueryJob {
    id: String,
    include_deleted: bool,
    created_by: String,
    created: DateTime<Utc>,
    /// Server-clock instant of creation, for the processing delay.
    created_at: Instant,
    processing: Duration,
    api_version: String,
    delimiter: ColumnDelimiter,
    line_ending: LineEnding,
    /// When the job was aborted (it then stays `Aborted`).
    aborted: Option<DateTime<Utc>>,
    execution: Arc<Execution>,
}

impl QueryJob {
    fn state(&self, now: Instant) -> JobState {
        if self.aborted.is_some() {
            JobState::Aborted
        } else if now.saturating_duration_since(self.created_at) >= self.processing {
            JobState::JobComplete
        } else {
            JobState::InProgress
        }
    }

    /// The job's JSON as a real org spells it. `full` adds what job info and the job list
    /// show beyond the create answer (`jobType`, counts, timings).
    fn info(&self, state: JobState, full: bool) -> Value {
        let complete = state == JobState::JobComplete;
        let modstamp = match (self.aborted, complete) {
            (Some(at), _) => at,
            (None, true) => {
                self.created + chrono::Duration::from_std(self.processing).unwrap_or_default()
            }
            (None, false) => self.created,
        };
        let mut info = json!({
            "id": self.id,
            "operation": if self.include_deleted { "queryAll" } else { "query" },
            "object": self.execution.object,
            "createdById": self.created_by,
            "createdDate": stamp(self.created),
            "systemModstamp": stamp(modstamp),
            "state": state.name(),
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": self.api_version.parse::<f64>().unwrap_or_default(),
        });
        let map = info.as_object_mut().expect("an object");
        if full {
            map.insert("jobType".into(), "V2Query".into());
        }
        map.insert("lineEnding".into(), self.line_ending.name().into());
        map.insert("columnDelimiter".into(), self.delimiter.name().into());
        if full {
            // Counts and timings are known once the job has run.
            let (processed, millis) = if complete {
                (self.execution.ids.len(), self.processing.as_millis() as u64)
            } else {
                (0, 0)
            };
            map.insert("numberRecordsProcessed".into(), processed.into());
            map.insert("retries".into(), 0.into());
            map.insert("totalProcessingTime".into(), millis.into());
            map.insert("isPkChunkingSupported".into(), true.into());
        }
        info
    }
}

/// `2024-01-15T10:30:00.000+0000`, the datetime form of job info.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Every query job not yet deleted, in creation order.
#[derive(Default)]
pub(crate) struct QueryJobTable {
    jobs: Vec<QueryJob>,
    next_sequence: u64,
    created_today: u64,
}

impl QueryJobTable {
    /// Query jobs created since the last new day (deleting a job does not give its place
    /// back: the daily limit counts creations).
    pub(crate) fn created_today(&self) -> u64 {
        self.created_today
    }

    /// A new day for the daily limits ([`Shared::reset_stats`]).
    pub(crate) fn start_new_day(&mut self) {
        self.created_today = 0;
    }

    fn find(&self, id: &str) -> Result<&QueryJob, ApiError> {
        self.jobs
            .iter()
            .find(|j| j.id == id)
            .ok_or_else(ApiError::not_found)
    }
}

fn job_error(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "INVALIDJOB", message)
}

fn api_error(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "API_ERROR", message)
}

/// A text setting of the create body, or `None` when absent.
fn setting<'a>(
    body: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(job_error(format!("Invalid value for {key}: {other}"))),
    }
}

/// `POST .../jobs/query`.
fn create(shared: &Shared, req: &Incoming, version: &str) -> Result<Reply, ApiError> {
    let body = json_object(&req.body)?;
    let include_deleted = match setting(&body, "operation")? {
        Some("query") => false,
        Some("queryAll") => true,
        Some(other) => return Err(job_error(format!("Invalid operation: {other}"))),
        None => return Err(job_error("The operation field is required")),
    };
    let soql_text = setting(&body, "query")?
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| job_error("The query field is required"))?;
    let delimiter = match setting(&body, "columnDelimiter")? {
        None => ColumnDelimiter::Comma,
        Some(name) => ColumnDelimiter::parse(name)
            .ok_or_else(|| job_error(format!("Invalid column delimiter: {name}")))?,
    };
    let line_ending = match setting(&body, "lineEnding")? {
        None => LineEnding::Lf,
        Some(name) => LineEnding::parse(name)
            .ok_or_else(|| job_error(format!("Invalid line ending: {name}")))?,
    };
    match setting(&body, "contentType")? {
        None | Some("CSV") => {}
        Some(other) => return Err(job_error(format!("Invalid content type: {other}"))),
    }
    let (execution, created_by) = {
        let store = read_store(shared);
        let opts = ExecOptions {
            include_deleted,
            api_version: version,
        };
        let execution = soql::execute(soql_text, &*store, &opts)?;
        (execution, store.integration_user_id().to_string())
    };
    refuse_unsupported(&execution)?;
    let mut table = lock(&shared.bulk_jobs);
    table.next_sequence += 1;
    table.created_today += 1;
    let job = QueryJob {
        id: crate::sfid::make_id(JOB_KEY_PREFIX, JOB_ID_POD, table.next_sequence),
        include_deleted,
        created_by,
        created: Utc::now(),
        created_at: shared.now(),
        processing: shared.bulk_processing(),
        api_version: version.to_string(),
        delimiter,
        line_ending,
        aborted: None,
        execution: Arc::new(execution),
    };
    let info = job.info(JobState::UploadComplete, false);
    table.jobs.push(job);
    Ok(Reply::ok(info))
}

/// What Bulk API 2.0 does not serve, refused as the docs list it.
fn refuse_unsupported(execution: &Execution) -> Result<(), ApiError> {
    if execution.is_count {
        return Err(api_error(
            "Aggregate functions such as COUNT() are not supported in Bulk API 2.0 queries",
        ));
    }
    if execution.offset().is_some() {
        return Err(api_error("OFFSET is not supported in Bulk API 2.0 queries"));
    }
    fn has(columns: &[Column], wanted: &dyn Fn(&Column) -> bool) -> bool {
        columns.iter().any(|c| {
            wanted(c) || matches!(c, Column::Parent { columns, .. } if has(columns, wanted))
        })
    }
    if has(execution.columns(), &|c| matches!(c, Column::Subquery(_))) {
        return Err(api_error(SUBQUERY_REFUSAL));
    }
    let compound = |c: &Column| matches!(c, Column::Field(f) if f.field_type == FieldType::Address);
    if has(execution.columns(), &compound) {
        return Err(api_error(COMPOUND_REFUSAL));
    }
    Ok(())
}

/// `GET .../jobs/query`: every job on one page (the fake never holds the thousands of
/// jobs that make a real org page this list).
fn list(shared: &Shared, req: &Incoming) -> Reply {
    let now = shared.now();
    let table = lock(&shared.bulk_jobs);
    let only_other_types = req.param("jobType").is_some_and(|t| t != "V2Query");
    let records: Vec<Value> = if only_other_types {
        Vec::new()
    } else {
        table
            .jobs
            .iter()
            .map(|job| job.info(job.state(now), true))
            .collect()
    };
    Reply::ok(json!({"done": true, "records": records, "nextRecordsUrl": null}))
}

/// `GET .../jobs/query/{id}`.
fn info(shared: &Shared, id: &str) -> Result<Reply, ApiError> {
    let now = shared.now();
    let table = lock(&shared.bulk_jobs);
    let job = table.find(id)?;
    Ok(Reply::ok(job.info(job.state(now), true)))
}

/// `PATCH .../jobs/query/{id}` with `{"state": "Aborted"}`.
fn abort(shared: &Shared, req: &Incoming, id: &str) -> Result<Reply, ApiError> {
    let body = json_object(&req.body)?;
    let now = shared.now();
    let mut table = lock(&shared.bulk_jobs);
    let position = table.jobs.iter().position(|j| j.id == id);
    let job = position
        .map(|i| &mut table.jobs[i])
        .ok_or_else(ApiError::not_found)?;
    if body.get("state").and_then(Value::as_str) != Some("Aborted") {
        return Err(job_error(
            "A query job can only be set to the state Aborted",
        ));
    }
    match job.state(now) {
        JobState::UploadComplete | JobState::InProgress => {
            job.aborted = Some(Utc::now());
            Ok(Reply::ok(job.info(JobState::Aborted, true)))
        }
        state => Err(api_error(format!(
            "The job is {} and can no longer be aborted",
            state.name()
        ))),
    }
}

/// `DELETE .../jobs/query/{id}`: allowed once the job is no longer running.
fn delete(shared: &Shared, id: &str) -> Result<Reply, ApiError> {
    let now = shared.now();
    let mut table = lock(&shared.bulk_jobs);
    let job = table.find(id)?;
    if job.state(now) == JobState::InProgress {
        return Err(api_error(
            "The job is InProgress; abort it or wait for it to complete before deleting it",
        ));
    }
    table.jobs.retain(|j| j.id != id);
    Ok(Reply::no_content())
}

/// A results locator: the row offset of the page, in the base64 form real orgs use
/// (`MTAwMDA` is row 10000).
fn encode_locator(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(offset.to_string())
}

fn decode_locator(locator: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(locator.trim_end_matches('='))
        .ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

/// `GET .../jobs/query/{id}/results?maxRecords=N&locator=L`: one CSV page.
fn results(shared: &Shared, req: &Incoming, version: &str, id: &str) -> Result<Reply, ApiError> {
    let now = shared.now();
    let (execution, include_deleted, delimiter, line_ending) = {
        let table = lock(&shared.bulk_jobs);
        let job = table.find(id)?;
        let state = job.state(now);
        if state != JobState::JobComplete {
            return Err(api_error(format!(
                "The job is {}; results are available once it is JobComplete",
                state.name()
            )));
        }
        if job.api_version != version {
            return Err(ApiError::new(
                409,
                "API_ERROR",
                format!(
                    "Results must be fetched with the API version the job was created with (v{})",
                    job.api_version
                ),
            ));
        }
        let execution = Arc::clone(&job.execution);
        (
            execution,
            job.include_deleted,
            job.delimiter,
            job.line_ending,
        )
    };
    let page_size = match req.param("maxRecords") {
        None => DEFAULT_RESULTS_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| api_error(format!("Invalid maxRecords: {text}")))?,
    };
    let start = match req.param("locator") {
        None => 0,
        Some(text) => decode_locator(&text)
            .filter(|offset| *offset <= execution.ids.len())
            .ok_or_else(|| api_error(format!("Invalid locator: {text}")))?,
    };
    let end = execution.ids.len().min(start.saturating_add(page_size));
    let rows = {
        let store = read_store(shared);
        let opts = ExecOptions {
            include_deleted,
            api_version: version,
        };
        execution.project(&*store, &opts, &execution.ids[start..end])
    };
    let columns = csv_columns(execution.columns());
    let data = write_page(&columns, &rows, delimiter, line_ending);
    let next = if end < execution.ids.len() {
        encode_locator(end)
    } else {
        // The literal text `null` marks the last page; clients compare against it.
        "null".to_string()
    };
    Ok(Reply {
        status: 200,
        payload: Payload::Bytes {
            data,
            content_type: "text/csv".to_string(),
        },
        headers: Vec::new(),
    }
    .with_header("sforce-locator", next)
    .with_header("sforce-numberofrecords", rows.len().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_are_base64_offsets() {
        assert_eq!(encode_locator(10000), "MTAwMDA");
        assert_eq!(decode_locator("MTAwMDA"), Some(10000));
        assert_eq!(decode_locator("MTAwMDA="), Some(10000));
        assert_eq!(decode_locator("not a locator"), None);
    }
}
