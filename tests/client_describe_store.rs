//! Describes kept between runs: a client given a `DescribeStore` revalidates each kept describe
//! once with `If-Modified-Since` (a 304 costs one call and no body), fetches in full what
//! changed, and after `forget_schema` trusts nothing it kept. Each "run" is a new client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sfmount::fake_org::{FakeOrg, FakeOrgConfig};
use sfmount::salesforce::{
    ClientSettings, DescribeStore, LoginTarget, SalesforceClient, Secret, StoredDescribe,
};

/// A store in memory that remembers which keys were saved, in order.
#[derive(Default)]
struct MemoryStore {
    kept: Mutex<HashMap<String, StoredDescribe>>,
    saved: Mutex<Vec<String>>,
}

impl DescribeStore for MemoryStore {
    fn load(&self, key: &str) -> Option<StoredDescribe> {
        self.kept.lock().unwrap().get(key).cloned()
    }

    fn save(&self, key: &str, describe: &StoredDescribe) {
        self.kept
            .lock()
            .unwrap()
            .insert(key.to_string(), describe.clone());
        self.saved.lock().unwrap().push(key.to_string());
    }
}

impl MemoryStore {
    /// The keys saved since the last call.
    fn take_saved(&self) -> Vec<String> {
        let mut saved = std::mem::take(&mut *self.saved.lock().unwrap());
        saved.sort();
        saved
    }

    fn put(&self, key: &str, last_modified: &str, body: &[u8]) {
        self.kept.lock().unwrap().insert(
            key.to_string(),
            StoredDescribe {
                last_modified: last_modified.to_string(),
                body: body.to_vec(),
            },
        );
    }
}

fn start() -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records: 20,
        ..FakeOrgConfig::default()
    })
    .unwrap()
}

/// One run: a new client (its memory caches empty) using `store`.
async fn run(org: &FakeOrg, store: &Arc<MemoryStore>) -> SalesforceClient {
    let mut settings = ClientSettings::new(
        LoginTarget::Url(org.base_url()),
        org.client_id(),
        Secret::new(org.client_secret()),
    );
    settings.request_timeout = Duration::from_secs(20);
    let client = SalesforceClient::connect(settings).await.unwrap();
    client.set_describe_store(store.clone());
    client
}

fn field_names(describe: &sfmount::salesforce::SObjectDescribe) -> Vec<String> {
    describe.fields.iter().map(|f| f.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_revalidates_each_describe_with_one_call_and_no_body() {
    let org = start();
    let store = Arc::new(MemoryStore::default());
    let first = run(&org, &store).await;
    let global = first.describe_global().await.unwrap();
    let account = first.describe("Account").await.unwrap();
    let contact = first.describe("Contact").await.unwrap();
    assert_eq!(store.take_saved(), ["account", "contact", "global"]);
    let kept = store.load("account").unwrap();
    assert!(sfmount::sftime::parse_http_date(&kept.last_modified).is_some());

    org.reset_stats();
    let second = run(&org, &store).await;
    let global_again = second.describe_global().await.unwrap();
    let account_again = second.describe("Account").await.unwrap();
    let contact_again = second.describe("contact").await.unwrap();
    // Asked again within the run: the memory cache answers.
    second.describe("Account").await.unwrap();
    let stats = org.stats();
    assert_eq!(stats.requests.describe_global, 1);
    assert_eq!(stats.requests.describe, 2, "one call per described object");
    assert_eq!(second.api_calls_made(), 3);
    assert!(store.take_saved().is_empty(), "every answer was a 304");
    assert_eq!(global_again.sobjects.len(), global.sobjects.len());
    assert_eq!(field_names(&account_again), field_names(&account));
    assert_eq!(field_names(&contact_again), field_names(&contact));
    assert_eq!(account_again.label, account.label);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_whose_fields_changed_is_fetched_again_and_only_that_one() {
    let org = start();
    let store = Arc::new(MemoryStore::default());
    let first = run(&org, &store).await;
    first.describe_global().await.unwrap();
    first.describe("Account").await.unwrap();
    first.describe("Contact").await.unwrap();
    first.describe("Case").await.unwrap();
    store.take_saved();

    org.with_store(|s| s.add_field("Account", "Region__c", "Region"))
        .unwrap();
    org.with_store(|s| s.set_field_hidden("Case", "Subject", true))
        .unwrap();
    org.reset_stats();
    let second = run(&org, &store).await;
    second.describe_global().await.unwrap();
    let account = second.describe("Account").await.unwrap();
    let contact = second.describe("Contact").await.unwrap();
    let case = second.describe("Case").await.unwrap();
    assert_eq!(
        store.take_saved(),
        ["account", "case", "global"],
        "Contact was answered 304"
    );
    assert_eq!(org.stats().requests.describe, 3);
    assert!(account.field("Region__c").is_some());
    assert!(case.field("Subject").is_none());
    assert!(contact.field("Region__c").is_none());

    // The next run gets the changed describes from the store.
    org.reset_stats();
    let third = run(&org, &store).await;
    assert!(third
        .describe("Account")
        .await
        .unwrap()
        .field("Region__c")
        .is_some());
    assert!(store.take_saved().is_empty());
    assert_eq!(org.stats().requests.describe, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_forget_schema_kept_describes_are_fetched_in_full() {
    let org = start();
    let store = Arc::new(MemoryStore::default());
    let first = run(&org, &store).await;
    first.describe_global().await.unwrap();
    first.describe("Account").await.unwrap();
    store.take_saved();

    let second = run(&org, &store).await;
    second.describe("Account").await.unwrap();
    assert!(store.take_saved().is_empty(), "revalidated: 304");
    second.forget_schema();
    org.reset_stats();
    second.describe_global().await.unwrap();
    second.describe("Account").await.unwrap();
    // Nothing changed on the org, yet both came in full: no If-Modified-Since was sent.
    assert_eq!(store.take_saved(), ["account", "global"]);
    let stats = org.stats();
    assert_eq!(
        (stats.requests.describe_global, stats.requests.describe),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_describe_that_does_not_read_is_fetched_without_the_header() {
    let org = start();
    let store = Arc::new(MemoryStore::default());
    // Dated far ahead: had the header been sent, the org would answer 304.
    let future = "Fri, 01 Jan 2100 00:00:00 GMT";
    store.put(
        "account",
        future,
        b"{\"name\": \"Account\", \"fields\": [trunc",
    );
    store.put("contact", "not a date", br#"{"name": "Contact"}"#);
    store.put("global", future, b"<html>");
    let client = run(&org, &store).await;
    let account = client.describe("Account").await.unwrap();
    let contact = client.describe("Contact").await.unwrap();
    let global = client.describe_global().await.unwrap();
    assert!(account.field("Name").is_some());
    assert!(contact.field("LastName").is_some());
    assert!(global.find("Account").is_some());
    assert_eq!(store.take_saved(), ["account", "contact", "global"]);
    assert_ne!(store.load("account").unwrap().last_modified, future);
    assert_eq!(client.api_calls_made(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_store_describes_as_before() {
    let org = start();
    let mut settings = ClientSettings::new(
        LoginTarget::Url(org.base_url()),
        org.client_id(),
        Secret::new(org.client_secret()),
    );
    settings.request_timeout = Duration::from_secs(20);
    let client = SalesforceClient::connect(settings).await.unwrap();
    client.describe_global().await.unwrap();
    client.describe("Account").await.unwrap();
    client.describe("Account").await.unwrap();
    let stats = org.stats();
    assert_eq!(
        (stats.requests.describe_global, stats.requests.describe),
        (1, 1)
    );
}
