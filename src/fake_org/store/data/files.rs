//! Seeded files: ContentVersions with real bytes, their ContentDocuments and the links
//! that attach them to records.

use super::*;

/// Small real files: text, CSV and Markdown, linked to accounts, cases and custom records.
/// Long on purpose: a version, its document and its links are made together, in order.
pub(super) fn seed_files(s: &mut Seeder, n: usize) {
    let documents = (n / 10).max(6);
    for i in 0..documents {
        let (title, extension, bytes) = match i % 3 {
            0 => (
                format!("Meeting notes {i}"),
                "txt",
                format!("Meeting notes #{i}\nAttendees: Chloé, 佐藤, O'Brien\nNext step: send the quote.\n")
                    .into_bytes(),
            ),
            1 => (
                format!("Price list {i}"),
                "csv",
                format!("sku,description,price\nA-{i},\"Widget, large\",19.99\nB-{i},Gadget «pro»,5.00\n")
                    .into_bytes(),
            ),
            _ => (
                format!("Runbook {i}"),
                "md",
                format!("# Runbook {i}\n\n- Restart the service\n- Check `/var/log/app.log`\n\n> Ne pas oublier 🚀\n")
                    .into_bytes(),
            ),
        };
        let created = s.created();
        let document = s.add(
            "ContentDocument",
            created,
            vec![("Title", Value::from(title.clone()))],
        );
        // Every fifth document has an older first version.
        let versions = if i % 5 == 0 { 2 } else { 1 };
        let mut latest = String::new();
        for v in 1..=versions {
            let content = if v < versions {
                format!("(draft)\n{}", String::from_utf8_lossy(&bytes)).into_bytes()
            } else {
                bytes.clone()
            };
            let at = s.later(created, 10);
            let version = s.add(
                "ContentVersion",
                at,
                vec![
                    ("ContentDocumentId", Value::String(document.clone())),
                    ("Title", Value::from(title.clone())),
                    ("PathOnClient", Value::from(format!("{title}.{extension}"))),
                    ("VersionNumber", Value::from(v.to_string())),
                    ("FileExtension", Value::from(extension)),
                    ("FileType", Value::from(file_type(extension))),
                    ("ContentSize", Value::from(content.len())),
                    ("IsLatest", Value::Bool(v == versions)),
                ],
            );
            let &(table, row) = s.store.by_id.get(&version).expect("just stored");
            let url = blob_url(
                DEFAULT_API_VERSION,
                "ContentVersion",
                &version,
                "VersionData",
            );
            s.store.put(
                usize::from(table),
                row as usize,
                "VersionData",
                Value::String(url),
            );
            s.store
                .blobs
                .insert(version.clone(), (content, mime_type(extension).to_string()));
            latest = version;
        }
        let &(table, row) = s.store.by_id.get(&document).expect("just stored");
        let size = s.store.blobs[&latest].0.len();
        let table = usize::from(table);
        let row = row as usize;
        s.store.set_field(
            table,
            row,
            "LatestPublishedVersionId",
            Value::String(latest),
        );
        s.store
            .put(table, row, "FileExtension", Value::from(extension));
        s.store
            .put(table, row, "FileType", Value::from(file_type(extension)));
        s.store.put(table, row, "ContentSize", Value::from(size));

        // `--records 0` gives an org without cases or accounts: files then stay unlinked.
        let case = |k: usize| s.cases.get(k % s.cases.len().max(1)).map(|c| c.0.clone());
        let account = |k: usize| s.accounts.get(k % s.accounts.len().max(1)).cloned();
        let mut targets: Vec<String> = Vec::new();
        match i % 4 {
            0 => targets.extend(case(i)),
            1 => targets.extend(account(i)),
            2 => {
                targets.extend(s.projects.get(i % s.projects.len().max(1)).cloned());
                targets.extend(s.invoices.get(i % s.invoices.len().max(1)).cloned());
            }
            _ => {
                targets.extend(case(i * 7));
                targets.extend(account(i * 3));
            }
        }
        if i == 0 {
            // The first Case always has a file, so a test can rely on one.
            targets.extend(case(0));
            targets.dedup();
        }
        for target in targets {
            s.add(
                "ContentDocumentLink",
                created,
                vec![
                    ("LinkedEntityId", Value::String(target)),
                    ("ContentDocumentId", Value::String(document.clone())),
                    ("ShareType", Value::from("V")),
                    ("Visibility", Value::from("AllUsers")),
                ],
            );
        }
    }
}

/// Salesforce's FileType token for a lower-case extension.
pub(in crate::fake_org::store) fn file_type(extension: &str) -> &'static str {
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
pub(in crate::fake_org::store) fn mime_type(extension: &str) -> &'static str {
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
