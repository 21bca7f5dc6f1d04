//! Attached files through a real mount: every document linked to an Account is a file in
//! the record's `.files` folder whose size (before any read) and bytes are the org's
//! VersionData, a document linked to two Accounts is one inode, and reading them all costs
//! one download per distinct document.

mod mount_support;

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sfmount::catalog::Group;
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::Filesystem;
use sfmount::index::salesforce_source::{key_prefix, ClientSource};
use sfmount::index::{FileFormat, FolderSpec, Index, IndexConfig};

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
        truth
    });
    assert!(
        !truth.is_empty(),
        "the fake org links documents to Accounts"
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
        "one download per distinct document"
    );
    eprintln!(
        "attached files: {} records, {} distinct documents read",
        truth.len(),
        distinct.len()
    );
    // Records without documents get no folder.
    let folders = listed.iter().filter(|n| n.ends_with(".files")).count();
    assert_eq!(folders, truth.len());
}
