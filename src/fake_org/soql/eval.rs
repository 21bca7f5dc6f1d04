//! Running a [`Plan`]: reading field values through relationships, filtering, sorting,
//! and building rows in the wire shape.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::ast::{CompareOp, LikePart};
use super::plan::{split_multipicklist, Column, Cond, Operand, Plan, ResolvedField, SortSpec};
use super::ExecOptions;
use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef, RowRef};

static NULL: Value = Value::Null;

/// Length of the stored datetime form `2024-01-15T10:30:00.000+0000`.
const CANONICAL_DATETIME_LEN: usize = 28;

/// A datetime in the form Salesforce returns (UTC, milliseconds, `+0000`).
pub fn canonical_datetime(datetime: &DateTime<Utc>) -> String {
    datetime.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// A stored datetime in the canonical fixed-width form, so that string order is time
/// order; values already in that form are borrowed.
fn canonical_stored_datetime(stored: &str) -> Option<Cow<'_, str>> {
    let b = stored.as_bytes();
    if b.len() == CANONICAL_DATETIME_LEN
        && stored.ends_with("+0000")
        && b[10] == b'T'
        && b[19] == b'.'
    {
        return Some(Cow::Borrowed(stored));
    }
    DateTime::parse_from_str(stored, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(stored))
        .ok()
        .map(|dt| Cow::Owned(canonical_datetime(&dt.with_timezone(&Utc))))
}

fn is_deleted(ds: &dyn DataSource, row: RowRef) -> bool {
    ds.value(row, "IsDeleted").as_bool() == Some(true)
}

/// An archived activity (Task, Event): like a deleted row, only queryAll returns it, in a
/// top-level query or a subquery alike.
fn is_archived(ds: &dyn DataSource, object: &ObjectDef, row: RowRef) -> bool {
    crate::fake_org::store::ARCHIVING_OBJECTS.contains(&object.name.as_str())
        && ds.value(row, "IsArchived").as_bool() == Some(true)
}

/// The Id of a row as text (empty when it has none).
pub fn row_id(ds: &dyn DataSource, row: RowRef) -> String {
    match ds.value(row, "Id") {
        Value::String(id) => id,
        _ => String::new(),
    }
}

/// The value of a (possibly related) field for a record; null when a lookup on the way
/// is empty or dangling.
pub fn field_value<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    record: RowRef,
    field: &ResolvedField,
) -> Cow<'a, Value> {
    let mut object = object;
    let mut record = record;
    for hop in &field.hops {
        let Value::String(id) = ds.value(record, &hop.reference_field) else {
            return Cow::Borrowed(&NULL);
        };
        let Some((target_object, target)) = ds.record_by_id(&id) else {
            return Cow::Borrowed(&NULL);
        };
        object = target_object;
        record = target;
    }
    leaf_value(ds, object, record, &field.field, field.behind_polymorphic())
}

/// A field of `record` itself. Behind a polymorphic lookup `field` is a `Name`
/// pseudo-field: its value is read from the real target, and `Type` is the target's type.
fn leaf_value<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    record: RowRef,
    field: &FieldDef,
    polymorphic: bool,
) -> Cow<'a, Value> {
    if polymorphic {
        if field.name == "Type" {
            // Name.Type is the target's kind: a Group that is a queue reports "Queue".
            if object.name == "Group" {
                let kind = match ds.value(record, "Type") {
                    Value::String(kind) => kind,
                    _ => "Queue".to_string(),
                };
                return Cow::Owned(Value::String(kind));
            }
            return Cow::Owned(Value::String(object.name.clone()));
        }
        return match object.field(&field.name) {
            Some(real) => stored_or_formula(ds, object, record, real),
            None => Cow::Borrowed(&NULL),
        };
    }
    stored_or_formula(ds, object, record, field)
}

fn stored_or_formula<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    record: RowRef,
    field: &FieldDef,
) -> Cow<'a, Value> {
    if field.calculated {
        return Cow::Owned(ds.formula(object, field, record));
    }
    Cow::Owned(ds.value(record, &field.name))
}

/// The rows of `object` that `plan` selects, filtered, sorted and cut by OFFSET/LIMIT.
pub fn select_rows<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    plan: &Plan,
    include_deleted: bool,
) -> Vec<RowRef> {
    match indexed_candidates(ds, object, plan) {
        Some(candidates) => finish(ds, object, plan, include_deleted, candidates.into_iter()),
        None => finish(ds, object, plan, include_deleted, ds.records(&object.name)),
    }
}

/// The children of one parent that a subquery selects.
pub fn child_rows<'a>(
    ds: &'a dyn DataSource,
    child: &'a ObjectDef,
    parent_field: &str,
    parent_id: &str,
    plan: &Plan,
    include_deleted: bool,
) -> Vec<RowRef> {
    let children = ds.children(&child.name, parent_field, parent_id);
    finish(ds, child, plan, include_deleted, children.into_iter())
}

/// When the WHERE clause requires `Id` or a lookup field to be one of a few Ids, the
/// matching records come from the store's indexes instead of a full scan. Candidates then
/// follow the order the Ids were written in, not insertion order.
fn indexed_candidates<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    plan: &Plan,
) -> Option<Vec<RowRef>> {
    let conjuncts = match plan.filter.as_ref()? {
        Cond::And(terms) => terms.as_slice(),
        single => std::slice::from_ref(single),
    };
    for cond in conjuncts {
        let Cond::IdIn {
            field,
            negated: false,
            ordered,
            matches_null: false,
            ..
        } = cond
        else {
            continue;
        };
        if !field.hops.is_empty() || field.field.calculated {
            continue;
        }
        match field.field.field_type {
            FieldType::Id => {
                let mut found = Vec::with_capacity(ordered.len());
                for id in ordered {
                    match ds.record_by_id(id) {
                        Some((owner, record)) if owner.name == object.name => found.push(record),
                        // A view object (CaseFeed) is stored as another (FeedItem): whether
                        // the row belongs to the view only a scan can tell.
                        Some((owner, _)) if owner.key_prefix == object.key_prefix => return None,
                        _ => {}
                    }
                }
                return Some(found);
            }
            FieldType::Reference => {
                return Some(
                    ordered
                        .iter()
                        .flat_map(|id| ds.children(&object.name, &field.field.name, id))
                        .collect(),
                )
            }
            _ => {}
        }
    }
    None
}

fn finish<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    plan: &Plan,
    include_deleted: bool,
    candidates: impl Iterator<Item = RowRef>,
) -> Vec<RowRef> {
    let mut rows: Vec<RowRef> = candidates
        .filter(|&record| {
            include_deleted || !(is_deleted(ds, record) || is_archived(ds, object, record))
        })
        .filter(|&record| {
            plan.filter
                .as_ref()
                .is_none_or(|cond| matches(ds, object, record, cond))
        })
        .collect();
    if !plan.order.is_empty() {
        rows = sort_rows(ds, object, rows, &plan.order);
    }
    let offset = usize::try_from(plan.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = plan
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    if offset > 0 || limit < rows.len() {
        rows = rows.into_iter().skip(offset).take(limit).collect();
    }
    rows
}

fn matches(ds: &dyn DataSource, object: &ObjectDef, record: RowRef, cond: &Cond) -> bool {
    match cond {
        Cond::And(terms) => terms.iter().all(|t| matches(ds, object, record, t)),
        Cond::Or(terms) => terms.iter().any(|t| matches(ds, object, record, t)),
        Cond::Not(inner) => !matches(ds, object, record, inner),
        Cond::Compare { field, op, value } => {
            let actual = field_value(ds, object, record, field);
            compare(&actual, *op, value, &field.field)
        }
        Cond::Like { field, pattern } => field_value(ds, object, record, field)
            .as_str()
            .is_some_and(|s| like_matches(s, pattern)),
        Cond::In {
            field,
            negated,
            values,
            text_set,
        } => {
            let actual = field_value(ds, object, record, field);
            let hit = match (text_set, actual.as_str()) {
                (Some(set), Some(text)) if text.is_ascii() => {
                    set.contains(text.to_ascii_lowercase().as_str())
                }
                (Some(set), Some(text)) => set.contains(text.to_lowercase().as_str()),
                (Some(_), None) => false,
                (None, _) => values
                    .iter()
                    .any(|v| compare(&actual, CompareOp::Eq, v, &field.field)),
            };
            hit != *negated
        }
        Cond::IdIn {
            field,
            negated,
            set,
            matches_null,
            ..
        } => {
            let actual = field_value(ds, object, record, field);
            let hit = match actual.as_str() {
                None => *matches_null,
                Some(id) if id.len() == 18 => set.contains(id),
                Some(id) => super::plan::normalize_id(id).is_some_and(|n| set.contains(&n)),
            };
            hit != *negated
        }
        Cond::Includes {
            field,
            excludes,
            sets,
        } => {
            let actual = field_value(ds, object, record, field);
            let Some(selected) = actual.as_str() else {
                return *excludes;
            };
            let selected = split_multipicklist(selected);
            let any = sets
                .iter()
                .any(|wanted| wanted.iter().all(|w| selected.contains(w)));
            any != *excludes
        }
    }
}

/// SOQL comparison: text compares case-insensitively, `!=` is true for null values, and
/// ordering comparisons with null are false.
fn compare(actual: &Value, op: CompareOp, operand: &Operand, field: &FieldDef) -> bool {
    if *operand == Operand::Null {
        return match op {
            CompareOp::Eq => actual.is_null(),
            CompareOp::Ne => !actual.is_null(),
            _ => false,
        };
    }
    if actual.is_null() {
        return op == CompareOp::Ne;
    }
    if let Operand::Range(start, end) = operand {
        let Some(value) = ordered_text(actual, field) else {
            return op == CompareOp::Ne;
        };
        let value = value.as_ref();
        let inside = start.as_str() <= value && value < end.as_str();
        return match op {
            CompareOp::Eq => inside,
            CompareOp::Ne => !inside,
            CompareOp::Lt => value < start.as_str(),
            CompareOp::Le => value < end.as_str(),
            CompareOp::Gt => value >= end.as_str(),
            CompareOp::Ge => value >= start.as_str(),
        };
    }
    if let (Operand::Text(t), CompareOp::Eq | CompareOp::Ne) = (operand, op) {
        return match actual.as_str() {
            Some(a) => eq_folded(a, t) == (op == CompareOp::Eq),
            None => op == CompareOp::Ne,
        };
    }
    let ordering = match operand {
        Operand::Bool(b) => actual.as_bool().map(|a| a.cmp(b)),
        Operand::Number(n) => actual.as_f64().and_then(|a| a.partial_cmp(n)),
        Operand::Text(t) => actual.as_str().map(|a| cmp_folded(a, t)),
        Operand::Ordered(o) => ordered_text(actual, field).map(|a| a.as_ref().cmp(o.as_str())),
        Operand::Null | Operand::Range(..) => None,
    };
    match ordering {
        None => op == CompareOp::Ne,
        Some(ordering) => match op {
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::Ne => ordering != Ordering::Equal,
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::Le => ordering != Ordering::Greater,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::Ge => ordering != Ordering::Less,
        },
    }
}

/// A date, datetime or Id value as a string whose order is the value's order.
fn ordered_text<'v>(value: &'v Value, field: &FieldDef) -> Option<Cow<'v, str>> {
    let s = value.as_str()?;
    if field.field_type == FieldType::DateTime {
        canonical_stored_datetime(s)
    } else {
        Some(Cow::Borrowed(s))
    }
}

/// Compares `s` case-insensitively with `lower`, which is already lower-cased.
fn cmp_folded(s: &str, lower: &str) -> Ordering {
    if s.is_ascii() {
        s.bytes().map(|b| b.to_ascii_lowercase()).cmp(lower.bytes())
    } else {
        s.chars().flat_map(char::to_lowercase).cmp(lower.chars())
    }
}

/// Case-insensitive equality with an already lower-cased `lower`; the ASCII path uses
/// std's (optimised) comparison since this runs once per row in full scans.
fn eq_folded(s: &str, lower: &str) -> bool {
    if s.is_ascii() && lower.is_ascii() {
        s.eq_ignore_ascii_case(lower)
    } else {
        s.to_lowercase() == lower
    }
}

/// LIKE with `%` (any run) and `_` (one character), case-insensitive; `pattern` is
/// already lower-cased. ASCII values are matched in place, others after lower-casing.
pub(super) fn like_matches(value: &str, pattern: &[LikePart]) -> bool {
    if value.is_ascii() {
        let bytes = value.as_bytes();
        wildcard_match(
            bytes.len(),
            |i| char::from(bytes[i].to_ascii_lowercase()),
            pattern,
        )
    } else {
        let text: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
        wildcard_match(text.len(), |i| text[i], pattern)
    }
}

/// Greedy wildcard matching with one backtrack point (the last `%`): O(text × pattern)
/// at worst, no recursion.
fn wildcard_match(len: usize, char_at: impl Fn(usize) -> char, pattern: &[LikePart]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < len {
        let step = match pattern.get(p) {
            Some(LikePart::AnyOne) => true,
            Some(LikePart::Char(c)) => *c == char_at(t),
            _ => false,
        };
        if step {
            t += 1;
            p += 1;
        } else if pattern.get(p) == Some(&LikePart::AnyMany) {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|part| *part == LikePart::AnyMany)
}

enum SortKey<'a> {
    Null,
    Bool(bool),
    Number(f64),
    /// Compared byte-wise: Ids, dates, canonical datetimes.
    Raw(Cow<'a, str>),
    /// Text, lower-cased: Salesforce sorts text case-insensitively.
    Folded(String),
    /// A picklist value: Salesforce sorts picklists in their defined value order, values
    /// not in the list after the defined ones.
    Picklist(usize, String),
    Other,
}

fn sort_key<'a>(value: Cow<'a, Value>, field: &FieldDef) -> SortKey<'a> {
    let text: Cow<'a, str> = match value {
        Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => return SortKey::Null,
        Cow::Borrowed(Value::Bool(b)) => return SortKey::Bool(*b),
        Cow::Owned(Value::Bool(b)) => return SortKey::Bool(b),
        Cow::Borrowed(Value::Number(n)) => return SortKey::Number(n.as_f64().unwrap_or(0.0)),
        Cow::Owned(Value::Number(n)) => return SortKey::Number(n.as_f64().unwrap_or(0.0)),
        Cow::Borrowed(Value::String(s)) => Cow::Borrowed(s.as_str()),
        Cow::Owned(Value::String(s)) => Cow::Owned(s),
        _ => return SortKey::Other,
    };
    match field.field_type {
        FieldType::Id | FieldType::Reference | FieldType::Date | FieldType::Time => {
            SortKey::Raw(text)
        }
        FieldType::DateTime => match canonical_stored_datetime(&text) {
            Some(Cow::Owned(canonical)) => SortKey::Raw(Cow::Owned(canonical)),
            Some(Cow::Borrowed(_)) => SortKey::Raw(text),
            None => SortKey::Null,
        },
        FieldType::Picklist if !field.picklist_values.is_empty() => {
            let rank = field
                .picklist_values
                .iter()
                .position(|v| v.as_str() == text.as_ref())
                .unwrap_or(field.picklist_values.len());
            SortKey::Picklist(rank, text.to_lowercase())
        }
        _ => SortKey::Folded(text.to_lowercase()),
    }
}

fn compare_keys(a: &SortKey, b: &SortKey, spec: &SortSpec) -> Ordering {
    let nulls = |null_is_a: bool| {
        // The null goes first or last whatever the direction.
        if spec.nulls_first == null_is_a {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    };
    let ordering = match (a, b) {
        (SortKey::Null, SortKey::Null) => return Ordering::Equal,
        (SortKey::Null, _) => return nulls(true),
        (_, SortKey::Null) => return nulls(false),
        (SortKey::Bool(x), SortKey::Bool(y)) => x.cmp(y),
        (SortKey::Number(x), SortKey::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (SortKey::Raw(x), SortKey::Raw(y)) => x.cmp(y),
        (SortKey::Folded(x), SortKey::Folded(y)) => x.cmp(y),
        (SortKey::Picklist(x, a), SortKey::Picklist(y, b)) => x.cmp(y).then_with(|| a.cmp(b)),
        _ => Ordering::Equal,
    };
    if spec.descending {
        ordering.reverse()
    } else {
        ordering
    }
}

/// Stable sort: rows with equal keys keep their incoming order. Keys are computed once
/// per row into one flat vector (no allocation per row), and an index vector is sorted,
/// which keeps the comparator cheap in debug builds of this crate.
fn sort_rows<'a>(
    ds: &'a dyn DataSource,
    object: &'a ObjectDef,
    rows: Vec<RowRef>,
    order: &[SortSpec],
) -> Vec<RowRef> {
    let width = order.len();
    let mut keys: Vec<SortKey<'a>> = Vec::with_capacity(rows.len() * width);
    for &record in &rows {
        for spec in order {
            keys.push(sort_key(
                field_value(ds, object, record, &spec.field),
                &spec.field.field,
            ));
        }
    }
    let mut positions: Vec<usize> = (0..rows.len()).collect();
    positions.sort_by(|&a, &b| {
        let (a_keys, b_keys) = (&keys[a * width..][..width], &keys[b * width..][..width]);
        for i in 0..width {
            let ordering = compare_keys(&a_keys[i], &b_keys[i], &order[i]);
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
    positions.into_iter().map(|p| rows[p]).collect()
}

/// One row in the wire shape: `attributes`, then the columns in SELECT order. Long on
/// purpose: one arm per column kind (a field, a parent path, a child subquery).
pub fn project_row(
    ds: &dyn DataSource,
    opts: &ExecOptions,
    object: &ObjectDef,
    record: RowRef,
    columns: &[Column],
    polymorphic: bool,
) -> Value {
    let id = row_id(ds, record);
    let id = id.as_str();
    // Sized up front: growing a map rehashes it, and a page builds thousands of them.
    let mut row = Map::with_capacity(columns.len() + 1);
    let mut attributes = Map::with_capacity(2);
    let type_name = if polymorphic { "Name" } else { &object.name };
    attributes.insert("type".into(), Value::String(type_name.to_string()));
    attributes.insert(
        "url".into(),
        Value::String(format!(
            "/services/data/v{}/sobjects/{}/{}",
            opts.api_version, object.name, id
        )),
    );
    row.insert("attributes".into(), Value::Object(attributes));
    for column in columns {
        match column {
            Column::Field(field) => {
                let value = leaf_value(ds, object, record, field, polymorphic).into_owned();
                let value = if field.field_type == FieldType::Base64 && !value.is_null() {
                    // Query results carry the blob's download URL, never its bytes.
                    Value::String(format!(
                        "/services/data/v{}/sobjects/{}/{}/{}",
                        opts.api_version, object.name, id, field.name
                    ))
                } else {
                    value
                };
                row.insert(field.name.clone(), value);
            }
            Column::Parent { hop, columns } => {
                let parent = ds
                    .value(record, &hop.reference_field)
                    .as_str()
                    .and_then(|parent_id| ds.record_by_id(parent_id));
                let value = match parent {
                    Some((parent_object, parent_record)) => project_row(
                        ds,
                        opts,
                        parent_object,
                        parent_record,
                        columns,
                        hop.polymorphic,
                    ),
                    None => Value::Null,
                };
                row.insert(hop.relationship.clone(), value);
            }
            Column::Subquery(sub) => {
                let value = match ds.object(&sub.plan.object) {
                    Some(child) if !id.is_empty() => {
                        let rows = child_rows(
                            ds,
                            child,
                            &sub.parent_field,
                            id,
                            &sub.plan,
                            opts.include_deleted,
                        );
                        if rows.is_empty() {
                            // Real orgs answer an empty subquery with null, not an empty list.
                            Value::Null
                        } else {
                            let records: Vec<Value> = rows
                                .iter()
                                .map(|&r| project_row(ds, opts, child, r, &sub.plan.columns, false))
                                .collect();
                            let mut result = Map::new();
                            result.insert("totalSize".into(), Value::from(records.len()));
                            result.insert("done".into(), Value::Bool(true));
                            result.insert("records".into(), Value::Array(records));
                            Value::Object(result)
                        }
                    }
                    _ => Value::Null,
                };
                row.insert(sub.relationship.clone(), value);
            }
        }
    }
    Value::Object(row)
}
