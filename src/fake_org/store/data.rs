//! Seeded data: deterministic for a seed, realistic and awkward on purpose (Unicode, long
//! texts, names with `/`, quotes, emoji, duplicates, `.` and `..`).

use serde_json::{Map, Value};

use super::{GenerateOptions, Store};

/// Fills an empty store with the org, its users and records.
pub(super) fn seed(store: &mut Store, _opts: &GenerateOptions) {
    let org_table = store
        .table("Organization")
        .expect("schema has Organization");
    let org_id = store.new_id("00D");
    let mut org = store.blank_record(org_table);
    org.insert("Id".into(), Value::String(org_id.clone()));
    org.insert("Name".into(), Value::from("Fake Org"));
    store.push_record(org_table, org);
    store.org_id = org_id;
    let user_table = store.table("User").expect("schema has User");
    let user_id = store.new_id("005");
    let mut user: Map<String, Value> = store.blank_record(user_table);
    user.insert("Id".into(), Value::String(user_id.clone()));
    store.push_record(user_table, user);
    store.integration_user_id = user_id;
}

/// Salesforce's FileType token for a lower-case extension.
pub(super) fn file_type(extension: &str) -> &'static str {
    match extension {
        "txt" => "TEXT",
        "csv" => "CSV",
        "md" => "MARKDOWN",
        "pdf" => "PDF",
        "png" => "PNG",
        "json" => "JSON",
        _ => "UNKNOWN",
    }
}

/// The MIME type served with a file's bytes.
pub(super) fn mime_type(extension: &str) -> &'static str {
    match extension {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
