//! Attached files in the index: per listing, which records have documents (their `.files`
//! folders); the documents' bytes, downloaded in chunks on demand and shared by every
//! reader, are `documents/transfer.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::present::Presenter;
use super::{Record, Shared};

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
    /// ContentVersion Id -> the folders it is in: its link count within this listing.
    places: Arc<HashMap<Arc<str>, u32>>,
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
        let mut places: HashMap<Arc<str>, u32> = HashMap::new();
        for record in &by_name {
            for document in &record.documents {
                *places.entry(document.version_id.clone()).or_default() += 1;
            }
        }
        DocumentFolders {
            by_name: Arc::new(by_name),
            by_record: Arc::new(by_record),
            places: Arc::new(places),
        }
    }

    /// In how many of these folders the version `version_id` is.
    pub fn places(&self, version_id: &str) -> u32 {
        self.places.get(version_id).copied().unwrap_or(0)
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

impl Shared {
    /// Keeps `folder`'s `.files` folders in the store when they differ from `before`.
    pub(super) fn persist_documents(
        &self,
        folder: usize,
        before: Option<&DocumentFolders>,
        now: &DocumentFolders,
    ) {
        if !self.store.is_enabled() || before.is_some_and(|b| b.folders() == now.folders()) {
            return;
        }
        let object = &self.folders[folder].spec.object;
        self.store
            .put_document_folders(object, &serialize_folders(now).to_string());
    }

    /// The `.files` folders the store kept for `folder` (none if absent or unreadable: they
    /// come back as records change or the folder is listed afresh).
    pub(super) fn restored_documents(&self, folder: usize) -> DocumentFolders {
        let object = &self.folders[folder].spec.object;
        self.store
            .document_folders(object)
            .and_then(|text| serde_json::from_str(&text).ok())
            .and_then(|value| deserialize_folders(&value))
            .map(DocumentFolders::listed)
            .unwrap_or_default()
    }
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn serialize_folders(folders: &DocumentFolders) -> serde_json::Value {
    folders
        .folders()
        .iter()
        .map(|r| {
            serde_json::json!({
                "folder": r.folder_name,
                "record": &*r.record_id,
                "documents": r.documents.iter().map(|d| serde_json::json!({
                    "document": &*d.document_id,
                    "version": &*d.version_id,
                    "name": d.name,
                    "size": d.size,
                    "mtime": nanos(d.mtime),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn deserialize_folders(value: &serde_json::Value) -> Option<Vec<RecordDocuments>> {
    let text = |v: &serde_json::Value, key: &str| v.get(key)?.as_str().map(str::to_string);
    value
        .as_array()?
        .iter()
        .map(|r| {
            let documents = r
                .get("documents")?
                .as_array()?
                .iter()
                .map(|d| {
                    Some(Arc::new(Document {
                        document_id: text(d, "document")?.into(),
                        version_id: text(d, "version")?.into(),
                        name: text(d, "name")?,
                        size: d.get("size")?.as_u64()?,
                        mtime: SystemTime::UNIX_EPOCH
                            + std::time::Duration::from_nanos(d.get("mtime")?.as_u64()?),
                    }))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(RecordDocuments {
                folder_name: text(r, "folder")?,
                record_id: text(r, "record")?.into(),
                documents,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_read_back_as_they_were_kept() {
        let document = Arc::new(Document {
            document_id: "069A".into(),
            version_id: "068A".into(),
            name: "Contract «v2» [069A].pdf".into(),
            size: 12_345,
            mtime: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123),
        });
        let folders = DocumentFolders::listed(vec![RecordDocuments {
            folder_name: "Acme [001A].files".into(),
            record_id: "001A".into(),
            documents: vec![document],
        }]);
        let back = deserialize_folders(&serialize_folders(&folders)).unwrap();
        assert_eq!(DocumentFolders::listed(back).folders(), folders.folders());
        assert_eq!(
            deserialize_folders(&serde_json::json!([{"folder": 1}])),
            None
        );
    }
}
