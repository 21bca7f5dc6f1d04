//! The fake org's SOQL engine: parser and evaluator over a [`super::model::DataSource`].
//!
//! [`parse`] turns text into an [`ast::Query`]; [`execute`] checks it against the schema,
//! filters and sorts, and keeps only the ordered Ids of the result; [`Execution::project`]
//! turns a page of those Ids into rows in Salesforce's wire shape. Errors carry
//! Salesforce's error codes and wording so that clients react to them as to a real org.
//!
//! The subset served: field lists with parent paths up to 5 hops (a polymorphic lookup
//! shows as the `Name` pseudo-object), one level of parent-to-child subqueries with their
//! own WHERE/ORDER BY/LIMIT, `COUNT()`, WHERE with AND/OR/NOT and parentheses,
//! `= != <> < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES`, semi-joins (`Id IN (SELECT ...)`),
//! typed literals (strings with escapes, numbers, booleans, null, dates, datetimes, relative
//! dates), ORDER BY with NULLS FIRST/LAST, LIMIT, OFFSET (at most 2,000), object aliases,
//! and `WITH SECURITY_ENFORCED` / `FOR VIEW` (accepted, no effect). Not served: aggregates
//! other than `COUNT()`, GROUP BY, TYPEOF, date functions, `FIELDS()`.
//!
//! Text compares and sorts case-insensitively, `!=` and `NOT IN` keep null rows, Ids match
//! in their 15- and 18-character forms, and sorting is stable. `Id =`/`IN` and lookup
//! `=`/`IN` filters read the store's indexes instead of scanning (candidates then follow
//! the order of the Ids in the query).

pub mod ast;
mod eval;
mod lexer;
mod parser;
mod plan;

#[cfg(test)]
mod tests;

use super::model::{DataSource, ObjectDef};

pub use plan::{Column, Hop, SubPlan};

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

/// A query checked against the schema but not run: what `columns=true` describes.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    /// The queried object's canonical name.
    pub object: String,
    pub is_count: bool,
    /// The SELECT list in SELECT order, parent fields grouped under their relationship.
    pub columns: Vec<Column>,
}

/// Parses and validates against the schema without reading a row.
pub fn check(
    soql: &str,
    ds: &dyn DataSource,
    opts: &ExecOptions,
) -> Result<CheckedQuery, SoqlError> {
    let (plan, object) = checked_plan(soql, ds, opts)?;
    Ok(CheckedQuery {
        object: object.name.clone(),
        is_count: plan.is_count,
        columns: plan.columns,
    })
}

/// One lifetime for both: the planner borrows the text (for caret errors) with the source.
fn checked_plan<'a>(
    soql: &'a str,
    ds: &'a dyn DataSource,
    opts: &ExecOptions,
) -> Result<(plan::Plan, &'a ObjectDef), SoqlError> {
    let query = parse(soql)?;
    let planner = plan::Planner::new(ds, soql, opts);
    let plan = planner.plan_top(&query)?;
    let object = planner.object(&plan.object, query.from.pos)?;
    Ok((plan, object))
}

/// Parses, validates against the schema, filters and sorts.
pub fn execute(
    soql: &str,
    ds: &dyn DataSource,
    opts: &ExecOptions,
) -> Result<Execution, SoqlError> {
    let (plan, object) = checked_plan(soql, ds, opts)?;
    let rows = eval::select_rows(ds, object, &plan, opts.include_deleted);
    let ids = if plan.is_count {
        Vec::new()
    } else {
        let mut ids = Vec::with_capacity(rows.len());
        ids.extend(
            rows.iter()
                .map(|&r| eval::row_id(ds, r))
                .filter(|id| !id.is_empty()),
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
    /// The SELECT list in SELECT order, parent fields grouped under their relationship.
    pub fn columns(&self) -> &[Column] {
        &self.plan.columns
    }

    /// The query's OFFSET, if it has one.
    pub fn offset(&self) -> Option<u64> {
        self.plan.offset
    }

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
        let Some(object) = ds.object(&self.object) else {
            return Vec::new();
        };
        // A view object (CaseFeed over FeedItem rows) shares its storage object's key
        // prefix, and its rows are shown under the queried name.
        ids.iter()
            .filter(|id| {
                object.key_prefix.is_empty() || id.get(..3) == Some(object.key_prefix.as_str())
            })
            .filter_map(|id| ds.record_by_id(id))
            .map(|(_, record)| {
                eval::project_row(ds, opts, object, record, &self.plan.columns, false)
            })
            .collect()
    }
}
