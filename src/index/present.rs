//! The one place where the index turns a record into a title, file names and bytes, through
//! the catalog's naming rules and the renderers.

use std::sync::Arc;
use std::time::SystemTime;

use super::source::{ListingPlan, Record};
use super::time::{record_time, record_watermark};
use super::{FileEntry, FileFormat};

/// How records of one object are presented.
#[derive(Debug, Clone)]
pub struct Presenter {
    pub object: String,
    pub instance_url: String,
    pub name_field: Option<String>,
}

impl Presenter {
    pub fn new(object: &str, instance_url: &str, plan: &ListingPlan) -> Presenter {
        Presenter {
            object: object.to_string(),
            instance_url: instance_url.to_string(),
            name_field: plan.name_field.clone(),
        }
    }

    pub fn title(&self, record: &Record) -> String {
        crate::catalog::record_title(&self.object, record, self.name_field.as_deref())
    }

    pub fn file_name(&self, title: &str, id: &str, format: FileFormat) -> String {
        crate::catalog::file_name(title, id, format.extension())
    }

    pub fn render(&self, record: &Record, title: &str, format: FileFormat) -> Vec<u8> {
        match format {
            FileFormat::Json => crate::render::render_json(record),
            FileFormat::Text => {
                let context = crate::render::TextContext {
                    instance_url: &self.instance_url,
                    title,
                    name_field: self.name_field.as_deref(),
                };
                crate::render::render_text(&self.object, record, &context)
            }
        }
    }
}

/// One file of a record, rendered: its entry (inode not yet chosen) and its bytes.
pub(super) struct Rendered {
    pub format: FileFormat,
    pub name: String,
    pub body: Arc<[u8]>,
    mtime: SystemTime,
    ctime: SystemTime,
    modstamp: Option<SystemTime>,
}

impl Rendered {
    pub fn entry(&self, ino: u64, id: &str) -> FileEntry {
        FileEntry {
            ino,
            name: self.name.clone(),
            id: Arc::from(id),
            format: self.format,
            size: self.body.len() as u64,
            mtime: self.mtime,
            ctime: self.ctime,
            modstamp: self.modstamp,
            digest: body_digest(&self.body),
        }
    }
}

/// Whether `body` is the version of the file `entry` describes: same length and digest.
/// A body from the local store is served only then (a failed store write leaves an older
/// version there; a length other than the file's size would break every reader).
pub(super) fn is_body_of(entry: &FileEntry, body: &[u8]) -> bool {
    entry.size == body.len() as u64 && entry.digest == body_digest(body)
}

/// The digest is kept in the local store and compared by later runs, so it must not change
/// between builds: xxh3 is specified and stable (`DefaultHasher` is not), and fast enough
/// to hash every body as it is rendered.
fn body_digest(body: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(body)
}

/// The record's files, one per format, in the order of `formats`.
pub(super) fn render_record(
    presenter: &Presenter,
    formats: &[FileFormat],
    record: &Record,
    id: &str,
) -> Vec<Rendered> {
    let title = presenter.title(record);
    let mtime = record_time(record, "LastModifiedDate");
    // ctime is when this mount saw the content (a rewrite keeps the old one when the bytes
    // did not change), so indexers that compare size and ctime notice a same-length edit.
    let ctime = SystemTime::now();
    let modstamp = record_watermark(record);
    formats
        .iter()
        .map(|&format| Rendered {
            format,
            name: presenter.file_name(&title, id, format),
            body: presenter.render(record, &title, format).into(),
            mtime,
            ctime,
            modstamp,
        })
        .collect()
}

/// The record's Id, if it has a usable one (a file name needs it).
pub(super) fn record_id(record: &Record) -> Option<&str> {
    record
        .get("Id")
        .and_then(|v| v.as_str())
        .filter(|id| !id.is_empty())
}
