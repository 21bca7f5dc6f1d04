//! The fake org's schema and record store as seen by the SOQL engine.
//!
//! The server (`fake_org::server`, `fake_org::data`) owns and mutates the data; the SOQL
//! engine (`fake_org::soql`) only reads it through [`DataSource`], by [`RowRef`] handles,
//! and gets field values as JSON in the wire format Salesforce returns (datetimes as
//! `2024-01-15T10:30:00.000+0000`, dates as `2024-01-15`, compound addresses as objects).
//! How rows are stored is the data source's business (the store keeps compact typed cells).

use serde_json::{Map, Value};

/// One record as a JSON map: field API name (canonical casing) to value, without the
/// `attributes` block. The store builds these for writes and tests; queries read single
/// values through [`DataSource::value`] instead.
pub type Record = Map<String, Value>;

/// A handle on one stored row, meaningful only to the [`DataSource`] that handed it out
/// (the store: storage table and row number). Copy-sized so that a scan moves no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowRef {
    pub table: u32,
    pub row: u32,
}

/// The describe `type` of a field, as Salesforce spells it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Id,
    Reference,
    String,
    TextArea,
    Email,
    Phone,
    Url,
    Picklist,
    MultiPicklist,
    Combobox,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    DateTime,
    Time,
    Address,
    Base64,
}

impl FieldType {
    /// The wire name used in describe's `type`.
    pub fn wire_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::String => "string",
            FieldType::TextArea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::MultiPicklist => "multipicklist",
            FieldType::Combobox => "combobox",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Time => "time",
            FieldType::Address => "address",
            FieldType::Base64 => "base64",
        }
    }

    /// Text-like types compare as strings and accept LIKE.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::Reference
                | FieldType::String
                | FieldType::TextArea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::MultiPicklist
                | FieldType::Combobox
        )
    }
}

/// A field of an object.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    /// Character length for text types; 18 for ids and references; 0 otherwise.
    pub length: u32,
    /// Target objects of a reference (several for polymorphic lookups such as Case.OwnerId).
    pub reference_to: Vec<String>,
    /// Name used to traverse a reference (`Owner` for `OwnerId`, `Account__r` for `Account__c`).
    pub relationship_name: Option<String>,
    pub nillable: bool,
    pub custom: bool,
    /// Formula field: its value is computed at query time by [`DataSource::formula`].
    pub calculated: bool,
    /// Long text areas are neither filterable nor sortable on a real org.
    pub filterable: bool,
    pub sortable: bool,
    /// The compound field this one belongs to (`BillingAddress` for `BillingStreet`).
    pub compound_field_name: Option<String>,
    /// True for the object's name field (`Name`, `CaseNumber`, `Subject`...).
    pub name_field: bool,
    /// Field-level security: a hidden field vanishes from describe and is INVALID_FIELD in SOQL.
    pub hidden: bool,
    pub picklist_values: Vec<String>,
}

/// A parent-to-child relationship usable in a subquery (`Contacts` on Account).
#[derive(Debug, Clone)]
pub struct ChildRelationshipDef {
    /// `None` for children that exist but cannot be used in subqueries.
    pub relationship_name: Option<String>,
    pub child_object: String,
    /// The reference field on the child that points at the parent.
    pub field: String,
    pub cascade_delete: bool,
}

/// An SObject type.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    /// A non-queryable object answers INVALID_TYPE-like errors in SOQL and `queryable:false` in describe.
    pub queryable: bool,
    pub fields: Vec<FieldDef>,
    pub child_relationships: Vec<ChildRelationshipDef>,
    /// When non-empty, a query must filter on one of these fields (ContentDocumentLink:
    /// LinkedEntityId, ContentDocumentId or Id), as on a real org.
    pub required_filter_fields: Vec<String>,
}

impl ObjectDef {
    /// Case-insensitive field lookup, skipping fields hidden by field-level security.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| !f.hidden && f.name.eq_ignore_ascii_case(name))
    }

    /// Case-insensitive lookup of a reference field by its relationship name.
    pub fn field_by_relationship(&self, relationship: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| {
            !f.hidden
                && f.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
        })
    }

    /// Case-insensitive lookup of a child relationship usable in a subquery.
    pub fn child_relationship(&self, relationship: &str) -> Option<&ChildRelationshipDef> {
        self.child_relationships.iter().find(|c| {
            c.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
        })
    }
}

/// Read access to the org's schema and records, for the SOQL engine.
pub trait DataSource {
    /// Case-insensitive object lookup.
    fn object(&self, name: &str) -> Option<&ObjectDef>;
    /// Every stored record of an object in insertion order, including soft-deleted ones
    /// (`IsDeleted: true`); the engine drops those unless the query is a queryAll.
    fn records<'a>(&'a self, object: &str) -> Box<dyn Iterator<Item = RowRef> + 'a>;
    /// Any record by 18-character Id, with the object it belongs to.
    fn record_by_id(&self, id: &str) -> Option<(&ObjectDef, RowRef)>;
    /// Records of `child_object` whose reference `field` equals `parent_id`
    /// (soft-deleted ones included, as with [`DataSource::records`]).
    fn children(&self, child_object: &str, field: &str, parent_id: &str) -> Vec<RowRef>;
    /// The stored value of a field (canonical name) of a row; null when unset or unknown.
    fn value(&self, row: RowRef, field: &str) -> Value;
    /// The value of a formula field (`calculated: true`) for a record, computed now.
    fn formula(&self, object: &ObjectDef, field: &FieldDef, row: RowRef) -> Value;
}
