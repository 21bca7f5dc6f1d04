//! The write path: records created, updated, deleted and undeleted through the REST API,
//! with their bodies checked against the schema as Salesforce checks them, and the fields
//! Salesforce derives on write (stamps, owners, counts, documents for file versions).

use super::*;

impl Store {
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

    /// One body value to its stored form, with Salesforce's type and length checks. Long on
    /// purpose: one arm per field type, each with the error Salesforce gives for it.
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
        let blob_field = |n: &str| n == "VersionData" || (object == "Attachment" && n == "Body");
        if let Some(pos) = changes.iter().position(|(n, _)| blob_field(n)) {
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
    /// parent, a ContentVersion without document gets one, blob bytes (a version's, an
    /// Attachment's, whose length the platform then sets) are kept.
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
                self.blobs.insert(
                    id,
                    (Blob::held(bytes), data::mime_type(&extension).to_string()),
                );
            }
            "Attachment" => {
                let id = record_id(record).to_string();
                let bytes = blob.unwrap_or_default();
                let content_type = record
                    .get("ContentType")
                    .and_then(Value::as_str)
                    .unwrap_or("application/octet-stream")
                    .to_string();
                // The platform sets the length from the bytes, whatever the body said.
                record.insert("BodyLength".into(), Value::from(bytes.len() as u64));
                record.insert(
                    "Body".into(),
                    Value::String(blob_url(DEFAULT_API_VERSION, "Attachment", &id, "Body")),
                );
                self.blobs.insert(id, (Blob::held(bytes), content_type));
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
    /// Case.IsClosed and Task.IsClosed from Status.
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
            "Task" => {
                // Read-only, following the status as the standard "Completed" status does.
                let closed = record.get("Status").and_then(Value::as_str) == Some("Completed");
                record.insert("IsClosed".into(), Value::Bool(closed));
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
}

/// The `Id` of a stored record.
pub(super) fn record_id(record: &Record) -> &str {
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
