//! The fake org's schema, seeded data and record store (mutations, recycle bin, describe bodies).
//!
//! Records are kept as compact typed cells ([`rows`]) and read back as JSON in the wire
//! format (see [`crate::fake_org::model`]); an unset field reads as `null`. Writes work on a
//! whole record materialised as a JSON map (`Store::row`) or on single fields
//! (`Store::put`). Formula fields (`calculated: true`) are never stored and come from
//! [`DataSource::formula`]. Base64 fields
//! (ContentVersion.VersionData) hold the blob's relative URL for [`DEFAULT_API_VERSION`];
//! [`blob_url`] builds it for the version a request used.

mod access;
mod blob;
mod data;
mod describe;
mod ids;
mod rows;
mod schema;
mod schema_change;
#[cfg(test)]
mod tests;
mod wire;
mod write;

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef, Record};
use crate::sfid;
use access::row_ref;
pub use blob::Blob;
use rows::{Pool, Rows};
pub(in crate::fake_org) use schema::ARCHIVING_OBJECTS;
use schema_change::SchemaClock;
use wire::bare_version;
pub use wire::{blob_url, format_datetime, parse_datetime};
use write::record_id;

/// A phrase that appears in exactly one seeded FeedComment: one on the first Case by
/// CaseNumber. Tests grep a mounted tree for it to prove feed comments reach the files.
pub const FEED_COMMENT_MARKER: &str = "needle-7f3a9c in a feed comment";

/// The API version used in URLs stored inside records (base64 blob fields); simple-salesforce's default.
pub const DEFAULT_API_VERSION: &str = "59.0";

/// The pod part of every generated Id (characters 4-6 of a real Id name the instance).
const ID_POD: &str = "8d0";

/// How [`Store::generate`] sizes and seeds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// About this many records of each standard object (Accounts at least this many).
    pub records: usize,
    /// Same seed, same data.
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            records: 200,
            seed: 42,
        }
    }
}

/// A failed store operation, shaped like the Salesforce REST error it stands for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// Unknown object, unknown or mistyped Id, or an Id of another object.
    #[error("The requested resource does not exist")]
    NotFound,
    /// Unknown object in a non-REST helper call (field-level security, queryable switch).
    #[error("sObject type '{object}' is not supported.")]
    InvalidType { object: String },
    /// The object exists but does not allow this operation (CaseFeed inserts, Organization deletes).
    #[error("entity type cannot be {operation}: {object}")]
    InvalidTypeForOperation {
        object: String,
        operation: &'static str,
    },
    #[error("No such column '{field}' on sobject of type {object}")]
    InvalidField { object: String, field: String },
    /// A read-only field (system fields, formulas, compound fields) in a create or update body.
    #[error("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", fields.join(", "))]
    InvalidFieldForInsertUpdate { fields: Vec<String> },
    #[error("Required fields are missing: [{}]", fields.join(", "))]
    RequiredFieldMissing { fields: Vec<String> },
    /// The body is not JSON, or a value has the wrong JSON type for its field.
    #[error("{0}")]
    MalformedJson(String),
    /// A reference field set to something that is not an Id.
    #[error("{label}: id value of incorrect type: {value}")]
    MalformedId {
        field: String,
        label: String,
        value: String,
    },
    /// A reference field set to a well-formed Id of no record of an allowed type.
    #[error("invalid cross reference id")]
    InvalidCrossReferenceKey { field: String },
    #[error("{label}: data value too large: {preview} (max length={max})")]
    StringTooLong {
        field: String,
        label: String,
        preview: String,
        max: u32,
    },
    /// The record is in the recycle bin.
    #[error("entity is deleted")]
    EntityIsDeleted,
    /// Undelete of a record that is not in the recycle bin.
    #[error("Entity is not in the recycle bin")]
    UndeleteFailed,
    /// [`Store::add_field`] of a name the object already has.
    #[error("There is already a field named {field} on {object}.")]
    DuplicateField { object: String, field: String },
}

impl StoreError {
    /// The HTTP status Salesforce answers with.
    pub fn status_code(&self) -> u16 {
        match self {
            StoreError::NotFound | StoreError::EntityIsDeleted => 404,
            _ => 400,
        }
    }

    /// Salesforce's `errorCode`.
    pub fn error_code(&self) -> &'static str {
        match self {
            StoreError::NotFound => "NOT_FOUND",
            StoreError::InvalidType { .. } => "INVALID_TYPE",
            StoreError::InvalidTypeForOperation { .. } => "INVALID_TYPE_FOR_OPERATION",
            StoreError::InvalidField { .. } => "INVALID_FIELD",
            StoreError::InvalidFieldForInsertUpdate { .. } => "INVALID_FIELD_FOR_INSERT_UPDATE",
            StoreError::RequiredFieldMissing { .. } => "REQUIRED_FIELD_MISSING",
            StoreError::MalformedJson(_) => "JSON_PARSER_ERROR",
            StoreError::MalformedId { .. } => "MALFORMED_ID",
            StoreError::InvalidCrossReferenceKey { .. } => "INVALID_CROSS_REFERENCE_KEY",
            StoreError::StringTooLong { .. } => "STRING_TOO_LONG",
            StoreError::EntityIsDeleted => "ENTITY_IS_DELETED",
            StoreError::UndeleteFailed => "UNDELETE_FAILED",
            StoreError::DuplicateField { .. } => "DUPLICATE_DEVELOPER_NAME",
        }
    }

    /// The `fields` array of the error body (empty when Salesforce sends none or `[]`).
    pub fn fields(&self) -> Vec<String> {
        match self {
            StoreError::InvalidFieldForInsertUpdate { fields }
            | StoreError::RequiredFieldMissing { fields } => fields.clone(),
            StoreError::MalformedId { field, .. }
            | StoreError::InvalidCrossReferenceKey { field }
            | StoreError::StringTooLong { field, .. }
            | StoreError::DuplicateField { field, .. } => vec![field.clone()],
            _ => Vec::new(),
        }
    }
}

/// Object-level describe facts that [`ObjectDef`] does not carry.
#[derive(Debug, Clone, Default)]
struct ObjectMeta {
    createable: bool,
    updateable: bool,
    deletable: bool,
    feed_enabled: bool,
    /// `Some("Case")` for CaseFeed: a feed view with `associateEntityType: "Feed"`.
    feed_of: Option<&'static str>,
    /// `supportedScopes` labels, e.g. ("everything", "All accounts").
    scopes: Vec<(&'static str, String)>,
}

/// Where an object's rows live.
#[derive(Debug, Clone)]
enum Storage {
    Own(Rows),
    /// A filtered view over another table (CaseFeed = FeedItems whose ParentId is a Case).
    View {
        base: usize,
        parent_field: &'static str,
        parent_prefix: &'static str,
    },
}

#[derive(Debug, Clone)]
struct Table {
    def: ObjectDef,
    meta: ObjectMeta,
    storage: Storage,
}

/// An object that holds no rows here (change events, platform events, custom metadata):
/// describeGlobal lists it and describe answers for it, as on a real org, and clients must
/// filter it out of what they mount.
#[derive(Debug, Clone)]
struct GlobalOnlyEntry {
    /// Name, labels, flags and fields (the system fields of its kind and a custom one or
    /// two); no key prefix and no child relationships.
    def: ObjectDef,
    associate: Option<(&'static str, &'static str)>,
}

/// Index key for child lookups: (storage table, field position in its def, parent Id).
type ChildKey = (u16, u16, ids::IdKey);

/// FNV-1a: the indexes are keyed by short Ids that no attacker chooses, and SipHash made
/// seeding several times slower in debug builds.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // FNV-1a's 64-bit offset basis and prime.
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// The fake org's whole state: schema, records, indexes, blobs and clocks.
#[derive(Debug, Clone)]
pub struct Store {
    tables: Vec<Table>,
    /// Lower-cased object name to table position.
    by_name: HashMap<String, usize>,
    /// Object name as the schema spells it to table position: the engine names objects
    /// that way several times a row of a page (subqueries), and this lookup needs no
    /// lower-cased copy.
    by_exact_name: FastMap<String, usize>,
    /// Record Id to (table, row).
    by_id: ids::IdIndex,
    children: FastMap<ChildKey, Vec<u32>>,
    global_only: Vec<GlobalOnlyEntry>,
    org_id: String,
    integration_user_id: String,
    /// ContentVersion Id to (bytes, MIME type).
    blobs: HashMap<String, (Blob, String)>,
    /// Parent Id to the Ids its delete cascaded to, for undelete.
    deleted_with: HashMap<String, Vec<String>>,
    /// Next Id sequence number per key prefix.
    sequences: HashMap<String, u64>,
    next_case_number: u64,
    /// Milliseconds since the epoch of the latest mutation stamp handed out.
    last_stamp_ms: i64,
    formula_clock_offset: Duration,
    /// When each object's schema last changed: describe's `Last-Modified`.
    schema_clock: SchemaClock,
    /// The text, key prefixes and whole values the tables' cells point into.
    pool: Pool,
}

impl Store {
    /// A store with the full schema and seeded data, deterministic for `opts.seed`.
    pub fn generate(opts: &GenerateOptions) -> Store {
        let mut store = Store::empty();
        data::seed(&mut store, opts);
        store
    }

    /// The schema with no records at all.
    fn empty() -> Store {
        let (mut tables, global_only) = schema::build();
        for table in &mut tables {
            if let Storage::Own(rows) = &mut table.storage {
                let def = &table.def;
                let parts = |compound: &FieldDef| -> Vec<String> {
                    if compound.field_type != FieldType::Address {
                        return Vec::new();
                    }
                    def.fields
                        .iter()
                        .filter(|p| {
                            p.compound_field_name.as_deref() == Some(compound.name.as_str())
                                && p.name != compound.name
                        })
                        .map(|p| p.name.clone())
                        .collect()
                };
                *rows = Rows::new(
                    def.fields
                        .iter()
                        .filter(|f| !f.calculated)
                        .map(|f| (f.name.clone(), f.field_type, parts(f))),
                );
            }
        }
        let by_name = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.def.name.to_ascii_lowercase(), i))
            .collect();
        let by_exact_name = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.def.name.clone(), i))
            .collect();
        Store {
            tables,
            by_name,
            by_exact_name,
            by_id: ids::IdIndex::default(),
            children: FastMap::default(),
            global_only,
            org_id: String::new(),
            integration_user_id: String::new(),
            blobs: HashMap::new(),
            deleted_with: HashMap::new(),
            sequences: HashMap::new(),
            next_case_number: 1001,
            last_stamp_ms: 0,
            formula_clock_offset: Duration::zero(),
            schema_clock: SchemaClock::starting_now(),
            pool: Pool::default(),
        }
    }

    /// The 18-character Organization Id (`00D...`).
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// The User the API runs as (`005...`): creator and modifier of records made through the API.
    pub fn integration_user_id(&self) -> &str {
        &self.integration_user_id
    }

    /// The whole body of `GET /services/data/vNN.N/sobjects`.
    pub fn describe_global(&self, api_version: &str) -> Value {
        describe::describe_global(self, bare_version(api_version))
    }

    /// The whole body of `GET .../sobjects/{object}/describe`, or `None` for an unknown object.
    pub fn describe(&self, object: &str, api_version: &str, instance_url: &str) -> Option<Value> {
        let (version, instance_url) = (
            bare_version(api_version),
            instance_url.trim_end_matches('/'),
        );
        if let Some(table) = self.table(object) {
            return Some(describe::describe_object(
                &self.tables[table],
                version,
                instance_url,
            ));
        }
        self.global_only
            .iter()
            .find(|entry| entry.def.name.eq_ignore_ascii_case(object))
            .map(|entry| describe::describe_global_only(entry, version, instance_url))
    }

    /// The schema of an object that holds no rows here (see [`GlobalOnlyEntry`]).
    fn global_only_def(&self, object: &str) -> Option<&ObjectDef> {
        self.global_only
            .iter()
            .map(|entry| &entry.def)
            .find(|def| def.name.eq_ignore_ascii_case(object))
    }

    /// One record as GET /sobjects/{object}/{id} returns it: attributes + all visible fields
    /// (formulas computed now). `fields` limits the set when the client passes ?fields=.
    pub fn get_record(
        &self,
        object: &str,
        id: &str,
        fields: Option<&[String]>,
        api_version: &str,
    ) -> Result<Value, StoreError> {
        let (table, row) = self.locate(object, id)?;
        let def = &self.tables[table].def;
        let (storage, _) = self.storage_of(table);
        let record = self.row(storage, row);
        if record.get("IsDeleted") == Some(&Value::Bool(true)) {
            return Err(StoreError::EntityIsDeleted);
        }
        let version = bare_version(api_version);
        let selected: Vec<&FieldDef> = match fields {
            None => def.fields.iter().filter(|f| !f.hidden).collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    def.field(name.trim())
                        .ok_or_else(|| StoreError::InvalidField {
                            object: def.name.clone(),
                            field: name.trim().to_string(),
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let record_id = record_id(&record).to_string();
        let mut out = Map::new();
        out.insert(
            "attributes".into(),
            serde_json::json!({
                "type": def.name,
                "url": format!("/services/data/v{version}/sobjects/{}/{record_id}", def.name),
            }),
        );
        for field in selected {
            let value = if field.calculated {
                self.formula(def, field, row_ref(storage, row))
            } else if field.field_type == FieldType::Base64 {
                Value::String(blob_url(version, &def.name, &record_id, &field.name))
            } else {
                record.get(&field.name).cloned().unwrap_or(Value::Null)
            };
            out.insert(field.name.clone(), value);
        }
        Ok(Value::Object(out))
    }

    /// Shifts the clock formulas see (tests make a formula value change without a modstamp move).
    pub fn set_formula_clock_offset(&mut self, offset: Duration) {
        self.formula_clock_offset = offset;
    }

    /// The bytes and MIME type of a ContentVersion's file.
    pub fn version_data(&self, content_version_id: &str) -> Option<(Vec<u8>, String)> {
        self.version_blob(content_version_id)
            .map(|(blob, mime)| (blob.to_vec(), mime))
    }

    /// The bytes (not materialised: a large generated file stays a seed) and MIME type of a
    /// ContentVersion's file.
    pub fn version_blob(&self, content_version_id: &str) -> Option<(Blob, String)> {
        let id = sfid::to_18(content_version_id)?;
        self.blobs.get(&id).cloned()
    }

    /// Live (not deleted) records of an object; 0 for an unknown object.
    pub fn record_count(&self, object: &str) -> usize {
        DataSource::records(self, object)
            .filter(|r| !self.is_deleted_row(r.table as usize, r.row as usize))
            .count()
    }

    // ----- internals -------------------------------------------------------------------

    fn table(&self, object: &str) -> Option<usize> {
        match self.by_exact_name.get(object) {
            Some(&table) => Some(table),
            None => self.by_name.get(&object.to_ascii_lowercase()).copied(),
        }
    }

    /// The table that stores an object's rows, and the view filter if it is a view.
    fn storage_of(&self, table: usize) -> (usize, Option<(&'static str, &'static str)>) {
        match &self.tables[table].storage {
            Storage::Own(_) => (table, None),
            Storage::View {
                base,
                parent_field,
                parent_prefix,
            } => (*base, Some((*parent_field, *parent_prefix))),
        }
    }

    /// Finds a record of `object` by Id (15 or 18 characters): (table of `object`, row).
    fn locate(&self, object: &str, id: &str) -> Result<(usize, usize), StoreError> {
        let table = self.table(object).ok_or(StoreError::NotFound)?;
        let id = sfid::to_18(id).ok_or(StoreError::NotFound)?;
        let &(stored_in, row) = self.by_id.get(&id).ok_or(StoreError::NotFound)?;
        let (storage, filter) = self.storage_of(table);
        if usize::from(stored_in) != storage {
            return Err(StoreError::NotFound);
        }
        if let Some((field, prefix)) = filter {
            if !self.in_view(storage, row as usize, field, prefix) {
                return Err(StoreError::NotFound);
            }
        }
        Ok((table, row as usize))
    }

    /// A fresh Id for a key prefix.
    fn new_id(&mut self, key_prefix: &str) -> String {
        let next = self.sequences.entry(key_prefix.to_string()).or_insert(1);
        let id = sfid::make_id(key_prefix, ID_POD, *next);
        *next += 1;
        id
    }

    /// "Now" for a mutation: real UTC time at millisecond precision, strictly later than
    /// every stamp handed out before (bumped by 1 ms when two mutations share a millisecond).
    fn next_stamp(&mut self) -> String {
        let now_ms = Utc::now().timestamp_millis();
        let stamp_ms = now_ms.max(self.last_stamp_ms + 1);
        self.last_stamp_ms = stamp_ms;
        let at = Utc
            .timestamp_millis_opt(stamp_ms)
            .single()
            .expect("a millisecond count taken from the clock is a valid time");
        format_datetime(at)
    }

    /// Moves LastModifiedDate, LastModifiedById and SystemModstamp where the object has them.
    fn touch(&mut self, table: usize, row: usize, stamp: &str, user: &str) {
        let has = |name: &str| self.tables[table].def.fields.iter().any(|f| f.name == name);
        let (has_lmd, has_lmby, has_sms) = (
            has("LastModifiedDate"),
            has("LastModifiedById"),
            has("SystemModstamp"),
        );
        if has_lmd {
            self.put(table, row, "LastModifiedDate", Value::String(stamp.into()));
        }
        if has_lmby {
            self.put(table, row, "LastModifiedById", Value::String(user.into()));
        }
        if has_sms {
            self.put(table, row, "SystemModstamp", Value::String(stamp.into()));
        }
    }

    /// Sets one stored field and keeps the child index in step for reference fields.
    fn set_field(&mut self, table: usize, row: usize, field: &str, value: Value) {
        let position = self.tables[table]
            .def
            .fields
            .iter()
            .position(|f| f.name == field);
        let is_reference = position
            .is_some_and(|p| self.tables[table].def.fields[p].field_type == FieldType::Reference);
        let old = self.put(table, row, field, value.clone());
        if let (true, Some(p)) = (is_reference, position) {
            if let Some(old_parent) = old.as_str().and_then(|id| self.by_id.key(id)) {
                let key = (table as u16, p as u16, old_parent);
                if let Some(rows) = self.children.get_mut(&key) {
                    rows.retain(|&r| r as usize != row);
                }
            }
            if let Value::String(new_parent) = value {
                let new_parent = self.by_id.key_or_insert(&new_parent);
                self.children
                    .entry((table as u16, p as u16, new_parent))
                    .or_default()
                    .push(row as u32);
            }
        }
    }

    /// Rows of a storage table whose reference field `field` equals `parent_id`.
    fn children_rows(&self, table: usize, field: &str, parent_id: &str) -> Vec<usize> {
        let Some(position) = self.tables[table]
            .def
            .fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(field))
        else {
            return Vec::new();
        };
        // Parent Ids usually come as stored (18 characters, checksum case right): looked up
        // as they are first, which spares building the 18-character form for each row of a
        // page with a subquery.
        let parent = match self.by_id.key(parent_id) {
            Some(key) => Some(key),
            None => sfid::to_18(parent_id).and_then(|id| self.by_id.key(&id)),
        };
        let rows =
            parent.and_then(|parent| self.children.get(&(table as u16, position as u16, parent)));
        rows.map(|rows| rows.iter().map(|&r| r as usize).collect())
            .unwrap_or_default()
    }

    /// The formula clock: real time shifted by the test offset.
    fn formula_now(&self) -> DateTime<Utc> {
        Utc::now() + self.formula_clock_offset
    }
}
