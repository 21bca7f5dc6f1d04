//! `GET .../query?q=...&columns=true`: the columns a query would return, without running it.
//! Tools (the Salesforce CLI, Workbench, the Developer Console) ask for this to lay out a
//! result grid. The query is checked against the schema as a real one would be, so a bad
//! field gets the same error, but no row is read and no query locator is opened.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::query::read_store;
use super::reply::ApiError;
use super::state::Shared;
use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef};
use crate::fake_org::soql::{self, Column, ExecOptions};
use crate::fake_org::store::Store;

/// The whole `columns=true` body: `columnMetadata`, `entityName`, `groupBy`, `idSelected`,
/// `keyPrefix`, in the order Salesforce sends them.
pub(super) fn query_columns(
    shared: &Shared,
    version: &str,
    soql_text: &str,
    include_deleted: bool,
) -> Result<Value, ApiError> {
    let opts = ExecOptions {
        include_deleted,
        api_version: version,
    };
    let store = read_store(shared);
    let checked = soql::check(soql_text, &*store, &opts)?;
    let object = DataSource::object(&*store, &checked.object).ok_or_else(ApiError::not_found)?;
    let mut describer = Describer {
        store: &store,
        version,
        base_url: &shared.base_url,
        writable: HashMap::new(),
    };
    let metadata: Vec<Value> = checked
        .columns
        .iter()
        .map(|column| describer.column(object, column, ""))
        .collect();
    let id_selected = checked
        .columns
        .iter()
        .any(|c| matches!(c, Column::Field(f) if f.name == "Id"));
    let key_prefix = (!object.key_prefix.is_empty()).then(|| object.key_prefix.clone());
    Ok(json!({
        "columnMetadata": metadata,
        "entityName": object.name,
        "groupBy": false,
        "idSelected": id_selected,
        "keyPrefix": key_prefix,
    }))
}

/// Builds column entries; remembers each object's createable/updateable flags from its
/// describe (the one place the store's write rules are published).
struct Describer<'a> {
    store: &'a Store,
    version: &'a str,
    base_url: &'a str,
    /// Object name to field name to (createable, updateable).
    writable: HashMap<String, HashMap<String, (bool, bool)>>,
}

impl Describer<'_> {
    fn flags(&mut self, object: &str, field: &str) -> (bool, bool) {
        let (store, version, base_url) = (self.store, self.version, self.base_url);
        let fields = self.writable.entry(object.to_string()).or_insert_with(|| {
            let describe = store.describe(object, version, base_url);
            let list = describe
                .as_ref()
                .and_then(|d| d.get("fields"))
                .and_then(Value::as_array);
            list.into_iter()
                .flatten()
                .filter_map(|f| {
                    let flag = |key: &str| f.get(key).and_then(Value::as_bool).unwrap_or(false);
                    Some((
                        f.get("name")?.as_str()?.to_string(),
                        (flag("createable"), flag("updateable")),
                    ))
                })
                .collect()
        });
        fields.get(field).copied().unwrap_or((false, false))
    }

    /// One entry; `prefix` is the dotted path of the parents above (`Owner.` for `Owner.Name`).
    fn column(&mut self, object: &ObjectDef, column: &Column, prefix: &str) -> Value {
        match column {
            Column::Field(field) => {
                let (insertable, updatable) = self.flags(&object.name, &field.name);
                entry(
                    field_entry(field, prefix, insertable, updatable),
                    Vec::new(),
                )
            }
            Column::Parent { hop, columns } => {
                // Behind a polymorphic lookup the columns belong to the `Name` pseudo-object,
                // which describes as not writable; otherwise to the lookup's one target.
                let target = (!hop.polymorphic)
                    .then(|| object.field(&hop.reference_field))
                    .flatten()
                    .and_then(|f| f.reference_to.first())
                    .and_then(|name| DataSource::object(self.store, name));
                let path = format!("{prefix}{}.", hop.relationship);
                let joins = columns
                    .iter()
                    .map(|c| match target {
                        Some(parent) => self.column(parent, c, &path),
                        None => self.unwritable_column(c, &path),
                    })
                    .collect();
                let head = relationship_entry(&hop.relationship, prefix, false);
                entry(head, joins)
            }
            Column::Subquery(sub) => {
                let child = DataSource::object(self.store, &sub.plan.object);
                let joins = sub
                    .plan
                    .columns
                    .iter()
                    .map(|c| match child {
                        Some(child) => self.column(child, c, ""),
                        None => self.unwritable_column(c, ""),
                    })
                    .collect();
                entry(relationship_entry(&sub.relationship, prefix, true), joins)
            }
        }
    }

    /// Columns of the `Name` pseudo-object behind a polymorphic lookup.
    fn unwritable_column(&mut self, column: &Column, prefix: &str) -> Value {
        match column {
            Column::Field(field) => entry(field_entry(field, prefix, false, false), Vec::new()),
            Column::Parent { hop, columns } => {
                let path = format!("{prefix}{}.", hop.relationship);
                let joins = columns
                    .iter()
                    .map(|c| self.unwritable_column(c, &path))
                    .collect();
                entry(relationship_entry(&hop.relationship, prefix, false), joins)
            }
            // Unreachable: SOQL allows subqueries only in the top-level SELECT list.
            Column::Subquery(_) => Value::Null,
        }
    }
}

/// Per-column keys without `joinColumns`, alphabetical as Salesforce sends them.
struct ColumnKeys {
    aggregate: bool,
    apex_type: Value,
    boolean_type: bool,
    column_name: String,
    custom: bool,
    display_name: String,
    insertable: bool,
    number_type: bool,
    text_type: bool,
    updatable: bool,
}

fn field_entry(field: &FieldDef, prefix: &str, insertable: bool, updatable: bool) -> ColumnKeys {
    ColumnKeys {
        aggregate: false,
        apex_type: Value::from(apex_type(field.field_type)),
        boolean_type: field.field_type == FieldType::Boolean,
        column_name: field.name.clone(),
        custom: field.custom,
        display_name: format!("{prefix}{}", field.name),
        insertable,
        number_type: matches!(
            field.field_type,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        ),
        text_type: field.field_type.is_text() && field.field_type != FieldType::Id,
        updatable,
    }
}

/// A parent relationship (`Owner`) or a child subquery (`Contacts`, `aggregate: true`).
fn relationship_entry(name: &str, prefix: &str, aggregate: bool) -> ColumnKeys {
    ColumnKeys {
        aggregate,
        apex_type: Value::Null,
        boolean_type: false,
        column_name: name.to_string(),
        custom: name.ends_with("__r"),
        display_name: format!("{prefix}{name}"),
        insertable: false,
        number_type: false,
        text_type: false,
        updatable: false,
    }
}

fn entry(keys: ColumnKeys, join_columns: Vec<Value>) -> Value {
    json!({
        "aggregate": keys.aggregate,
        "apexType": keys.apex_type,
        "booleanType": keys.boolean_type,
        "columnName": keys.column_name,
        "custom": keys.custom,
        "displayName": keys.display_name,
        "foreignKeyName": null,
        "insertable": keys.insertable,
        "joinColumns": join_columns,
        "numberType": keys.number_type,
        "textType": keys.text_type,
        "updatable": keys.updatable,
    })
}

/// The Apex type a field's values have, as `apexType` names it.
fn apex_type(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Id | FieldType::Reference => "Id",
        FieldType::Boolean => "Boolean",
        FieldType::Int => "Integer",
        FieldType::Double => "Double",
        // Currency and percent fields are fixed-point in Apex.
        FieldType::Currency | FieldType::Percent => "Decimal",
        FieldType::Date => "Date",
        FieldType::DateTime => "Datetime",
        FieldType::Time => "Time",
        FieldType::Address => "Address",
        FieldType::Base64 => "Blob",
        // The rest are the text types ([`FieldType::is_text`]): strings in Apex.
        _ => "String",
    }
}
