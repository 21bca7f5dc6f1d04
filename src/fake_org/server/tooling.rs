//! `GET .../tooling/query?q=`: the Tooling API's query, for the objects clients ask a
//! production org about. It runs through the same SOQL engine as `/query`, over a small
//! [`DataSource`] of tooling objects built from the store's schema:
//!
//! - `CustomObject`: one row per custom object, `CustomField`: one per custom field (of
//!   standard objects too; `TableEnumOrId` is the object's name for a standard object and
//!   the CustomObject's Id for a custom one, as on a real org);
//! - `ApexClass`, `ApexTrigger`, `ApexPage`: no rows, as in a production org without code.
//!
//! Any other object (`SourceMember` among them: it exists only in orgs with source
//! tracking, never in production) is INVALID_TYPE, as a production org answers. Every
//! row fits one page: the fake's tooling rows number a few hundred, under the 2,000 of a
//! page, so there is never a `nextRecordsUrl`.

use serde_json::{json, Map, Value};

use super::dispatch::Incoming;
use super::query::read_store;
use super::reply::{ApiError, Reply};
use super::state::Shared;
use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef, Record, RowRef};
use crate::fake_org::soql::{self, ExecOptions};
use crate::fake_org::store::Store;
use crate::sfid;

/// The pod part of the store's Ids, so tooling Ids look like the org's own.
const ID_POD: &str = "8d0";
/// When the fake's metadata was "deployed": a fixed instant keeps answers deterministic.
const METADATA_STAMP: &str = "2024-01-02T03:04:05.000+0000";

pub(super) fn route(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    match rest {
        ["query"] => {
            if req.method != "GET" {
                return Err(ApiError::method_not_allowed(&req.method, &["GET", "HEAD"]));
            }
            let q = req
                .param("q")
                .filter(|q| !q.trim().is_empty())
                .ok_or_else(|| {
                    ApiError::new(400, "MALFORMED_QUERY", "A query string has to be specified")
                })?;
            let tooling = ToolingOrg::build(&read_store(shared));
            query(&tooling, version, &q).map(Reply::ok)
        }
        _ => Err(ApiError::not_found()),
    }
}

fn query(tooling: &ToolingOrg, version: &str, q: &str) -> Result<Value, ApiError> {
    let opts = ExecOptions {
        include_deleted: false,
        api_version: version,
    };
    let execution = soql::execute(q, tooling, &opts)?;
    let mut records = if execution.is_count {
        Vec::new()
    } else {
        execution.project(tooling, &opts, &execution.ids)
    };
    // Tooling records live under `tooling/sobjects`, and their URLs say so.
    let plain = format!("/services/data/v{version}/sobjects/");
    let tooling_url = format!("/services/data/v{version}/tooling/sobjects/");
    for record in &mut records {
        if let Some(Value::String(url)) = record.pointer_mut("/attributes/url") {
            *url = url.replacen(&plain, &tooling_url, 1);
        }
    }
    Ok(json!({
        "size": execution.total_size,
        "totalSize": execution.total_size,
        "done": true,
        "queryLocator": null,
        "entityTypeName": execution.object,
        "records": records,
    }))
}

/// A field as the tooling objects declare them: filterable and sortable unless long text.
pub(super) fn plain_field(name: &str, field_type: FieldType) -> FieldDef {
    let long_text = field_type == FieldType::TextArea;
    FieldDef {
        name: name.to_string(),
        label: name.to_string(),
        field_type,
        length: match field_type {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::TextArea => 1_000_000,
            FieldType::String | FieldType::Picklist => 255,
            _ => 0,
        },
        reference_to: Vec::new(),
        relationship_name: None,
        nillable: !matches!(field_type, FieldType::Id | FieldType::Boolean),
        custom: false,
        calculated: false,
        filterable: !long_text,
        sortable: !long_text,
        compound_field_name: None,
        name_field: name == "Name",
        hidden: false,
        picklist_values: Vec::new(),
    }
}

/// Fields every tooling object here has, after its own.
const AUDIT_FIELDS: &[(&str, FieldType)] = &[
    ("NamespacePrefix", FieldType::String),
    ("ManageableState", FieldType::Picklist),
    ("CreatedDate", FieldType::DateTime),
    ("CreatedById", FieldType::Reference),
    ("LastModifiedDate", FieldType::DateTime),
    ("LastModifiedById", FieldType::Reference),
];

const CODE_FIELDS: &[(&str, FieldType)] = &[
    ("Name", FieldType::String),
    ("ApiVersion", FieldType::Double),
    ("Status", FieldType::Picklist),
    ("IsValid", FieldType::Boolean),
    ("BodyCrc", FieldType::Double),
    ("LengthWithoutComments", FieldType::Int),
    ("SystemModstamp", FieldType::DateTime),
];

fn object_def(name: &str, key_prefix: &str, own: &[&[(&str, FieldType)]]) -> ObjectDef {
    let mut fields = vec![plain_field("Id", FieldType::Id)];
    for (field, field_type) in own.iter().copied().flatten().chain(AUDIT_FIELDS) {
        fields.push(plain_field(field, *field_type));
    }
    ObjectDef {
        name: name.to_string(),
        label: name.to_string(),
        label_plural: format!("{name}s"),
        key_prefix: key_prefix.to_string(),
        custom: false,
        queryable: true,
        fields,
        child_relationships: Vec::new(),
        required_filter_fields: Vec::new(),
    }
}

fn schema() -> Vec<ObjectDef> {
    use FieldType as T;
    vec![
        object_def("ApexClass", "01p", &[CODE_FIELDS, &[("Body", T::TextArea)]]),
        object_def(
            "ApexTrigger",
            "01q",
            &[
                CODE_FIELDS,
                &[("TableEnumOrId", T::Picklist), ("Body", T::TextArea)],
            ],
        ),
        object_def(
            "ApexPage",
            "066",
            &[
                CODE_FIELDS,
                &[("MasterLabel", T::String), ("Markup", T::TextArea)],
            ],
        ),
        object_def(
            "CustomObject",
            "01I",
            &[&[("DeveloperName", T::String), ("Description", T::TextArea)]],
        ),
        object_def(
            "CustomField",
            "00N",
            &[&[
                ("DeveloperName", T::String),
                ("TableEnumOrId", T::String),
                ("Description", T::TextArea),
            ]],
        ),
    ]
}

/// The tooling objects and their rows, built from the store for one request.
/// Table numbers of the [`RowRef`]s this source hands out (they mean nothing to the store).
const CUSTOM_OBJECT_TABLE: u32 = 0;
const CUSTOM_FIELD_TABLE: u32 = 1;
/// ApexClass, ApexTrigger, ApexPage: a production org without code has none.
const NO_ROWS_TABLE: u32 = 2;

struct ToolingOrg {
    objects: Vec<ObjectDef>,
    custom_objects: Vec<Record>,
    custom_fields: Vec<Record>,
}

impl ToolingOrg {
    fn build(store: &Store) -> ToolingOrg {
        let user = store.integration_user_id().to_string();
        let global = store.describe_global(crate::fake_org::store::DEFAULT_API_VERSION);
        let names: Vec<&str> = global["sobjects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str())
            .collect();
        let mut custom_objects = Vec::new();
        let mut custom_fields = Vec::new();
        for object in names.iter().filter_map(|n| store.object(n)) {
            let table = if object.custom {
                let id = sfid::make_id("01I", ID_POD, custom_objects.len() as u64 + 1);
                let row = metadata_row(&id, &object.name, &user);
                custom_objects.push(row);
                id
            } else {
                object.name.clone()
            };
            for field in object.fields.iter().filter(|f| f.custom && !f.hidden) {
                let id = sfid::make_id("00N", ID_POD, custom_fields.len() as u64 + 1);
                let mut row = metadata_row(&id, &field.name, &user);
                row.insert("TableEnumOrId".into(), Value::String(table.clone()));
                custom_fields.push(row);
            }
        }
        ToolingOrg {
            objects: schema(),
            custom_objects,
            custom_fields,
        }
    }

    /// The rows of a tooling object and the table number its [`RowRef`]s carry.
    fn table(&self, object: &str) -> (u32, &[Record]) {
        if object.eq_ignore_ascii_case("CustomObject") {
            (CUSTOM_OBJECT_TABLE, &self.custom_objects)
        } else if object.eq_ignore_ascii_case("CustomField") {
            (CUSTOM_FIELD_TABLE, &self.custom_fields)
        } else {
            (NO_ROWS_TABLE, &[])
        }
    }

    fn row(&self, row: RowRef) -> Option<&Record> {
        let rows = match row.table {
            CUSTOM_OBJECT_TABLE => &self.custom_objects,
            CUSTOM_FIELD_TABLE => &self.custom_fields,
            _ => return None,
        };
        rows.get(row.row as usize)
    }
}

/// A CustomObject or CustomField row: `DeveloperName` is the API name without `__c`.
fn metadata_row(id: &str, api_name: &str, user: &str) -> Record {
    let mut row = Map::new();
    row.insert("Id".into(), Value::String(id.to_string()));
    let developer_name = api_name.strip_suffix("__c").unwrap_or(api_name);
    row.insert("DeveloperName".into(), developer_name.into());
    row.insert("NamespacePrefix".into(), Value::Null);
    row.insert("ManageableState".into(), "unmanaged".into());
    row.insert("Description".into(), Value::Null);
    for stamp in ["CreatedDate", "LastModifiedDate"] {
        row.insert(stamp.into(), METADATA_STAMP.into());
    }
    for by in ["CreatedById", "LastModifiedById"] {
        row.insert(by.into(), user.into());
    }
    row
}

impl DataSource for ToolingOrg {
    fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    fn records<'a>(&'a self, object: &str) -> Box<dyn Iterator<Item = RowRef> + 'a> {
        let (table, rows) = self.table(object);
        Box::new((0..rows.len() as u32).map(move |row| RowRef { table, row }))
    }

    fn record_by_id(&self, id: &str) -> Option<(&ObjectDef, RowRef)> {
        let id = sfid::to_18(id)?;
        ["CustomObject", "CustomField"]
            .into_iter()
            .find_map(|name| {
                let (table, rows) = self.table(name);
                let row = rows.iter().position(|r| r["Id"] == id.as_str())?;
                Some((
                    self.object(name)?,
                    RowRef {
                        table,
                        row: row as u32,
                    },
                ))
            })
    }

    fn children(&self, _: &str, _: &str, _: &str) -> Vec<RowRef> {
        // The tooling objects here have no child relationships.
        Vec::new()
    }

    fn value(&self, row: RowRef, field: &str) -> Value {
        self.row(row)
            .and_then(|record| record.get(field))
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn formula(&self, _: &ObjectDef, _: &FieldDef, _: RowRef) -> Value {
        // ... nor formula fields.
        Value::Null
    }
}
