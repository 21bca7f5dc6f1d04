//! The client's download of attached files (ContentVersion `VersionData`, Attachment
//! `Body`) against the fake org: exact bytes, one blob request per download, a range
//! answered from where it was asked, a wrong size refused.

use std::time::Duration;

use sfmount::fake_org::{FakeOrg, FakeOrgConfig, Faults};
use sfmount::salesforce::{ClientSettings, LoginTarget, SalesforceClient, Secret, SfError};

fn start() -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records: 20,
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
    s.request_timeout = Duration::from_secs(20);
    SalesforceClient::connect(s).await.unwrap()
}

/// Up to `n` latest versions: (Id, ContentSize).
async fn versions(client: &SalesforceClient, n: usize) -> Vec<(String, u64)> {
    let mut rows = Vec::new();
    let soql =
        format!("SELECT Id, ContentSize FROM ContentVersion WHERE IsLatest = true LIMIT {n}");
    client
        .query_all_pages(&soql, false, &mut |page| rows.extend(page))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r["Id"].as_str().unwrap().to_string(),
                r["ContentSize"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_data_is_the_orgs_bytes_one_request_each() {
    let org = start();
    let client = connect(&org).await;
    let versions = versions(&client, 5).await;
    assert!(versions.len() >= 3, "the fake org seeds files");
    let before = org.stats().requests.blob;
    for (id, size) in &versions {
        let bytes = client.version_data(id, *size).await.unwrap();
        let expected = org.with_store(|s| s.version_data(id)).unwrap().0;
        assert_eq!(bytes, expected, "{id}");
        assert_eq!(bytes.len() as u64, *size);
    }
    assert_eq!(org.stats().requests.blob - before, versions.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_of_another_size_or_a_bad_id_is_an_error() {
    let org = start();
    let client = connect(&org).await;
    let (id, size) = versions(&client, 1).await.remove(0);
    let error = client.version_data(&id, size + 1).await.unwrap_err();
    assert!(matches!(error, SfError::Malformed { .. }), "{error}");
    let before = org.stats().requests.blob;
    let error = client.version_data("../../limits", 0).await.unwrap_err();
    assert!(matches!(error, SfError::NotFound { .. }), "{error}");
    assert_eq!(
        org.stats().requests.blob,
        before,
        "a bad Id never reaches the org"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_within_the_deadline() {
    let org = start();
    let client = connect(&org).await;
    let (id, size) = versions(&client, 1).await.remove(0);
    org.set_faults(Faults {
        fail_next: Some(1),
        ..Faults::default()
    });
    let bytes = client.version_data(&id, size).await.unwrap();
    assert_eq!(bytes.len() as u64, size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachments_body_is_its_bytes_and_a_range_starts_where_asked() {
    let org = start();
    let client = connect(&org).await;
    let mut rows = Vec::new();
    client
        .query_all_pages(
            "SELECT Id, BodyLength FROM Attachment",
            false,
            &mut |page| rows.extend(page),
        )
        .await
        .unwrap();
    assert!(rows.len() >= 3, "the fake org seeds attachments: {rows:?}");
    let before = org.stats().requests.blob;
    let mut largest = (String::new(), 0);
    for row in &rows {
        let id = row["Id"].as_str().unwrap();
        let size = row["BodyLength"].as_u64().unwrap();
        let bytes = client.version_data(id, size).await.unwrap();
        let expected = org.with_store(|s| s.version_data(id)).unwrap().0;
        assert_eq!(bytes, expected, "{id}");
        if size > largest.1 {
            largest = (id.to_string(), size);
        }
    }
    assert_eq!(org.stats().requests.blob - before, rows.len() as u64);

    // A ranged download of the largest: the org answers 206 from the offset asked.
    let (id, size) = largest;
    let from = size / 2 + 3;
    let mut stream = client.version_stream(&id, from, size).await.unwrap();
    assert_eq!(stream.start(), from, "the Range was honoured");
    let mut tail = Vec::new();
    while let Some(piece) = stream.next_piece().await.unwrap() {
        tail.extend_from_slice(&piece);
    }
    let expected = org.with_store(|s| s.version_data(&id)).unwrap().0;
    assert_eq!(tail, expected[from as usize..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_created_over_rest_serves_the_bytes_it_was_given() {
    let org = start();
    let client = connect(&org).await;
    let bytes = "Zoë's scan: ✓\n".as_bytes().to_vec();
    let mut accounts = Vec::new();
    client
        .query_all_pages("SELECT Id FROM Account LIMIT 1", false, &mut |page| {
            accounts.extend(page)
        })
        .await
        .unwrap();
    let parent = accounts[0]["Id"].as_str().unwrap().to_string();
    let body = serde_json::json!({"ParentId": parent, "Name": "scan.txt",
        "ContentType": "text/plain", "BodyLength": 999, "Body": "Wm/DqydzIHNjYW46IOKckwo="});
    let id = org
        .with_store(|s| s.create("Attachment", body.as_object().unwrap()))
        .unwrap();
    let row = org
        .with_store(|s| s.get_record("Attachment", &id, None, "59.0"))
        .unwrap();
    assert_eq!(row["BodyLength"], bytes.len(), "the length is the bytes'");
    let fetched = client.version_data(&id, bytes.len() as u64).await.unwrap();
    assert_eq!(fetched, bytes);
}
