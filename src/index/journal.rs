//! The change journal: every change the mount applies, numbered, so a file indexer can
//! follow the mount from its last sequence number instead of walking the tree. The store
//! numbers and keeps the entries (they survive a restart); a mount without a store numbers
//! them itself. The newest [`JOURNAL_KEEP`] are shown as `.sfmount-changes.jsonl`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;

use super::store::{ChangeKind, JournalEntry, JOURNAL_KEEP};
use super::time::rfc3339;
use super::{FileEntry, Index, Shared};
use crate::sync::lock;

/// The newest entries, in memory, for the journal file.
#[derive(Debug, Default)]
pub(super) struct Journal {
    entries: VecDeque<JournalEntry>,
    /// The last number given (by the store or here).
    last_seq: u64,
    /// The file's bytes as last rendered: every `stat` of the file needs its size, and the
    /// journal changes far less often than it is looked at.
    rendered: Option<Arc<[u8]>>,
}

impl Journal {
    /// A journal continuing from what the store kept.
    pub fn from_stored(entries: Vec<JournalEntry>) -> Journal {
        let last_seq = entries.last().map_or(0, |entry| entry.seq);
        Journal {
            entries: entries.into(),
            last_seq,
            rendered: None,
        }
    }

    /// Adds `entries`, numbered by the store (`numbers`, one per entry) or, without one,
    /// by counting on from the last number.
    pub fn record(&mut self, mut entries: Vec<JournalEntry>, numbers: Option<Vec<u64>>) {
        let numbers = numbers.filter(|numbers| numbers.len() == entries.len());
        for (i, entry) in entries.iter_mut().enumerate() {
            // A store number at or below one already shown (the store failed a write
            // earlier and this journal counted on) would break the file's order: count on.
            entry.seq = match &numbers {
                Some(numbers) if numbers[i] > self.last_seq => numbers[i],
                _ => self.last_seq + 1,
            };
            self.last_seq = self.last_seq.max(entry.seq);
        }
        self.entries.extend(entries);
        while self.entries.len() > JOURNAL_KEEP {
            self.entries.pop_front();
        }
        self.rendered = None;
    }

    /// One JSON object a line, oldest first.
    pub fn jsonl(&mut self) -> Arc<[u8]> {
        if let Some(rendered) = &self.rendered {
            return rendered.clone();
        }
        let rendered: Arc<[u8]> = self.render().into();
        self.rendered = Some(rendered.clone());
        rendered
    }

    fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in &self.entries {
            let line = json!({
                "seq": entry.seq,
                "time": rfc3339(entry.at),
                "change": entry.kind.word(),
                "object": entry.object,
                "id": entry.id,
                "path": entry.path,
                "oldPath": entry.old_path,
            });
            out.extend_from_slice(line.to_string().as_bytes());
            out.push(b'\n');
        }
        out
    }
}

impl Index {
    /// The journal file's bytes (`.sfmount-changes.jsonl`).
    pub fn changes_jsonl(&self) -> Arc<[u8]> {
        lock(&self.shared.journal).jsonl()
    }
}

impl Shared {
    /// A folder's path inside the mount: `<group folder>/<object>`.
    pub(super) fn folder_path(&self, folder: usize) -> String {
        let spec = &self.folders[folder].spec;
        format!("{}/{}", spec.group.folder_name(), spec.object)
    }

    /// A journal entry about one file of `folder`.
    pub(super) fn file_change(
        &self,
        folder: usize,
        kind: ChangeKind,
        file: &FileEntry,
        old_name: Option<&str>,
        at: SystemTime,
    ) -> JournalEntry {
        let folder_path = self.folder_path(folder);
        JournalEntry {
            seq: 0,
            at,
            kind,
            object: self.folders[folder].spec.object.clone(),
            id: file.id.to_string(),
            path: format!("{folder_path}/{}", file.name),
            old_path: old_name.map(|name| format!("{folder_path}/{name}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: ChangeKind, path: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            at: SystemTime::UNIX_EPOCH,
            kind,
            object: "Account".into(),
            id: "001000000000001AAA".into(),
            path: path.into(),
            old_path: None,
        }
    }

    #[test]
    fn entries_are_numbered_by_the_store_or_counted_on() {
        let mut journal = Journal::from_stored(vec![JournalEntry {
            seq: 41,
            ..entry(ChangeKind::Added, "a")
        }]);
        journal.record(vec![entry(ChangeKind::Updated, "a")], None);
        journal.record(vec![entry(ChangeKind::Removed, "a")], Some(vec![90]));
        // A store that fell behind (a failed write) never makes the numbers go back.
        journal.record(vec![entry(ChangeKind::Added, "b")], Some(vec![50]));
        let text = String::from_utf8(journal.jsonl().to_vec()).unwrap();
        let seqs: Vec<u64> = text
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"].as_u64())
            .map(Option::unwrap)
            .collect();
        assert_eq!(seqs, [41, 42, 90, 91]);
        assert!(text
            .lines()
            .nth(2)
            .unwrap()
            .contains("\"change\":\"removed\""));
    }

    #[test]
    fn only_the_newest_entries_are_kept() {
        let mut journal = Journal::default();
        for _ in 0..JOURNAL_KEEP + 5 {
            journal.record(vec![entry(ChangeKind::Updated, "a")], None);
        }
        let text = String::from_utf8(journal.jsonl().to_vec()).unwrap();
        assert_eq!(text.lines().count(), JOURNAL_KEEP);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["seq"], 6);
    }
}
