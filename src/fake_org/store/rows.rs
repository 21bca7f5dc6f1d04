//! Compact typed row storage: one flat vector of 16-byte cells per table, field names kept
//! once per table, text in one shared arena.
//!
//! A `serde_json` map per record cost about 3.3 KB a record (an IndexMap entry, a heap key
//! and a heap string per field), 5.9 GB for `--records 110000`. Here a field is a 16-byte
//! [`Cell`]; Ids that [`crate::sfid::make_id`] made for this org are a key prefix number and a
//! sequence number, datetimes are milliseconds, compound addresses are rebuilt from their
//! parts on read, and other text is a string number in [`Texts`] (short strings stored
//! once however often they repeat). Values are turned back
//! into the exact JSON they were stored as when read ([`Pool::decode`]), so the wire bytes
//! do not change.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Number, Value};

use crate::fake_org::model::FieldType;

use super::{format_datetime, ids, FastMap, IdHasher};

/// One stored field value. 16 bytes: an 8-byte payload and the tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A datetime in the wire form [`format_datetime`] writes, as milliseconds since the epoch.
    DateTime(i64),
    /// An Id as [`crate::sfid::make_id`] builds it for this org's pod: `prefix` numbers the key
    /// prefix in [`Pool::prefixes`].
    Id {
        prefix: u16,
        sequence: u32,
    },
    /// Any other string: its number in [`Texts`].
    Text(u32),
    /// A compound address, rebuilt from its part fields on read (the store recomputes it
    /// whenever a part changes, so the parts always say what it holds).
    Address,
    /// Anything else (a non-address object, an array, a huge number): a kept [`Value`].
    Other(u32),
}

/// Every string of the store, back to back; string `i` spans `ends[i-1]..ends[i]`.
/// Strings are never freed: an update appends a new one, which a fake org can afford.
#[derive(Debug, Clone, Default)]
pub(super) struct Texts {
    bytes: String,
    /// 64-bit: `--records 800000` or so would pass 4 GiB of text, and 4 bytes more per
    /// string is a small price for having no such ceiling.
    ends: Vec<u64>,
}

impl Texts {
    fn push(&mut self, text: &str) -> u32 {
        self.bytes.push_str(text);
        self.ends.push(self.bytes.len() as u64);
        u32::try_from(self.ends.len() - 1).expect("fewer than 4 billion strings")
    }

    fn get(&self, index: u32) -> &str {
        let index = index as usize;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        // Offsets were byte lengths of `bytes`, so they fit a usize.
        &self.bytes[start as usize..self.ends[index] as usize]
    }
}

/// What cells point into: text, key prefixes and the rare values kept whole.
#[derive(Debug, Clone, Default)]
pub(super) struct Pool {
    texts: Texts,
    /// Short strings seen before, by hash of their text, so repeated picklist values,
    /// dates and names are stored once. Keyed by hash rather than by the text so that a
    /// unique string costs one small map entry, not a second copy of itself. Only strings
    /// up to [`SHARED_TEXT_MAX`] bytes are looked up: long texts are mostly unique.
    shared: FastMap<u64, u32>,
    prefixes: Vec<[u8; 3]>,
    prefix_index: HashMap<[u8; 3], u16>,
    others: Vec<Value>,
}

/// Strings this short are deduplicated: it covers picklist values, dates, cities, names and
/// emails, which repeat across hundreds of thousands of records.
const SHARED_TEXT_MAX: usize = 40;

/// Length of the wire datetime `2024-01-15T10:30:00.000+0000`.
const DATETIME_LEN: usize = 28;

impl Pool {
    /// The cell that stores `value` for a field of type `field_type`.
    pub(super) fn encode(&mut self, field_type: FieldType, value: &Value) -> Cell {
        match value {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.is_f64()) {
                (Some(i), false) => Cell::Int(i),
                (_, true) => Cell::Float(n.as_f64().unwrap_or_default()),
                _ => self.other(value),
            },
            Value::String(s) => self.encode_text(s),
            Value::Object(_) if field_type == FieldType::Address => Cell::Address,
            _ => self.other(value),
        }
    }

    fn other(&mut self, value: &Value) -> Cell {
        self.others.push(value.clone());
        Cell::Other(u32::try_from(self.others.len() - 1).expect("few whole values"))
    }

    fn encode_text(&mut self, text: &str) -> Cell {
        if let Some(cell) = self.encode_id(text) {
            return cell;
        }
        if let Some(at) = parse_wire_datetime(text) {
            return Cell::DateTime(at);
        }
        if text.len() > SHARED_TEXT_MAX {
            return Cell::Text(self.texts.push(text));
        }
        let hash = BuildHasherDefault::<IdHasher>::default().hash_one(text);
        match self.shared.get(&hash) {
            Some(&index) if self.texts.get(index) == text => Cell::Text(index),
            // Another text with the same hash: this one is simply kept unshared.
            Some(_) => Cell::Text(self.texts.push(text)),
            None => {
                let index = self.texts.push(text);
                self.shared.insert(hash, index);
                Cell::Text(index)
            }
        }
    }

    /// A cell for an Id that `make_id(prefix, ID_POD, n)` spells exactly, else `None`.
    fn encode_id(&mut self, text: &str) -> Option<Cell> {
        let (key, sequence) = ids::made_id_parts(text)?;
        let prefix = match self.prefix_index.get(&key) {
            Some(&p) => p,
            None => {
                let p = u16::try_from(self.prefixes.len()).ok()?;
                self.prefixes.push(key);
                self.prefix_index.insert(key, p);
                p
            }
        };
        Some(Cell::Id { prefix, sequence })
    }

    /// The JSON a cell stands for; `address` rebuilds a compound address from its parts.
    pub(super) fn decode(&self, cell: Cell, address: impl FnOnce() -> Value) -> Value {
        match cell {
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(b),
            Cell::Int(i) => Value::from(i),
            Cell::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Cell::DateTime(ms) => Value::String(format_datetime(millis_to_time(ms))),
            Cell::Id { prefix, sequence } => Value::String(self.id_text(prefix, sequence)),
            Cell::Text(index) => Value::String(self.texts.get(index).to_string()),
            Cell::Address => address(),
            Cell::Other(index) => self.others[index as usize].clone(),
        }
    }

    fn id_text(&self, prefix: u16, sequence: u32) -> String {
        ids::made_id_text(self.prefixes[usize::from(prefix)], sequence)
    }

    /// True when a cell holds text starting with `prefix` (view filters on Id prefixes).
    pub(super) fn starts_with(&self, cell: Cell, prefix: &str) -> bool {
        match cell {
            Cell::Id { prefix: p, .. } => {
                let key = &self.prefixes[usize::from(p)];
                prefix.len() <= 3 && key.starts_with(prefix.as_bytes())
            }
            Cell::Text(index) => self.texts.get(index).starts_with(prefix),
            Cell::DateTime(ms) => format_datetime(millis_to_time(ms)).starts_with(prefix),
            _ => false,
        }
    }
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .expect("stored datetimes came from valid times")
}

/// Milliseconds for text in exactly the form [`format_datetime`] writes, else `None`.
/// Hand-rolled and checked by formatting back: chrono's format parser is slow, and only
/// text that renders back byte for byte may become a [`Cell::DateTime`].
fn parse_wire_datetime(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != DATETIME_LEN || !text.ends_with("+0000") || b[10] != b'T' || b[19] != b'.' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        text.get(range.clone())?.bytes().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = Utc
        .with_ymd_and_hms(
            i32::try_from(number(0..4)?).ok()?,
            number(5..7)?,
            number(8..10)?,
            number(11..13)?,
            number(14..16)?,
            number(17..19)?,
        )
        .single()?
        + chrono::Duration::milliseconds(i64::from(number(20..23)?));
    (format_datetime(at) == text).then(|| at.timestamp_millis())
}

/// The rows of one table: `width` cells per row, in the order of `names`.
#[derive(Debug, Clone)]
pub(super) struct Rows {
    /// Stored (non-formula) field names in schema order: the slots of a row.
    pub(super) names: Vec<String>,
    pub(super) types: Vec<FieldType>,
    /// For each compound address slot, its part fields (`BillingStreet`...); empty for the
    /// other slots. Kept here because every read of an address needs them.
    pub(super) address_parts: Vec<Vec<String>>,
    slot_of: FastMap<String, u16>,
    cells: Vec<Cell>,
}

impl Rows {
    /// Slots from (name, type, address parts) of each stored field.
    pub(super) fn new(fields: impl Iterator<Item = (String, FieldType, Vec<String>)>) -> Rows {
        let mut names = Vec::new();
        let mut types = Vec::new();
        let mut address_parts = Vec::new();
        for (name, field_type, parts) in fields {
            names.push(name);
            types.push(field_type);
            address_parts.push(parts);
        }
        let slot_of = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.clone(),
                    u16::try_from(i).expect("fewer than 65536 fields"),
                )
            })
            .collect();
        Rows {
            names,
            types,
            address_parts,
            slot_of,
            cells: Vec::new(),
        }
    }

    fn width(&self) -> usize {
        self.names.len()
    }

    pub(super) fn len(&self) -> usize {
        if self.width() == 0 {
            0
        } else {
            self.cells.len() / self.width()
        }
    }

    /// The slot of a stored field by its exact (canonical) name.
    pub(super) fn slot(&self, name: &str) -> Option<usize> {
        self.slot_of.get(name).map(|&s| usize::from(s))
    }

    pub(super) fn cell(&self, row: usize, slot: usize) -> Cell {
        self.cells[row * self.width() + slot]
    }

    pub(super) fn set(&mut self, row: usize, slot: usize, cell: Cell) {
        let width = self.width();
        self.cells[row * width + slot] = cell;
    }

    /// Adds a slot after the others, null in every row (a field added to the schema).
    pub(super) fn add_column(&mut self, name: String, field_type: FieldType) {
        let width = self.width();
        let mut cells = Vec::with_capacity(self.len() * (width + 1));
        if width > 0 {
            for row in self.cells.chunks_exact(width) {
                cells.extend_from_slice(row);
                cells.push(Cell::Null);
            }
        }
        self.cells = cells;
        let slot = u16::try_from(width).expect("fewer than 65536 fields");
        self.slot_of.insert(name.clone(), slot);
        self.names.push(name);
        self.types.push(field_type);
        self.address_parts.push(Vec::new());
    }

    /// Appends a row of `width` cells; returns its number.
    pub(super) fn push(&mut self, cells: impl IntoIterator<Item = Cell>) -> usize {
        let row = self.len();
        self.cells.extend(cells);
        debug_assert_eq!(self.cells.len(), (row + 1) * self.width());
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_org::store::ID_POD;
    use crate::sfid;

    #[test]
    fn values_come_back_as_stored() {
        let mut pool = Pool::default();
        let id = sfid::make_id("001", ID_POD, 12345);
        for (field_type, value) in [
            (FieldType::Id, Value::from(id.as_str())),
            (FieldType::Reference, Value::from("001000000000001AAA")),
            (
                FieldType::DateTime,
                Value::from("2024-01-15T10:30:00.123+0000"),
            ),
            (FieldType::DateTime, Value::from("2024-01-15T10:30:00.123Z")),
            (FieldType::Date, Value::from("2024-01-15")),
            (FieldType::Int, Value::from(-3)),
            (FieldType::Double, Value::from(3.0)),
            (FieldType::Boolean, Value::Bool(true)),
            (FieldType::String, Value::from("x".repeat(100))),
            (FieldType::Picklist, Value::from("Closed")),
            (FieldType::Picklist, Value::from("Closed")),
            (FieldType::String, serde_json::json!(["a"])),
        ] {
            let cell = pool.encode(field_type, &value);
            assert_eq!(pool.decode(cell, || Value::Null), value, "{value}");
        }
        let cell = pool.encode(FieldType::Id, &Value::from(id.as_str()));
        assert!(matches!(cell, Cell::Id { .. }));
        assert_eq!(std::mem::size_of::<Cell>(), 16);
    }

    #[test]
    fn datetimes_render_in_the_wire_form() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000+0000"),
            (1_705_314_600_123, "2024-01-15T10:30:00.123+0000"),
        ] {
            assert_eq!(format_datetime(millis_to_time(ms)), text);
            assert_eq!(parse_wire_datetime(text), Some(ms));
        }
        let far = Utc
            .with_ymd_and_hms(12345, 6, 7, 8, 9, 10)
            .single()
            .unwrap();
        assert_eq!(format_datetime(far), "12345-06-07T08:09:10.000+0000");
    }
}
