//! Attached files in the index: per listing, which records have documents (their `.files`
//! folders), and the documents' bytes, downloaded on demand, once however many readers ask
//! at the same time.

use crate::sync::{lock, Abandoned, Pending};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::SystemTime;

use super::org::WAIT_SLACK;
use super::present::Presenter;
use super::{Index, IndexError, Record, SourceError};

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

pub(super) type DownloadResult = Result<Arc<[u8]>, IndexError>;

/// Downloads under way (by ContentVersion Id), and the bytes of finished ones while a
/// reader still holds them: so a document linked from several records, or read by several
/// readers at once, is downloaded once, and only the bytes readers hold stay in memory.
#[derive(Default)]
pub(super) struct Downloads {
    in_flight: HashMap<Arc<str>, Arc<Pending<DownloadResult>>>,
    held: HashMap<Arc<str>, Weak<[u8]>>,
}

impl Index {
    /// True when the bytes of `document` are in memory (a read of it will not wait).
    pub fn document_in_memory(&self, document: &Document) -> bool {
        let downloads = lock(&self.shared.downloads);
        downloads
            .held
            .get(&document.version_id)
            .is_some_and(|w| w.strong_count() > 0)
    }

    /// The bytes of `document` (a file of object folder `folder`), downloaded now unless a
    /// reader holds them or a download is under way (then shared). Exactly `document.size`
    /// bytes, or an error, which the folder's status then shows.
    pub fn document_bytes(
        &self,
        folder: usize,
        document: &Document,
    ) -> Result<Arc<[u8]>, IndexError> {
        let result = self.download(document);
        if let Ok(f) = self.folder(folder) {
            let mut status = lock(&f.status);
            match &result {
                Ok(_) => status.download_failure = None,
                Err(error) => {
                    status.download_failure =
                        Some((format!("{}: {error}", document.name), SystemTime::now()))
                }
            }
        }
        result
    }

    fn download(&self, document: &Document) -> Result<Arc<[u8]>, IndexError> {
        let key = document.version_id.clone();
        let (pending, mine) = {
            let mut downloads = lock(&self.shared.downloads);
            if let Some(bytes) = downloads.held.get(&key).and_then(Weak::upgrade) {
                return Ok(bytes);
            }
            match downloads.in_flight.get(&key) {
                Some(pending) => (pending.clone(), false),
                None => {
                    let pending = self.start_download(document);
                    downloads.in_flight.insert(key.clone(), pending.clone());
                    (pending, true)
                }
            }
        };
        let deadline = self.shared.config.operation_deadline;
        let wait = if mine {
            deadline + WAIT_SLACK
        } else {
            deadline
        };
        match pending.wait(wait, None) {
            Ok(result) => result,
            Err(Abandoned::Panicked(message)) => Err(IndexError::Internal {
                object: "ContentVersion".into(),
                message,
            }),
            Err(Abandoned::Deadline | Abandoned::Stopped) => Err(IndexError::Deadline {
                object: "ContentVersion".into(),
                seconds: deadline.as_secs(),
            }),
        }
    }

    fn start_download(&self, document: &Document) -> Arc<Pending<DownloadResult>> {
        let shared = self.shared.clone();
        let key = document.version_id.clone();
        let size = document.size;
        let deadline = self.shared.config.operation_deadline;
        self.shared.body_stats.document_download();
        Pending::spawn(&self.shared.runtime, async move {
            let fetched = tokio::time::timeout(deadline, shared.source.document(&key, size)).await;
            let result: DownloadResult = match fetched {
                Ok(Ok(bytes)) => Ok(bytes.into()),
                // A document gone from the org between listing and read: the open file
                // cannot be read, which is an I/O failure, not a missing name.
                Ok(Err(SourceError::NotFound(what))) => Err(IndexError::Source(
                    SourceError::Other(format!("attached file no longer in the org: {what}")),
                )),
                Ok(Err(error)) => Err(IndexError::Source(error)),
                Err(_) => Err(IndexError::Source(SourceError::Timeout)),
            };
            let mut downloads = lock(&shared.downloads);
            downloads.in_flight.remove(&key);
            match &result {
                Ok(bytes) => {
                    downloads.held.retain(|_, w| w.strong_count() > 0);
                    downloads.held.insert(key.clone(), Arc::downgrade(bytes));
                }
                Err(error) => {
                    shared.body_stats.document_download_failed();
                    tracing::warn!(version = %key, error = %error, "attached file download failed")
                }
            }
            result
        })
    }
}
