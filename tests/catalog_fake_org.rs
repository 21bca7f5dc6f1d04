//! The catalog and renderers over real client output: the fake org's seeded records, fetched
//! by the Salesforce client, must all get safe, unique, reversible file names and render to
//! valid JSON and to text that carries the content rules (feeds, files, addresses).

use std::collections::HashSet;

use serde_json::{Map, Value};
use sfmount::catalog::CustomObjects;
use sfmount::catalog::{
    content_fields, content_rules, file_name, id_from_file_name, listing_plan, record_title,
    select_objects, ContentRule, Group, OrgObject, CASE_FEED_FIELDS, FEED_COMMENT_FIELDS,
};
use sfmount::config::{Login, Settings};
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};
use sfmount::render::{render_json, render_text, TextContext};
use sfmount::salesforce::{FetchFilter, SalesforceClient, Secret};

/// A fake org with about `records` records per standard object, default settings for it,
/// and a client connected with them.
async fn connect_to_fake_org(records: usize) -> (FakeOrg, Settings, SalesforceClient) {
    let org = tokio::task::spawn_blocking(move || {
        FakeOrg::start(FakeOrgConfig {
            records,
            ..FakeOrgConfig::default()
        })
    })
    .await
    .unwrap()
    .unwrap();
    let settings = Settings::new(
        Login::Url(org.base_url()),
        org.client_id(),
        Secret::new(org.client_secret()),
    );
    let client = SalesforceClient::connect(settings.client_settings())
        .await
        .unwrap();
    (org, settings, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seeded_record_gets_a_safe_name_and_renders() {
    let (org, mut settings, client) = connect_to_fake_org(40).await;
    settings.objects.sync_custom_objects = true;
    settings.objects.custom_objects = CustomObjects::All;
    let global = client.describe_global().await.unwrap();
    let org_objects: Vec<OrgObject> = global.sobjects.iter().map(OrgObject::from).collect();
    let selection = select_objects(&settings.objects, &org_objects).unwrap();

    let standard: Vec<&str> = selection
        .objects
        .iter()
        .filter(|o| o.group == Group::Standard)
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(
        standard,
        [
            "Account",
            "Opportunity",
            "Contact",
            "Lead",
            "Campaign",
            "Case"
        ]
    );
    let custom: Vec<&str> = selection
        .objects
        .iter()
        .filter(|o| o.group == Group::Custom)
        .map(|o| o.name.as_str())
        .collect();
    assert!(!custom.is_empty(), "the fake org has custom objects");
    assert!(
        custom.iter().all(|name| name.ends_with("__c")),
        "{custom:?}"
    );

    let instance_url = client.instance_url();
    let mut saw_feed = false;
    let mut saw_files = false;
    let mut saw_address = false;
    let mut saw_json_document = false;
    let mut saw_json_feed = false;
    for object in &selection.objects {
        let plan = listing_plan(&client, &object.name).await.unwrap();
        let mut records: Vec<Map<String, Value>> = Vec::new();
        client
            .fetch_records(&plan, &FetchFilter::default(), &mut |page| {
                records.extend(page)
            })
            .await
            .unwrap();
        assert!(!records.is_empty(), "{} has records", object.name);

        let mut names = HashSet::new();
        for record in &records {
            let id = record["Id"].as_str().unwrap();
            let title = record_title(&object.name, record, plan.name_field.as_deref());
            assert!(!title.is_empty(), "{}: {id}", object.name);
            for ext in ["json", "txt"] {
                let name = file_name(&title, id, ext);
                assert!(name.len() <= 255 && !name.contains('/') && !name.starts_with('.'));
                assert_eq!(id_from_file_name(&name), Some(id));
                assert!(names.insert(name.clone()), "duplicate name {name}");
            }

            let json = render_json(record);
            assert_eq!(json, render_json(record), "deterministic");
            assert!(json.starts_with(b"{\n  \""), "pretty-printed");
            let parsed: Map<String, Value> = serde_json::from_slice(&json).unwrap();
            assert_eq!(&parsed, record);
            saw_json_document |= json_documents_are_complete(&parsed);
            if object.name == "Case" {
                saw_json_feed |= json_feed_is_in_time_order(&parsed);
            }

            let ctx = TextContext {
                instance_url: &instance_url,
                title: &title,
                name_field: plan.name_field.as_deref(),
            };
            let text = String::from_utf8(render_text(&object.name, record, &ctx)).unwrap();
            assert_eq!(text.as_bytes(), render_text(&object.name, record, &ctx));
            assert!(text.contains(&format!(
                "Link: {}/{id}\n",
                instance_url.trim_end_matches('/')
            )));
            assert!(text.contains(&format!("Object: {}\n", object.name)));
            assert!(!text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'));
            if object.name == "Case" {
                assert!(text.contains("\nState: "), "{text}");
                saw_feed |= text.contains("\nFeed:\n- ");
            }
            saw_files |= text.contains("\nFiles:\n- ");
            saw_address |= text.contains("\nBilling Address: ");
        }
    }
    assert!(saw_feed, "some seeded Case shows its feed");
    assert!(saw_address, "some seeded Account shows a billing address");
    assert!(saw_files, "some seeded record lists attached files");
    assert!(
        saw_json_document,
        "some JSON file lists an attached document"
    );
    assert!(
        saw_json_feed,
        "some Case JSON file carries feed items with comments"
    );
    tokio::task::spawn_blocking(move || org.shutdown())
        .await
        .unwrap();
}

/// Every attached document in a record's JSON carries its title, extension, size and latest
/// version; true when there was at least one.
fn json_documents_are_complete(record: &Map<String, Value>) -> bool {
    let Some(Value::Array(links)) = record.get("ContentDocumentLinks") else {
        panic!("ContentDocumentLinks missing: {record:?}");
    };
    for link in links {
        let document = &link["ContentDocument"];
        for key in [
            "Title",
            "FileExtension",
            "ContentSize",
            "LatestPublishedVersionId",
        ] {
            assert!(
                document.get(key).is_some_and(|v| !v.is_null()),
                "{key} missing from {link}"
            );
        }
    }
    !links.is_empty()
}

/// A Case's JSON `Feeds` are oldest first, each with a `FeedComments` array (oldest first);
/// true when the case has a feed item with at least one comment.
fn json_feed_is_in_time_order(case: &Map<String, Value>) -> bool {
    let Some(Value::Array(items)) = case.get("Feeds") else {
        panic!("Feeds missing from a Case: {case:?}");
    };
    let created = |row: &Value| row["CreatedDate"].as_str().unwrap_or("").to_string();
    let mut commented = false;
    for pair in items.windows(2) {
        assert!(created(&pair[0]) <= created(&pair[1]), "feed out of order");
    }
    for item in items {
        let comments = item["FeedComments"]
            .as_array()
            .unwrap_or_else(|| panic!("FeedComments missing from {item}"));
        for pair in comments.windows(2) {
            assert!(
                created(&pair[0]) <= created(&pair[1]),
                "comments out of order"
            );
        }
        commented |= !comments.is_empty();
    }
    commented
}

/// The text view can only show what the listing query selected: every field the content
/// rules read (header, per-object fields, feed items and comments) must be in the client's
/// plan for that object, or the text files would silently lose a line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_plans_select_every_field_the_text_view_reads() {
    let (org, _, client) = connect_to_fake_org(5).await;

    for object in sfmount::catalog::DEFAULT_STANDARD_OBJECTS {
        let plan = listing_plan(&client, object).await.unwrap();
        let selected: HashSet<&str> = plan
            .fields
            .iter()
            .chain(&plan.relationship_fields)
            .map(String::as_str)
            .collect();
        for field in content_fields(object) {
            // A compound address is read part by part when the compound is not selected.
            let parts_of_address = content_rules(object).iter().find_map(|rule| match rule {
                ContentRule::Address {
                    compound, parts, ..
                } if *compound == field => Some(parts),
                _ => None,
            });
            let covered = selected.contains(field)
                || parts_of_address.is_some_and(|parts| parts.iter().all(|p| selected.contains(p)));
            assert!(covered, "{object}: {field} is not selected: {selected:?}");
        }
    }

    let case = listing_plan(&client, "Case").await.unwrap();
    let feeds = case
        .subquery_plans
        .iter()
        .find(|s| s.relationship == "Feeds")
        .expect("Case selects its feed");
    for field in CASE_FEED_FIELDS {
        assert!(
            feeds.fields.iter().any(|f| f == field),
            "feed item {field}: {:?}",
            feeds.fields
        );
    }
    let comments = case.feed_comments.as_ref().expect("feed comments planned");
    for field in FEED_COMMENT_FIELDS {
        assert!(
            comments.fields.iter().any(|f| f == field),
            "feed comment {field}: {:?}",
            comments.fields
        );
    }
    tokio::task::spawn_blocking(move || org.shutdown())
        .await
        .unwrap();
}
