//! Query, queryAll and locator pages, with child subquery lists cut into batches.

use crate::sync::{self, lock};
use std::sync::{Arc, RwLockReadGuard};

use serde_json::{Map, Value};

use super::cursor::{CursorRows, Locator};
use super::reply::ApiError;
use super::state::Shared;
use crate::fake_org::soql::{self, ExecOptions};
use crate::fake_org::store::Store;

/// Default and largest page of a query, as on a real org.
pub const MAX_BATCH_SIZE: usize = 2000;
/// Smallest page `Sforce-Query-Options: batchSize=N` may ask for.
pub const MIN_BATCH_SIZE: usize = 200;
/// A child subquery list longer than this is cut, with its own `nextRecordsUrl`. Real orgs
/// cut long child lists too (the exact size varies); 200 per parent record keeps pages
/// bounded and makes the cut easy to reach in tests.
pub const CHILD_BATCH_SIZE: usize = 200;

pub(crate) fn read_store(shared: &Shared) -> RwLockReadGuard<'_, Store> {
    sync::read(&shared.store)
}

/// The batch size from a `Sforce-Query-Options` header (`batchSize=1000`), clamped to what
/// Salesforce accepts; anything unreadable means the default.
pub(crate) fn batch_size(query_options: Option<&str>) -> usize {
    query_options
        .into_iter()
        .flat_map(|h| h.split(','))
        .filter_map(|opt| opt.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .map(|n| n.clamp(MIN_BATCH_SIZE, MAX_BATCH_SIZE))
        .unwrap_or(MAX_BATCH_SIZE)
}

fn next_url(version: &str, locator_id: &str, offset: usize) -> String {
    format!("/services/data/v{version}/query/{locator_id}-{offset}")
}

fn page_body(total_size: usize, next: Option<String>, records: Vec<Value>) -> Value {
    let mut body = Map::new();
    body.insert("totalSize".into(), Value::from(total_size as u64));
    body.insert("done".into(), Value::Bool(next.is_none()));
    if let Some(url) = next {
        body.insert("nextRecordsUrl".into(), Value::String(url));
    }
    body.insert("records".into(), Value::Array(records));
    Value::Object(body)
}

/// `GET .../query?q=` or `.../queryAll?q=`: runs the query and answers its first page.
pub(crate) fn run_query(
    shared: &Shared,
    version: &str,
    soql_text: Option<&str>,
    include_deleted: bool,
    query_options: Option<&str>,
) -> Result<Value, ApiError> {
    let soql_text = soql_text.filter(|q| !q.trim().is_empty()).ok_or_else(|| {
        ApiError::new(400, "MALFORMED_QUERY", "A query string has to be specified")
    })?;
    let batch = batch_size(query_options);
    let opts = ExecOptions {
        include_deleted,
        api_version: version,
    };
    let (execution, records) = {
        let store = read_store(shared);
        let execution = soql::execute(soql_text, &*store, &opts)?;
        if execution.is_count {
            return Ok(page_body(execution.total_size, None, Vec::new()));
        }
        let end = execution.ids.len().min(batch);
        let records = execution.project(&*store, &opts, &execution.ids[..end]);
        (execution, records)
    };
    let records = cut_child_lists(shared, records, version, batch);
    let total_size = execution.total_size;
    let next = if execution.ids.len() > batch {
        let rows = CursorRows::Query {
            execution: Arc::new(execution),
            include_deleted,
        };
        let id = lock(&shared.cursors).open(rows, batch, shared.now());
        Some(next_url(version, &id, batch))
    } else {
        None
    };
    Ok(page_body(total_size, next, records))
}

/// `GET .../query/{locator}` (or `queryAll/{locator}`): the page that starts at the offset.
pub(crate) fn query_more(
    shared: &Shared,
    version: &str,
    locator_text: &str,
    query_options: Option<&str>,
) -> Result<Value, ApiError> {
    let locator = Locator::parse(locator_text).ok_or_else(ApiError::invalid_locator)?;
    let (rows, cursor_batch) = lock(&shared.cursors)
        .resume(&locator, shared.now())
        .ok_or_else(ApiError::invalid_locator)?;
    // A follow-up may ask for its own batch size; otherwise the query's holds.
    let batch = if query_options.is_some() {
        batch_size(query_options)
    } else {
        cursor_batch
    };
    let start = locator.offset;
    let end = rows.len().min(start + batch);
    let (total_size, records) = match &rows {
        CursorRows::Query {
            execution,
            include_deleted,
        } => {
            let opts = ExecOptions {
                include_deleted: *include_deleted,
                api_version: version,
            };
            let store = read_store(shared);
            let records = execution.project(&*store, &opts, &execution.ids[start..end]);
            drop(store);
            let records = cut_child_lists(shared, records, version, batch);
            (execution.total_size, records)
        }
        CursorRows::Rows(all) => (all.len(), all[start..end].to_vec()),
    };
    let next = if end < rows.len() {
        Some(next_url(version, &locator.id, end))
    } else {
        // The last page has been served: the cursor is used up.
        lock(&shared.cursors).close(&locator.id);
        None
    };
    Ok(page_body(total_size, next, records))
}

/// A subquery result in a projected record: `{"totalSize", "done", "records": [...]}`.
fn is_subquery_result(value: &Value) -> bool {
    value.as_object().is_some_and(|m| {
        m.contains_key("totalSize") && m.contains_key("done") && m.contains_key("records")
    })
}

/// Cuts every child subquery list longer than [`CHILD_BATCH_SIZE`]: the record keeps the first
/// batch with `done: false` and a `nextRecordsUrl` that the locator route serves.
fn cut_child_lists(
    shared: &Shared,
    records: Vec<Value>,
    version: &str,
    batch: usize,
) -> Vec<Value> {
    records
        .into_iter()
        .map(|mut record| {
            if let Some(fields) = record.as_object_mut() {
                for value in fields.values_mut() {
                    if is_subquery_result(value) {
                        cut_one_child_list(shared, value, version, batch);
                    }
                }
            }
            record
        })
        .collect()
}

fn cut_one_child_list(shared: &Shared, value: &mut Value, version: &str, batch: usize) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let long = map
        .get("records")
        .and_then(Value::as_array)
        .is_some_and(|r| r.len() > CHILD_BATCH_SIZE);
    if !long {
        return;
    }
    let Some(Value::Array(all)) = map.remove("records") else {
        return;
    };
    let total_size = map
        .get("totalSize")
        .and_then(Value::as_u64)
        .unwrap_or(all.len() as u64) as usize;
    let first: Vec<Value> = all[..CHILD_BATCH_SIZE].to_vec();
    let id = lock(&shared.cursors).open(CursorRows::Rows(Arc::new(all)), batch, shared.now());
    *value = page_body(
        total_size,
        Some(next_url(version, &id, CHILD_BATCH_SIZE)),
        first,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_header_is_clamped_and_defaulted() {
        assert_eq!(batch_size(None), 2000);
        assert_eq!(batch_size(Some("batchSize=1000")), 1000);
        assert_eq!(batch_size(Some("batchsize = 500")), 500);
        assert_eq!(batch_size(Some("batchSize=5")), 200);
        assert_eq!(batch_size(Some("batchSize=99999")), 2000);
        assert_eq!(batch_size(Some("batchSize=abc")), 2000);
        assert_eq!(batch_size(Some("other=1, batchSize=300")), 300);
    }

    #[test]
    fn page_body_has_next_url_only_when_not_done() {
        let done = page_body(3, None, vec![]);
        assert_eq!(done["done"], Value::Bool(true));
        assert!(done.get("nextRecordsUrl").is_none());
        let more = page_body(3, Some("/x".into()), vec![]);
        let keys: Vec<&String> = more.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["totalSize", "done", "nextRecordsUrl", "records"]);
    }
}
