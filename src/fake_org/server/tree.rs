//! `POST .../composite/tree/{sobject}`: sObject trees, the resource `sf data import tree`
//! sends. Root records of the URL's object, each with `attributes {type, referenceId}`,
//! children nested under a child relationship name (`"Contacts": {"records": [...]}`).
//!
//! All or nothing, as on a real org: every record is created through the same
//! [`Store::create`] as `POST .../sobjects/{name}`, roots first and then each level of
//! children (whose lookup to the parent is filled in), and the first failure rolls every
//! record of the request back and answers 400 `hasErrors: true` with that record's
//! reference and errors. Success is 201 with each reference and its new Id in creation
//! order (the order the docs show: all roots, then their children).
//!
//! The rollback restores a copy of the store taken before the first insert: cheap next to
//! the fake's data sizes, and the only way to undo an insert completely (a delete would
//! leave the records in the recycle bin, where queryAll sees them).

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{json, Map, Value};

use super::dispatch::{json_object, write_store, Incoming};
use super::reply::{ApiError, Reply};
use super::state::Shared;
use crate::fake_org::model::DataSource;
use crate::fake_org::store::Store;

/// Salesforce's documented limits for one request: 200 records in all, of at most five
/// object types, nested at most five levels deep.
pub const MAX_TREE_RECORDS: usize = 200;
const MAX_TREE_TYPES: usize = 5;
const MAX_TREE_DEPTH: usize = 5;

/// One record of the request, flattened.
struct Node {
    reference_id: String,
    object: String,
    fields: Map<String, Value>,
    /// The parent's position in the flattened list and the lookup field pointing at it.
    parent: Option<(usize, String)>,
}

/// A record refused with the reason: one entry of a `hasErrors: true` answer.
struct Refusal {
    reference_id: String,
    error: ApiError,
}

pub(super) fn route(shared: &Shared, req: &Incoming, object: &str) -> Result<Reply, ApiError> {
    if req.method != "POST" {
        return Err(ApiError::method_not_allowed(&req.method, &["POST"]));
    }
    let body = json_object(&req.body)?;
    let records = body
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_input("The request body must hold a records array."))?;
    let mut store = write_store(shared);
    let root_type = store
        .object(object)
        .map(|o| o.name.clone())
        .ok_or_else(ApiError::not_found)?;
    let nodes = match flatten(&store, &root_type, records) {
        Ok(nodes) => nodes,
        Err(refusals) => return Ok(failure(refusals)),
    };
    check_sizes(&nodes)?;
    match insert_all(&mut store, &nodes) {
        Ok(ids) => {
            let results: Vec<Value> = nodes
                .iter()
                .zip(ids)
                .map(|(node, id)| json!({"referenceId": node.reference_id, "id": id}))
                .collect();
            Ok(Reply::json(
                201,
                json!({"hasErrors": false, "results": results}),
            ))
        }
        Err(refusal) => Ok(failure(vec![refusal])),
    }
}

fn invalid_input(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "INVALID_INPUT", message)
}

fn failure(refusals: Vec<Refusal>) -> Reply {
    let results: Vec<Value> = refusals
        .into_iter()
        .map(|r| {
            json!({
                "referenceId": r.reference_id,
                "errors": [{
                    "statusCode": r.error.error_code,
                    "message": r.error.message,
                    "fields": r.error.fields,
                }],
            })
        })
        .collect();
    Reply::json(400, json!({"hasErrors": true, "results": results}))
}

fn check_sizes(nodes: &[Node]) -> Result<(), ApiError> {
    if nodes.len() > MAX_TREE_RECORDS {
        return Err(ApiError::new(
            400,
            "LIMIT_EXCEEDED",
            format!(
                "An sObject tree request holds at most {MAX_TREE_RECORDS} records; this one has {}.",
                nodes.len()
            ),
        ));
    }
    let types: HashSet<&str> = nodes.iter().map(|n| n.object.as_str()).collect();
    if types.len() > MAX_TREE_TYPES {
        return Err(ApiError::new(
            400,
            "LIMIT_EXCEEDED",
            format!("An sObject tree request holds records of at most {MAX_TREE_TYPES} object types; this one has {}.", types.len()),
        ));
    }
    Ok(())
}

/// One record waiting to be flattened: its JSON, the type it must have, its parent and depth.
struct Pending<'a> {
    value: &'a Value,
    object: String,
    parent: Option<(usize, String)>,
    depth: usize,
}

/// The records level by level (roots first), each checked for its attributes; every
/// refusal is collected, as a real org reports each bad reference at once.
fn flatten(store: &Store, root_type: &str, records: &[Value]) -> Result<Vec<Node>, Vec<Refusal>> {
    let mut queue: VecDeque<Pending> = records
        .iter()
        .map(|value| Pending {
            value,
            object: root_type.to_string(),
            parent: None,
            depth: 1,
        })
        .collect();
    let mut nodes = Vec::new();
    let mut refusals = Vec::new();
    while let Some(pending) = queue.pop_front() {
        let (reference_id, fields) = match checked_record(&pending) {
            Ok(found) => found,
            Err(refusal) => {
                refusals.push(refusal);
                continue;
            }
        };
        let position = nodes.len();
        let mut own_fields = Map::new();
        for (key, value) in fields.iter().filter(|(k, _)| *k != "attributes") {
            let relationship = store
                .object(&pending.object)
                .and_then(|o| o.child_relationship(key))
                .filter(|_| value.get("records").is_some_and(Value::is_array));
            let Some(relationship) = relationship else {
                own_fields.insert(key.clone(), value.clone());
                continue;
            };
            if pending.depth >= MAX_TREE_DEPTH {
                refusals.push(Refusal {
                    reference_id: reference_id.clone(),
                    error: invalid_input(format!(
                        "An sObject tree nests at most {MAX_TREE_DEPTH} levels of records."
                    )),
                });
                continue;
            }
            for child in value["records"].as_array().into_iter().flatten() {
                queue.push_back(Pending {
                    value: child,
                    object: relationship.child_object.clone(),
                    parent: Some((position, relationship.field.clone())),
                    depth: pending.depth + 1,
                });
            }
        }
        nodes.push(Node {
            reference_id,
            object: pending.object,
            fields: own_fields,
            parent: pending.parent,
        });
    }
    refusals.extend(duplicate_references(&nodes));
    if refusals.is_empty() {
        Ok(nodes)
    } else {
        Err(refusals)
    }
}

/// The record's reference Id and its keys (`attributes` among them), once its
/// `attributes` are right.
fn checked_record<'a>(pending: &Pending<'a>) -> Result<(String, &'a Map<String, Value>), Refusal> {
    let fields = pending.value.as_object();
    let attributes = fields.and_then(|f| f.get("attributes"));
    let reference_id = attributes
        .and_then(|a| a.get("referenceId"))
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let refuse = |reference_id: String, message: String| Refusal {
        reference_id,
        error: invalid_input(message),
    };
    let Some(reference_id) = reference_id else {
        return Err(refuse(
            String::new(),
            "Include a reference ID for each record in the request (attributes.referenceId)."
                .into(),
        ));
    };
    let given_type = attributes
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    match (given_type, fields) {
        (Some(t), Some(fields)) if t.eq_ignore_ascii_case(&pending.object) => {
            Ok((reference_id, fields))
        }
        (Some(t), _) => Err(refuse(
            reference_id,
            format!(
                "The record type {t} doesn't match the expected type {}.",
                pending.object
            ),
        )),
        (None, _) => Err(refuse(
            reference_id,
            "Include a type for each record in the request (attributes.type).".into(),
        )),
    }
}

/// Every record whose reference Id another record also uses: one refusal per instance.
fn duplicate_references(nodes: &[Node]) -> Vec<Refusal> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for node in nodes {
        *uses.entry(node.reference_id.as_str()).or_default() += 1;
    }
    nodes
        .iter()
        .filter(|n| uses[n.reference_id.as_str()] > 1)
        .map(|n| Refusal {
            reference_id: n.reference_id.clone(),
            error: invalid_input(format!(
                "Duplicate ReferenceId provided in the request: {}",
                n.reference_id
            )),
        })
        .collect()
}

/// Creates the records in order, or restores the store and names the record that failed.
fn insert_all(store: &mut Store, nodes: &[Node]) -> Result<Vec<String>, Refusal> {
    let before = store.clone();
    let mut ids: Vec<String> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let mut fields = node.fields.clone();
        if let Some((parent, lookup)) = &node.parent {
            fields.insert(lookup.clone(), Value::String(ids[*parent].clone()));
        }
        match store.create(&node.object, &fields) {
            Ok(id) => ids.push(id),
            Err(err) => {
                *store = before;
                return Err(Refusal {
                    reference_id: node.reference_id.clone(),
                    error: err.into(),
                });
            }
        }
    }
    Ok(ids)
}
