//! The text view of a record: for people and for grep.
//!
//! Layout (every line ends in `\n`, empty parts are left out):
//! ```text
//! <title>
//! Link: <instance_url>/<Id>
//! Object: <object>
//! Owner: <Owner.Name>
//! Created: 2024-01-15 10:30:00 UTC by <CreatedBy.Name>
//! Modified: 2024-01-16 08:00:00 UTC
//!
//! Description:
//!   <each line of the description, indented by two spaces>
//! Website: <Website>
//! ... the object's content rules (crate::catalog::content_rules) ...
//!
//! Feed:                                  (Case only)
//! - TextPost by <author> at <time>
//!   <body, title and link>
//!   Comment by <author> at <time>:
//!     <comment body>
//!
//! Emails: / Tasks: / Events:             (Case only; layout in render/story.rs)
//!
//! Files:
//! - <Title>.<ext> (<size> bytes)
//! ```
//! Times are shown in UTC as `YYYY-MM-DD HH:MM:SS UTC`; a value that is not a Salesforce
//! datetime is shown as given. Values are cleaned of NUL and control characters (newlines
//! and tabs kept, `\r\n` and lone `\r` turned into `\n`).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::html::html_to_text;
use super::story::{push_activities, push_emails};
use crate::catalog::{content_rules, ContentRule, ADDRESS_KEYS};

/// What the text view needs beyond the record itself.
#[derive(Debug, Clone, Copy)]
pub struct TextContext<'a> {
    /// Base of the record link, e.g. `https://acme.my.salesforce.com` (no trailing slash
    /// needed; one is tolerated).
    pub instance_url: &'a str,
    /// The record's title (`crate::catalog::record_title`).
    pub title: &'a str,
    /// The object's name field from describe, if not `Name`; left out of "other text fields"
    /// because the title already shows it.
    pub name_field: Option<&'a str>,
}

/// Fields never listed among a custom object's "other text fields": the record's identity,
/// audit fields already in the header, and system timestamps, which are strings on the wire
/// but not text anyone searches for.
const SYSTEM_FIELDS: [&str; 13] = [
    "Id",
    "Name",
    "Description",
    "OwnerId",
    "CreatedById",
    "LastModifiedById",
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
    "LastActivityDate",
    "LastViewedDate",
    "LastReferencedDate",
    "RecordTypeId",
];

/// Relationships the header already shows, and the arrays shown in their own sections.
const HEADER_RELATIONSHIPS: [&str; 9] = [
    "Owner",
    "CreatedBy",
    "LastModifiedBy",
    "ContentDocumentLinks",
    "Attachments",
    "Feeds",
    "EmailMessages",
    "Tasks",
    "Events",
];

/// The text view for people and grep: header, the object's content (issue 4 §4), Case feeds,
/// attached files. Deterministic: same input, same bytes.
pub fn render_text(object: &str, record: &Map<String, Value>, ctx: &TextContext) -> Vec<u8> {
    let mut out = String::new();
    push_header(&mut out, object, record, ctx);

    let rules = content_rules(object);
    let mut body = String::new();
    let mut feeds = String::new();
    let mut emails = String::new();
    let mut activities = String::new();
    for rule in rules {
        match *rule {
            ContentRule::Text { field, label } => {
                if let Some(value) = string_field(record, field) {
                    push_field(&mut body, label, &value);
                }
            }
            ContentRule::Flag {
                field,
                label,
                when_true,
                when_false,
            } => {
                if let Some(flag) = bool_field(record, field) {
                    push_field(&mut body, label, if flag { when_true } else { when_false });
                }
            }
            ContentRule::Address {
                compound,
                parts,
                label,
            } => {
                if let Some(address) = format_address(record, compound, &parts) {
                    push_field(&mut body, label, &address);
                }
            }
            ContentRule::Feeds => push_feeds(&mut feeds, record),
            ContentRule::Emails => push_emails(&mut emails, record),
            ContentRule::Activities => push_activities(&mut activities, record),
            ContentRule::OtherText => push_other_text(&mut body, record, ctx.name_field),
        }
    }
    for section in [body, feeds, emails, activities] {
        if !section.is_empty() {
            out.push('\n');
            out.push_str(&section);
        }
    }
    push_files(&mut out, record);
    out.into_bytes()
}

fn push_header(out: &mut String, object: &str, record: &Map<String, Value>, ctx: &TextContext) {
    let title = one_line(ctx.title);
    let id = string_field(record, "Id");
    out.push_str(if title.is_empty() {
        id.as_deref().unwrap_or("(untitled)")
    } else {
        &title
    });
    out.push('\n');
    if let Some(id) = &id {
        let base = ctx.instance_url.trim_end_matches('/');
        push_field(out, "Link", &format!("{base}/{}", one_line(id)));
    }
    push_field(out, "Object", &one_line(object));
    if let Some(owner) = nested_string(record, "Owner", "Name") {
        push_field(out, "Owner", &owner);
    }
    let author = nested_string(record, "CreatedBy", "Name");
    match (string_field(record, "CreatedDate"), author) {
        (Some(created), Some(author)) => push_field(
            out,
            "Created",
            &format!("{} by {}", format_time(&created), one_line(&author)),
        ),
        (Some(created), None) => push_field(out, "Created", &format_time(&created)),
        (None, Some(author)) => push_field(out, "Created by", &author),
        (None, None) => {}
    }
    if let Some(modified) = string_field(record, "LastModifiedDate") {
        push_field(out, "Modified", &format_time(&modified));
    }
}

/// `Label: value`, or for a multi-line value `Label:` followed by the lines indented by two.
fn push_field(out: &mut String, label: &str, value: &str) {
    push_field_indented(out, "", label, value);
}

pub(super) fn push_field_indented(out: &mut String, indent: &str, label: &str, value: &str) {
    let value = value.trim_end_matches('\n');
    if value.contains('\n') {
        let _ = writeln!(out, "{indent}{label}:");
        push_block(out, &format!("{indent}  "), value);
    } else {
        let _ = writeln!(out, "{indent}{label}: {value}");
    }
}

pub(super) fn push_block(out: &mut String, indent: &str, value: &str) {
    for line in value.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
}

fn push_feeds(out: &mut String, record: &Map<String, Value>) {
    let items = child_records(record.get("Feeds"));
    if items.is_empty() {
        return;
    }
    out.push_str("Feed:\n");
    for item in items {
        let kind = string_field(item, "Type").map_or_else(|| "Post".to_string(), |t| one_line(&t));
        let _ = writeln!(out, "- {}", byline(&kind, item));
        if let Some(title) = string_field(item, "Title") {
            push_field_indented(out, "  ", "Title", &title);
        }
        if let Some(body) = body_text(item, "Body") {
            push_block(out, "  ", &body);
        }
        if let Some(link) = string_field(item, "LinkUrl") {
            push_field_indented(out, "  ", "Link", &one_line(&link));
        }
        for comment in child_records(item.get("FeedComments")) {
            let _ = writeln!(out, "  {}:", byline("Comment", comment));
            if let Some(body) = body_text(comment, "CommentBody") {
                push_block(out, "    ", &body);
            }
        }
    }
}

/// A feed body or comment as plain text: rich-text ones (`IsRichText: true`) are Salesforce's
/// small HTML subset, turned into lines so that grep finds words, not markup.
fn body_text(item: &Map<String, Value>, field: &str) -> Option<String> {
    let raw = match item.get(field)? {
        Value::String(text) => text,
        _ => return None,
    };
    let text = if bool_field(item, "IsRichText") == Some(true) {
        html_to_text(raw)
    } else {
        raw.clone()
    };
    let cleaned = clean(&text);
    (!cleaned.trim().is_empty()).then_some(cleaned)
}

/// `"<kind> by <author> at <time>"`, leaving out what is unknown.
fn byline(kind: &str, item: &Map<String, Value>) -> String {
    let mut line = kind.to_string();
    if let Some(author) = nested_string(item, "CreatedBy", "Name") {
        let _ = write!(line, " by {}", one_line(&author));
    }
    if let Some(time) = string_field(item, "CreatedDate") {
        let _ = write!(line, " at {}", format_time(&time));
    }
    line
}

fn push_other_text(out: &mut String, record: &Map<String, Value>, name_field: Option<&str>) {
    for (key, value) in record {
        if key == "attributes"
            || SYSTEM_FIELDS.contains(&key.as_str())
            || HEADER_RELATIONSHIPS.contains(&key.as_str())
            || name_field == Some(key.as_str())
        {
            continue;
        }
        match value {
            Value::String(text) => {
                let cleaned = clean(text);
                if !cleaned.trim().is_empty() && !looks_like_id(key, &cleaned) {
                    push_field(out, key, &cleaned);
                }
            }
            // A relationship (e.g. `Account__r: {Name: ...}`): its text fields, dotted.
            Value::Object(nested) => {
                for (nested_key, nested_value) in nested {
                    if nested_key == "attributes" || nested_key == "Id" {
                        continue;
                    }
                    if let Value::String(text) = nested_value {
                        let cleaned = clean(text);
                        if !cleaned.trim().is_empty() && !looks_like_id(nested_key, &cleaned) {
                            push_field(out, &format!("{key}.{nested_key}"), &cleaned);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// A Salesforce Id value (lookups, record types): not text to read. An 18-character Id is
/// recognised by its checksum; a 15-character one only under a field named like a lookup,
/// since 15 letters and digits could as well be a product code.
fn looks_like_id(key: &str, text: &str) -> bool {
    crate::sfid::is_valid_18(text)
        || (text.len() == 15
            && (key.ends_with("Id") || key.ends_with("Id__c"))
            && text.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn push_files(out: &mut String, record: &Map<String, Value>) {
    let links = child_records(record.get("ContentDocumentLinks"));
    let mut lines = String::new();
    for link in links {
        let Some(Value::Object(document)) = link.get("ContentDocument") else {
            continue;
        };
        let title = string_field(document, "Title").map(|t| one_line(&t));
        let extension = string_field(document, "FileExtension").map(|e| one_line(&e));
        let name = match (title, extension) {
            (Some(title), Some(ext))
                if !title
                    .to_lowercase()
                    .ends_with(&format!(".{}", ext.to_lowercase())) =>
            {
                format!("{title}.{ext}")
            }
            (Some(title), _) => title,
            (None, Some(ext)) => format!("(untitled).{ext}"),
            (None, None) => "(untitled)".to_string(),
        };
        let size = match document.get("ContentSize") {
            Some(Value::Number(size)) => format!(" ({size} bytes)"),
            _ => String::new(),
        };
        let _ = writeln!(lines, "- {name}{size}");
    }
    // Legacy Attachments: their Name is already the file name, extension included.
    for attachment in child_records(record.get("Attachments")) {
        let name = string_field(attachment, "Name")
            .map(|n| one_line(&n))
            .unwrap_or_else(|| "(untitled)".to_string());
        let size = match attachment.get("BodyLength") {
            Some(Value::Number(size)) => format!(" ({size} bytes)"),
            _ => String::new(),
        };
        let _ = writeln!(lines, "- {name}{size}");
    }
    if !lines.is_empty() {
        out.push_str("\nFiles:\n");
        out.push_str(&lines);
    }
}

/// Child rows given either as a plain array (as the client attaches them) or as a subquery
/// result `{totalSize, done, records: [...]}` (as Salesforce returns them).
pub(super) fn child_records(value: Option<&Value>) -> Vec<&Map<String, Value>> {
    let rows = match value {
        Some(Value::Array(rows)) => rows,
        Some(Value::Object(result)) => match result.get("records") {
            Some(Value::Array(rows)) => rows,
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    rows.iter().filter_map(Value::as_object).collect()
}

fn format_address(
    record: &Map<String, Value>,
    compound: &str,
    parts: &[&str; 5],
) -> Option<String> {
    let compound = match record.get(compound) {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    let part = |index: usize| -> String {
        compound
            .and_then(|map| string_field(map, ADDRESS_KEYS[index]))
            .or_else(|| string_field(record, parts[index]))
            .unwrap_or_default()
    };
    // A multi-line street reads as one comma-separated line.
    let street = part(0)
        .split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let (city, state, postal_code, country) = (part(1), part(2), part(3), part(4));
    let state_and_code = [state.trim(), postal_code.trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let line = [
        street.as_str(),
        city.trim(),
        state_and_code.as_str(),
        country.trim(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .map(one_line)
    .collect::<Vec<_>>()
    .join(", ");
    (!line.is_empty()).then_some(line)
}

/// A non-empty string value, cleaned for text.
pub(super) fn string_field(record: &Map<String, Value>, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::String(text) => {
            let cleaned = clean(text);
            (!cleaned.trim().is_empty()).then_some(cleaned)
        }
        _ => None,
    }
}

pub(super) fn nested_string(
    record: &Map<String, Value>,
    relationship: &str,
    field: &str,
) -> Option<String> {
    match record.get(relationship)? {
        Value::Object(nested) => string_field(nested, field),
        _ => None,
    }
}

pub(super) fn bool_field(record: &Map<String, Value>, field: &str) -> Option<bool> {
    match record.get(field)? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Drops NUL and control characters (keeping `\n` and `\t`), turns `\r\n` and lone `\r`
/// into `\n`, and removes spaces and tabs at line ends.
pub(super) fn clean(text: &str) -> String {
    // Most values need nothing; skip the three passes below for them.
    let needs_work = text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\r')
        || text.contains(" \n")
        || text.contains("\t\n")
        || text.ends_with([' ', '\t']);
    if !needs_work {
        return text.to_string();
    }
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let kept: String = normalised
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect();
    kept.split('\n')
        .map(|line| line.trim_end_matches([' ', '\t']))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A value that must stay on one line (titles, names): line breaks and tabs become spaces.
pub(super) fn one_line(text: &str) -> String {
    clean(text)
        .split(['\n', '\t'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `2024-01-15T10:30:00.000+0000` → `2024-01-15 10:30:00 UTC`; anything else as given.
pub(super) fn format_time(text: &str) -> String {
    let trimmed = text.trim();
    // Fast path for the one shape Salesforce sends, already UTC: 2024-01-15T10:30:00.000+0000.
    let bytes = trimmed.as_bytes();
    let is_salesforce_utc = bytes.len() == 28
        && trimmed.ends_with("+0000")
        && bytes[10] == b'T'
        && bytes[19] == b'.'
        && trimmed.is_ascii()
        && chrono::NaiveDateTime::parse_from_str(&trimmed[..19], "%Y-%m-%dT%H:%M:%S").is_ok();
    if is_salesforce_utc {
        return format!("{} {} UTC", &trimmed[..10], &trimmed[11..19]);
    }
    match crate::sftime::parse(trimmed) {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => one_line(trimmed),
    }
}
