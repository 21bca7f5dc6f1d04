//! Attached files in the index: per listing, which records have documents (their `.files`
//! folders); the documents' bytes, downloaded in chunks on demand and shared by every
//! reader, are `documents/transfer.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::present::Presenter;
use super::Record;

mod transfer;

pub(super) use transfer::Downloads;
pub use transfer::{OpenDocument, DOCUMENT_CHUNK};

/// One attached file: a document at its latest published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The ContentDocumentId, shared by every record the document is linked to.
    pub document_id: Arc<str>,
    /// The ContentVersion whose bytes the file holds.
    pub version_id: Arc<str>,
    pub name: String,
    /// Exact length of the bytes (`ContentSize`), known before any download.
    pub size: u64,
    pub mtime: SystemTime,
}

/// A record's `.files` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDocuments {
    pub folder_name: String,
    pub record_id: Arc<str>,
    pub documents: Vec<Arc<Document>>,
}

/// The `.files` folders of one listing, by name (sorted, the order readdir lists them in).
#[derive(Debug, Clone, Default)]
pub struct DocumentFolders {
    by_name: Arc<Vec<Arc<RecordDocuments>>>,
    by_record: Arc<HashMap<Arc<str>, usize>>,
}

impl DocumentFolders {
    fn from_map(map: HashMap<Arc<str>, Arc<RecordDocuments>>) -> DocumentFolders {
        let mut by_name: Vec<Arc<RecordDocuments>> = map.into_values().collect();
        by_name.sort_by(|a, b| a.folder_name.cmp(&b.folder_name));
        let by_record = by_name
            .iter()
            .enumerate()
            .map(|(i, r)| (r.record_id.clone(), i))
            .collect();
        DocumentFolders {
            by_name: Arc::new(by_name),
            by_record: Arc::new(by_record),
        }
    }

    /// The folders of freshly listed records.
    pub(super) fn listed(records: Vec<RecordDocuments>) -> DocumentFolders {
        Self::from_map(
            records
                .into_iter()
                .map(|r| (r.record_id.clone(), Arc::new(r)))
                .collect(),
        )
    }

    /// These folders with `changed` records' documents replaced (`None`: it has none now)
    /// and `deleted` records' folders gone.
    pub(super) fn updated(
        &self,
        changed: Vec<(Arc<str>, Option<RecordDocuments>)>,
        deleted: &[String],
    ) -> DocumentFolders {
        let mut map: HashMap<Arc<str>, Arc<RecordDocuments>> = self
            .by_name
            .iter()
            .map(|r| (r.record_id.clone(), r.clone()))
            .collect();
        for id in deleted {
            map.remove(id.as_str());
        }
        for (id, documents) in changed {
            match documents {
                Some(documents) => map.insert(id, Arc::new(documents)),
                None => map.remove(&id),
            };
        }
        Self::from_map(map)
    }

    pub fn folders(&self) -> &[Arc<RecordDocuments>] {
        &self.by_name
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<RecordDocuments>> {
        let i = self
            .by_name
            .binary_search_by(|r| r.folder_name.as_str().cmp(name))
            .ok()?;
        Some(&self.by_name[i])
    }

    pub fn of_record(&self, id: &str) -> Option<&Arc<RecordDocuments>> {
        self.by_record.get(id).map(|&i| &self.by_name[i])
    }
}

/// A record's `.files` folder, if it has attached documents.
pub(super) fn record_documents(
    presenter: &Presenter,
    record: &Record,
    id: &str,
) -> Option<RecordDocuments> {
    let attached = crate::catalog::attached_documents(record);
    if attached.is_empty() {
        return None;
    }
    let title = presenter.title(record);
    let documents = attached
        .into_iter()
        .map(|d| {
            Arc::new(Document {
                document_id: d.document_id.into(),
                version_id: d.version_id.into(),
                name: d.file_name,
                size: d.size,
                mtime: d
                    .modified
                    .as_deref()
                    .and_then(super::parse_salesforce_datetime)
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            })
        })
        .collect();
    Some(RecordDocuments {
        folder_name: crate::catalog::files_folder_name(&title, id),
        record_id: id.into(),
        documents,
    })
}
