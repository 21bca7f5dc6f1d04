//! Legacy Attachments as attached files: each of a record's `Attachments` (as the listing
//! selects them) is a file in the record's `.files` folder beside its ContentDocuments,
//! named `<Name> [<AttachmentId>].<ext>` by the same rule as documents.

use serde_json::{Map, Value};

use super::documents::{links_of, safe_extension, AttachedDocument};
use super::names::file_name;

/// Longest extension taken from an Attachment's Name: a longer "extension" is more likely
/// part of the name (`Minutes of 12.02.2024 meeting`) than a file type.
const MAX_NAME_EXTENSION_CHARS: usize = 5;

/// MIME types to the extension a file of that type conventionally has, for Attachments
/// whose Name has none. Types outside the list give no extension rather than a guess.
const EXTENSIONS_BY_TYPE: &[(&str, &str)] = &[
    ("text/plain", "txt"),
    ("text/csv", "csv"),
    ("text/html", "html"),
    ("text/xml", "xml"),
    ("text/markdown", "md"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("application/pdf", "pdf"),
    ("application/zip", "zip"),
    ("application/msword", "doc"),
    ("application/vnd.ms-excel", "xls"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/gif", "gif"),
    ("message/rfc822", "eml"),
];

/// The Attachments of `record`, in listing order. One without an Id or a length is
/// skipped (the file could not state its size before it is read).
pub(super) fn attachments(record: &Map<String, Value>) -> Vec<AttachedDocument> {
    let Some(rows) = record.get("Attachments").and_then(links_of) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|row| {
            let id = row.get("Id").and_then(Value::as_str)?;
            let size = row.get("BodyLength").and_then(Value::as_u64)?;
            let name = row.get("Name").and_then(Value::as_str).unwrap_or("");
            let content_type = row.get("ContentType").and_then(Value::as_str);
            let (title, extension) = title_and_extension(name, content_type);
            Some(AttachedDocument {
                document_id: id.to_string(),
                version_id: id.to_string(),
                file_name: file_name(title, id, &extension),
                size,
                modified: row
                    .get("LastModifiedDate")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        })
        .collect()
}

/// `Screenshot.png` is titled `Screenshot` with extension `png`, so the Id goes before the
/// extension as for documents; a Name without one takes it from the ContentType.
fn title_and_extension<'a>(name: &'a str, content_type: Option<&str>) -> (&'a str, String) {
    if let Some((stem, extension)) = name.rsplit_once('.') {
        let clean = safe_extension(extension);
        let plain = !stem.is_empty()
            && !clean.is_empty()
            && clean.len() == extension.len()
            && clean.len() <= MAX_NAME_EXTENSION_CHARS;
        if plain {
            return (stem, clean);
        }
    }
    let by_type = content_type.and_then(|t| {
        // `text/plain; charset=UTF-8`: the parameters do not change the type.
        let essence = t.split(';').next().unwrap_or("").trim();
        EXTENSIONS_BY_TYPE
            .iter()
            .find(|(mime, _)| mime.eq_ignore_ascii_case(essence))
            .map(|(_, extension)| extension.to_string())
    });
    (name, by_type.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(rows: Value) -> Map<String, Value> {
        json!({"Id": "500000000000001AAA", "Attachments": rows})
            .as_object()
            .unwrap()
            .clone()
    }

    fn row(id: &str, name: &str, content_type: Value, size: Value) -> Value {
        json!({"Id": id, "Name": name, "ContentType": content_type, "BodyLength": size,
            "LastModifiedDate": "2024-02-01T08:05:09.000+0000"})
    }

    #[test]
    fn attachments_are_named_by_name_and_id_with_the_extension_last() {
        let files = attachments(&record(json!({"records": [
            row("00P000000000001AAA", "Screenshot.PNG", json!("image/png"), json!(10)),
            row("00P000000000002AAA", "error log", json!("text/plain; charset=UTF-8"), json!(3)),
            row("00P000000000003AAA", "Minutes 12.02.2024 meeting", json!("application/x-odd"), json!(1)),
            row("00P000000000004AAA", "a/b: c.csv", Value::Null, json!(0)),
            row("00P000000000005AAA", "no size", Value::Null, Value::Null),
        ]})));
        let names: Vec<&str> = files.iter().map(|d| d.file_name.as_str()).collect();
        assert_eq!(
            names[..3],
            [
                "Screenshot [00P000000000001AAA].png",
                "error log [00P000000000002AAA].txt",
                "Minutes 12.02.2024 meeting [00P000000000003AAA]",
            ]
        );
        assert!(
            names[3].ends_with(" [00P000000000004AAA].csv"),
            "{}",
            names[3]
        );
        assert!(!names[3].contains('/'));
        assert_eq!(files.len(), 4, "the one without a length is left out");
        assert_eq!(files[0].version_id, "00P000000000001AAA");
        assert_eq!(files[0].document_id, "00P000000000001AAA");
        assert_eq!(files[1].size, 3);
    }

    #[test]
    fn documents_come_first_then_attachments() {
        let mut both = record(json!([row(
            "00P000000000001AAA",
            "x.txt",
            Value::Null,
            json!(1)
        )]));
        both.insert(
            "ContentDocumentLinks".into(),
            json!([{"ContentDocumentId": "069000000000001AAA", "ContentDocument": {
                "Title": "Contract", "FileExtension": "pdf", "ContentSize": 2,
                "LatestPublishedVersionId": "068000000000001AAA"}}]),
        );
        let names: Vec<String> = super::super::attached_documents(&both)
            .into_iter()
            .map(|d| d.file_name)
            .collect();
        assert_eq!(
            names,
            [
                "Contract [069000000000001AAA].pdf",
                "x [00P000000000001AAA].txt"
            ]
        );
    }
}
