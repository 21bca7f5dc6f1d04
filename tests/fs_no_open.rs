//! Filesystem logic without FUSE for the kernel's no-open mode: reads arrive by inode with
//! no handle to hold a version's bytes, so the filesystem keeps them per version.

use std::ffi::OsStr;
use std::sync::Arc;

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::errno::errno;
use sfmount::fs::{Attr, DirEntry, Filesystem};
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record,
};

fn account(sequence: u64, name: &str, description: &str) -> Record {
    let value = json!({
        "attributes": {"type": "Account"},
        "Id": sfmount::sfid::make_id("001", "Hs0", sequence),
        "Name": name,
        "Description": description,
        "LastModifiedDate": "2024-03-01T08:00:00.000+0000",
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

fn fixture(records: u64) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = Arc::new(MemorySource::new());
    let plan = ListingPlan {
        fields: vec!["Id".into(), "Name".into(), "Description".into()],
        name_field: Some("Name".into()),
        subqueries: Vec::new(),
    };
    let accounts = (1..=records)
        .map(|i| account(i, &format!("Company {i}"), "first"))
        .collect();
    source.insert_object("Account", plan, accounts);
    let folders = vec![FolderSpec {
        object: "Account".into(),
        label: "Account".into(),
        group: Group::Standard,
        key_prefix: Some("001".into()),
        custom: false,
    }];
    let config = IndexConfig::new(vec![FileFormat::Json], "https://x.example".into());
    let index = Index::new(source.clone(), runtime.handle().clone(), folders, config);
    Fixture {
        fs: Filesystem::new(index),
        source,
        _runtime: runtime,
    }
}

fn folder() -> u64 {
    Filesystem::folder_ino(0)
}

fn lookup(fs: &Filesystem, name: &str) -> Attr {
    fs.lookup(folder(), OsStr::new(name)).expect("lookup")
}

/// A whole file read by inode in 100-byte reads, as the kernel would split it.
fn read_by_inode(fs: &Filesystem, ino: u64) -> Result<Vec<u8>, i32> {
    let mut bytes = Vec::new();
    loop {
        let chunk = fs
            .read_inode(ino, bytes.len() as u64, 100)
            .map_err(|e| errno(&e))?;
        if chunk.as_slice().is_empty() {
            return Ok(bytes);
        }
        bytes.extend_from_slice(chunk.as_slice());
    }
}

fn plus_entries(fs: &Filesystem, fh: u64) -> Vec<DirEntry> {
    let mut entries = Vec::new();
    fs.readdirplus(fh, 0, |entry| {
        entries.push(entry);
        false
    })
    .expect("readdirplus");
    entries
}

fn description(bytes: &[u8]) -> String {
    let value: Value = serde_json::from_slice(bytes).expect("whole JSON");
    value["Description"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_replaced_version_read_by_inode_stays_whole_until_the_kernel_forgets_it() {
    let f = fixture(3);
    let fh = f.fs.opendir(folder()).unwrap();
    let name = plus_entries(&f.fs, fh)[3].name.clone();
    f.fs.releasedir(fh);
    let old = lookup(&f.fs, &name);
    let before = read_by_inode(&f.fs, old.ino).unwrap();
    assert_eq!(before.len() as u64, old.size);
    let fetches = f.source.calls().fetches_by_id;

    let long = "a much longer description than before ".repeat(5);
    f.fs.index()
        .apply_changes(0, vec![account(1, "Company 1", &long)], &[])
        .unwrap();
    // The name leads to a new inode, read from the index's memory.
    let new = lookup(&f.fs, &name);
    assert_ne!(new.ino, old.ino);
    let now = read_by_inode(&f.fs, new.ino).unwrap();
    assert_eq!(now.len() as u64, new.size);
    assert_eq!(description(&now), long);
    assert_eq!(f.source.calls().fetches_by_id, fetches);
    // The old inode, still held by the kernel, reads whole, even with every body that can
    // be had again forgotten.
    f.fs.clear_body_cache();
    assert_eq!(read_by_inode(&f.fs, old.ino).unwrap(), before);
    assert_eq!(f.source.calls().fetches_by_id, fetches, "kept, not fetched");

    // Forgotten by the kernel (two lookups: the listing and the lookup), its bytes go.
    f.fs.forget(old.ino, 2);
    assert_eq!(read_by_inode(&f.fs, old.ino), Err(libc::ESTALE));
}

#[test]
fn a_listing_taken_before_a_change_hands_the_kernel_the_current_version() {
    let f = fixture(3);
    let fh = f.fs.opendir(folder()).unwrap();
    let first = plus_entries(&f.fs, fh);
    f.fs.releasedir(fh);
    let old = first[3].clone();
    assert!(first.iter().all(|e| e.trusted));

    // A snapshot taken now, listed after a change of one file and the removal of another.
    let fh = f.fs.opendir(folder()).unwrap();
    let removed = sfmount::sfid::make_id("001", "Hs0", 3);
    f.fs.index()
        .apply_changes(
            0,
            vec![account(1, "Company 1", "changed")],
            std::slice::from_ref(&removed),
        )
        .unwrap();
    let listed = plus_entries(&f.fs, fh);
    f.fs.releasedir(fh);
    assert_eq!(listed.len(), first.len(), "the snapshot's names");
    let changed = listed.iter().find(|e| e.name == old.name).unwrap();
    assert!(!changed.trusted, "the kernel looks the name up again");
    assert_ne!(
        changed.ino, old.ino,
        "the current version, not the replaced one"
    );
    assert_eq!(
        description(&read_by_inode(&f.fs, changed.ino).unwrap()),
        "changed"
    );
    let gone = listed.iter().find(|e| e.name.contains(&removed)).unwrap();
    assert_eq!(
        (gone.ino, gone.trusted),
        (0, false),
        "no inode for a removed file"
    );
    // The untouched file is listed as before, trusted.
    let same = listed
        .iter()
        .find(|e| e.name.contains("Company 2"))
        .unwrap();
    assert!(same.trusted);
    // A lookup agrees with what the listing handed out.
    assert_eq!(lookup(&f.fs, &old.name).ino, changed.ino);
}
