//! The fake org's SOQL engine: parser and evaluator over a [`super::model::DataSource`].
//!
//! [`parse`] turns text into an [`ast::Query`]; [`execute`] checks it against the schema,
//! filters and sorts, and keeps only the ordered Ids of the result; [`Execution::project`]
//! turns a page of those Ids into rows in Salesforce's wire shape. Errors carry
//! Salesforce's error codes and wording so that clients react to them as to a real org.

pub mod ast;
mod eval;
mod parser;
mod plan;

#[cfg(test)]
mod tests;

use super::model::DataSource;

/// A query the engine refuses, with Salesforce's error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_code}: {message}")]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, `NUMBER_OUTSIDE_VALID_RANGE`...
    pub error_code: String,
    pub message: String,
}

impl SoqlError {
    pub fn new(error_code: &str, message: impl Into<String>) -> Self {
        SoqlError {
            error_code: error_code.to_string(),
            message: message.into(),
        }
    }
}

/// How a query runs: `include_deleted` for queryAll, and the API version (as in the URL,
/// without the `v`, e.g. `"59.0"`) echoed in every `attributes.url`.
#[derive(Debug, Clone, Copy)]
pub struct ExecOptions<'a> {
    pub include_deleted: bool,
    pub api_version: &'a str,
}

/// A checked, filtered and sorted query. Holds only the ordered Ids of the matching rows
/// (after OFFSET/LIMIT), so a query locator over 200,000 rows stays small; rows are built
/// page by page with [`Execution::project`].
#[derive(Debug, Clone)]
pub struct Execution {
    /// The queried object's canonical name.
    pub object: String,
    /// `SELECT COUNT()`: no rows, the count is `total_size`.
    pub is_count: bool,
    pub total_size: usize,
    pub ids: Vec<String>,
    plan: plan::Plan,
}

/// Parses a SOQL statement (syntax only; names are checked by [`execute`]).
pub fn parse(soql: &str) -> Result<ast::Query, SoqlError> {
    parser::parse(soql)
}

/// Parses, validates against the schema, filters and sorts.
pub fn execute(
    soql: &str,
    ds: &dyn DataSource,
    opts: &ExecOptions,
) -> Result<Execution, SoqlError> {
    let query = parse(soql)?;
    let planner = plan::Planner::new(ds, soql, opts);
    let plan = planner.plan_top(&query)?;
    let object = planner.object(&plan.object, query.from.pos)?;
    let rows = eval::select_rows(ds, object, &plan, opts.include_deleted);
    let ids = if plan.is_count {
        Vec::new()
    } else {
        let mut ids = Vec::with_capacity(rows.len());
        ids.extend(
            rows.iter()
                .filter_map(|r| eval::get_early(r, "Id").and_then(serde_json::Value::as_str))
                .map(str::to_string),
        );
        ids
    };
    Ok(Execution {
        object: object.name.clone(),
        is_count: plan.is_count,
        total_size: rows.len(),
        ids,
        plan,
    })
}

impl Execution {
    /// The JSON rows for `ids` (a page), in the real wire shape: `attributes {type, url}`
    /// first (url = `/services/data/v{api_version}/sobjects/{Type}/{Id}`), then the
    /// selected fields in SELECT order with canonical casing; parent relationships as
    /// nested objects with their own attributes (null when the lookup is empty; type
    /// `Name` behind a polymorphic lookup); subqueries as complete
    /// `{"totalSize","done":true,"records"}` objects, or null when empty.
    /// An Id whose record has vanished from the store since `execute` is skipped.
    pub fn project(
        &self,
        ds: &dyn DataSource,
        opts: &ExecOptions,
        ids: &[String],
    ) -> Vec<serde_json::Value> {
        // [server branch] A view such as CaseFeed (FeedItems on Cases) shares its Ids and key
        // prefix with its base object, and record_by_id names the base object: keep rows of
        // the same key prefix and project them as the queried object.
        let Some(queried) = ds.object(&self.object) else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| ds.record_by_id(id))
            .filter(|(object, _)| {
                object.name == self.object || object.key_prefix == queried.key_prefix
            })
            .map(|(_, record)| {
                eval::project_row(ds, opts, queried, record, &self.plan.columns, false)
            })
            .collect()
    }
}
