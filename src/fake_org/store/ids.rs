//! Record Ids as the store's indexes and cells keep them: an Id that [`sfid::make_id`]
//! made for this org's pod is its key prefix and sequence number, a `u64` key instead of an
//! 18-byte heap string (the string keys of the Id and child indexes were about a sixth
//! of the compact store's memory, 83 of 519 bytes a record).

use crate::sfid;

use super::{FastMap, ID_POD};

/// Ids spell their sequence number in base 62 (`0-9A-Za-z`), as `sfid::make_id` does.
const BASE: u64 = 62;

/// The key prefix and sequence number of an Id that `make_id(prefix, ID_POD, n)` spells
/// exactly (checksum case included), else `None`.
pub(super) fn made_id_parts(text: &str) -> Option<([u8; 3], u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 18 || &bytes[3..6] != ID_POD.as_bytes() {
        return None;
    }
    let mut sequence: u64 = 0;
    for &b in &bytes[6..15] {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        sequence = sequence * BASE + u64::from(digit);
    }
    let sequence = u32::try_from(sequence).ok()?;
    let prefix: [u8; 3] = bytes[..3].try_into().ok()?;
    if !prefix.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    // The checksum is the only other part of a made Id: if it is right, make_id would
    // spell this very text.
    (sfid::checksum(&text[..15])?.as_bytes() == &bytes[15..]).then_some((prefix, sequence))
}

/// What `sfid::make_id(prefix, ID_POD, sequence)` spells, built in place: pages render
/// several Ids a row, and make_id's two `format!`s were a visible share of a page.
pub(super) fn made_id_text(prefix: [u8; 3], sequence: u32) -> String {
    let mut id15 = [b'0'; 15];
    id15[..3].copy_from_slice(&prefix);
    id15[3..6].copy_from_slice(ID_POD.as_bytes());
    let mut rest = u64::from(sequence);
    for slot in id15[6..].iter_mut().rev() {
        let digit = (rest % BASE) as u8;
        *slot = match digit {
            0..=9 => b'0' + digit,
            10..=35 => b'A' + digit - 10,
            _ => b'a' + digit - 36,
        };
        rest /= BASE;
    }
    let id15 = std::str::from_utf8(&id15).expect("Ids are ASCII");
    let mut id = String::with_capacity(18);
    id.push_str(id15);
    id.push_str(&sfid::checksum(id15).expect("made Ids are alphanumeric"));
    id
}

/// An Id as the indexes key it. A made Id's key packs its prefix (three 8-bit characters)
/// above its 32-bit sequence number, so it stays below 2^56; other Ids get numbered keys
/// from [`OTHER_KEYS_FROM`] up.
pub(super) type IdKey = u64;

/// Where the keys of Ids that are not made ones start: above every made Id's key.
const OTHER_KEYS_FROM: IdKey = 1 << 63;

fn made_key(id: &str) -> Option<IdKey> {
    let (prefix, sequence) = made_id_parts(id)?;
    let prefix = u64::from(prefix[0]) << 16 | u64::from(prefix[1]) << 8 | u64::from(prefix[2]);
    Some(prefix << 32 | u64::from(sequence))
}

/// Record Id to (table, row), and the keys of Ids.
#[derive(Debug, Clone, Default)]
pub(super) struct IdIndex {
    rows: FastMap<IdKey, (u16, u32)>,
    /// Keys of Ids that are not made ones. Every stored Id comes from `Store::new_id`, so
    /// this only fills if a reference ever holds something else; it keeps the index right
    /// then instead of assuming.
    others: FastMap<String, IdKey>,
}

impl IdIndex {
    /// The key of an Id spelled exactly as stored; `None` for one never seen.
    pub(super) fn key(&self, id: &str) -> Option<IdKey> {
        made_key(id).or_else(|| self.others.get(id).copied())
    }

    /// The key of an Id, numbering it if it is new and not a made one.
    pub(super) fn key_or_insert(&mut self, id: &str) -> IdKey {
        if let Some(key) = self.key(id) {
            return key;
        }
        let key = OTHER_KEYS_FROM + self.others.len() as u64;
        self.others.insert(id.to_string(), key);
        key
    }

    /// Where the record with this exact Id is stored.
    pub(super) fn get(&self, id: &str) -> Option<&(u16, u32)> {
        self.rows.get(&self.key(id)?)
    }

    pub(super) fn insert(&mut self, id: &str, at: (u16, u32)) {
        let key = self.key_or_insert(id);
        self.rows.insert(key, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_ids_round_trip_and_others_get_their_own_keys() {
        for sequence in [0, 1, 61, 62, 3843, 238_327, u32::MAX] {
            let made = sfid::make_id("a0B", ID_POD, u64::from(sequence));
            assert_eq!(made_id_parts(&made), Some((*b"a0B", sequence)));
            assert_eq!(made_id_text(*b"a0B", sequence), made);
        }
        let made = sfid::make_id("001", ID_POD, 7);
        let other_pod = sfid::make_id("001", "XYZ", 7);
        assert_eq!(made_id_parts(&made.to_lowercase()), None);
        assert_eq!(made_id_parts(&other_pod), None);
        let mut index = IdIndex::default();
        index.insert(&made, (1, 2));
        index.insert(&other_pod, (3, 4));
        assert_eq!(index.get(&made), Some(&(1, 2)));
        assert_eq!(index.get(&other_pod), Some(&(3, 4)));
        assert_ne!(index.key(&made), index.key(&other_pod));
        assert_eq!(index.get("nonsense"), None);
    }
}
