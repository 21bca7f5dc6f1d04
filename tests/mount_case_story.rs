//! The whole Case through a real mount: a Case file holds every email, task and event the
//! fake org has for it (archived activities included), and an email added, a task deleted and
//! an event renamed over REST show after one refresh tick, at a counted cost.

mod mount_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sfmount::catalog::Group;
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::invalidate::start_invalidator;
use sfmount::fs::Filesystem;
use sfmount::index::refresh::{RefreshConfig, Refresher};
use sfmount::index::salesforce_source::{key_prefix, ClientSource};
use sfmount::index::{FileFormat, FolderSpec, Index, IndexConfig};

use mount_support::rest::Rest;
use mount_support::*;

/// Every stored row of `object`, deleted and archived ones too.
fn rows(store: &sfmount::fake_org::store::Store, object: &str) -> Vec<Map<String, Value>> {
    use sfmount::fake_org::model::DataSource;
    store.records(object).map(|row| store.record(row)).collect()
}

/// Long enough that the test's own refresh request is what brings the change.
const INTERVAL: Duration = Duration::from_secs(300);

/// Live children per parent in the fake org's store, archived ones included.
fn children(org: &sfmount::fake_org::FakeOrg, object: &str, field: &str) -> HashMap<String, usize> {
    org.with_store(|s| {
        let mut counts = HashMap::new();
        for row in rows(s, object)
            .into_iter()
            .filter(|r| r["IsDeleted"] != json!(true))
        {
            if let Some(parent) = row[field].as_str() {
                *counts.entry(parent.to_string()).or_default() += 1;
            }
        }
        counts
    })
}

fn file_of(folder: &Path, id: &str) -> PathBuf {
    let name = names(folder)
        .into_iter()
        .find(|name| name.contains(&format!("[{id}]")) && name.ends_with(".json"))
        .unwrap_or_else(|| panic!("no file for {id}"));
    folder.join(name)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("a whole JSON record")
}

#[test]
fn case_files_hold_every_email_task_and_event_and_follow_changes_to_them_after_a_refresh() {
    if !fuse_available("mount_case_story") {
        return;
    }
    let ConnectedOrg {
        org,
        runtime,
        client,
        global,
    } = connect_fake_org(40);
    let folders = vec![FolderSpec {
        object: "Case".into(),
        label: "Case".into(),
        group: Group::Standard,
        key_prefix: key_prefix(&global, "Case"),
        custom: false,
    }];
    let config = IndexConfig::new(
        vec![FileFormat::Json, FileFormat::Text],
        client.instance_url(),
    );
    let index = Index::new(
        Arc::new(ClientSource::new(client)),
        runtime.handle().clone(),
        folders,
        config,
    );
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index.clone()));
    let session = spawn_mount(fs.clone(), dir.path(), &MountConfig::default()).expect("mount");
    assert!(wait_for_mount(dir.path(), Duration::from_secs(20)));
    let listener = start_invalidator(session.notifier(), fs).unwrap();
    let refresher =
        Refresher::start(index.clone(), RefreshConfig::new(INTERVAL), Some(listener)).unwrap();
    let folder = dir.path().join("Standard Objects").join("Case");

    let emails = children(&org, "EmailMessage", "ParentId");
    let tasks = children(&org, "Task", "WhatId");
    let events = children(&org, "Event", "WhatId");
    let case_ids: Vec<String> = org.with_store(|s| {
        rows(s, "Case")
            .into_iter()
            .filter(|r| r["IsDeleted"] != json!(true))
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect()
    });
    let mut archived_in_files = 0;
    for id in &case_ids {
        let case = read_json(&file_of(&folder, id));
        for (key, truth) in [
            ("EmailMessages", &emails),
            ("Tasks", &tasks),
            ("Events", &events),
        ] {
            let rows = case[key]
                .as_array()
                .unwrap_or_else(|| panic!("{key} in {id}"));
            assert_eq!(
                rows.len(),
                truth.get(id).copied().unwrap_or(0),
                "{key} of {id}"
            );
            archived_in_files += rows
                .iter()
                .filter(|r| r["IsArchived"] == json!(true))
                .count();
        }
    }
    assert!(archived_in_files > 0, "archived activities reach the files");
    // The text view shows the same emails: an HTML-only one's words, without its markup.
    let html_only = org.with_store(|s| {
        rows(s, "EmailMessage")
            .into_iter()
            .find(|r| r["TextBody"].is_null() && r["HtmlBody"].is_string())
            .map(|r| r["ParentId"].as_str().unwrap().to_string())
            .expect("the seed has HTML-only emails")
    });
    let text_name = names(&folder)
        .into_iter()
        .find(|n| n.contains(&format!("[{html_only}]")) && n.ends_with(".txt"))
        .expect("a text file");
    let text = std::fs::read_to_string(folder.join(text_name)).unwrap();
    assert!(text.contains("Emails:\n"), "{text}");
    assert!(text.contains("shows E-42 & stops <again>."), "{text}");
    assert!(
        !text.contains("<p>") && !text.contains("color: #333"),
        "{text}"
    );

    // An email added over REST, as Email-to-Case would: the Case's stamp does not move.
    let target = &case_ids[1];
    let before = read_json(&file_of(&folder, target))["EmailMessages"]
        .as_array()
        .unwrap()
        .len();
    // A first tick settles whatever the listing left inside the refresh's overlap window.
    refresh_and_wait(&index, &refresher);
    let rest = Rest::login(&org);
    rest.create(
        "EmailMessage",
        json!({"ParentId": target, "Subject": "Late reply 7e21",
               "HtmlBody": "<p>Fixed &amp; closed</p>", "Incoming": true}),
    );
    // And a task of another Case deleted, an event of a third renamed: neither moves its
    // Case's stamp either.
    let task = first_child(&folder, &case_ids, "Tasks");
    let event = first_child(&folder, &case_ids, "Events");
    rest.delete("Task", &task.1);
    rest.update("Event", &event.1, json!({"Subject": "Moved visit 3f90"}));
    let calls_before = org.stats().api_usage;
    refresh_and_wait(&index, &refresher);
    // Which Cases changed and which had feed, email or activity changes (6 queries, 2
    // composite calls), then the three Cases by Id (1 query) with their comments, tasks and
    // events (3 queries, 1 composite call).
    assert_eq!(org.stats().api_usage - calls_before, 4, "{:?}", org.stats());
    let path = file_of(&folder, target);
    let shown = wait_until(Duration::from_secs(30), || {
        let case = read_json(&path);
        case["EmailMessages"].as_array().unwrap().len() == before + 1
            && case.to_string().contains("Late reply 7e21")
    });
    assert!(
        shown.is_some(),
        "the new email reached the Case file after a refresh"
    );
    let task_gone = wait_until(Duration::from_secs(30), || {
        !read_json(&file_of(&folder, &task.0))
            .to_string()
            .contains(&task.1)
    });
    assert!(task_gone.is_some(), "the deleted task left its Case file");
    let event_moved = wait_until(Duration::from_secs(30), || {
        read_json(&file_of(&folder, &event.0))
            .to_string()
            .contains("Moved visit 3f90")
    });
    assert!(
        event_moved.is_some(),
        "the renamed event shows in its Case file"
    );

    refresher.stop();
    let _ = session.umount_and_join();
    force_unmount(dir.path());
}

/// (Case Id, child Id) of the first Case whose file lists a `key` child.
fn first_child(folder: &Path, case_ids: &[String], key: &str) -> (String, String) {
    case_ids
        .iter()
        .find_map(|id| {
            let case = read_json(&file_of(folder, id));
            let child = case[key].as_array()?.first()?["Id"].as_str()?.to_string();
            Some((id.clone(), child))
        })
        .unwrap_or_else(|| panic!("no Case with {key}"))
}

/// Asks for a refresh tick now and waits until it has finished.
fn refresh_and_wait(index: &Index, refresher: &Refresher) {
    let before = index.refresh_overview().ticks;
    refresher.refresh_now();
    let done = wait_until(Duration::from_secs(30), || {
        let o = index.refresh_overview();
        o.ticks > before && o.last_tick.is_some() && o.last_success >= o.last_tick
    });
    assert!(done.is_some(), "a refresh tick finished");
}
