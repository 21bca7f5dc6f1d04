//! Seeded legacy Attachments: a few files on the first Accounts and Cases, with the bytes
//! kept like ContentVersion bytes (by record Id) and served at `Attachment/{Id}/Body`.

use super::*;

/// Bytes of the generated attachment: past two of sfmount's 256 KiB chunks, so a read of
/// it crosses chunk boundaries and a read at an offset can ask for a range.
const GENERATED_ATTACHMENT_BYTES: u64 = 600 * 1024;
/// Seed of the generated attachment's bytes (any fixed number: the bytes only need to be
/// the same on every run).
const GENERATED_ATTACHMENT_SEED: u64 = 0x00A7_7AC4;

/// The attachments, each on a record picked by kind and position: the first Case always
/// has two (one named without an extension, whose type then comes from its ContentType),
/// so a test can rely on them.
pub(super) fn seed_attachments(s: &mut Seeder) {
    let files: [(&str, usize, &str, &str, Blob); 5] = [
        (
            "Case",
            0,
            "Screenshot.png",
            "image/png",
            Blob::held(b"\x89PNG\r\n\x1a\nnot really a picture".to_vec()),
        ),
        (
            "Case",
            0,
            "error log",
            "text/plain",
            Blob::held(b"2024-02-01 08:05:09 ERROR printer offline\n".to_vec()),
        ),
        (
            "Case",
            1,
            "Export: week 5.csv",
            "text/csv",
            Blob::held(b"day,tickets\nmon,4\ntue,7\n".to_vec()),
        ),
        (
            "Account",
            0,
            "Signed quote.pdf",
            "application/pdf",
            Blob::Generated {
                seed: GENERATED_ATTACHMENT_SEED,
                len: GENERATED_ATTACHMENT_BYTES,
            },
        ),
        (
            "Account",
            1,
            "Zoë's notes.txt",
            "text/plain",
            Blob::held("Rendez-vous à 10 h, café compris.\n".as_bytes().to_vec()),
        ),
    ];
    for (kind, k, name, content_type, blob) in files {
        let parent = match kind {
            "Case" => s.cases.get(k).map(|c| c.0.clone()),
            _ => s.accounts.get(k).cloned(),
        };
        // `--records 0` gives an org without cases or accounts: no attachments then.
        let Some(parent) = parent else {
            continue;
        };
        let created = s.created();
        let id = s.add(
            "Attachment",
            created,
            vec![
                ("ParentId", Value::String(parent)),
                ("Name", Value::from(name)),
                ("ContentType", Value::from(content_type)),
                ("BodyLength", Value::from(blob.len())),
                ("IsPrivate", Value::Bool(false)),
            ],
        );
        let &(table, row) = s.store.by_id.get(&id).expect("just stored");
        let url = blob_url(DEFAULT_API_VERSION, "Attachment", &id, "Body");
        s.store
            .put(usize::from(table), row as usize, "Body", Value::String(url));
        s.store.blobs.insert(id, (blob, content_type.to_string()));
    }
}
