//! Reading and writing single rows of the compact tables ([`super::rows`]): values by
//! field name, whole records as JSON maps for the write paths, appends with their index
//! entries, and the [`DataSource`] the SOQL engine reads through.

use serde_json::{Map, Value};

use super::rows::Rows;
use super::{record_id, schema, Storage, Store};
use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef, Record, RowRef};
use crate::sfid;

impl Store {
    /// A whole stored record as a JSON map (every stored field, nulls included; no
    /// formulas), for callers outside the SOQL engine such as benchmarks.
    pub fn record(&self, row: RowRef) -> Record {
        self.row(row.table as usize, row.row as usize)
    }

    /// The rows of a table (of the table it is a view over, for a view).
    pub(super) fn rows(&self, table: usize) -> &Rows {
        match &self.tables[table].storage {
            Storage::Own(rows) => rows,
            Storage::View { base, .. } => self.rows(*base),
        }
    }

    /// One stored row as a JSON map with every stored field, nulls included.
    pub(super) fn row(&self, table: usize, row: usize) -> Record {
        let rows = self.rows(table);
        let mut record = Map::with_capacity(rows.names.len());
        for (slot, name) in rows.names.iter().enumerate() {
            record.insert(name.clone(), self.decode(table, row, slot));
        }
        record
    }

    /// One stored field of a row; null for a field the table does not store.
    pub(super) fn value(&self, table: usize, row: usize, field: &str) -> Value {
        match self.rows(table).slot(field) {
            Some(slot) => self.decode(table, row, slot),
            None => Value::Null,
        }
    }

    pub(super) fn decode(&self, table: usize, row: usize, slot: usize) -> Value {
        let rows = self.rows(table);
        self.pool.decode(rows.cell(row, slot), || {
            let get = |part: &str| self.value(table, row, part);
            schema::address_value(&get, &rows.address_parts[slot])
        })
    }

    pub(super) fn id_of(&self, table: usize, row: usize) -> String {
        match self.value(table, row, "Id") {
            Value::String(id) => id,
            _ => String::new(),
        }
    }

    pub(super) fn is_deleted_row(&self, table: usize, row: usize) -> bool {
        self.value(table, row, "IsDeleted") == Value::Bool(true)
    }

    /// Whether a row of a view's base table belongs to the view: its `field` (an Id)
    /// starts with `prefix`.
    pub(super) fn in_view(&self, table: usize, row: usize, field: &str, prefix: &str) -> bool {
        let rows = self.rows(table);
        rows.slot(field)
            .is_some_and(|slot| self.pool.starts_with(rows.cell(row, slot), prefix))
    }

    /// Stores one field of a row without touching the child index (see [`Store::set_field`]
    /// for reference fields); returns the old value. A field the table does not store is
    /// ignored, as it has no slot.
    pub(super) fn put(&mut self, table: usize, row: usize, field: &str, value: Value) -> Value {
        let (storage, _) = self.storage_of(table);
        let Storage::Own(rows) = &mut self.tables[storage].storage else {
            unreachable!("storage_of resolves views to owned tables");
        };
        let Some(slot) = rows.slot(field) else {
            return Value::Null;
        };
        let cell = self.pool.encode(rows.types[slot], &value);
        let old = rows.cell(row, slot);
        rows.set(row, slot, cell);
        // Callers use the old value only for reference fields, never for an address.
        self.pool.decode(old, || Value::Null)
    }

    /// Appends a fully built record to a table and indexes it.
    pub(super) fn push_record(&mut self, table: usize, record: Record) -> usize {
        let references: Vec<(u16, String)> = self.tables[table]
            .def
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.field_type == FieldType::Reference)
            .filter_map(|(p, f)| {
                record
                    .get(&f.name)
                    .and_then(Value::as_str)
                    .map(|parent| (p as u16, parent.to_string()))
            })
            .collect();
        let id = record_id(&record).to_string();
        let values: Vec<Value> = self
            .rows(table)
            .names
            .iter()
            .map(|name| record.get(name).cloned().unwrap_or(Value::Null))
            .collect();
        self.push_indexed(table, &values, id, references)
    }

    /// Appends a record given as one value per stored field (in [`Rows::names`] order),
    /// whose Id and non-null references (field position, parent Id) the caller already
    /// knows, and indexes it.
    pub(super) fn push_indexed(
        &mut self,
        table: usize,
        values: &[Value],
        id: String,
        references: Vec<(u16, String)>,
    ) -> usize {
        let Storage::Own(rows) = &mut self.tables[table].storage else {
            unreachable!("records are only pushed to owned tables");
        };
        let pool = &mut self.pool;
        let cells: Vec<_> = rows
            .types
            .iter()
            .zip(values)
            .map(|(&field_type, value)| pool.encode(field_type, value))
            .collect();
        let row = rows.push(cells);
        self.by_id.insert(&id, (table as u16, row as u32));
        for (position, parent) in references {
            let parent = self.by_id.key_or_insert(&parent);
            self.children
                .entry((table as u16, position, parent))
                .or_default()
                .push(row as u32);
        }
        row
    }
}

/// Whole records as JSON maps, for the store's tests: these shadow the [`DataSource`]
/// methods of the same names, which hand out row handles.
#[cfg(test)]
impl Store {
    pub(super) fn records(&self, object: &str) -> impl Iterator<Item = Record> + '_ {
        DataSource::records(self, object).map(|r| self.row(r.table as usize, r.row as usize))
    }

    pub(super) fn record_by_id(&self, id: &str) -> Option<(&ObjectDef, Record)> {
        let (def, r) = DataSource::record_by_id(self, id)?;
        Some((def, self.row(r.table as usize, r.row as usize)))
    }

    pub(super) fn children(&self, child_object: &str, field: &str, parent_id: &str) -> Vec<Record> {
        DataSource::children(self, child_object, field, parent_id)
            .into_iter()
            .map(|r| self.row(r.table as usize, r.row as usize))
            .collect()
    }
}

impl DataSource for Store {
    fn object(&self, name: &str) -> Option<&ObjectDef> {
        // Row-less objects are known too, so a query meets the same check as on a real org:
        // the custom metadata type answers (with no rows), the events are not queryable.
        match self.table(name) {
            Some(t) => Some(&self.tables[t].def),
            None => self.global_only_def(name),
        }
    }

    fn records<'a>(&'a self, object: &str) -> Box<dyn Iterator<Item = RowRef> + 'a> {
        let Some(table) = self.table(object) else {
            return Box::new(std::iter::empty());
        };
        let (storage, filter) = self.storage_of(table);
        let rows = (0..self.rows(storage).len()).map(move |r| row_ref(storage, r));
        match filter {
            None => Box::new(rows),
            Some((field, prefix)) => {
                Box::new(rows.filter(move |r| self.in_view(storage, r.row as usize, field, prefix)))
            }
        }
    }

    fn record_by_id(&self, id: &str) -> Option<(&ObjectDef, RowRef)> {
        // Stored Ids are 18 characters with the checksum's case: one spelled that way is
        // looked up as it is, without building its 18-character form (this runs for every
        // row of a page and every parent lookup).
        let &(table, row) = match self.by_id.get(id) {
            Some(found) => found,
            None => self.by_id.get(&sfid::to_18(id)?)?,
        };
        let table = usize::from(table);
        Some((&self.tables[table].def, row_ref(table, row as usize)))
    }

    fn children(&self, child_object: &str, field: &str, parent_id: &str) -> Vec<RowRef> {
        let Some(table) = self.table(child_object) else {
            return Vec::new();
        };
        let (storage, filter) = self.storage_of(table);
        self.children_rows(storage, field, parent_id)
            .into_iter()
            .filter(|&r| match filter {
                None => true,
                Some((field, prefix)) => self.in_view(storage, r, field, prefix),
            })
            .map(|r| row_ref(storage, r))
            .collect()
    }

    fn value(&self, row: RowRef, field: &str) -> Value {
        Store::value(self, row.table as usize, row.row as usize, field)
    }

    fn formula(&self, object: &ObjectDef, field: &FieldDef, row: RowRef) -> Value {
        let get = |name: &str| Store::value(self, row.table as usize, row.row as usize, name);
        schema::evaluate_formula(&object.name, &field.name, &get, self.formula_now())
    }
}

/// The engine's handle on a stored row.
pub(super) fn row_ref(table: usize, row: usize) -> RowRef {
    RowRef {
        table: table as u32,
        row: row as u32,
    }
}
