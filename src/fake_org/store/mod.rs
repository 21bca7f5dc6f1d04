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
mod data;
mod describe;
mod ids;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use serde_json::{Map, Value};

use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef, Record};
use crate::sfid;
use access::row_ref;
use rows::{Pool, Rows};

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
        }
    }

    /// The `fields` array of the error body (empty when Salesforce sends none or `[]`).
    pub fn fields(&self) -> Vec<String> {
        match self {
            StoreError::InvalidFieldForInsertUpdate { fields }
            | StoreError::RequiredFieldMissing { fields } => fields.clone(),
            StoreError::MalformedId { field, .. }
            | StoreError::InvalidCrossReferenceKey { field }
            | StoreError::StringTooLong { field, .. } => vec![field.clone()],
            _ => Vec::new(),
        }
    }
}

/// The relative URL of a blob field's bytes, as records show it (`.../VersionData`).
pub fn blob_url(api_version: &str, object: &str, id: &str, field: &str) -> String {
    format!(
        "/services/data/v{}/sobjects/{object}/{id}/{field}",
        bare_version(api_version)
    )
}

/// `59.0` from `59.0` or `v59.0`.
fn bare_version(api_version: &str) -> &str {
    api_version.strip_prefix('v').unwrap_or(api_version)
}

/// Salesforce's datetime wire format: UTC, milliseconds, `+0000` without a colon.
pub fn format_datetime(at: DateTime<Utc>) -> String {
    // Hand-rolled: chrono's strftime parsing dominated seeding time, and stored datetimes
    // are rendered like this on every read, several per row of a page.
    // A leap second shows as millisecond 1000+ in chrono; Salesforce has none.
    let millis = at.timestamp_subsec_millis().min(999);
    if (0..=9999).contains(&at.year()) {
        let mut text = *b"0000-00-00T00:00:00.000+0000";
        let mut put = |end: usize, mut value: u32, width: usize| {
            for slot in text[end - width..end].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(4, at.year().unsigned_abs(), 4);
        put(7, at.month(), 2);
        put(10, at.day(), 2);
        put(13, at.hour(), 2);
        put(16, at.minute(), 2);
        put(19, at.second(), 2);
        put(23, millis, 3);
        return String::from_utf8_lossy(&text).into_owned();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        millis
    )
}

/// Parses the wire format written by [`format_datetime`].
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .ok()
        .map(|at| at.with_timezone(&Utc))
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
    blobs: HashMap<String, (Vec<u8>, String)>,
    /// Parent Id to the Ids its delete cascaded to, for undelete.
    deleted_with: HashMap<String, Vec<String>>,
    /// Next Id sequence number per key prefix.
    sequences: HashMap<String, u64>,
    next_case_number: u64,
    /// Milliseconds since the epoch of the latest mutation stamp handed out.
    last_stamp_ms: i64,
    formula_clock_offset: Duration,
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

    /// Inserts a record; returns its new 18-character Id.
    pub fn create(
        &mut self,
        object: &str,
        body: &Map<String, Value>,
    ) -> Result<String, StoreError> {
        let table = self.table(object).ok_or(StoreError::NotFound)?;
        self.insert(table, body, None)
    }

    /// Changes the given fields of a live record and moves its modification stamps.
    pub fn update(
        &mut self,
        object: &str,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        let (table, row) = self.locate(object, id)?;
        let meta = &self.tables[table].meta;
        if !meta.updateable {
            return Err(StoreError::InvalidTypeForOperation {
                object: self.tables[table].def.name.clone(),
                operation: "updated",
            });
        }
        let (storage, _) = self.storage_of(table);
        if self.is_deleted_row(storage, row) {
            return Err(StoreError::EntityIsDeleted);
        }
        let changes = self.validate_body(storage, body, false)?;
        let stamp = self.next_stamp();
        let user = self.integration_user_id.clone();
        for (field, value) in changes {
            self.set_field(storage, row, &field, value);
        }
        self.touch(storage, row, &stamp, &user);
        self.derive_fields(storage, row);
        Ok(())
    }

    /// Moves a record to the recycle bin (`IsDeleted: true`); queryAll still returns it.
    pub fn delete(&mut self, object: &str, id: &str) -> Result<(), StoreError> {
        let (table, row) = self.locate(object, id)?;
        if !self.tables[table].meta.deletable {
            return Err(StoreError::InvalidTypeForOperation {
                object: self.tables[table].def.name.clone(),
                operation: "deleted",
            });
        }
        let (storage, _) = self.storage_of(table);
        if self.is_deleted_row(storage, row) {
            return Err(StoreError::EntityIsDeleted);
        }
        let stamp = self.next_stamp();
        let user = self.integration_user_id.clone();
        self.set_field(storage, row, "IsDeleted", Value::Bool(true));
        self.touch(storage, row, &stamp, &user);
        if self.tables[storage].def.name == "FeedComment" {
            self.adjust_comment_count(storage, row, -1, &stamp);
        }
        // Children on cascade-delete relationships go to the recycle bin with their parent
        // (a Case's feed items and comments, an Account's contacts...), and come back with it.
        let descendants = self.live_cascade_descendants(storage, row);
        let mut ids = Vec::with_capacity(descendants.len());
        for (child_table, child_row) in descendants {
            self.set_field(child_table, child_row, "IsDeleted", Value::Bool(true));
            self.touch(child_table, child_row, &stamp, &user);
            ids.push(self.id_of(child_table, child_row));
        }
        if !ids.is_empty() {
            let parent = self.id_of(storage, row);
            self.deleted_with.insert(parent, ids);
        }
        Ok(())
    }

    /// Live records reached from a record through cascade-delete child relationships,
    /// transitively (a Case's FeedItems, then their FeedComments).
    fn live_cascade_descendants(&self, table: usize, row: usize) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![(table, row)];
        while let Some((parent_table, parent_row)) = pending.pop() {
            let parent_id = self.id_of(parent_table, parent_row);
            for relationship in self.tables[parent_table]
                .def
                .child_relationships
                .iter()
                .filter(|r| r.cascade_delete)
            {
                let Some(child_table) = self.table(&relationship.child_object) else {
                    continue;
                };
                // Views (CaseFeed) are reached through the table they filter (FeedItem).
                if !matches!(self.tables[child_table].storage, Storage::Own(_)) {
                    continue;
                }
                for child_row in self.children_rows(child_table, &relationship.field, &parent_id) {
                    let live = !self.is_deleted_row(child_table, child_row);
                    if live && seen.insert((child_table, child_row)) {
                        found.push((child_table, child_row));
                        pending.push((child_table, child_row));
                    }
                }
            }
        }
        found
    }

    /// Restores a record from the recycle bin.
    pub fn undelete(&mut self, id: &str) -> Result<(), StoreError> {
        let id = sfid::to_18(id).ok_or(StoreError::NotFound)?;
        let &(table, row) = self.by_id.get(&id).ok_or(StoreError::NotFound)?;
        let (table, row) = (usize::from(table), row as usize);
        if !self.is_deleted_row(table, row) {
            return Err(StoreError::UndeleteFailed);
        }
        let stamp = self.next_stamp();
        let user = self.integration_user_id.clone();
        self.set_field(table, row, "IsDeleted", Value::Bool(false));
        self.touch(table, row, &stamp, &user);
        if self.tables[table].def.name == "FeedComment" {
            self.adjust_comment_count(table, row, 1, &stamp);
        }
        for child in self.deleted_with.remove(&id).unwrap_or_default() {
            if let Some(&(child_table, child_row)) = self.by_id.get(&child) {
                let (child_table, child_row) = (usize::from(child_table), child_row as usize);
                self.set_field(child_table, child_row, "IsDeleted", Value::Bool(false));
                self.touch(child_table, child_row, &stamp, &user);
            }
        }
        Ok(())
    }

    /// Field-level security: a hidden field vanishes from describe, records and SOQL.
    pub fn set_field_hidden(
        &mut self,
        object: &str,
        field: &str,
        hidden: bool,
    ) -> Result<(), StoreError> {
        let table = self.table(object).ok_or_else(|| StoreError::InvalidType {
            object: object.to_string(),
        })?;
        let def = &mut self.tables[table].def;
        let object_name = def.name.clone();
        let target = def
            .fields
            .iter_mut()
            .find(|f| f.name.eq_ignore_ascii_case(field))
            .ok_or_else(|| StoreError::InvalidField {
                object: object_name,
                field: field.to_string(),
            })?;
        target.hidden = hidden;
        Ok(())
    }

    /// Makes an object (non-)queryable, as a profile without read access would.
    pub fn set_queryable(&mut self, object: &str, queryable: bool) -> Result<(), StoreError> {
        let table = self.table(object).ok_or_else(|| StoreError::InvalidType {
            object: object.to_string(),
        })?;
        self.tables[table].def.queryable = queryable;
        Ok(())
    }

    /// Shifts the clock formulas see (tests make a formula value change without a modstamp move).
    pub fn set_formula_clock_offset(&mut self, offset: Duration) {
        self.formula_clock_offset = offset;
    }

    /// The bytes and MIME type of a ContentVersion's file.
    pub fn version_data(&self, content_version_id: &str) -> Option<(Vec<u8>, String)> {
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

    /// Checks a create/update body against the schema and converts it to stored values.
    fn validate_body(
        &self,
        table: usize,
        body: &Map<String, Value>,
        creating: bool,
    ) -> Result<Vec<(String, Value)>, StoreError> {
        let def = &self.tables[table].def;
        let mut changes = Vec::with_capacity(body.len());
        let mut read_only = Vec::new();
        for (name, value) in body {
            if name == "attributes" {
                continue;
            }
            let field = def.field(name).ok_or_else(|| StoreError::InvalidField {
                object: def.name.clone(),
                field: name.clone(),
            })?;
            if !schema::is_writable(def, field, creating) {
                read_only.push(field.name.clone());
                continue;
            }
            let stored = self.convert_value(def, field, value)?;
            changes.push((field.name.clone(), stored));
        }
        if !read_only.is_empty() {
            return Err(StoreError::InvalidFieldForInsertUpdate { fields: read_only });
        }
        let missing: Vec<String> = def
            .fields
            .iter()
            .filter(|f| schema::is_required_on_write(def, f))
            .filter(|f| {
                let given = changes.iter().find(|(n, _)| n == &f.name);
                match given {
                    Some((_, v)) => is_blank(v),
                    None => creating,
                }
            })
            .map(|f| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::RequiredFieldMissing { fields: missing });
        }
        Ok(changes)
    }

    /// One body value to its stored form, with Salesforce's type and length checks.
    fn convert_value(
        &self,
        def: &ObjectDef,
        field: &FieldDef,
        value: &Value,
    ) -> Result<Value, StoreError> {
        let wrong_type = |expected: &str| {
            StoreError::MalformedJson(format!(
                "Cannot deserialize instance of {expected} from {} value {} or request may be missing a required field",
                json_token_name(value),
                value
            ))
        };
        if value.is_null() {
            return Ok(if field.field_type == FieldType::Boolean {
                Value::Bool(false)
            } else {
                Value::Null
            });
        }
        match field.field_type {
            FieldType::Boolean => match value {
                Value::Bool(_) => Ok(value.clone()),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
                _ => Err(wrong_type("boolean")),
            },
            FieldType::Int => match value {
                Value::Number(n) if n.is_i64() => Ok(value.clone()),
                Value::String(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| wrong_type("int")),
                _ => Err(wrong_type("int")),
            },
            FieldType::Double | FieldType::Currency | FieldType::Percent => {
                let number = match value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                number
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| wrong_type("double"))
            }
            FieldType::Date => {
                let text = value.as_str().ok_or_else(|| wrong_type("date"))?;
                let date =
                    chrono::NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d")
                        .map_err(|_| wrong_type("date"))?;
                Ok(Value::String(date.format("%Y-%m-%d").to_string()))
            }
            FieldType::DateTime => {
                let text = value.as_str().ok_or_else(|| wrong_type("datetime"))?;
                let at = parse_input_datetime(text).ok_or_else(|| wrong_type("datetime"))?;
                Ok(Value::String(format_datetime(at)))
            }
            FieldType::Reference | FieldType::Id => {
                let text = value.as_str().ok_or_else(|| wrong_type("id"))?;
                if text.is_empty() {
                    return Ok(Value::Null);
                }
                let id = sfid::to_18(text).ok_or_else(|| StoreError::MalformedId {
                    field: field.name.clone(),
                    label: field.label.clone(),
                    value: text.to_string(),
                })?;
                let target_ok = self.by_id.get(&id).is_some_and(|&(t, _)| {
                    let target = &self.tables[usize::from(t)].def.name;
                    field.reference_to.is_empty() || field.reference_to.iter().any(|r| r == target)
                });
                if !target_ok {
                    return Err(StoreError::InvalidCrossReferenceKey {
                        field: field.name.clone(),
                    });
                }
                Ok(Value::String(id))
            }
            FieldType::Base64 => {
                let text = value.as_str().ok_or_else(|| wrong_type("base64"))?;
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|_| wrong_type("base64"))?;
                Ok(value.clone())
            }
            FieldType::Address => Err(StoreError::InvalidFieldForInsertUpdate {
                fields: vec![field.name.clone()],
            }),
            _ => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(wrong_type("string")),
                };
                let chars = text.chars().count();
                if field.length > 0 && chars > field.length as usize {
                    let preview: String = text.chars().take(20).collect();
                    return Err(StoreError::StringTooLong {
                        field: field.name.clone(),
                        label: field.label.clone(),
                        preview: format!("{preview}..."),
                        max: field.length,
                    });
                }
                let _ = def;
                Ok(Value::String(text))
            }
        }
    }

    /// Inserts a validated body into a table; `forced` carries values a caller (the seeding
    /// code) sets directly, bypassing the write rules (CreatedDate, CaseNumber...).
    fn insert(
        &mut self,
        table: usize,
        body: &Map<String, Value>,
        forced: Option<Map<String, Value>>,
    ) -> Result<String, StoreError> {
        let (storage, view) = self.storage_of(table);
        // Internal inserts (`forced`) may create what clients cannot, e.g. a ContentDocument.
        if view.is_some() || (forced.is_none() && !self.tables[table].meta.createable) {
            return Err(StoreError::InvalidTypeForOperation {
                object: self.tables[table].def.label.clone(),
                operation: "inserted",
            });
        }
        let mut changes = self.validate_body(storage, body, true)?;
        let object = self.tables[storage].def.name.clone();
        // Blob bytes go to the blob store; the record keeps the URL.
        let mut blob: Option<Vec<u8>> = None;
        if let Some(pos) = changes.iter().position(|(n, _)| n == "VersionData") {
            let (_, value) = changes.remove(pos);
            if let Some(text) = value.as_str() {
                use base64::Engine as _;
                blob = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .ok();
            }
        }
        let stamp = self.next_stamp();
        let user = self.integration_user_id.clone();
        let prefix = self.tables[storage].def.key_prefix.clone();
        let id = self.new_id(&prefix);
        let mut record = self.blank_record(storage);
        record.insert("Id".into(), Value::String(id.clone()));
        for (name, value) in [
            ("CreatedDate", &stamp),
            ("LastModifiedDate", &stamp),
            ("SystemModstamp", &stamp),
            ("CreatedById", &user),
            ("LastModifiedById", &user),
            ("OwnerId", &user),
            ("InsertedById", &user),
        ] {
            if record.contains_key(name) {
                record.insert(name.into(), Value::String(value.clone()));
            }
        }
        schema::apply_create_defaults(&object, &mut record);
        if object == "Case" {
            record.insert(
                "CaseNumber".into(),
                Value::String(format!("{:08}", self.next_case_number)),
            );
            self.next_case_number += 1;
        }
        for (name, value) in changes {
            record.insert(name, value);
        }
        if let Some(forced) = forced {
            for (name, value) in forced {
                record.insert(name, value);
            }
        }
        self.finish_new_record(&object, &mut record, blob)?;
        let row = self.push_record(storage, record);
        self.derive_fields(storage, row);
        if object == "FeedComment" {
            let stamp = match self.value(storage, row, "CreatedDate") {
                Value::String(created) => created,
                _ => stamp,
            };
            self.adjust_comment_count(storage, row, 1, &stamp);
        }
        if object == "ContentVersion" {
            self.link_version_to_document(storage, row);
        }
        Ok(id)
    }

    /// Object-specific work before a new record is stored: FeedComment inherits its item's
    /// parent, a ContentVersion without document gets one, blob bytes are kept.
    fn finish_new_record(
        &mut self,
        object: &str,
        record: &mut Record,
        blob: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        match object {
            "FeedComment" => {
                let item_id = record
                    .get("FeedItemId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let parent = self.by_id.get(&item_id).map_or(Value::Null, |&(t, r)| {
                    self.value(usize::from(t), r as usize, "ParentId")
                });
                record.insert("ParentId".into(), parent);
            }
            "ContentVersion" => {
                let id = record_id(record).to_string();
                let title = record
                    .get("Title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let path = record
                    .get("PathOnClient")
                    .and_then(Value::as_str)
                    .unwrap_or(&title)
                    .to_string();
                let extension = path
                    .rsplit_once('.')
                    .map(|(_, ext)| ext.to_ascii_lowercase())
                    .unwrap_or_default();
                let bytes = blob.unwrap_or_default();
                record.insert("FileExtension".into(), Value::String(extension.clone()));
                record.insert(
                    "FileType".into(),
                    Value::String(data::file_type(&extension).into()),
                );
                record.insert("ContentSize".into(), Value::from(bytes.len() as u64));
                record.insert("IsLatest".into(), Value::Bool(true));
                record.insert(
                    "VersionData".into(),
                    Value::String(blob_url(
                        DEFAULT_API_VERSION,
                        "ContentVersion",
                        &id,
                        "VersionData",
                    )),
                );
                if record.get("ContentDocumentId").is_none_or(Value::is_null) {
                    let document = self.create_document_for(record)?;
                    record.insert("ContentDocumentId".into(), Value::String(document));
                }
                self.blobs
                    .insert(id, (bytes, data::mime_type(&extension).to_string()));
            }
            _ => {}
        }
        Ok(())
    }

    /// The ContentDocument a new ContentVersion implies when the body names none.
    fn create_document_for(&mut self, version: &Record) -> Result<String, StoreError> {
        let table = self.table("ContentDocument").ok_or(StoreError::NotFound)?;
        let mut body = Map::new();
        if let Some(title) = version.get("Title") {
            body.insert("Title".into(), title.clone());
        }
        self.insert(table, &body, Some(Map::new()))
    }

    /// After a ContentVersion is stored: its document points at it as the latest version and
    /// copies its file facts; older versions stop being latest.
    fn link_version_to_document(&mut self, table: usize, row: usize) {
        let version = self.row(table, row);
        let Some(document_id) = version.get("ContentDocumentId").and_then(Value::as_str) else {
            return;
        };
        let Some(&(doc_table, doc_row)) = self.by_id.get(document_id) else {
            return;
        };
        let version_id = record_id(&version).to_string();
        let siblings = self.children_rows(table, "ContentDocumentId", document_id);
        for sibling in siblings {
            if sibling != row {
                self.put(table, sibling, "IsLatest", Value::Bool(false));
            }
        }
        let (doc_table, doc_row) = (usize::from(doc_table), doc_row as usize);
        self.put(
            doc_table,
            doc_row,
            "LatestPublishedVersionId",
            Value::String(version_id),
        );
        for name in ["Title", "FileExtension", "FileType", "ContentSize"] {
            if let Some(v) = version.get(name) {
                self.put(doc_table, doc_row, name, v.clone());
            }
        }
    }

    /// Keeps FeedItem.CommentCount in step with its live comments. The item's
    /// LastModifiedDate and SystemModstamp move too (a real feed item's LastModifiedDate is
    /// the time of its latest comment); the Case's stamps do not.
    fn adjust_comment_count(
        &mut self,
        comment_table: usize,
        comment_row: usize,
        delta: i64,
        stamp: &str,
    ) {
        let Value::String(item_id) = self.value(comment_table, comment_row, "FeedItemId") else {
            return;
        };
        let Some(&(item_table, item_row)) = self.by_id.get(&item_id) else {
            return;
        };
        let (item_table, item_row) = (usize::from(item_table), item_row as usize);
        let count = self
            .value(item_table, item_row, "CommentCount")
            .as_i64()
            .unwrap_or(0);
        let count = Value::from((count + delta).max(0));
        self.put(item_table, item_row, "CommentCount", count);
        for name in ["LastModifiedDate", "SystemModstamp"] {
            self.put(item_table, item_row, name, Value::String(stamp.into()));
        }
    }

    /// Recomputes derived fields: compound addresses and person names from their parts,
    /// Case.IsClosed from Status.
    fn derive_fields(&mut self, table: usize, row: usize) {
        let def = &self.tables[table].def;
        let compounds: Vec<(String, FieldType, Vec<String>)> = def
            .fields
            .iter()
            .filter(|f| {
                f.field_type == FieldType::Address
                    || (f.name == "Name"
                        && def.fields.iter().any(|p| {
                            p.compound_field_name.as_deref() == Some("Name") && p.name != "Name"
                        }))
            })
            .map(|f| {
                let parts = def
                    .fields
                    .iter()
                    .filter(|p| {
                        p.compound_field_name.as_deref() == Some(&f.name) && p.name != f.name
                    })
                    .map(|p| p.name.clone())
                    .collect();
                (f.name.clone(), f.field_type, parts)
            })
            .collect();
        let object = def.name.clone();
        let before = self.row(table, row);
        let mut record = before.clone();
        let record = &mut record;
        match object.as_str() {
            "Case" => {
                // Read-only, following the status as the standard "Closed" status does.
                let closed = record.get("Status").and_then(Value::as_str) == Some("Closed");
                record.insert("IsClosed".into(), Value::Bool(closed));
                let closed_date = match (closed, record.get("ClosedDate")) {
                    (false, _) => Value::Null,
                    (true, Some(Value::String(date))) => Value::String(date.clone()),
                    (true, _) => record
                        .get("LastModifiedDate")
                        .cloned()
                        .unwrap_or(Value::Null),
                };
                record.insert("ClosedDate".into(), closed_date);
            }
            "Opportunity" => {
                let stage = record
                    .get("StageName")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let (closed, won) = (stage.starts_with("Closed"), stage == "Closed Won");
                record.insert("IsClosed".into(), Value::Bool(closed));
                record.insert("IsWon".into(), Value::Bool(won));
            }
            _ => {}
        }
        for (name, field_type, parts) in compounds {
            let value = if field_type == FieldType::Address {
                let get = |part: &str| record.get(part).cloned().unwrap_or(Value::Null);
                schema::address_value(&get, &parts)
            } else {
                schema::person_name(record)
            };
            record.insert(name, value);
        }
        let changed: Vec<(String, Value)> = record
            .iter()
            .filter(|(name, value)| before.get(*name) != Some(*value))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        for (name, value) in changed {
            self.put(table, row, &name, value);
        }
    }

    /// A record with every stored field of a table set to its empty value.
    fn blank_record(&self, table: usize) -> Record {
        let def = &self.tables[table].def;
        let mut record = Map::with_capacity(def.fields.len());
        for field in def.fields.iter().filter(|f| !f.calculated) {
            let empty = if field.field_type == FieldType::Boolean {
                Value::Bool(false)
            } else {
                Value::Null
            };
            record.insert(field.name.clone(), empty);
        }
        record
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

/// The `Id` of a stored record.
fn record_id(record: &Record) -> &str {
    record.get("Id").and_then(Value::as_str).unwrap_or_default()
}

/// A value Salesforce treats as "not given" for a required field.
fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Jackson's token names, which Salesforce's JSON_PARSER_ERROR messages quote.
fn json_token_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Number(n) if n.is_f64() => "VALUE_NUMBER_FLOAT",
        Value::Number(_) => "VALUE_NUMBER_INT",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// Datetimes as clients send them: `2024-01-15T10:30:00.000+0000`, `...Z`, `...+01:00`,
/// with or without milliseconds.
fn parse_input_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"]
        .iter()
        .find_map(|format| DateTime::parse_from_str(text, format).ok())
        .map(|at| at.with_timezone(&Utc))
}
