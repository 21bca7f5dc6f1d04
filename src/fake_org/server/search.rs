//! `GET .../search?q=<SOSL>` and `GET .../parameterizedSearch?q=<term>`: full-text search
//! answered `{"searchRecords": [{"attributes": {type, url}, "Id", ...}]}` as real orgs do.
//!
//! The SOSL served is the common form: `FIND {term} [IN ALL|NAME|EMAIL|PHONE FIELDS]
//! [RETURNING Object [(fields [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n])], ...]
//! [LIMIT n]`. Each returned object runs as the SOQL `SELECT fields FROM Object [WHERE]
//! [ORDER BY]` through the SOQL engine, then keeps the rows whose text fields in scope
//! match the term ([`super::search_term`]), then applies the object's OFFSET and LIMIT and
//! the overall LIMIT. Without ORDER BY rows keep the store's order (real orgs rank by
//! relevance, which no client can rely on). Without RETURNING every searchable object is
//! searched and rows show only their Id, as on a real org.

use serde_json::{json, Value};

use super::dispatch::Incoming;
use super::query::read_store;
use super::reply::{ApiError, Reply};
use super::search_term::{SearchTerm, TermError};
use super::sosl::{parse_sosl, Returning, Scope, Search};
use super::state::Shared;
use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef};
use crate::fake_org::soql::{self, ExecOptions};
use crate::fake_org::store::Store;

/// A search returns at most 2,000 rows in all, as on a real org.
pub(super) const MAX_SEARCH_ROWS: usize = 2000;

pub(super) fn route(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    resource: &str,
) -> Result<Reply, ApiError> {
    if req.method != "GET" {
        return Err(ApiError::method_not_allowed(&req.method, &["GET", "HEAD"]));
    }
    let search = if resource == "search" {
        let text = req.param("q").unwrap_or_default();
        parse_sosl(&text)?
    } else {
        parameterized(req)?
    };
    let records = run(&read_store(shared), version, &search)?;
    Ok(Reply::ok(json!({ "searchRecords": records })))
}

pub(super) fn invalid_search(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "INVALID_SEARCH", message)
}

pub(super) fn term_error(term: &str, err: TermError) -> ApiError {
    match err {
        TermError::TooShort => invalid_search(format!(
            "search term must be longer than one character: {term}"
        )),
    }
}

/// `parameterizedSearch?q=Acme&sobject=Account&Account.fields=Id,Name&Account.limit=10`,
/// with `in` (the scope), `fields` (for every object) and `overallLimit`.
fn parameterized(req: &Incoming) -> Result<Search, ApiError> {
    let params = req.params();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let q = param("q").filter(|q| !q.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            400,
            "MISSING_ARGUMENT",
            "Missing argument: q. A search string is required.",
        )
    })?;
    let term = SearchTerm::parse(&q).map_err(|e| term_error(&q, e))?;
    let scope = match param("in") {
        None => Scope::All,
        Some(name) => Scope::parse(&name)
            .ok_or_else(|| invalid_search(format!("Invalid value for parameter 'in': {name}")))?,
    };
    let default_fields = param("fields");
    let number = |name: &str| -> Result<Option<usize>, ApiError> {
        param(name)
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| invalid_search(format!("Invalid value for {name}: {v}")))
            })
            .transpose()
    };
    let mut returning = Vec::new();
    for (_, object) in params.iter().filter(|(k, _)| k == "sobject") {
        returning.push(Returning {
            object: object.clone(),
            fields: param(&format!("{object}.fields")).or_else(|| default_fields.clone()),
            where_clause: param(&format!("{object}.where")),
            order_by: param(&format!("{object}.orderBy")),
            limit: number(&format!("{object}.limit"))?,
            offset: None,
        });
    }
    Ok(Search {
        term,
        scope,
        returning,
        limit: number("overallLimit")?,
    })
}

/// The fields of an object the scope searches.
fn scoped_fields(object: &ObjectDef, scope: Scope) -> Vec<&FieldDef> {
    object
        .fields
        .iter()
        .filter(|f| !f.hidden && !f.calculated)
        .filter(|f| match scope {
            Scope::Name => f.name_field,
            Scope::Email => f.field_type == FieldType::Email,
            Scope::Phone => f.field_type == FieldType::Phone,
            // Ids, lookups and picklists are not in the search index.
            Scope::All => matches!(
                f.field_type,
                FieldType::String
                    | FieldType::TextArea
                    | FieldType::Email
                    | FieldType::Phone
                    | FieldType::Url
                    | FieldType::Combobox
            ),
        })
        .collect()
}

/// Every searchable object, for a search without RETURNING.
fn searchable_objects(store: &Store, version: &str) -> Vec<Returning> {
    let global = store.describe_global(version);
    global["sobjects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["searchable"] == true)
        .filter_map(|e| e["name"].as_str())
        // An object that must be filtered on an Id (ContentDocumentLink) is not indexed.
        .filter(|name| {
            store
                .object(name)
                .is_some_and(|o| o.required_filter_fields.is_empty())
        })
        .map(|name| Returning {
            object: name.to_string(),
            fields: None,
            where_clause: None,
            order_by: None,
            limit: None,
            offset: None,
        })
        .collect()
}

fn run(store: &Store, version: &str, search: &Search) -> Result<Vec<Value>, ApiError> {
    let overall = search.limit.unwrap_or(MAX_SEARCH_ROWS).min(MAX_SEARCH_ROWS);
    let objects = if search.returning.is_empty() {
        searchable_objects(store, version)
    } else {
        search.returning.clone()
    };
    let mut rows = Vec::new();
    for returning in &objects {
        if rows.len() >= overall {
            break;
        }
        let found = run_object(store, version, search, returning, overall - rows.len())?;
        rows.extend(found);
    }
    Ok(rows)
}

/// One RETURNING entry: its SOQL, the term filter, then its OFFSET and LIMIT.
fn run_object(
    store: &Store,
    version: &str,
    search: &Search,
    returning: &Returning,
    room: usize,
) -> Result<Vec<Value>, ApiError> {
    let object = store
        .object(&returning.object)
        .filter(|o| o.queryable)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_TYPE",
                format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                    returning.object
                ),
            )
        })?;
    let mut soql = format!(
        "SELECT {} FROM {}",
        returning.fields.as_deref().unwrap_or("Id"),
        object.name
    );
    if let Some(filter) = &returning.where_clause {
        soql.push_str(&format!(" WHERE {filter}"));
    }
    if let Some(order) = &returning.order_by {
        soql.push_str(&format!(" ORDER BY {order}"));
    }
    let opts = ExecOptions {
        include_deleted: false,
        api_version: version,
    };
    let execution = soql::execute(&soql, store, &opts)?;
    let fields = scoped_fields(object, search.scope);
    let limit = returning.limit.unwrap_or(usize::MAX).min(room);
    let ids: Vec<String> = execution
        .ids
        .iter()
        .filter(|id| {
            store
                .record_by_id(id)
                .is_some_and(|(_, row)| search.term.matches(&store.record(row), &fields))
        })
        .skip(returning.offset.unwrap_or(0))
        .take(limit)
        .cloned()
        .collect();
    Ok(execution.project(store, &opts, &ids))
}
