//! `fetch_records`: a listing of one object, page by page, with wide-object field splitting,
//! child subqueries flattened to arrays, and the children no subquery brings (Case feed
//! comments, Tasks and Events) attached per page (`children.rs`).

use std::collections::HashMap;

use serde_json::Value;

use super::client::{Meter, SalesforceClient};
use super::error::SfError;
use super::plan::{ObjectPlan, SubqueryPlan};
use super::query::{query_path, Pager};
use super::soql::{chunk_in_list, encoded_len, Condition, Literal, Op, Soql, URI_BUDGET};
use super::Record;

/// Which records of an object to fetch. What changed since an instant is asked with
/// [`SalesforceClient::changes_since`]; the records it names are then fetched by `ids`.
#[derive(Debug, Clone, Default)]
pub struct FetchFilter {
    /// queryAll: deleted records (IsDeleted true) too.
    pub include_deleted: bool,
    /// Only these Ids.
    pub ids: Option<Vec<String>>,
}

/// What a fetch delivered and what it cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchSummary {
    pub records: u64,
    /// API calls made (query pages, child batches, composite calls, refetches; retries count).
    pub api_calls: u64,
}

/// Room kept free in each split query's URI so the same fields can be refetched by Id
/// (about 150 quoted 18-character Ids at 27 encoded bytes each).
const ID_ROOM: usize = 4_096;
/// A listing whose cursor dies this many times is failed rather than resumed again: a
/// cursor that keeps dying means something else is wrong (another client opening cursors
/// in a loop), and the error then says so.
const MAX_CURSOR_RESUMES: u32 = 5;
/// What `WHERE Id IN ()` and a following `AND` add around an Id list, rounded up.
const IN_CLAUSE_OVERHEAD: usize = 64;
/// Rows of a split chunk that may wait for their driver row before we stop reading ahead
/// (one full page: the orders of the chunk queries agree, so this is only slack).
const MAX_UNMATCHED_ROWS: usize = 2_000;

impl SalesforceClient {
    /// Every record of `plan.object` matching `filter`, delivered page by page to `sink`
    /// (memory: about a page). Handles query paging, child batches, wide-object field
    /// splitting merged by Id (missing rows refetched by Id), and subqueries turned into
    /// arrays: `ContentDocumentLinks` is an array of links with `ContentDocument {Title,
    /// FileExtension, ContentSize, LatestPublishedVersionId}`; on a Case, `Feeds` is an array
    /// in time order whose items each carry `FeedComments`, also in time order; each child
    /// query of the plan (a Case's `Tasks`, `Events`) adds an array under its relationship
    /// name, in the plan's order. Any failed batch fails the whole fetch.
    ///
    /// When the org rejects the query as built from the cached describes (INVALID_FIELD,
    /// INVALID_TYPE), the caches are dropped: the error is returned, and the next `plan()`
    /// describes again.
    pub async fn fetch_records(
        &self,
        plan: &ObjectPlan,
        filter: &FetchFilter,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
    ) -> Result<FetchSummary, SfError> {
        let result = self.fetch_records_cached(plan, filter, sink).await;
        if let Err(SfError::InvalidField { .. } | SfError::InvalidType { .. }) = &result {
            self.forget_schema();
        }
        result
    }

    async fn fetch_records_cached(
        &self,
        plan: &ObjectPlan,
        filter: &FetchFilter,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
    ) -> Result<FetchSummary, SfError> {
        let meter = Meter::default();
        let mut delivered = 0u64;
        let mut counting_sink = |records: Vec<Record>| {
            delivered += records.len() as u64;
            sink(records)
        };
        match &filter.ids {
            None => {
                self.fetch_where(
                    plan,
                    None,
                    filter.include_deleted,
                    &mut counting_sink,
                    &meter,
                )
                .await?
            }
            Some(ids) => {
                let probe = Condition::in_strings("Id", &[] as &[String]);
                let whole = self.uri_len(
                    &full_query(plan, &plan.fields, Some(&probe)),
                    filter.include_deleted,
                );
                let id_budget = if whole + ID_ROOM <= URI_BUDGET {
                    URI_BUDGET - whole
                } else {
                    ID_ROOM - IN_CLAUSE_OVERHEAD
                };
                for chunk in chunk_in_list(ids, id_budget) {
                    let condition = Condition::in_strings("Id", chunk);
                    self.fetch_where(
                        plan,
                        Some(&condition),
                        filter.include_deleted,
                        &mut counting_sink,
                        &meter,
                    )
                    .await?;
                }
            }
        }
        Ok(FetchSummary {
            records: delivered,
            api_calls: meter.count(),
        })
    }

    fn uri_len(&self, query: &Soql, include_deleted: bool) -> usize {
        query_path(self, &query.build(), include_deleted).len()
    }

    /// The records matching `condition`, page by page. Every query is ordered by Id, so a
    /// cursor the org dropped mid-way (INVALID_QUERY_LOCATOR: its cursor limit, an idle
    /// timeout, a retry of a page already served) is resumed with a new query for the Ids
    /// after the last one delivered: nothing is read twice or missed, and a long listing
    /// does not start over.
    async fn fetch_where(
        &self,
        plan: &ObjectPlan,
        condition: Option<&Condition>,
        include_deleted: bool,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
        meter: &Meter,
    ) -> Result<(), SfError> {
        let mut last_id: Option<String> = None;
        let mut resumes = 0;
        loop {
            let after = last_id
                .as_ref()
                .map(|id| Condition::cmp("Id", Op::Gt, Literal::string(id.clone())));
            let resumed = match (condition.cloned(), after) {
                (Some(condition), Some(after)) => Some(condition.and(after)),
                (condition, after) => condition.or(after),
            };
            let mut tracking = |records: Vec<Record>| {
                if let Some(id) = records
                    .last()
                    .and_then(|r| r.get("Id"))
                    .and_then(Value::as_str)
                {
                    last_id = Some(id.to_string());
                }
                sink(records);
            };
            let result = self
                .fetch_where_once(
                    plan,
                    resumed.as_ref(),
                    include_deleted,
                    &mut tracking,
                    meter,
                )
                .await;
            match result {
                Err(error)
                    if error.error_code() == Some("INVALID_QUERY_LOCATOR")
                        && last_id.is_some()
                        && resumes < MAX_CURSOR_RESUMES =>
                {
                    resumes += 1;
                    tracing::info!(object = %plan.object, after = ?last_id, "the org dropped the query cursor; resuming after the last record read");
                }
                result => return result,
            }
        }
    }

    async fn fetch_where_once(
        &self,
        plan: &ObjectPlan,
        condition: Option<&Condition>,
        include_deleted: bool,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
        meter: &Meter,
    ) -> Result<(), SfError> {
        let chunks = self.field_chunks(plan, condition, include_deleted)?;
        let what = format!("query {}", plan.object);
        let driver_query = chunk_query(plan, &chunks[0], true, condition);
        let mut driver = Pager::new(driver_query.build(), include_deleted, what.clone());
        let mut sides: Vec<SplitSide> = chunks[1..]
            .iter()
            .map(|fields| SplitSide {
                pager: Pager::new(
                    chunk_query(plan, fields, false, condition).build(),
                    include_deleted,
                    what.clone(),
                ),
                fields: fields.clone(),
                buffer: HashMap::new(),
                exhausted: false,
            })
            .collect();
        if !sides.is_empty() {
            tracing::debug!(object = %plan.object, chunks = chunks.len(), "wide object: fields split across queries");
        }
        while let Some(page) = driver.next_page(self, meter).await? {
            let mut records = page.records;
            for side in &mut sides {
                records = self
                    .complete_from_side(plan, side, records, include_deleted, meter)
                    .await?;
            }
            self.finish_records(plan, &mut records, meter).await?;
            sink(records);
        }
        for side in &sides {
            if !side.buffer.is_empty() {
                // Rows the driver never listed: created after the driver query ran. The next
                // refresh picks them up.
                tracing::debug!(object = %plan.object, rows = side.buffer.len(), "split rows without a driver row");
            }
        }
        Ok(())
    }

    /// Splits `plan.fields` so each query's URI fits the budget. One chunk when everything
    /// fits; otherwise the first chunk also carries relationship fields and subqueries, and
    /// every chunk leaves [`ID_ROOM`] for refetching rows by Id.
    fn field_chunks(
        &self,
        plan: &ObjectPlan,
        condition: Option<&Condition>,
        include_deleted: bool,
    ) -> Result<Vec<Vec<String>>, SfError> {
        let fields: Vec<String> = plan
            .fields
            .iter()
            .filter(|f| !f.eq_ignore_ascii_case("Id"))
            .cloned()
            .collect();
        if self.uri_len(
            &chunk_query(plan, &fields, true, condition),
            include_deleted,
        ) <= URI_BUDGET
        {
            return Ok(vec![fields]);
        }
        let budget = URI_BUDGET - ID_ROOM;
        let separator = encoded_len(", ");
        let mut chunks: Vec<Vec<String>> = Vec::new();
        let mut current: Vec<String> = Vec::new();
        let mut used = self.uri_len(&chunk_query(plan, &[], true, condition), include_deleted);
        if used > budget {
            return Err(SfError::Config {
                message: format!(
                    "the query of {} is longer than the {URI_BUDGET}-byte URI budget before any field is added (too many relationship fields, subqueries or filter Ids)",
                    plan.object
                ),
            });
        }
        for field in fields {
            let cost = separator + encoded_len(&field);
            if used + cost > budget && !current.is_empty() {
                chunks.push(std::mem::take(&mut current));
                used = self.uri_len(&chunk_query(plan, &[], false, condition), include_deleted);
            }
            used += cost;
            current.push(field);
        }
        chunks.push(current);
        Ok(chunks)
    }

    /// Adds the fields of one split chunk to `records`, reading that chunk's pages as far as
    /// needed, then refetching by Id the rows it did not deliver. A row that cannot be found
    /// again was deleted meanwhile and is left out (and logged).
    async fn complete_from_side(
        &self,
        plan: &ObjectPlan,
        side: &mut SplitSide,
        records: Vec<Record>,
        include_deleted: bool,
        meter: &Meter,
    ) -> Result<Vec<Record>, SfError> {
        let ids: Vec<String> = records.iter().map(record_id).collect::<Result<_, _>>()?;
        while !side.exhausted
            && !ids.iter().all(|id| side.buffer.contains_key(id))
            && side.buffer.len() < ids.len() + MAX_UNMATCHED_ROWS
        {
            match side.pager.next_page(self, meter).await? {
                Some(page) => {
                    for row in page.records {
                        side.buffer.insert(record_id(&row)?, row);
                    }
                }
                None => side.exhausted = true,
            }
        }
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !side.buffer.contains_key(*id))
            .cloned()
            .collect();
        if !missing.is_empty() {
            tracing::debug!(object = %plan.object, rows = missing.len(), "refetching split rows by Id");
            for chunk in chunk_in_list(&missing, ID_ROOM - IN_CLAUSE_OVERHEAD) {
                let query = chunk_query(
                    plan,
                    &side.fields,
                    false,
                    Some(&Condition::in_strings("Id", chunk)),
                );
                let mut pager = Pager::new(
                    query.build(),
                    include_deleted,
                    format!("query {} by Id", plan.object),
                );
                while let Some(page) = pager.next_page(self, meter).await? {
                    for row in page.records {
                        side.buffer.insert(record_id(&row)?, row);
                    }
                }
            }
        }
        let mut complete = Vec::with_capacity(records.len());
        let mut vanished = 0usize;
        for (mut record, id) in records.into_iter().zip(ids) {
            match side.buffer.remove(&id) {
                Some(part) => {
                    for (key, value) in part {
                        if key != "attributes" && key != "Id" {
                            record.insert(key, value);
                        }
                    }
                    complete.push(record);
                }
                None => vanished += 1,
            }
        }
        if vanished > 0 {
            tracing::info!(object = %plan.object, rows = vanished, "rows deleted while their fields were being fetched");
        }
        Ok(complete)
    }

    /// Subquery results become plain arrays; then the children no subquery brings (feed
    /// comments, child queries) are fetched for the whole page and attached.
    async fn finish_records(
        &self,
        plan: &ObjectPlan,
        records: &mut [Record],
        meter: &Meter,
    ) -> Result<(), SfError> {
        for record in records.iter_mut() {
            for sub in &plan.subquery_plans {
                flatten_subquery(record, &sub.relationship);
            }
        }
        self.attach_children(plan, records, meter).await
    }
}

struct SplitSide {
    pager: Pager,
    fields: Vec<String>,
    buffer: HashMap<String, Record>,
    exhausted: bool,
}

pub(super) fn record_id(record: &Record) -> Result<String, SfError> {
    record
        .get("Id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| SfError::Malformed {
            what: "a query page".into(),
            detail: "a record has no Id".into(),
        })
}

fn subquery(sub: &SubqueryPlan) -> Soql {
    let mut q = Soql::select(&sub.fields).from(&sub.relationship);
    for field in &sub.order_by {
        q = q.order_by(field);
    }
    q
}

/// The listing query with all of `fields`, relationship fields and subqueries.
fn full_query(plan: &ObjectPlan, fields: &[String], condition: Option<&Condition>) -> Soql {
    chunk_query(plan, fields, true, condition)
}

/// `SELECT Id, <fields> [, relationship fields, subqueries] FROM object [WHERE] ORDER BY Id`.
/// Ordering by Id keeps split chunks in step and listings deterministic.
fn chunk_query(
    plan: &ObjectPlan,
    fields: &[String],
    first: bool,
    condition: Option<&Condition>,
) -> Soql {
    let mut q = Soql::select(["Id"]).fields(fields);
    if first {
        q = q.fields(&plan.relationship_fields);
        for sub in &plan.subquery_plans {
            q = q.subquery(&subquery(sub));
        }
    }
    q = q.from(&plan.object);
    if let Some(c) = condition {
        q = q.where_(c.clone());
    }
    q.order_by("Id")
}

/// `{"totalSize":..,"records":[..]}` or `null` → the records array (empty when null).
fn flatten_subquery(record: &mut Record, relationship: &str) {
    let key = record
        .keys()
        .find(|k| k.eq_ignore_ascii_case(relationship))
        .cloned()
        .unwrap_or_else(|| relationship.to_string());
    let rows = match record.remove(&key) {
        Some(Value::Object(mut nested)) => match nested.remove("records") {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        },
        Some(Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    record.insert(key, Value::Array(rows));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subquery_results_become_arrays() {
        let mut record: Record = serde_json::from_value(json!({
            "Id": "500x",
            "Feeds": {"totalSize": 2, "done": true, "records": [{"Id": "a"}, {"Id": "b"}]},
            "ContentDocumentLinks": null
        }))
        .unwrap();
        flatten_subquery(&mut record, "Feeds");
        flatten_subquery(&mut record, "ContentDocumentLinks");
        assert_eq!(record["Feeds"], json!([{"Id": "a"}, {"Id": "b"}]));
        assert_eq!(record["ContentDocumentLinks"], json!([]));
        let mut absent: Record = serde_json::from_value(json!({"Id": "1"})).unwrap();
        flatten_subquery(&mut absent, "Feeds");
        assert_eq!(absent["Feeds"], json!([]));
    }
}
