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
            s.store.blobs.insert(
                version.clone(),
                (Blob::held(content), mime_type(extension).to_string()),
            );
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

/// Orgs this large (the demo's default size and up) also get [`seed_large_files`]: tests
/// with smaller orgs keep the small text files their counts were written against.
pub(super) const LARGE_FILES_FROM: usize = 200;

/// Documents the bytes of which are generated on read (never held): a 50 MB PDF and a
/// 500 MB video, which show that a download streams; and small held files with names a
/// file system finds awkward (slash, colon, quotes, a trailing dot, a 300-byte title, two
/// of one title on one record). Each is linked to several records, Cases and Accounts.
pub(super) fn seed_large_files(s: &mut Seeder, n: usize) {
    if n < LARGE_FILES_FROM {
        return;
    }
    const MIB: u64 = 1 << 20;
    let long_title = format!("Quarterly review {}", "and more notes ".repeat(19));
    let files: Vec<(String, &str, Blob)> = vec![
        (
            "Signed contract (scan)".into(),
            "pdf",
            Blob::Generated {
                seed: 50,
                len: 50 * MIB + 12_345,
            },
        ),
        (
            "Site survey walkthrough".into(),
            "mp4",
            Blob::Generated {
                seed: 500,
                len: 500 * MIB + 7,
            },
        ),
        (
            "Q3 report: draft/final? \"v2\" *".into(),
            "txt",
            Blob::held(b"Q3: revenue up, churn down.\n".to_vec()),
        ),
        (
            "Notes.".into(),
            "txt",
            Blob::held(b"A title ending in a dot.\n".to_vec()),
        ),
        (
            "Notes.".into(),
            "md",
            Blob::held(b"# Same title, other document\n".to_vec()),
        ),
        (
            long_title,
            "txt",
            Blob::held(b"A very long title.\n".to_vec()),
        ),
        (
            "Résumé – Zoë «final» 🚀".into(),
            "json",
            Blob::held(r#"{"name": "Zoë", "skills": ["façade", "naïve"]}"#.as_bytes().to_vec()),
        ),
    ];
    for (i, (title, extension, blob)) in files.into_iter().enumerate() {
        let created = s.created();
        let document = s.add(
            "ContentDocument",
            created,
            vec![("Title", Value::from(title.clone()))],
        );
        let size = blob.len();
        let at = s.later(created, 10);
        let version = s.add(
            "ContentVersion",
            at,
            vec![
                ("ContentDocumentId", Value::String(document.clone())),
                ("Title", Value::from(title.clone())),
                ("PathOnClient", Value::from(format!("{title}.{extension}"))),
                ("VersionNumber", Value::from("1")),
                ("FileExtension", Value::from(extension)),
                ("FileType", Value::from(file_type(extension))),
                ("ContentSize", Value::from(size)),
                ("IsLatest", Value::Bool(true)),
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
            .insert(version.clone(), (blob, mime_type(extension).to_string()));
        let &(table, row) = s.store.by_id.get(&document).expect("just stored");
        let (table, row) = (usize::from(table), row as usize);
        s.store.set_field(
            table,
            row,
            "LatestPublishedVersionId",
            Value::String(version),
        );
        s.store
            .put(table, row, "FileExtension", Value::from(extension));
        s.store
            .put(table, row, "FileType", Value::from(file_type(extension)));
        s.store.put(table, row, "ContentSize", Value::from(size));
        // The two "Notes." documents share a Case, so one folder holds both.
        let mut targets: Vec<String> = Vec::new();
        if let Some(case) = s.cases.get((i / 2 + 1) % s.cases.len().max(1)) {
            targets.push(case.0.clone());
        }
        for k in 0..3 {
            if let Some(account) = s
                .accounts
                .get((i * 5 + k * 11 + 1) % s.accounts.len().max(1))
            {
                targets.push(account.clone());
            }
        }
        targets.dedup();
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
        "mp4" => "MP4",
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
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}
