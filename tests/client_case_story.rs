//! The whole Case against the in-process fake org: every email, task and event of every
//! Case (archived activities included, lists longer than a child batch or a query page
//! included), in time order, at a counted cost; and refresh's view of new, changed and
//! deleted ones.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sfmount::catalog::listing_plan;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig, FakeStats};
use sfmount::salesforce::{
    ChangeQuery, ClientSettings, FetchFilter, LoginTarget, ObjectPlan, Record, SalesforceClient,
    Secret,
};

/// Every stored row of `object`, deleted and archived ones too.
fn rows(store: &sfmount::fake_org::store::Store, object: &str) -> Vec<Map<String, Value>> {
    use sfmount::fake_org::model::DataSource;
    store.records(object).map(|row| store.record(row)).collect()
}

/// The fake org's cut of child lists in a subquery, and its query page (server/query.rs).
const CHILD_BATCH: usize = 200;
const PAGE: usize = 2_000;

fn start(records: usize) -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records,
        ..FakeOrgConfig::default()
    })
    .unwrap()
}

async fn connect(org: &FakeOrg) -> SalesforceClient {
    let mut s = ClientSettings::new(
        LoginTarget::Url(org.base_url()),
        org.client_id(),
        Secret::new(org.client_secret()),
    );
    s.request_timeout = Duration::from_secs(30);
    SalesforceClient::connect(s).await.unwrap()
}

async fn fetch(client: &SalesforceClient, plan: &ObjectPlan, filter: &FetchFilter) -> Vec<Record> {
    let mut records = Vec::new();
    client
        .fetch_records(plan, filter, &mut |page| records.extend(page))
        .await
        .unwrap();
    records
}

fn api_calls(stats: &FakeStats) -> u64 {
    let r = stats.requests;
    r.describe_global + r.describe + r.query + r.query_more + r.composite + r.record
}

fn body(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// Live (not deleted) children per parent, archived ones included, straight from the store.
fn truth(org: &FakeOrg, object: &str, parent_field: &str) -> HashMap<String, usize> {
    org.with_store(|s| {
        let mut counts = HashMap::new();
        for row in rows(s, object).into_iter() {
            if row["IsDeleted"] == json!(true) {
                continue;
            }
            if let Some(parent) = row[parent_field].as_str() {
                *counts.entry(parent.to_string()).or_default() += 1;
            }
        }
        counts
    })
}

fn assert_time_order(case: &Record, key: &str, stamp: &str) {
    let rows = case[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is an array"));
    let stamps: Vec<&str> = rows
        .iter()
        .map(|r| r[stamp].as_str().unwrap_or(""))
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_eq!(stamps, sorted, "{key} of {} by {stamp}", case["Id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_email_task_and_event_of_every_case_comes_in_time_order() {
    let org = start(300);
    let busy = org.with_store(|s| rows(s, "Case").into_iter().next().unwrap()["Id"].clone());
    // More emails than one child batch holds, more tasks than one query page holds.
    let (emails, tasks, events) = (CHILD_BATCH * 2 + 50, PAGE + 100, CHILD_BATCH + 1);
    org.with_store(|s| {
        for n in 0..emails {
            let html = format!("<p>mail {n} &amp; more</p>");
            s.create(
                "EmailMessage",
                &body(json!({"ParentId": busy, "Subject": format!("#{n}"),
                                                  "HtmlBody": html, "Incoming": true})),
            )
            .unwrap();
        }
        for n in 0..tasks {
            s.create(
                "Task",
                &body(json!({"WhatId": busy, "Subject": format!("task {n}")})),
            )
            .unwrap();
        }
        for n in 0..events {
            let start = format!("2025-06-{:02}T10:00:00.000+0000", 1 + n % 28);
            s.create(
                "Event",
                &body(json!({"WhatId": busy, "Subject": format!("event {n}"),
                                           "StartDateTime": start})),
            )
            .unwrap();
        }
    });
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();
    assert_eq!(
        plan.subqueries,
        [
            "ContentDocumentLinks",
            "Attachments",
            "Feeds",
            "EmailMessages",
            "Tasks",
            "Events"
        ]
    );
    let email_truth = truth(&org, "EmailMessage", "ParentId");
    let task_truth = truth(&org, "Task", "WhatId");
    let event_truth = truth(&org, "Event", "WhatId");
    let archived: usize = org.with_store(|s| {
        ["Task", "Event"]
            .iter()
            .map(|o| {
                rows(s, o)
                    .into_iter()
                    .filter(|r| r["IsArchived"] == json!(true))
                    .count()
            })
            .sum()
    });
    assert!(archived > 0, "the seed archives some activities");

    org.reset_stats();
    let cases = fetch(&client, &plan, &FetchFilter::default()).await;
    let stats = org.stats();
    let mut archived_seen = 0;
    for case in &cases {
        let id = case["Id"].as_str().unwrap();
        for (key, truth) in [
            ("EmailMessages", &email_truth),
            ("Tasks", &task_truth),
            ("Events", &event_truth),
        ] {
            let got = case[key].as_array().map_or(0, Vec::len);
            assert_eq!(got, truth.get(id).copied().unwrap_or(0), "{key} of {id}");
        }
        assert_time_order(case, "EmailMessages", "MessageDate");
        assert_time_order(case, "Tasks", "CreatedDate");
        assert_time_order(case, "Events", "StartDateTime");
        for key in ["Tasks", "Events"] {
            archived_seen += case[key]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["IsArchived"] == json!(true))
                .count();
        }
    }
    assert_eq!(
        archived_seen, archived,
        "archived activities through queryAll"
    );
    let with_someone = cases
        .iter()
        .flat_map(|c| c["Tasks"].as_array().unwrap())
        .filter(|t| t["Who"]["Name"].is_string())
        .count();
    assert!(
        with_someone > 0,
        "Who.Name resolved through the polymorphic WhoId"
    );
    let busy_case = cases.iter().find(|c| c["Id"] == busy).unwrap();
    assert!(busy_case["EmailMessages"].as_array().unwrap().len() >= emails);
    assert!(busy_case["Tasks"].as_array().unwrap().len() >= tasks);

    // One Case page; the busy case's emails beyond the first child batch of 200, in further
    // pages of up to 2,000 (the fake org serves the rest of a cut child list at the query's
    // batch size);
    // one composite for the page's comment, task and event queries (3 ≤ 5); the task query's
    // second page of 2,000.
    let busy_emails = busy_case["EmailMessages"].as_array().unwrap().len();
    let email_batches = busy_emails.saturating_sub(CHILD_BATCH).div_ceil(PAGE);
    let task_rows: usize = task_truth.values().sum();
    let task_pages = task_rows.div_ceil(PAGE) - 1;
    assert_eq!(stats.requests.query, 1, "{stats:?}");
    assert_eq!(stats.requests.composite, 1, "{stats:?}");
    assert_eq!(
        stats.requests.query_more as usize,
        email_batches + task_pages,
        "{stats:?}"
    );
    assert_eq!(
        stats.requests.describe, 0,
        "describes were cached by the plan"
    );
    println!(
        "{} cases, {} emails, {} tasks, {} events ({archived} archived): {} API calls",
        cases.len(),
        email_truth.values().sum::<usize>(),
        task_rows,
        event_truth.values().sum::<usize>(),
        api_calls(&stats)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_and_activities_add_two_composite_calls_per_page_of_two_thousand_cases() {
    let org = start(2_000);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();
    let mut bare = (*plan).clone();
    bare.child_queries.clear();
    bare.subquery_plans
        .retain(|s| !s.relationship.eq_ignore_ascii_case("EmailMessages"));

    org.reset_stats();
    let without = fetch(&client, &bare, &FetchFilter::default()).await;
    let without_stats = org.stats();
    org.reset_stats();
    let with = fetch(&client, &plan, &FetchFilter::default()).await;
    let with_stats = org.stats();
    assert_eq!(with.len(), without.len());
    let activities: usize = with
        .iter()
        .map(|c| c["Tasks"].as_array().unwrap().len() + c["Events"].as_array().unwrap().len())
        .sum();
    println!(
        "{} cases: {} API calls without emails and activities, {} with ({} emails, {} activities)",
        with.len(),
        api_calls(&without_stats),
        api_calls(&with_stats),
        with.iter()
            .map(|c| c["EmailMessages"].as_array().unwrap().len())
            .sum::<usize>(),
        activities
    );
    // A page of 2,000 Case Ids takes 4 IN-lists per child object at the URI budget: 4
    // comment queries alone fill one composite call; with 4 task and 4 event queries, 12
    // queries fill three. Emails ride in the listing query. Activity rows beyond a page of
    // 2,000 per query would add one call each; the seed has fewer.
    assert_eq!(with_stats.requests.query, without_stats.requests.query);
    assert_eq!(
        with_stats.requests.composite,
        without_stats.requests.composite + 2,
        "{with_stats:?} vs {without_stats:?}"
    );
    assert_eq!(
        with_stats.requests.query_more,
        without_stats.requests.query_more
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_changed_and_deleted_emails_and_activities_name_their_case_for_refresh() {
    let org = start(60);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();
    let cases = fetch(&client, &plan, &FetchFilter::default()).await;
    let with = |key: &str| {
        cases
            .iter()
            .find(|c| !c[key].as_array().unwrap().is_empty())
            .map(|c| {
                (
                    c["Id"].as_str().unwrap().to_string(),
                    c[key][0]["Id"].clone(),
                )
            })
            .unwrap()
    };
    let emailed = cases[0]["Id"].as_str().unwrap().to_string();
    let (tasked, task) = with("Tasks");
    let (evented, event) = with("Events");
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    org.with_store(|s| {
        s.create(
            "EmailMessage",
            &body(json!({"ParentId": emailed, "Subject": "fresh mail 9c1e",
                                              "TextBody": "hello"})),
        )
        .unwrap();
        s.update(
            "Task",
            task.as_str().unwrap(),
            &body(json!({"Subject": "renamed task 4b7d"})),
        )
        .unwrap();
        s.delete("Event", event.as_str().unwrap()).unwrap();
        // An activity on another kind of record is not the Case folder's business.
        let account = rows(s, "Account").into_iter().next().unwrap()["Id"].clone();
        s.create(
            "Task",
            &body(json!({"WhatId": account, "Subject": "account task"})),
        )
        .unwrap();
    });

    org.reset_stats();
    let changes = client
        .changes_since(&[ChangeQuery { plan: &plan, since }])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    // Case, its feed items and comments, its emails, tasks and events: 6 queries, 2 calls.
    assert_eq!(org.stats().requests.composite, 2);
    let task_source = plan
        .child_activity
        .iter()
        .find(|s| s.object == "Task")
        .unwrap();
    assert_eq!(
        task_source.parent_type,
        Some(("What".to_string(), "Case".to_string())),
        "only the activity of Cases is asked for"
    );
    let mut parents: Vec<String> = changes
        .feed_activity
        .iter()
        .map(|a| a.parent_id.clone())
        .collect();
    parents.sort();
    parents.dedup();
    let mut expected = vec![emailed.clone(), tasked.clone(), evented.clone()];
    expected.sort();
    expected.dedup();
    assert_eq!(parents, expected);

    let again = fetch(
        &client,
        &plan,
        &FetchFilter {
            ids: Some(expected),
            ..FetchFilter::default()
        },
    )
    .await;
    let text =
        |id: &str| serde_json::to_string(again.iter().find(|c| c["Id"] == id).unwrap()).unwrap();
    assert!(text(&emailed).contains("fresh mail 9c1e"));
    assert!(text(&tasked).contains("renamed task 4b7d"));
    assert!(
        !text(&evented).contains(event.as_str().unwrap()),
        "the deleted event is gone"
    );
}
