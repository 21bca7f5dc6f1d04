//! describeGlobal and sObject describe bodies, as serde types that accept what real orgs send:
//! unknown keys are ignored, keys that may be null or absent default.

use serde::{Deserialize, Deserializer};

/// `null` and a missing key both give the type's default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `GET /services/data/vNN.N/sobjects`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeGlobal {
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub max_batch_size: Option<u64>,
    #[serde(default, deserialize_with = "null_default")]
    pub sobjects: Vec<GlobalSObject>,
}

impl DescribeGlobal {
    /// The entry for `name`, compared case-insensitively as Salesforce does.
    pub fn find(&self, name: &str) -> Option<&GlobalSObject> {
        self.sobjects
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// Whether `name` exists and may be queried.
    pub fn is_queryable(&self, name: &str) -> bool {
        self.find(name).is_some_and(|s| s.queryable)
    }
}

/// One object of describeGlobal.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalSObject {
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub label: String,
    #[serde(default)]
    pub label_plural: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub custom: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub custom_setting: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub queryable: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub retrieveable: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub deprecated_and_hidden: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub feed_enabled: bool,
    #[serde(default)]
    pub associate_entity_type: Option<String>,
    #[serde(default)]
    pub associate_parent_entity: Option<String>,
}

/// `GET /services/data/vNN.N/sobjects/{name}/describe`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub label: String,
    #[serde(default)]
    pub label_plural: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub custom: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub custom_setting: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub queryable: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub feed_enabled: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<FieldDescribe>,
    #[serde(default, deserialize_with = "null_default")]
    pub child_relationships: Vec<ChildRelationship>,
}

impl SObjectDescribe {
    /// The field named `name`, compared case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The field whose relationship name is `relationship` (`Owner` → `OwnerId`).
    pub fn relationship(&self, relationship: &str) -> Option<&FieldDescribe> {
        self.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
        })
    }

    /// The child relationship usable in a subquery under `name` (`Feeds`, `ContentDocumentLinks`).
    pub fn child_relationship(&self, name: &str) -> Option<&ChildRelationship> {
        self.child_relationships.iter().find(|c| {
            !c.deprecated_and_hidden
                && c.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
    }

    /// Fields a query may select: present, not hidden, and not base64 (a base64 field
    /// limits a query to one row; file bodies are fetched on their own).
    pub fn selectable_fields(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| !f.deprecated_and_hidden && f.field_type != "base64")
            .map(|f| f.name.clone())
            .collect()
    }

    /// The field flagged `nameField` (Name, CaseNumber, Subject...).
    pub fn name_field(&self) -> Option<&FieldDescribe> {
        self.fields.iter().find(|f| f.name_field)
    }
}

/// One entry of a describe's `fields`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub label: String,
    /// The wire type: `id`, `string`, `reference`, `address`, `base64`, `datetime`...
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub field_type: String,
    #[serde(default)]
    pub soap_type: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub length: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub byte_length: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub custom: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub calculated: bool,
    #[serde(default)]
    pub calculated_formula: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub auto_number: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub nillable: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub filterable: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub sortable: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub name_field: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub deprecated_and_hidden: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub html_formatted: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub polymorphic_foreign_key: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub compound_field_name: Option<String>,
    #[serde(default)]
    pub extra_type_info: Option<String>,
}

/// Fields of the `Name` pseudo-object that polymorphic lookups resolve to without TYPEOF.
pub const NAME_PSEUDO_OBJECT_FIELDS: [&str; 13] = [
    "Id",
    "Name",
    "Alias",
    "Email",
    "FirstName",
    "LastName",
    "Type",
    "Username",
    "IsActive",
    "Title",
    "Phone",
    "UserRoleId",
    "ProfileId",
];

impl FieldDescribe {
    /// A lookup that may point at several object types (Case.Owner → User or Group).
    pub fn is_polymorphic(&self) -> bool {
        self.polymorphic_foreign_key || self.reference_to.len() > 1
    }
}

/// One entry of a describe's `childRelationships`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    #[serde(default, deserialize_with = "null_default")]
    pub field: String,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub cascade_delete: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub deprecated_and_hidden: bool,
}
