//! Attached files in the filesystem logic, without FUSE: `.files` folders beside records
//! with documents, one inode per document however many records link it, sizes before any
//! download, one download per document, and a failed or short download is EIO.

use std::ffi::OsStr;
use std::sync::Arc;

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::errno::errno;
use sfmount::fs::{Filesystem, FsError, NodeKind, ROOT_INO};
use sfmount::index::store::{LocalStore, SqliteStore};
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record, SourceError,
    DOCUMENT_CHUNK,
};

const SHARED_DOC: &str = "069Hs0000000001AAA";
const SHARED_VERSION: &str = "068Hs0000000001AAA";
const OWN_DOC: &str = "069Hs0000000002AAA";
const OWN_VERSION: &str = "068Hs0000000002AAA";
const BIG_DOC: &str = "069Hs0000000003AAA";
const BIG_VERSION: &str = "068Hs0000000003AAA";
/// A legacy Attachment on Umbrella, beside its document.
const ATTACHMENT: &str = "00PHs0000000001AAA";

fn link(doc: &str, version: &str, title: &str, size: usize) -> Value {
    json!({"ContentDocumentId": doc, "ContentDocument": {
        "Title": title, "FileExtension": "pdf", "ContentSize": size,
        "LatestPublishedVersionId": version,
        "LastModifiedDate": "2024-05-01T08:00:00.000+0000"}})
}

fn account(sequence: u64, name: &str, links: Vec<Value>) -> Record {
    let id = sfmount::sfid::make_id("001", "Hs0", sequence);
    let value = json!({
        "Id": id,
        "Name": name,
        "LastModifiedDate": "2024-03-01T08:00:00.000+0000",
        "ContentDocumentLinks": {"totalSize": links.len(), "done": true, "records": links},
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal"),
    }
}

struct Fixture {
    fs: Filesystem,
    source: Arc<MemorySource>,
    _runtime: tokio::runtime::Runtime,
}

fn shared_bytes() -> Vec<u8> {
    b"%PDF-1.4 shared contract".to_vec()
}

fn attachment_bytes() -> Vec<u8> {
    b"Legacy attachment: a printer's error log\n".to_vec()
}

fn own_bytes() -> Vec<u8> {
    (0..10_000u32).map(|i| (i % 251) as u8).collect()
}

/// Two and a half chunks and a bit: reads cross chunk boundaries, and the last is short.
fn big_bytes() -> Vec<u8> {
    let len = 2 * DOCUMENT_CHUNK as usize + DOCUMENT_CHUNK as usize / 2 + 17;
    (0..len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn fixture() -> Fixture {
    fixture_with(None)
}

fn fixture_with(store: Option<Arc<dyn LocalStore>>) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = Arc::new(MemorySource::new());
    let plan = ListingPlan {
        fields: vec!["Id".into(), "Name".into(), "LastModifiedDate".into()],
        subqueries: vec!["ContentDocumentLinks".into(), "Attachments".into()],
        name_field: Some("Name".into()),
    };
    let shared = shared_bytes().len();
    source.insert_object(
        "Account",
        plan,
        vec![
            account(
                1,
                "Acme",
                vec![
                    link(SHARED_DOC, SHARED_VERSION, "Contract", shared),
                    link(OWN_DOC, OWN_VERSION, "Scan", own_bytes().len()),
                ],
            ),
            account(
                2,
                "Globex",
                vec![link(SHARED_DOC, SHARED_VERSION, "Contract", shared)],
            ),
            account(3, "Initech", Vec::new()),
            {
                let mut umbrella = account(
                    4,
                    "Umbrella",
                    vec![link(BIG_DOC, BIG_VERSION, "Survey", big_bytes().len())],
                );
                umbrella.insert(
                    "Attachments".into(),
                    json!({"totalSize": 1, "done": true, "records": [{
                        "Id": ATTACHMENT, "Name": "error log", "ContentType": "text/plain",
                        "BodyLength": attachment_bytes().len(),
                        "LastModifiedDate": "2024-06-01T08:00:00.000+0000"}]}),
                );
                umbrella
            },
        ],
    );
    source.insert_document(BIG_VERSION, big_bytes());
    source.insert_document(SHARED_VERSION, shared_bytes());
    source.insert_document(OWN_VERSION, own_bytes());
    source.insert_document(ATTACHMENT, attachment_bytes());
    let config = IndexConfig::new(
        vec![FileFormat::Json],
        "https://example.my.salesforce.com".into(),
    );
    let index = Index::with_store(
        source.clone(),
        runtime.handle().clone(),
        vec![FolderSpec {
            object: "Account".into(),
            label: "Account".into(),
            group: Group::Standard,
            key_prefix: Some("001".into()),
            custom: false,
        }],
        config,
        store,
    );
    Fixture {
        fs: Filesystem::new(index),
        source,
        _runtime: runtime,
    }
}

fn lookup(fs: &Filesystem, path: &[&str]) -> Result<sfmount::fs::Attr, FsError> {
    let mut attr = fs.getattr(ROOT_INO)?;
    for part in path {
        attr = fs.lookup(attr.ino, OsStr::new(part))?;
    }
    Ok(attr)
}

fn names(fs: &Filesystem, ino: u64) -> Vec<String> {
    let fh = fs.opendir(ino).expect("opendir");
    let mut names = Vec::new();
    fs.readdir(fh, 0, |entry| {
        names.push(entry.name);
        false
    })
    .expect("readdir");
    fs.releasedir(fh);
    names
        .into_iter()
        .filter(|n| n != "." && n != "..")
        .collect()
}

fn read_all(fs: &Filesystem, fh: u64) -> Result<Vec<u8>, FsError> {
    let mut bytes = Vec::new();
    loop {
        let chunk = fs.read(fh, bytes.len() as u64, 4096)?;
        if chunk.as_slice().is_empty() {
            return Ok(bytes);
        }
        bytes.extend_from_slice(chunk.as_slice());
    }
}

const ACCOUNTS: [&str; 2] = ["Standard Objects", "Account"];

fn files_folder(fs: &Filesystem, name: &str) -> String {
    let folder = lookup(fs, &ACCOUNTS).unwrap().ino;
    names(fs, folder)
        .into_iter()
        .find(|n| n.starts_with(name) && n.ends_with(".files"))
        .unwrap_or_else(|| panic!("no .files folder for {name}"))
}

#[test]
fn records_with_documents_get_a_files_folder_and_a_shared_document_is_one_inode() {
    let f = fixture();
    let folder = lookup(&f.fs, &ACCOUNTS).unwrap().ino;
    let listed = names(&f.fs, folder);
    let folders: Vec<&String> = listed.iter().filter(|n| n.ends_with(".files")).collect();
    assert_eq!(folders.len(), 3, "Initech has no documents: {listed:?}");
    let acme = files_folder(&f.fs, "Acme");
    let globex = files_folder(&f.fs, "Globex");
    let acme_attr = lookup(&f.fs, &["Standard Objects", "Account", &acme]).unwrap();
    assert_eq!(acme_attr.kind, NodeKind::Directory);
    let acme_files = names(&f.fs, acme_attr.ino);
    assert_eq!(
        acme_files,
        [
            format!("Contract [{SHARED_DOC}].pdf"),
            format!("Scan [{OWN_DOC}].pdf")
        ]
    );
    let contract = format!("Contract [{SHARED_DOC}].pdf");
    let a = lookup(&f.fs, &["Standard Objects", "Account", &acme, &contract]).unwrap();
    let b = lookup(&f.fs, &["Standard Objects", "Account", &globex, &contract]).unwrap();
    assert_eq!(a.ino, b.ino, "one inode for a document linked twice");
    assert_eq!((a.nlink, b.nlink), (2, 2), "its link count is its places");
    let scan = format!("Scan [{OWN_DOC}].pdf");
    let own = lookup(&f.fs, &["Standard Objects", "Account", &acme, &scan]).unwrap();
    assert_eq!(own.nlink, 1);
    assert_eq!(a.size, shared_bytes().len() as u64, "size before any read");
    assert_eq!(a.kind, NodeKind::File);
    assert_eq!(
        f.source.calls().downloads,
        0,
        "listing and stat download nothing"
    );
}

#[test]
fn bytes_are_downloaded_once_while_held_and_a_failure_is_eio_until_the_org_answers() {
    let f = fixture();
    let acme = files_folder(&f.fs, "Acme");
    let globex = files_folder(&f.fs, "Globex");
    let contract = format!("Contract [{SHARED_DOC}].pdf");
    let scan = format!("Scan [{OWN_DOC}].pdf");
    let via_acme = lookup(&f.fs, &["Standard Objects", "Account", &acme, &contract]).unwrap();
    let via_globex = lookup(&f.fs, &["Standard Objects", "Account", &globex, &contract]).unwrap();
    let first = f.fs.open(via_acme.ino, false).unwrap().fh;
    let second = f.fs.open(via_globex.ino, false).unwrap().fh;
    assert_eq!(read_all(&f.fs, first).unwrap(), shared_bytes());
    assert_eq!(read_all(&f.fs, second).unwrap(), shared_bytes());
    assert_eq!(
        f.source.calls().downloads,
        1,
        "one download for both places"
    );
    f.fs.release(first);
    f.fs.release(second);

    let scan = lookup(&f.fs, &["Standard Objects", "Account", &acme, &scan]).unwrap();
    assert_eq!(f.fs.open(scan.ino, true), Err(FsError::ReadOnly));
    f.source
        .set_failure(Some(SourceError::Unavailable("down".into())));
    let fh = f.fs.open(scan.ino, false).unwrap().fh;
    let error = f.fs.read(fh, 0, 4096).err().expect("a failed download");
    assert_eq!(errno(&error), libc::EIO);
    let status =
        || -> Value { serde_json::from_slice(&f.fs.index().sobject_json(0).unwrap()).unwrap() };
    let cause = status()["lastDownloadError"].as_str().unwrap().to_string();
    assert!(cause.contains("Scan") && cause.contains("down"), "{cause}");
    f.source.set_failure(None);
    assert_eq!(
        read_all(&f.fs, fh).unwrap(),
        own_bytes(),
        "the next read works"
    );
    assert!(
        status()["lastDownloadError"].is_null(),
        "cleared by a download that works"
    );
    f.fs.release(fh);
    assert_eq!(f.source.calls().downloads, 3);
}

#[test]
fn a_download_of_the_wrong_length_is_eio_never_a_short_file() {
    let f = fixture();
    f.source
        .insert_document(OWN_VERSION, own_bytes()[..100].to_vec());
    let acme = files_folder(&f.fs, "Acme");
    let scan = format!("Scan [{OWN_DOC}].pdf");
    let attr = lookup(&f.fs, &["Standard Objects", "Account", &acme, &scan]).unwrap();
    let fh = f.fs.open(attr.ino, false).unwrap().fh;
    let error = f.fs.read(fh, 0, 4096).err().expect("a short download");
    assert_eq!(errno(&error), libc::EIO);
    f.fs.release(fh);
}

fn open_big(fs: &Filesystem) -> u64 {
    let umbrella = files_folder(fs, "Umbrella");
    let survey = format!("Survey [{BIG_DOC}].pdf");
    let attr = lookup(fs, &["Standard Objects", "Account", &umbrella, &survey]).unwrap();
    assert_eq!(attr.size, big_bytes().len() as u64);
    fs.open(attr.ino, false).unwrap().fh
}

#[test]
fn a_document_of_several_chunks_reads_right_at_every_offset_from_two_downloads() {
    let f = fixture();
    let fh = open_big(&f.fs);
    let big = big_bytes();
    let chunk = DOCUMENT_CHUNK;
    // Out of order, across chunk boundaries, and past the end.
    for (offset, size) in [
        (2 * chunk + 5, 4096u32),
        (chunk - 100, 4096),
        (0, 131_072),
        (chunk - 1, 2 * chunk as u32 + 2),
        (big.len() as u64 - 10, 4096),
    ] {
        let data = f.fs.read(fh, offset, size).unwrap();
        let start = offset as usize;
        let end = (start + size as usize).min(big.len());
        assert_eq!(data.as_slice(), &big[start..end], "read at {offset}");
    }
    assert!(f
        .fs
        .read(fh, big.len() as u64, 4096)
        .unwrap()
        .as_slice()
        .is_empty());
    assert_eq!(read_all(&f.fs, fh).unwrap(), big);
    // The first read (in chunk 2) fetched from there on; the read in chunk 0 fetched from
    // the start, and that download stopped where the kept chunks begin.
    assert_eq!(
        f.source.calls().downloads,
        2,
        "two downloads for every read"
    );
    f.fs.release(fh);
}

#[test]
fn a_document_kept_in_the_store_is_read_after_a_restart_without_a_download() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let open = || -> Arc<dyn LocalStore> { Arc::new(SqliteStore::open(&path).unwrap()) };
    {
        let f = fixture_with(Some(open()));
        let fh = open_big(&f.fs);
        assert_eq!(read_all(&f.fs, fh).unwrap(), big_bytes());
        f.fs.release(fh);
        assert_eq!(f.source.calls().downloads, 1);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store
            .get_document_chunk(BIG_VERSION, 2)
            .unwrap()
            .map(|c| c.len()),
        Some(DOCUMENT_CHUNK as usize / 2 + 17),
        "the last chunk is kept at its own length"
    );
    drop(store);
    let f = fixture_with(Some(open()));
    let fh = open_big(&f.fs);
    assert_eq!(read_all(&f.fs, fh).unwrap(), big_bytes());
    f.fs.release(fh);
    assert_eq!(f.source.calls().downloads, 0, "served from the store");
}

#[test]
fn a_legacy_attachment_is_a_file_beside_the_documents_read_with_one_download() {
    let f = fixture();
    let umbrella = files_folder(&f.fs, "Umbrella");
    let folder = lookup(&f.fs, &["Standard Objects", "Account", &umbrella]).unwrap();
    let attachment = format!("error log [{ATTACHMENT}].txt");
    assert_eq!(
        names(&f.fs, folder.ino),
        [format!("Survey [{BIG_DOC}].pdf"), attachment.clone()]
    );
    let attr = lookup(
        &f.fs,
        &["Standard Objects", "Account", &umbrella, &attachment],
    )
    .unwrap();
    assert_eq!(
        attr.size,
        attachment_bytes().len() as u64,
        "size before any read"
    );
    assert_eq!(attr.nlink, 1);
    let modified = attr
        .mtime
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_eq!(modified.as_secs(), 1_717_228_800, "2024-06-01T08:00:00Z");
    assert_eq!(f.source.calls().downloads, 0);
    let fh = f.fs.open(attr.ino, false).unwrap().fh;
    assert_eq!(read_all(&f.fs, fh).unwrap(), attachment_bytes());
    f.fs.release(fh);
    assert_eq!(
        f.source.calls().downloads,
        1,
        "one download for the attachment"
    );
}
