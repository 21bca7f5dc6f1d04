//! Attached files through a real mount: every document linked to an Account is a file in
//! the record's `.files` folder whose size (before any read) and bytes are the org's
//! VersionData (an Attachment's Body), a document linked to two Accounts is one inode, and
//! reading them all costs one download per distinct document or attachment.

mod mount_support;

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sfmount::catalog::Group;
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::invalidate::start_invalidator;
use sfmount::fs::Filesystem;
use sfmount::index::refresh::{RefreshConfig, Refresher};
use sfmount::index::salesforce_source::{key_prefix, ClientSource};
use sfmount::index::store::{LocalStore, SqliteStore};
use sfmount::index::{FileFormat, FolderSpec, Index, IndexConfig, DOCUMENT_CHUNK};

use mount_support::*;

fn rows(store: &sfmount::fake_org::store::Store, object: &str) -> Vec<Map<String, Value>> {
    use sfmount::fake_org::model::DataSource;
    store
        .records(object)
        .map(|row| store.record(row))
        .filter(|r| r["IsDeleted"] != json!(true))
        .collect()
}

#[test]
fn every_attached_document_is_a_file_with_the_orgs_bytes_downloaded_once() {
    if !fuse_available("mount_files") {
        return;
    }
    let ConnectedOrg {
        org,
        runtime,
        client,
        global,
    } = connect_fake_org(40);
    let folders = vec![FolderSpec {
        object: "Account".into(),
        label: "Account".into(),
        group: Group::Standard,
        key_prefix: key_prefix(&global, "Account"),
        custom: false,
    }];
    let config = IndexConfig::new(vec![FileFormat::Json], client.instance_url());
    let index = Index::new(
        Arc::new(ClientSource::new(client)),
        runtime.handle().clone(),
        folders,
        config,
    );
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index));
    let _session = spawn_mount(fs, dir.path(), &MountConfig::default()).expect("mount");
    assert!(wait_for_mount(dir.path(), Duration::from_secs(20)));
    let folder = dir.path().join("Standard Objects").join("Account");

    // One document linked to a second Account too (before the folder is first listed).
    let shared_doc = org.with_store(|s| {
        let linked: Vec<(String, String)> = rows(s, "ContentDocumentLink")
            .into_iter()
            .filter_map(|l| {
                Some((
                    l["LinkedEntityId"].as_str()?.to_string(),
                    l["ContentDocumentId"].as_str()?.to_string(),
                ))
            })
            .collect();
        let (_, doc) = linked
            .iter()
            .find(|(entity, _)| entity.starts_with("001"))
            .cloned()
            .expect("an Account with a document");
        let bare = rows(s, "Account")
            .into_iter()
            .map(|a| a["Id"].as_str().unwrap().to_string())
            .find(|id| !linked.iter().any(|(entity, _)| entity == id))
            .expect("an Account without documents");
        let link = json!({"LinkedEntityId": bare, "ContentDocumentId": doc, "ShareType": "V"});
        s.create("ContentDocumentLink", link.as_object().unwrap())
            .expect("link created");
        doc
    });

    // The org's truth: Account Id -> its documents (Id -> latest version's bytes).
    let truth: HashMap<String, HashMap<String, Vec<u8>>> = org.with_store(|s| {
        let latest: HashMap<String, String> = rows(s, "ContentDocument")
            .into_iter()
            .filter_map(|d| {
                Some((
                    d["Id"].as_str()?.to_string(),
                    d["LatestPublishedVersionId"].as_str()?.to_string(),
                ))
            })
            .collect();
        let mut truth: HashMap<String, HashMap<String, Vec<u8>>> = HashMap::new();
        for link in rows(s, "ContentDocumentLink") {
            let (Some(entity), Some(doc)) = (
                link["LinkedEntityId"].as_str(),
                link["ContentDocumentId"].as_str(),
            ) else {
                continue;
            };
            if !entity.starts_with("001") {
                continue;
            }
            let bytes = s.version_data(&latest[doc]).unwrap().0;
            truth
                .entry(entity.to_string())
                .or_default()
                .insert(doc.to_string(), bytes);
        }
        // Legacy Attachments are files in the same folders, their bytes the Body blob.
        for attachment in rows(s, "Attachment") {
            let (Some(parent), Some(id)) =
                (attachment["ParentId"].as_str(), attachment["Id"].as_str())
            else {
                continue;
            };
            if !parent.starts_with("001") {
                continue;
            }
            let bytes = s.version_data(id).expect("an attachment's bytes").0;
            truth
                .entry(parent.to_string())
                .or_default()
                .insert(id.to_string(), bytes);
        }
        truth
    });
    assert!(
        !truth.is_empty(),
        "the fake org links documents to Accounts"
    );
    let attachments = truth
        .values()
        .flat_map(|documents| documents.keys())
        .filter(|id| id.starts_with("00P"))
        .count();
    assert!(
        attachments >= 2,
        "the fake org seeds Attachments on Accounts"
    );

    let listed = names(&folder);
    let before = org.stats().requests.blob;
    let mut distinct: HashSet<String> = HashSet::new();
    let mut shared_inodes: HashSet<u64> = HashSet::new();
    let mut shared_places = 0;
    for (account, documents) in &truth {
        let files_dir = listed
            .iter()
            .find(|n| n.ends_with(&format!("[{account}].files")))
            .unwrap_or_else(|| panic!("no .files folder for {account}"));
        let files_dir = folder.join(files_dir);
        let inside = names(&files_dir);
        assert_eq!(inside.len(), documents.len(), "{account}: {inside:?}");
        for (doc, bytes) in documents {
            let name = inside
                .iter()
                .find(|n| n.contains(&format!("[{doc}]")))
                .unwrap_or_else(|| panic!("{doc} missing in {inside:?}"));
            let path = files_dir.join(name);
            let meta = std::fs::metadata(&path).unwrap();
            if *doc == shared_doc {
                shared_inodes.insert(meta.ino());
                shared_places += 1;
                assert_eq!(meta.nlink(), 2, "a link for each place");
            }
            let size = meta.size();
            assert_eq!(size, bytes.len() as u64, "size before reading {name}");
            assert_eq!(&std::fs::read(&path).unwrap(), bytes, "{name}");
            distinct.insert(doc.clone());
        }
    }
    assert_eq!(shared_places, 2, "the shared document is in both folders");
    assert_eq!(shared_inodes.len(), 1, "and is one inode");
    assert_eq!(
        org.stats().requests.blob - before,
        distinct.len() as u64,
        "one download per distinct document, one Body request per attachment"
    );
    eprintln!(
        "attached files: {} records, {} distinct documents read ({attachments} attachments)",
        truth.len(),
        distinct.len()
    );
    // Records without documents get no folder.
    let folders = listed.iter().filter(|n| n.ends_with(".files")).count();
    assert_eq!(folders, truth.len());
}

/// Standard base64 (the fake org takes VersionData so, as Salesforce does).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_read_at_an_offset_downloads_from_there_and_the_bytes_are_kept_in_the_store() {
    if !fuse_available("mount_files") {
        return;
    }
    let ConnectedOrg {
        org,
        runtime,
        client,
        global,
    } = connect_fake_org(40);
    // A document of twelve chunks and a bit, attached to one Account.
    let bytes: Vec<u8> = (0..12 * DOCUMENT_CHUNK + 99)
        .map(|i| (i.wrapping_mul(0x9E37_79B9) >> 11) as u8)
        .collect();
    let (account, version) = org.with_store(|s| {
        let account = rows(s, "Account")[0]["Id"].as_str().unwrap().to_string();
        let body = json!({"Title": "Big scan", "PathOnClient": "Big scan.pdf",
                          "VersionData": base64(&bytes)});
        let version = s
            .create("ContentVersion", body.as_object().unwrap())
            .expect("version created");
        let document = rows(s, "ContentVersion")
            .into_iter()
            .find(|v| v["Id"] == json!(version))
            .unwrap()["ContentDocumentId"]
            .as_str()
            .unwrap()
            .to_string();
        let link = json!({"LinkedEntityId": account, "ContentDocumentId": document});
        s.create("ContentDocumentLink", link.as_object().unwrap())
            .expect("link created");
        (account, version)
    });
    let store_dir = tempfile::tempdir().unwrap();
    let store_path = store_dir.path().join("store.sqlite3");
    let store: Arc<dyn LocalStore> = Arc::new(SqliteStore::open(&store_path).unwrap());
    let index = Index::with_store(
        Arc::new(ClientSource::new(client)),
        runtime.handle().clone(),
        vec![FolderSpec {
            object: "Account".into(),
            label: "Account".into(),
            group: Group::Standard,
            key_prefix: key_prefix(&global, "Account"),
            custom: false,
        }],
        IndexConfig::new(vec![FileFormat::Json], org.base_url()),
        Some(store),
    );
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index));
    let _session = spawn_mount(fs, dir.path(), &MountConfig::default()).expect("mount");
    assert!(wait_for_mount(dir.path(), Duration::from_secs(20)));
    let folder = dir.path().join("Standard Objects").join("Account");
    let files_dir = names(&folder)
        .into_iter()
        .find(|n| n.ends_with(&format!("[{account}].files")))
        .expect("the Account's .files folder");
    let name = names(&folder.join(&files_dir))
        .into_iter()
        .find(|n| n.starts_with("Big scan"))
        .expect("the document");
    let path = folder.join(&files_dir).join(name);

    let before = org.stats().requests.blob;
    let file = std::fs::File::open(&path).unwrap();
    let offset = 8 * DOCUMENT_CHUNK + 100;
    let mut got = vec![0u8; 4096];
    file.read_exact_at(&mut got, offset).unwrap();
    assert_eq!(got, bytes[offset as usize..offset as usize + 4096]);
    assert_eq!(org.stats().requests.blob - before, 1, "one ranged download");
    let look = SqliteStore::open(&store_path).unwrap();
    assert!(look.get_document_chunk(&version, 8).unwrap().is_some());
    assert_eq!(
        look.get_document_chunk(&version, 0).unwrap(),
        None,
        "nothing before the offset was fetched"
    );
    // The whole file: the start is fetched once more, up to where the kept bytes begin.
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(org.stats().requests.blob - before, 2);
    assert!(look.get_document_chunk(&version, 0).unwrap().is_some());
    drop(file);
}

/// Waits for `done`, at most `timeout` (a refresh tick and its fetch on a loaded machine).
fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn refresh_shows_an_added_and_a_removed_attachment_in_a_files_folder_the_kernel_has_seen() {
    if !fuse_available("mount_files") {
        return;
    }
    let ConnectedOrg {
        org,
        runtime,
        client,
        global,
    } = connect_fake_org(40);
    let index = Index::new(
        Arc::new(ClientSource::new(client)),
        runtime.handle().clone(),
        vec![FolderSpec {
            object: "Account".into(),
            label: "Account".into(),
            group: Group::Standard,
            key_prefix: key_prefix(&global, "Account"),
            custom: false,
        }],
        IndexConfig::new(vec![FileFormat::Json], org.base_url()),
    );
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index.clone()));
    let session = spawn_mount(fs.clone(), dir.path(), &MountConfig::default()).expect("mount");
    assert!(wait_for_mount(dir.path(), Duration::from_secs(20)));
    let listener = start_invalidator(session.notifier(), fs).unwrap();
    let refresher = Refresher::start(
        index.clone(),
        RefreshConfig::new(Duration::from_secs(1)),
        Some(listener),
    )
    .expect("refresher");

    // An Account with a document, and a document it does not have.
    let (account, other_doc) = org.with_store(|s| {
        let links = rows(s, "ContentDocumentLink");
        let account = links
            .iter()
            .find_map(|l| {
                l["LinkedEntityId"]
                    .as_str()
                    .filter(|e| e.starts_with("001"))
            })
            .unwrap()
            .to_string();
        let mine: HashSet<&str> = links
            .iter()
            .filter(|l| l["LinkedEntityId"] == json!(account))
            .filter_map(|l| l["ContentDocumentId"].as_str())
            .collect();
        let other = rows(s, "ContentDocument")
            .into_iter()
            .map(|d| d["Id"].as_str().unwrap().to_string())
            .find(|d| !mine.contains(d.as_str()))
            .unwrap();
        (account, other)
    });
    let folder = dir.path().join("Standard Objects").join("Account");
    let files_dir = folder.join(
        names(&folder)
            .into_iter()
            .find(|n| n.ends_with(&format!("[{account}].files")))
            .unwrap(),
    );
    let before = names(&files_dir);
    assert!(!before.iter().any(|n| n.contains(&other_doc)));

    // Attached (and the record touched, as an edit in Salesforce's UI would).
    let touch = |s: &mut sfmount::fake_org::store::Store, note: &str| {
        let body = json!({"Description": note});
        s.update("Account", &account, body.as_object().unwrap())
            .unwrap();
    };
    let link = org.with_store(|s| {
        let link = json!({"LinkedEntityId": account, "ContentDocumentId": other_doc});
        let id = s
            .create("ContentDocumentLink", link.as_object().unwrap())
            .unwrap();
        touch(s, "a file attached");
        id
    });
    refresher.refresh_now();
    wait_until("the added attachment", Duration::from_secs(30), || {
        names(&files_dir).len() == before.len() + 1
    });
    let added = names(&files_dir)
        .into_iter()
        .find(|n| n.contains(&other_doc))
        .expect("the added document by name");
    let added_path = files_dir.join(&added);
    assert!(std::fs::metadata(&added_path).is_ok());

    // Removed again.
    org.with_store(|s| {
        s.delete("ContentDocumentLink", &link).unwrap();
        touch(s, "a file removed");
    });
    refresher.refresh_now();
    wait_until("the removed attachment", Duration::from_secs(30), || {
        names(&files_dir) == before
    });
    assert!(
        std::fs::metadata(&added_path).is_err(),
        "the kernel forgot the removed name"
    );
    drop(refresher);
}
