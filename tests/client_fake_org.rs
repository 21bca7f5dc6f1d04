//! The client against the in-process fake org, with call counts from its counters.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use sfmount::catalog::listing_plan;
use sfmount::catalog::DEFAULT_STANDARD_OBJECTS as STANDARD_OBJECTS;
use sfmount::fake_org::store::FEED_COMMENT_MARKER;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig, FakeStats, Faults};
use sfmount::index::ApiFloor;
use sfmount::salesforce::{
    ChangeQuery, ClientSettings, FetchFilter, LoginTarget, ObjectPlan, Record, SalesforceClient,
    Secret, SfError,
};

fn start(records: usize) -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records,
        ..FakeOrgConfig::default()
    })
    .unwrap()
}

fn settings(org: &FakeOrg) -> ClientSettings {
    let mut s = ClientSettings::new(
        LoginTarget::Url(org.base_url()),
        org.client_id(),
        Secret::new(org.client_secret()),
    );
    s.request_timeout = Duration::from_secs(20);
    s
}

async fn connect(org: &FakeOrg) -> SalesforceClient {
    SalesforceClient::connect(settings(org)).await.unwrap()
}

async fn fetch_all(
    client: &SalesforceClient,
    plan: &ObjectPlan,
    filter: &FetchFilter,
) -> (Vec<Record>, u64) {
    let mut records = Vec::new();
    let summary = client
        .fetch_records(plan, filter, &mut |page| records.extend(page))
        .await
        .unwrap();
    assert_eq!(summary.records as usize, records.len());
    (records, summary.api_calls)
}

/// What a refresh tick does for one object: ask what changed at or after `since` (records and,
/// for Cases, feed activity), then fetch those records by Id. Returns them and the API calls
/// both steps made.
async fn fetch_changed(
    client: &SalesforceClient,
    plan: &ObjectPlan,
    since: chrono::DateTime<chrono::Utc>,
) -> (Vec<Record>, u64) {
    let calls_before = client.api_calls_made();
    let changes = client
        .changes_since(&[ChangeQuery { plan, since }])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    let mut ids: Vec<String> = Vec::new();
    let changed = changes.rows.iter().map(|row| &row.id);
    let active = changes.feed_activity.iter().map(|a| &a.parent_id);
    for id in changed.chain(active) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let by_id = FetchFilter {
        ids: Some(ids),
        ..FetchFilter::default()
    };
    let (records, _) = fetch_all(client, plan, &by_id).await;
    (records, client.api_calls_made() - calls_before)
}

fn api_calls(stats: &FakeStats) -> u64 {
    let r = stats.requests;
    r.describe_global + r.describe + r.query + r.query_more + r.composite + r.record
}

/// Objects the six standard listings read fields of: the six, plus User (Owner, CreatedBy,
/// LastModifiedBy targets), ContentDocumentLink, ContentDocument and Attachment (attached files),
/// CaseFeed and FeedComment (Case feeds), EmailMessage, Task and Event (a Case's emails and
/// activities). Each is described once per process.
const DESCRIBES_FOR_SIX_STANDARD_OBJECTS: u64 = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_the_six_standard_objects_costs_one_token_one_global_and_one_describe_each() {
    let org = start(300);
    org.reset_stats();
    let client = connect(&org).await;
    let mut fetch_calls = 0;
    for object in STANDARD_OBJECTS {
        let plan = listing_plan(&client, object).await.unwrap();
        let (records, calls) = fetch_all(&client, &plan, &FetchFilter::default()).await;
        let expected = org.with_store(|s| s.record_count(object));
        assert_eq!(records.len(), expected, "{object}");
        fetch_calls += calls;
    }
    let first = org.stats();
    assert_eq!(first.requests.token, 1);
    assert_eq!(first.requests.describe_global, 1);
    assert_eq!(first.requests.describe, DESCRIBES_FOR_SIX_STANDARD_OBJECTS);
    // 300 records per object fit in one page each; Case adds one composite call for its
    // comment, task and event queries (three queries, one call).
    assert_eq!(first.requests.query, 6);
    assert_eq!(first.requests.query_more, 0);
    assert_eq!(first.requests.composite, 1);
    assert_eq!(fetch_calls, 7);
    assert_eq!(client.api_calls_made(), api_calls(&first));

    // The second listing reuses token, describeGlobal, describes and plans.
    org.reset_stats();
    for object in STANDARD_OBJECTS {
        let plan = listing_plan(&client, object).await.unwrap();
        fetch_all(&client, &plan, &FetchFilter::default()).await;
    }
    let second = org.stats();
    assert_eq!(second.requests.token, 0);
    assert_eq!(second.requests.describe_global, 0);
    assert_eq!(second.requests.describe, 0);
    assert_eq!(second.requests.query + second.requests.composite, 7);
    let usage = client.api_usage().unwrap();
    assert_eq!(usage.used, org.stats().api_usage);
    assert_eq!(usage.max, 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_select_only_existing_fields_and_valid_relationships() {
    let org = start(50);
    let client = connect(&org).await;
    let case = listing_plan(&client, "case").await.unwrap();
    assert_eq!(case.object, "Case");
    assert_eq!(case.name_field.as_deref(), Some("CaseNumber"));
    assert!(case.has_system_modstamp);
    // Case.Owner is polymorphic (User or Group): only Name pseudo-object fields.
    assert!(case.relationship_fields.contains(&"Owner.Name".to_string()));
    assert!(case.subqueries.contains(&"Feeds".to_string()));
    assert!(case
        .subqueries
        .contains(&"ContentDocumentLinks".to_string()));
    let describe = client.describe("Case").await.unwrap();
    for f in &case.fields {
        assert!(describe.field(f).is_some(), "{f}");
    }
    let invoice = listing_plan(&client, "Invoice__c").await.unwrap();
    assert!(invoice.custom);
    assert!(
        !invoice.formula_fields.is_empty(),
        "Invoice__c has a formula field"
    );
    assert!(!invoice.subqueries.contains(&"Feeds".to_string()));

    // A hidden field disappears from new plans; a non-queryable object is refused.
    let org2 = start(20);
    org2.with_store(|s| s.set_field_hidden("Account", "Phone", true))
        .unwrap();
    org2.with_store(|s| s.set_queryable("Lead", false)).unwrap();
    let client2 = connect(&org2).await;
    let account = listing_plan(&client2, "Account").await.unwrap();
    assert!(!account.fields.iter().any(|f| f == "Phone"));
    let (records, _) = fetch_all(&client2, &account, &FetchFilter::default()).await;
    assert!(!records.is_empty());
    assert!(matches!(
        listing_plan(&client2, "Lead").await.unwrap_err(),
        SfError::InvalidType { .. }
    ));
    assert!(matches!(
        listing_plan(&client2, "NoSuchThing__c").await.unwrap_err(),
        SfError::NotFound { .. }
    ));
    assert!(matches!(
        listing_plan(&client2, "../etc").await.unwrap_err(),
        SfError::NotFound { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_cases_all_get_all_their_feed_items_and_comments() {
    let org = start(2_000);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();

    // The truth, read independently with flat queries.
    let mut feed_parent: HashMap<String, String> = HashMap::new();
    client
        .query_all_pages("SELECT Id, ParentId FROM CaseFeed", false, &mut |rows| {
            for r in rows {
                let parent = r["ParentId"].as_str().unwrap();
                feed_parent.insert(r["Id"].as_str().unwrap().into(), parent.into());
            }
        })
        .await
        .unwrap();
    let mut comments_per_item: HashMap<String, usize> = HashMap::new();
    client
        .query_all_pages(
            "SELECT Id, FeedItemId FROM FeedComment",
            false,
            &mut |rows| {
                for r in rows {
                    *comments_per_item
                        .entry(r["FeedItemId"].as_str().unwrap().into())
                        .or_default() += 1;
                }
            },
        )
        .await
        .unwrap();

    let mut feeds_per_case: HashMap<&str, usize> = HashMap::new();
    for parent in feed_parent.values() {
        *feeds_per_case.entry(parent.as_str()).or_default() += 1;
    }

    org.reset_stats();
    let (cases, calls) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    let stats = org.stats();
    assert!(cases.len() >= 2_000, "{}", cases.len());
    let mut items_seen = HashSet::new();
    let mut comments_seen = 0usize;
    let mut marker_found = false;
    for case in &cases {
        let id = case["Id"].as_str().unwrap();
        let feeds = case["Feeds"].as_array().expect("Feeds is an array");
        assert_eq!(
            feeds.len(),
            feeds_per_case.get(id).copied().unwrap_or(0),
            "case {id}"
        );
        let mut last = String::new();
        for item in feeds {
            let created = item["CreatedDate"].as_str().unwrap().to_string();
            assert!(created >= last, "feed items of {id} out of time order");
            last = created;
            let item_id = item["Id"].as_str().unwrap();
            items_seen.insert(item_id.to_string());
            let comments = item["FeedComments"]
                .as_array()
                .expect("FeedComments is an array");
            assert_eq!(
                comments.len(),
                comments_per_item.get(item_id).copied().unwrap_or(0),
                "item {item_id}"
            );
            let mut last_comment = String::new();
            for c in comments {
                let created = c["CreatedDate"].as_str().unwrap().to_string();
                assert!(created >= last_comment);
                last_comment = created;
                marker_found |= c["CommentBody"]
                    .as_str()
                    .is_some_and(|b| b.contains(FEED_COMMENT_MARKER));
            }
            comments_seen += comments.len();
        }
        assert!(case["ContentDocumentLinks"].is_array());
    }
    assert_eq!(items_seen.len(), feed_parent.len());
    assert_eq!(comments_seen, comments_per_item.values().sum::<usize>());
    assert!(marker_found, "the marker comment reached its case");
    println!(
        "{} cases, {} feed items, {} comments: {} API calls ({} query, {} query_more, {} composite)",
        cases.len(),
        items_seen.len(),
        comments_seen,
        calls,
        stats.requests.query,
        stats.requests.query_more,
        stats.requests.composite
    );
    assert_eq!(calls, api_calls(&stats));
    // One Case page of 2,000 with its Feeds and EmailMessages subqueries, three composites of
    // IN-list comment, task and event queries for that page (4 of each), and the pages
    // beyond the first of each query: about one call per 2,000 comments or activities.
    let case_pages = cases.len().div_ceil(2_000) as u64;
    let activities: usize = cases
        .iter()
        .map(|c| c["Tasks"].as_array().unwrap().len() + c["Events"].as_array().unwrap().len())
        .sum();
    let bound =
        4 * case_pages + comments_seen.div_ceil(2_000) as u64 + activities.div_ceil(2_000) as u64;
    assert!(calls <= bound, "{calls} calls, expected at most {bound}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wide_object_is_fetched_completely_with_split_queries() {
    let org = start(100);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Wide_Object__c").await.unwrap();
    assert!(plan.fields.len() >= 800, "{}", plan.fields.len());
    org.reset_stats();
    let (records, calls) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    let stats = org.stats();
    assert_eq!(
        records.len(),
        org.with_store(|s| s.record_count("Wide_Object__c"))
    );
    assert!(!records.is_empty());
    assert!(
        stats.requests.query >= 2,
        "split into several queries: {stats:?}"
    );
    assert_eq!(calls, api_calls(&stats));
    for record in &records {
        for field in &plan.fields {
            assert!(record.contains_key(field), "{} lacks {field}", record["Id"]);
        }
    }
    // Values match the org's own view of the record.
    let first = &records[0];
    let id = first["Id"].as_str().unwrap();
    let truth = org
        .with_store(|s| s.get_record("Wide_Object__c", id, None, "62.0"))
        .unwrap();
    for field in plan.fields.iter().filter(|f| f.starts_with("Wide_")) {
        assert_eq!(first[field], truth[field], "{field}");
    }
    println!(
        "Wide_Object__c: {} records, {} fields, {calls} API calls",
        records.len(),
        plan.fields.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_modified_since_deleted_and_ids() {
    let org = start(100);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Account").await.unwrap();
    let (all, _) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    let ids: Vec<String> = all
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();

    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let body: serde_json::Map<String, Value> =
        serde_json::from_str(r#"{"Phone":"+1 555 0100"}"#).unwrap();
    org.with_store(|s| s.update("Account", &ids[3], &body))
        .unwrap();
    let (changed, _) = fetch_changed(&client, &plan, before).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["Id"], ids[3].as_str());
    assert_eq!(changed[0]["Phone"], "+1 555 0100");

    org.with_store(|s| s.delete("Account", &ids[5])).unwrap();
    let (live, _) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    assert!(!live.iter().any(|r| r["Id"] == ids[5].as_str()));
    let with_deleted = FetchFilter {
        include_deleted: true,
        ..FetchFilter::default()
    };
    let (everything, _) = fetch_all(&client, &plan, &with_deleted).await;
    let deleted = everything
        .iter()
        .find(|r| r["Id"] == ids[5].as_str())
        .expect("queryAll returns it");
    assert_eq!(deleted["IsDeleted"], true);

    let wanted = vec![ids[0].clone(), ids[7].clone(), ids[42].clone()];
    let by_ids = FetchFilter {
        ids: Some(wanted.clone()),
        ..FetchFilter::default()
    };
    let (picked, _) = fetch_all(&client, &plan, &by_ids).await;
    let got: HashSet<String> = picked
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, wanted.into_iter().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_cost_one_reauthentication_for_many_concurrent_callers() {
    let org = start(50);
    let client = connect(&org).await;
    client.describe_global().await.unwrap();
    org.set_faults(Faults {
        expire_tokens: Some(true),
        ..Faults::default()
    });
    org.reset_stats();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.query_all_pages("SELECT Id FROM Account LIMIT 5", false, &mut |_| {})
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 5);
    }
    assert_eq!(org.stats().requests.token, 1);
    assert_eq!(client.token_requests_made(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_failures_are_actionable_and_never_show_the_secret() {
    let org = start(10);
    let mut wrong_secret = settings(&org);
    wrong_secret.client_secret = Secret::new("definitely-wrong-secret-value");
    let err = SalesforceClient::connect(wrong_secret).await.unwrap_err();
    assert!(matches!(err, SfError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("Consumer Secret"), "{err}");
    assert!(!format!("{err} {err:?}").contains("definitely-wrong-secret-value"));

    let mut unknown_id = settings(&org);
    unknown_id.client_id = "no-such-client".into();
    let err = SalesforceClient::connect(unknown_id).await.unwrap_err();
    assert!(err.to_string().contains("Consumer Key"), "{err}");

    org.set_faults(Faults {
        no_run_as_user: Some(true),
        ..Faults::default()
    });
    let err = SalesforceClient::connect(settings(&org)).await.unwrap_err();
    assert!(err.to_string().contains("Run As user"), "{err}");
    // No retries for a definite answer.
    assert_eq!(org.stats().requests.token, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_503s_are_retried_and_persistent_ones_reported() {
    let org = start(10);
    let client = connect(&org).await;
    org.set_faults(Faults {
        fail_next: Some(2),
        ..Faults::default()
    });
    let before = client.api_calls_made();
    client.describe_global().await.unwrap();
    assert_eq!(client.api_calls_made() - before, 3);

    org.set_faults(Faults {
        fail_next: Some(50),
        ..Faults::default()
    });
    let before = client.api_calls_made();
    let err = client.describe("Account").await.unwrap_err();
    assert!(matches!(err, SfError::Unavailable { .. }), "{err:?}");
    assert_eq!(
        client.api_calls_made() - before,
        4,
        "one attempt and three retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limit_exceeded_stops_at_once() {
    let org = start(10);
    let client = connect(&org).await;
    org.set_faults(Faults {
        api_remaining: Some(3),
        ..Faults::default()
    });
    client.describe_global().await.unwrap();
    // 3 calls left: past a floor at 90 % used, not yet at one at 100 % used.
    let usage = client.api_usage().expect("the org reported its usage");
    assert!(ApiFloor::new(90).unwrap().is_reached_by(usage));
    assert!(!ApiFloor::new(100).unwrap().is_reached_by(usage));
    let mut err = None;
    for _ in 0..5 {
        if let Err(e) = client
            .query_all_pages("SELECT Id FROM Account", false, &mut |_| {})
            .await
        {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the limit is reached");
    assert!(matches!(err, SfError::LimitExceeded { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert!(err.to_string().contains("limit"));
    let before = org.stats().api_usage;
    let again = client.count_records(&["Account".to_string()]).await;
    assert!(
        matches!(again, Err(SfError::LimitExceeded { .. })),
        "{again:?}"
    );
    // One attempt, no retries.
    assert!(org.stats().api_usage <= before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_batched_in_composite_calls() {
    let org = start(120);
    let client = connect(&org).await;
    let objects: Vec<String> = STANDARD_OBJECTS.iter().map(|s| s.to_string()).collect();
    org.reset_stats();
    let counts = client.count_records(&objects).await.unwrap();
    assert_eq!(
        org.stats().requests.composite,
        2,
        "six counts in two composite calls"
    );
    for (object, count) in objects.iter().zip(counts) {
        assert_eq!(
            count.unwrap() as usize,
            org.with_store(|s| s.record_count(object)),
            "{object}"
        );
    }
    let mixed = client
        .composite_queries(
            &[
                "SELECT Id FROM Account LIMIT 3".to_string(),
                "SELECT Id FROM Nope__c".to_string(),
            ],
            false,
        )
        .await
        .unwrap();
    assert_eq!(mixed[0].as_ref().unwrap().len(), 3);
    assert!(
        matches!(mixed[1], Err(SfError::InvalidType { .. })),
        "{:?}",
        mixed[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_batches_beyond_the_first_are_followed() {
    let org = start(20);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();
    let (cases, _) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    let case_id = cases[0]["Id"].as_str().unwrap().to_string();
    let before = cases[0]["Feeds"].as_array().unwrap().len();
    // More feed items than one child batch holds (the fake org cuts child lists at 200).
    for i in 0..450 {
        let body: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
            "ParentId": case_id, "Type": "TextPost", "Body": format!("bulk post {i}")
        }))
        .unwrap();
        org.with_store(|s| s.create("FeedItem", &body)).unwrap();
    }
    let filter = FetchFilter {
        ids: Some(vec![case_id.clone()]),
        ..FetchFilter::default()
    };
    org.reset_stats();
    let (again, calls) = fetch_all(&client, &plan, &filter).await;
    assert_eq!(again.len(), 1);
    let feeds = again[0]["Feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), before + 450);
    let bodies: HashSet<&str> = feeds.iter().filter_map(|f| f["Body"].as_str()).collect();
    assert!((0..450).all(|i| bodies.contains(format!("bulk post {i}").as_str())));
    assert!(feeds.iter().all(|f| f["FeedComments"].is_array()));
    assert!(org.stats().requests.query_more >= 1, "{:?}", org.stats());
    assert_eq!(calls, api_calls(&org.stats()));
}

/// Changes feed activity on cases without moving their SystemModstamp; returns the case Ids
/// touched through comments (one new, one deleted) and through a new post.
fn add_feed_activity(org: &FakeOrg, cases: &[Record]) -> (Vec<String>, String) {
    let item_of = |case: &Record| case["Feeds"][0]["Id"].as_str().unwrap().to_string();
    let commented = &cases[1];
    let comment: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
        "FeedItemId": item_of(commented), "CommentBody": "fresh comment 81c2"
    }))
    .unwrap();
    org.with_store(|s| s.create("FeedComment", &comment))
        .unwrap();
    let mut by_comment = vec![commented["Id"].as_str().unwrap().to_string()];
    let pruned = cases[3..]
        .iter()
        .find_map(|case| {
            let feeds = case["Feeds"].as_array()?;
            let comment = feeds
                .iter()
                .flat_map(|f| f["FeedComments"].as_array().unwrap().iter())
                .next()?;
            Some((
                case["Id"].as_str()?.to_string(),
                comment["Id"].as_str()?.to_string(),
            ))
        })
        .expect("a seeded case with a comment");
    org.with_store(|s| s.delete("FeedComment", &pruned.1))
        .unwrap();
    by_comment.push(pruned.0);
    let posted = cases[2]["Id"].as_str().unwrap().to_string();
    let post: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
        "ParentId": posted, "Type": "TextPost", "Body": "fresh post 5d0e"
    }))
    .unwrap();
    org.with_store(|s| s.create("FeedItem", &post)).unwrap();
    (by_comment, posted)
}

async fn incremental_cases(
    org: &FakeOrg,
    client: &SalesforceClient,
    since: chrono::DateTime<chrono::Utc>,
) -> (HashMap<String, String>, u64) {
    let plan = listing_plan(client, "Case").await.unwrap();
    org.reset_stats();
    let (changed, calls) = fetch_changed(client, &plan, since).await;
    let by_id = changed
        .iter()
        .map(|r| {
            (
                r["Id"].as_str().unwrap().to_string(),
                serde_json::to_string(r).unwrap(),
            )
        })
        .collect();
    (by_id, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_case_fetches_bring_back_cases_whose_comments_changed() {
    let org = start(60);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();
    let (cases, _) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (by_comment, _) = add_feed_activity(&org, &cases);
    let (changed, calls) = incremental_cases(&org, &client, since).await;
    assert!(changed[&by_comment[0]].contains("fresh comment 81c2"));
    assert!(
        changed.contains_key(&by_comment[1]),
        "the case that lost a comment is refreshed"
    );
    // Two composites asking which cases changed and which had feed, email or activity
    // changes (6 queries), then the refetch by Id (query + composite for comments, tasks and
    // events).
    assert_eq!(calls, 4, "{:?}", org.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_case_fetches_bring_back_cases_with_new_posts() {
    let org = start(60);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Case").await.unwrap();
    let (cases, _) = fetch_all(&client, &plan, &FetchFilter::default()).await;
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (by_comment, posted) = add_feed_activity(&org, &cases);
    let (changed, _) = incremental_cases(&org, &client, since).await;
    assert!(changed[&posted].contains("fresh post 5d0e"));
    assert_eq!(
        changed.len(),
        by_comment.len() + 1,
        "only cases with activity"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_literals_survive_the_trip_over_http() {
    use sfmount::salesforce::soql::{Condition, Literal, Soql};
    let org = start(10);
    let client = connect(&org).await;
    let names = [
        "O'Brien & Sons",
        "back\\slash \"quoted\"",
        "plus+percent%20hash#amp&eq=",
        "new\nline\ttab",
        "Zürich 東京 🚀",
        "'; DROP TABLE Account; --",
        "  leading and trailing  ",
        "a\\'b",
    ];
    for name in names {
        let body: serde_json::Map<String, Value> =
            serde_json::from_value(serde_json::json!({ "Name": name })).unwrap();
        let id = org.with_store(|s| s.create("Account", &body)).unwrap();
        let soql = Soql::select(["Id", "Name"])
            .from("Account")
            .where_(Condition::eq("Name", Literal::string(name)))
            .build();
        let mut rows = Vec::new();
        client
            .query_all_pages(&soql, false, &mut |page| rows.extend(page))
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(rows.len(), 1, "{name:?}");
        assert_eq!(rows[0]["Id"], id.as_str());
        assert_eq!(rows[0]["Name"], name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_change_under_the_cache_fails_once_then_heals() {
    let org = start(20);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Account").await.unwrap();
    assert!(plan.fields.iter().any(|f| f == "Phone"));
    org.with_store(|s| s.set_field_hidden("Account", "Phone", true))
        .unwrap();
    let err = client
        .fetch_records(&plan, &FetchFilter::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, SfError::InvalidField { .. }), "{err:?}");
    org.reset_stats();
    let fresh = listing_plan(&client, "Account").await.unwrap();
    assert!(!fresh.fields.iter().any(|f| f == "Phone"));
    let (records, _) = fetch_all(&client, &fresh, &FetchFilter::default()).await;
    assert_eq!(records.len(), org.with_store(|s| s.record_count("Account")));
    let stats = org.stats();
    assert_eq!(
        stats.requests.describe_global, 1,
        "described again after the failure"
    );
    assert!(stats.requests.describe >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subqueries_need_a_queryable_child_object() {
    let org = start(20);
    let children = [
        "Attachment",
        "CaseFeed",
        "ContentDocumentLink",
        "EmailMessage",
        "Task",
        "Event",
    ];
    for child in children {
        org.with_store(|s| s.set_queryable(child, false)).unwrap();
    }
    let client = connect(&org).await;
    let case = listing_plan(&client, "Case").await.unwrap();
    assert!(case.subqueries.is_empty(), "{:?}", case.subqueries);
    assert!(case.subquery_plans.is_empty());
    assert!(case.feed_comments.is_none());
    assert!(case.child_queries.is_empty() && case.child_activity.is_empty());
    // The cut-down plan still lists every case.
    let (records, _) = fetch_all(&client, &case, &FetchFilter::default()).await;
    assert_eq!(records.len(), org.with_store(|s| s.record_count("Case")));

    // With the children queryable again, a fresh client plans both subqueries.
    for child in children {
        org.with_store(|s| s.set_queryable(child, true)).unwrap();
    }
    let fresh = listing_plan(&connect(&org).await, "Case").await.unwrap();
    assert_eq!(
        fresh.subqueries,
        [
            "ContentDocumentLinks",
            "Attachments",
            "Feeds",
            "EmailMessages",
            "Tasks",
            "Events"
        ]
    );
}

// The API floor is a rule of the mount, not of the client: see src/index/api_floor.rs.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_uri_limit_is_refused_before_any_call() {
    use sfmount::salesforce::soql::{Condition, Soql};
    let org = start(10);
    let client = connect(&org).await;
    // 1,000 Ids of 27 percent-encoded bytes each, with quotes and commas: about 27 KB.
    let ids: Vec<String> = (0..1_000)
        .map(|i| sfmount::sfid::make_id("001", "Hs0", i))
        .collect();
    let soql = Soql::select(["Id"])
        .from("Account")
        .where_(Condition::in_strings("Id", &ids))
        .build();
    let before = client.api_calls_made();
    org.reset_stats();
    let err = client
        .query_all_pages(&soql, false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SfError::Query { code, .. } if code == "URI_TOO_LONG"),
        "{err:?}"
    );
    assert!(err.to_string().contains("query Account"), "{err}");
    assert_eq!(client.api_calls_made(), before);
    assert_eq!(api_calls(&org.stats()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_whose_cursor_dies_resumes_after_the_last_record_read() {
    // 5,000 Accounts: three pages of 2,000.
    let org = start(5_000);
    let client = connect(&org).await;
    let plan = listing_plan(&client, "Account").await.unwrap();
    org.reset_stats();
    let mut ids: Vec<String> = Vec::new();
    let mut pages = 0;
    client
        .fetch_records(&plan, &FetchFilter::default(), &mut |page| {
            pages += 1;
            if pages == 1 {
                // As if the org dropped the cursor between the first and second page.
                org.set_faults(Faults {
                    drop_cursors: Some(true),
                    ..Faults::default()
                });
            }
            ids.extend(page.iter().map(|r| r["Id"].as_str().unwrap().to_string()));
        })
        .await
        .expect("the listing survives a dead cursor");
    let expected = org.with_store(|s| s.record_count("Account"));
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), expected, "every record once");
    assert_eq!(unique.len(), expected, "no record twice");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "still in Id order");
    let stats = org.stats().requests;
    // The first query and its dead queryMore, then one keyset query for the rest and its
    // further page.
    assert_eq!(stats.query, 2, "{stats:?}");
    assert_eq!(stats.query_more, 2, "{stats:?}");
}
