//! Changes to the schema after seeding, as an admin or a profile would make them: a field
//! hidden by field-level security, an object made (non-)queryable, a custom field added.
//! Each moves the object's schema date, which describe sends as `Last-Modified` and checks
//! `If-Modified-Since` against.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};

use super::{schema, Storage, Store, StoreError};
use crate::fake_org::model::FieldType;

/// When each object's schema last changed, in whole seconds since the epoch: HTTP dates
/// carry no fraction, so a finer stamp could not be compared with what a client sends back.
#[derive(Debug, Clone)]
pub(super) struct SchemaClock {
    /// When the store was built: the date of every object not changed since.
    seeded: i64,
    /// The latest date handed out; describeGlobal's date, since a change to any object's
    /// metadata changes the list too.
    latest: i64,
    /// Objects changed after seeding, by lower-cased name.
    changed: HashMap<String, i64>,
}

impl SchemaClock {
    pub(super) fn starting_now() -> SchemaClock {
        let now = Utc::now().timestamp();
        SchemaClock {
            seeded: now,
            latest: now,
            changed: HashMap::new(),
        }
    }

    fn of(&self, object: &str) -> i64 {
        self.changed
            .get(&object.to_ascii_lowercase())
            .copied()
            .unwrap_or(self.seeded)
    }

    /// Dates `object`'s change now, or a second after the latest date handed out if that is
    /// later: a change within the second of the previous one must still read as newer to a
    /// client holding that previous date.
    fn bump(&mut self, object: &str) {
        let at = Utc::now().timestamp().max(self.latest + 1);
        self.latest = at;
        self.changed.insert(object.to_ascii_lowercase(), at);
    }
}

fn to_time(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .expect("schema dates come from the clock")
}

impl Store {
    /// When `object`'s describe last changed (`None` for an object describe does not know).
    pub fn schema_modified(&self, object: &str) -> Option<DateTime<Utc>> {
        let known = self.table(object).is_some() || self.global_only_def(object).is_some();
        known.then(|| to_time(self.schema_clock.of(object)))
    }

    /// When describeGlobal last changed: the latest change to any object.
    pub fn global_schema_modified(&self) -> DateTime<Utc> {
        to_time(self.schema_clock.latest)
    }

    /// Field-level security: a hidden field vanishes from describe, records and SOQL.
    pub fn set_field_hidden(
        &mut self,
        object: &str,
        field: &str,
        hidden: bool,
    ) -> Result<(), StoreError> {
        let table = self.known_table(object)?;
        let def = &mut self.tables[table].def;
        let object_name = def.name.clone();
        let target = def
            .fields
            .iter_mut()
            .find(|f| f.name.eq_ignore_ascii_case(field))
            .ok_or_else(|| StoreError::InvalidField {
                object: object_name.clone(),
                field: field.to_string(),
            })?;
        target.hidden = hidden;
        self.schema_clock.bump(&object_name);
        Ok(())
    }

    /// Makes an object (non-)queryable, as a profile without read access would.
    pub fn set_queryable(&mut self, object: &str, queryable: bool) -> Result<(), StoreError> {
        let table = self.known_table(object)?;
        self.tables[table].def.queryable = queryable;
        let name = self.tables[table].def.name.clone();
        self.schema_clock.bump(&name);
        Ok(())
    }

    /// Adds a text field (255 characters, nillable, filterable and sortable) to an object, as
    /// an admin creating a custom field would: describe lists it last, every record has it
    /// (null until written, through the REST API or [`Store::update`]), SOQL may select it.
    /// On a view (CaseFeed) the field reads as null: the rows belong to the table it filters.
    pub fn add_field(&mut self, object: &str, name: &str, label: &str) -> Result<(), StoreError> {
        let table = self.known_table(object)?;
        let object_name = self.tables[table].def.name.clone();
        let is_api_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.len() <= 40;
        if !is_api_name {
            return Err(StoreError::InvalidField {
                object: object_name,
                field: name.to_string(),
            });
        }
        if self.tables[table]
            .def
            .fields
            .iter()
            .any(|f| f.name.eq_ignore_ascii_case(name))
        {
            return Err(StoreError::DuplicateField {
                object: object_name,
                field: name.to_string(),
            });
        }
        // Appended, never inserted: the child index keys reference fields by their position.
        let field = schema::field(name, label, FieldType::String);
        self.tables[table].def.fields.push(field);
        if let Storage::Own(rows) = &mut self.tables[table].storage {
            rows.add_column(name.to_string(), FieldType::String);
        }
        self.schema_clock.bump(&object_name);
        Ok(())
    }

    /// The table of an object the schema helpers may change.
    fn known_table(&self, object: &str) -> Result<usize, StoreError> {
        self.table(object).ok_or_else(|| StoreError::InvalidType {
            object: object.to_string(),
        })
    }
}
