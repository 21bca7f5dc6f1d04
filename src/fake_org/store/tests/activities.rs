//! Store tests: the rest of a Case's story (emails with HTML bodies, tasks and events, some
//! archived): seeded, hidden from `/query` when archived, written like any record.

use super::*;
use crate::fake_org::soql::{execute, ExecOptions};

fn ids(store: &Store, soql: &str, include_deleted: bool) -> Vec<String> {
    let opts = ExecOptions {
        include_deleted,
        api_version: "59.0",
    };
    execute(soql, store, &opts)
        .unwrap_or_else(|e| panic!("{soql}: {e}"))
        .ids
}

fn count(store: &Store, object: &str, test: impl Fn(&Record) -> bool) -> usize {
    store.records(object).filter(|r| test(r)).count()
}

#[test]
fn cases_are_seeded_with_html_emails_tasks_and_events_some_archived() {
    let store = small();
    let on_a_case =
        |r: &Record, field: &str| r[field].as_str().is_some_and(|id| id.starts_with("500"));
    let html_only = count(&store, "EmailMessage", |r| {
        r["HtmlBody"].is_string() && r["TextBody"].is_null()
    });
    let both = count(&store, "EmailMessage", |r| {
        r["HtmlBody"].is_string() && r["TextBody"].is_string()
    });
    assert!(
        html_only > 0 && both > 0,
        "{html_only} html-only, {both} with both"
    );
    for object in ["Task", "Event"] {
        let all = count(&store, object, |r| on_a_case(r, "WhatId"));
        let archived = count(&store, object, |r| r["IsArchived"] == json!(true));
        assert!(
            all > 0 && archived > 0 && archived < all,
            "{object}: {archived} of {all}"
        );
    }
    // Archived tasks are closed ones, as on a real org.
    assert_eq!(
        count(&store, "Task", |r| r["IsArchived"] == json!(true)
            && r["IsClosed"] != json!(true)),
        0
    );
    let awkward = count(&store, "Task", |r| {
        r["Subject"]
            .as_str()
            .is_some_and(|s| s.contains('"') || s.contains('<'))
    });
    assert!(awkward > 0);
}

#[test]
fn archived_activities_come_only_through_query_all_in_queries_and_subqueries() {
    let store = small();
    for object in ["Task", "Event"] {
        let archived = count(&store, object, |r| r["IsArchived"] == json!(true));
        let plain = ids(&store, &format!("SELECT Id FROM {object}"), false);
        let all = ids(&store, &format!("SELECT Id FROM {object}"), true);
        assert_eq!(all.len(), plain.len() + archived, "{object}");
        let asked = format!("SELECT Id FROM {object} WHERE IsArchived = true");
        assert!(ids(&store, &asked, false).is_empty());
        assert_eq!(ids(&store, &asked, true).len(), archived);
    }
    // In a subquery too: the Case's Tasks under /query lack the archived ones.
    let (case, archived_task) = store
        .records("Task")
        .find(|r| r["IsArchived"] == json!(true))
        .map(|r| (r["WhatId"].as_str().unwrap().to_string(), r["Id"].clone()))
        .expect("an archived task");
    let soql = format!("SELECT Id, (SELECT Id FROM Tasks) FROM Case WHERE Id = '{case}'");
    let opts = |include_deleted| ExecOptions {
        include_deleted,
        api_version: "59.0",
    };
    for (include_deleted, expect) in [(false, false), (true, true)] {
        let run = execute(&soql, &store, &opts(include_deleted)).unwrap();
        let row = run
            .project(&store, &opts(include_deleted), &run.ids)
            .remove(0);
        let tasks = row["Tasks"]["records"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let has = tasks.iter().any(|t| t["Id"] == archived_task);
        assert_eq!(has, expect, "queryAll={include_deleted}");
    }
}

#[test]
fn tasks_and_events_are_written_like_records_and_archiving_is_the_platforms() {
    let mut store = small();
    let case = store.records("Case").next().unwrap()["Id"].clone();
    let task = store
        .create(
            "Task",
            &body(json!({"WhatId": case, "Subject": "Call «Zoë» & co", "Status": "Completed"})),
        )
        .unwrap();
    assert!(task.starts_with("00T"));
    let record = store.get_record("Task", &task, None, "59.0").unwrap();
    assert_eq!(record["IsClosed"], json!(true), "derived from Status");
    assert_eq!(record["Priority"], json!("Normal"), "defaulted");
    assert_eq!(record["IsArchived"], json!(false));
    let refused = store.update("Task", &task, &body(json!({"IsArchived": true})));
    assert!(refused.is_err(), "IsArchived is set by the platform only");
    let event = store
        .create(
            "Event",
            &body(json!({"WhatId": case, "Subject": "Visit",
                         "StartDateTime": "2025-03-01T10:00:00.000+0000",
                         "EndDateTime": "2025-03-01T11:00:00.000+0000"})),
        )
        .unwrap();
    store.delete("Event", &event).unwrap();
    let by_case = format!(
        "SELECT Id FROM Event WHERE WhatId = '{}'",
        case.as_str().unwrap()
    );
    assert!(!ids(&store, &by_case, false).contains(&event));
    assert!(
        ids(&store, &by_case, true).contains(&event),
        "in the recycle bin"
    );
}
