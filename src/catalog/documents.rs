//! Attached files: which documents a record has (its `ContentDocumentLinks` and legacy
//! `Attachments`, as the listing selects them) and what their files and folder are called.

use serde_json::{Map, Value};

use super::names::file_name;

/// The suffix of the folder beside a record file that holds its attached files.
pub const FILES_FOLDER_EXTENSION: &str = "files";
/// Longest file extension kept from the org; a longer one is dropped (no real type has
/// one, and the name budget is better spent on the title).
const MAX_EXTENSION_CHARS: usize = 16;

/// One document linked to a record, at its latest published version; or one legacy
/// Attachment of the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedDocument {
    /// The ContentDocumentId: the same for every record the document is linked to. For an
    /// Attachment, its own Id (it belongs to one record only).
    pub document_id: String,
    /// The record whose bytes the file holds: the latest published ContentVersion (its
    /// `VersionData`), or the Attachment itself (its `Body`). The download picks the
    /// endpoint from the Id's key prefix (`salesforce/content.rs`).
    pub version_id: String,
    /// `<Title> [<ContentDocumentId>].<ext>` (`<Name> [<AttachmentId>].<ext>`), safe and
    /// unique within the folder.
    pub file_name: String,
    /// `ContentSize`: the exact length of the bytes.
    pub size: u64,
    /// The document's LastModifiedDate as sent (None if the listing has none).
    pub modified: Option<String>,
}

/// The name of a record's attached-files folder: its file name without extension, plus
/// `.files`.
pub fn files_folder_name(title: &str, id: &str) -> String {
    file_name(title, id, FILES_FOLDER_EXTENSION)
}

/// The documents of `record`, one per distinct ContentDocumentId, in link order. A link
/// without a readable document, version or size is skipped: without a size the file could
/// not state its length before it is read.
/// Then the record's Attachments, in the order the org listed them.
pub fn attached_documents(record: &Map<String, Value>) -> Vec<AttachedDocument> {
    let mut out = linked_documents(record);
    out.extend(super::attachments::attachments(record));
    out
}

fn linked_documents(record: &Map<String, Value>) -> Vec<AttachedDocument> {
    let Some(links) = record.get("ContentDocumentLinks").and_then(links_of) else {
        return Vec::new();
    };
    let mut out: Vec<AttachedDocument> = Vec::new();
    for link in links {
        let Some(document_id) = link.get("ContentDocumentId").and_then(Value::as_str) else {
            continue;
        };
        let Some(doc) = link.get("ContentDocument").and_then(Value::as_object) else {
            continue;
        };
        let version = doc.get("LatestPublishedVersionId").and_then(Value::as_str);
        let size = doc.get("ContentSize").and_then(Value::as_u64);
        let (Some(version_id), Some(size)) = (version, size) else {
            continue;
        };
        if out.iter().any(|d| d.document_id == document_id) {
            continue;
        }
        let title = doc.get("Title").and_then(Value::as_str).unwrap_or("");
        let extension = doc
            .get("FileExtension")
            .and_then(Value::as_str)
            .map(safe_extension)
            .unwrap_or_default();
        out.push(AttachedDocument {
            document_id: document_id.to_string(),
            version_id: version_id.to_string(),
            file_name: file_name(title, document_id, &extension),
            size,
            modified: doc
                .get("LastModifiedDate")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    out
}

/// The links array: a subquery answers `{records: [...]}`, a fetched record a plain array.
pub(super) fn links_of(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(links) => Some(links),
        Value::Object(result) => result.get("records")?.as_array(),
        _ => None,
    }
}

/// The org's extension, lower-cased ASCII letters and digits only (it ends a file name, so
/// a `/` or `..` in it must never reach the mount).
pub(super) fn safe_extension(extension: &str) -> String {
    let cleaned: String = extension
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if cleaned.len() > MAX_EXTENSION_CHARS {
        String::new()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(links: Value) -> Map<String, Value> {
        json!({"Id": "001000000000001AAA", "ContentDocumentLinks": links})
            .as_object()
            .unwrap()
            .clone()
    }

    fn link(doc: &str, title: &str, ext: Value, size: Value) -> Value {
        json!({"ContentDocumentId": doc, "ContentDocument": {
            "Title": title, "FileExtension": ext, "ContentSize": size,
            "LatestPublishedVersionId": "068000000000001AAA",
            "LastModifiedDate": "2024-02-01T08:05:09.000+0000"}})
    }

    #[test]
    fn documents_are_named_by_title_and_document_id() {
        let docs = attached_documents(&record(json!([
            link("069000000000001AAA", "Contract", json!("PDF"), json!(12)),
            link("069000000000002AAA", "a/b: c", json!("tar/../gz"), json!(0)),
            link("069000000000003AAA", "No type", Value::Null, json!(5)),
        ])));
        let names: Vec<&str> = docs.iter().map(|d| d.file_name.as_str()).collect();
        assert_eq!(names[0], "Contract [069000000000001AAA].pdf");
        // The title is cleaned by names.rs's rule (tested there); the extension here.
        assert!(
            names[1].ends_with(" [069000000000002AAA].targz"),
            "{}",
            names[1]
        );
        assert!(!names[1].contains('/'));
        assert_eq!(names[2], "No type [069000000000003AAA]");
        assert_eq!(docs[0].size, 12);
        assert_eq!(docs[0].version_id, "068000000000001AAA");
    }

    #[test]
    fn links_without_size_or_version_and_repeats_are_skipped() {
        let mut no_version = link("069000000000004AAA", "x", json!("txt"), json!(1));
        no_version["ContentDocument"]["LatestPublishedVersionId"] = Value::Null;
        let docs = attached_documents(&record(json!({"records": [
            link("069000000000001AAA", "a", json!("txt"), json!(1)),
            link("069000000000001AAA", "a", json!("txt"), json!(1)),
            link("069000000000005AAA", "b", json!("txt"), Value::Null),
            no_version,
        ]})));
        assert_eq!(docs.len(), 1);
        assert!(attached_documents(&record(Value::Null)).is_empty());
    }

    #[test]
    fn the_folder_is_named_like_the_record_file_with_files() {
        assert_eq!(
            files_folder_name("Acme", "001000000000001AAA"),
            "Acme [001000000000001AAA].files"
        );
    }
}
