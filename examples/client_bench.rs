//! REST client cost on a fake org over real HTTP: API calls and wall time of full listings
//! (every field, relationship fields, subqueries, Case feeds with comments) next to a
//! baseline measured in the same run, an Id-only listing of the same object (the least any
//! client must fetch to know the records). Wall times share the machine with everything
//! else, so read the ratios, not the seconds.
//! Run: `scripts/bench-client [RECORDS]` (default 10,000 per standard object).

use std::time::{Duration, Instant};

use serde_json::Value;
use sfmount::catalog::listing_plan;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};
use sfmount::salesforce::{ClientSettings, FetchFilter, LoginTarget, SalesforceClient, Secret};

struct Run {
    records: u64,
    calls: u64,
    elapsed: Duration,
    feed_items: usize,
    comments: usize,
}

async fn id_only(client: &SalesforceClient, object: &str) -> Run {
    let before = client.api_calls_made();
    let started = Instant::now();
    let records = client
        .query_all_pages(&format!("SELECT Id FROM {object}"), false, &mut |_| {})
        .await
        .expect("id listing");
    Run {
        records,
        calls: client.api_calls_made() - before,
        elapsed: started.elapsed(),
        feed_items: 0,
        comments: 0,
    }
}

async fn full(client: &SalesforceClient, object: &str) -> Run {
    let plan = listing_plan(client, object).await.expect("plan");
    let started = Instant::now();
    let (mut feed_items, mut comments) = (0, 0);
    let summary = client
        .fetch_records(&plan, &FetchFilter::default(), &mut |page| {
            for record in page {
                if let Some(Value::Array(items)) = record.get("Feeds") {
                    feed_items += items.len();
                    comments += items
                        .iter()
                        .filter_map(|i| i["FeedComments"].as_array())
                        .map(Vec::len)
                        .sum::<usize>();
                }
            }
        })
        .await
        .expect("listing");
    Run {
        records: summary.records,
        calls: summary.api_calls,
        elapsed: started.elapsed(),
        feed_items,
        comments,
    }
}

fn main() {
    let records: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    eprintln!("seeding a fake org with about {records} records per standard object...");
    let org = FakeOrg::start(FakeOrgConfig {
        records,
        ..FakeOrgConfig::default()
    })
    .expect("fake org");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut settings = ClientSettings::new(
            LoginTarget::Url(org.base_url()),
            org.client_id(),
            Secret::new(org.client_secret()),
        );
        settings.request_timeout = Duration::from_secs(120);
        let client = SalesforceClient::connect(settings).await.expect("login");
        println!(
            "{:<16} {:>8} {:>16} {:>22} {:>12} {:>10}",
            "object", "records", "id-only calls/s", "full calls/s", "calls ratio", "time ratio"
        );
        for object in ["Account", "Contact", "Case", "Wide_Object__c"] {
            let base = id_only(&client, object).await;
            let run = full(&client, object).await;
            assert_eq!(base.records, run.records, "{object}: both listings see the same rows");
            println!(
                "{:<16} {:>8} {:>5} {:>9.2}s {:>11} {:>9.2}s {:>11.1}x {:>9.1}x",
                object,
                run.records,
                base.calls,
                base.elapsed.as_secs_f64(),
                run.calls,
                run.elapsed.as_secs_f64(),
                run.calls as f64 / base.calls.max(1) as f64,
                run.elapsed.as_secs_f64() / base.elapsed.as_secs_f64().max(1e-6),
            );
            if run.feed_items > 0 {
                println!(
                    "{:<16} feed items {}, comments {}: {} calls for records, feeds and comments together",
                    "", run.feed_items, run.comments, run.calls
                );
            }
        }
        let stats = org.stats();
        println!(
            "fake org counters: token {}, describeGlobal {}, describe {}, query {}, queryMore {}, composite {}",
            stats.requests.token,
            stats.requests.describe_global,
            stats.requests.describe,
            stats.requests.query,
            stats.requests.query_more,
            stats.requests.composite
        );
    });
}
