//! The fake org's endpoints for tools beyond REST queries, over real HTTP: Bulk API 2.0 query
//! jobs (states, CSV pages with locators, refusals, abort and delete), `columns=true` query
//! metadata, the OAuth userinfo and identity URLs, and the Organization query the
//! Salesforce CLI sends at login.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use sfmount::fake_org::Faults;

mod fake_org_support;
use fake_org_support::{login, request_token, send, small_org, Api, Resp};

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The keys of a create answer, in order.
const JOB_CREATE_KEYS: &[&str] = &[
    "id",
    "operation",
    "object",
    "createdById",
    "createdDate",
    "systemModstamp",
    "state",
    "concurrencyMode",
    "contentType",
    "apiVersion",
    "lineEnding",
    "columnDelimiter",
];

/// The keys of job info: the create answer's, with `jobType` before the CSV settings and
/// the counts after them.
fn job_info_keys() -> Vec<&'static str> {
    let mut keys = JOB_CREATE_KEYS.to_vec();
    let csv_settings = keys.iter().position(|k| *k == "lineEnding").unwrap();
    keys.insert(csv_settings, "jobType");
    keys.extend([
        "numberRecordsProcessed",
        "retries",
        "totalProcessingTime",
        "isPkChunkingSupported",
    ]);
    keys
}

async fn create_job(api: &Api, body: Value) -> Resp {
    api.send_json(Method::POST, "jobs/query", &body).await
}

async fn create_query_job(api: &Api, soql: &str) -> String {
    let resp = create_job(api, json!({"operation": "query", "query": soql})).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.body["id"].as_str().unwrap().to_string()
}

/// Parses one CSV page (comma-delimited) into its header and rows.
fn parse_csv(raw: &[u8], delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(raw);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Follows `Sforce-Locator` to the page that says `null`; returns the header, every row and
/// the row count of each page.
async fn all_results(
    api: &Api,
    job: &str,
    max_records: usize,
) -> (Vec<String>, Vec<Vec<String>>, Vec<usize>) {
    let (mut header, mut rows, mut pages) = (Vec::new(), Vec::new(), Vec::new());
    let mut locator: Option<String> = None;
    loop {
        let mut path = format!("jobs/query/{job}/results?maxRecords={max_records}");
        if let Some(l) = &locator {
            path.push_str(&format!("&locator={l}"));
        }
        let resp = api.get(&path).await;
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.raw));
        assert_eq!(resp.header("content-type"), Some("text/csv"));
        let (page_header, page_rows) = parse_csv(&resp.raw, b',');
        let count: usize = resp
            .header("sforce-numberofrecords")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(count, page_rows.len());
        if pages.is_empty() {
            header = page_header;
        } else {
            assert_eq!(
                header, page_header,
                "every page starts with the header line"
            );
        }
        pages.push(count);
        rows.extend(page_rows);
        match resp.header("sforce-locator").expect("Sforce-Locator") {
            "null" => return (header, rows, pages),
            next => locator = Some(next.to_string()),
        }
    }
}

/// The REST answer to the same SOQL, flattened as CSV cells (null as empty).
async fn rest_rows(api: &Api, soql: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let first = api.query(soql).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let records: Vec<Value> = api
        .all_pages(first)
        .await
        .into_iter()
        .flat_map(|page| page["records"].as_array().unwrap().clone())
        .collect();
    records
        .iter()
        .map(|record| {
            columns
                .iter()
                .map(|column| {
                    let value = column
                        .split('.')
                        .try_fold(record, |v, key| v.get(key))
                        .unwrap_or(&Value::Null);
                    match value {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn bulk_query_job_runs_to_complete_and_pages_its_csv_with_locators() {
    let org = small_org();
    let api = login(&org).await;
    let soql = "SELECT Id, Name, Owner.Name, Industry FROM Account";
    let expected = rest_rows(&api, soql, &["Id", "Name", "Owner.Name", "Industry"]).await;
    assert!(expected.len() > 20, "{} accounts", expected.len());
    org.reset_stats();

    let created = create_job(&api, json!({"operation": "query", "query": soql})).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(keys(&created.body), JOB_CREATE_KEYS);
    let job = created.body["id"].as_str().unwrap().to_string();
    assert!(job.starts_with("750") && job.len() == 18, "{job}");
    assert_eq!(created.body["state"], "UploadComplete");
    assert_eq!(created.body["object"], "Account");
    assert_eq!(created.body["apiVersion"], json!(59.0));
    assert_eq!(created.body["columnDelimiter"], "COMMA");
    assert_eq!(created.body["lineEnding"], "LF");

    let info = api.get(&format!("jobs/query/{job}")).await;
    assert_eq!(keys(&info.body), job_info_keys());
    assert_eq!(info.body["state"], "JobComplete");
    assert_eq!(info.body["jobType"], "V2Query");
    assert_eq!(info.body["numberRecordsProcessed"], expected.len());

    let page_size = 7;
    let (header, rows, pages) = all_results(&api, &job, page_size).await;
    assert_eq!(header, ["Id", "Name", "Owner.Name", "Industry"]);
    assert_eq!(rows, expected, "the same rows as REST, in the same order");
    assert!(pages.len() > 2, "{pages:?}");
    assert!(pages[..pages.len() - 1].iter().all(|n| *n == page_size));

    // A locator can be used again while the job exists.
    let first = api
        .get(&format!("jobs/query/{job}/results?maxRecords={page_size}"))
        .await;
    let locator = first.header("sforce-locator").unwrap().to_string();
    let path = format!("jobs/query/{job}/results?maxRecords={page_size}&locator={locator}");
    assert_eq!(api.get(&path).await.raw, api.get(&path).await.raw);

    let listed = api.get("jobs/query").await;
    assert_eq!(listed.body["done"], true);
    assert_eq!(listed.body["nextRecordsUrl"], Value::Null);
    let ids: Vec<&str> = listed.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [job.as_str()]);

    // Every request is one API call: create, info, the pages, four more results, the list.
    let stats = org.stats();
    let results_calls = pages.len() as u64 + 3;
    assert_eq!(stats.requests.bulk_query_job, 3);
    assert_eq!(stats.requests.bulk_query_results, results_calls);
    assert_eq!(stats.api_usage, 3 + results_calls);
    assert_eq!(stats.requests.query, 0, "a bulk job is not a REST query");
}

#[tokio::test]
async fn bulk_csv_quotes_values_and_follows_the_delimiter_and_line_ending() {
    let org = small_org();
    let api = login(&org).await;
    let awkward = "He said \"hi\", then|left\nfor good";
    let created = api
        .send_json(Method::POST, "sobjects/Account", &json!({"Name": awkward}))
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let job = create_job(
        &api,
        json!({
            "operation": "query",
            "query": format!("SELECT Id, Name, CreatedDate, Description FROM Account WHERE Id = '{id}'"),
            "columnDelimiter": "PIPE",
            "lineEnding": "CRLF",
        }),
    )
    .await;
    assert_eq!(job.body["columnDelimiter"], "PIPE");
    assert_eq!(job.body["lineEnding"], "CRLF");
    let job = job.body["id"].as_str().unwrap();
    let page = api.get(&format!("jobs/query/{job}/results")).await;
    let text = String::from_utf8(page.raw.clone()).unwrap();
    assert!(
        text.starts_with("\"Id\"|\"Name\"|\"CreatedDate\"|\"Description\"\r\n"),
        "{text}"
    );
    assert!(
        text.ends_with("|\"\"\r\n"),
        "a null is an empty field: {text}"
    );
    let (_, rows) = parse_csv(&page.raw, b'|');
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], id);
    assert_eq!(
        rows[0][1], awkward,
        "quotes, delimiters and line breaks survive"
    );
    assert!(
        rows[0][2].ends_with('Z') && rows[0][2].len() == "2024-01-15T10:30:00.000Z".len(),
        "Bulk datetimes end in Z: {}",
        rows[0][2]
    );

    // queryAll sees the record once it is deleted; query does not.
    api.send_json(
        Method::DELETE,
        &format!("sobjects/Account/{id}"),
        &json!({}),
    )
    .await;
    let soql = format!("SELECT Id FROM Account WHERE Id = '{id}'");
    for (operation, rows_expected) in [("query", 0), ("queryAll", 1)] {
        let job = create_job(&api, json!({"operation": operation, "query": soql})).await;
        assert_eq!(job.body["operation"], operation);
        let job = job.body["id"].as_str().unwrap();
        let (_, rows, _) = all_results(&api, job, 100).await;
        assert_eq!(rows.len(), rows_expected, "{operation}");
    }
}

#[tokio::test]
async fn bulk_jobs_wait_for_the_processing_delay_and_can_be_aborted_and_deleted() {
    let org = small_org();
    let api = login(&org).await;
    org.set_faults(Faults {
        bulk_processing_ms: Some(60_000),
        ..Faults::default()
    });
    let slow = create_query_job(&api, "SELECT Id FROM Account").await;
    let info = api.get(&format!("jobs/query/{slow}")).await;
    assert_eq!(info.body["state"], "InProgress");
    assert_eq!(info.body["numberRecordsProcessed"], 0);
    let early = api.get(&format!("jobs/query/{slow}/results")).await;
    assert_eq!(early.status, 400);
    assert_eq!(early.error_code(), "API_ERROR");
    let refused = api
        .send_json(Method::DELETE, &format!("jobs/query/{slow}"), &json!({}))
        .await;
    assert_eq!(refused.status, 400, "a running job is not deleted");

    let aborted = create_query_job(&api, "SELECT Id FROM Contact").await;
    let abort = json!({"state": "Aborted"});
    let path = format!("jobs/query/{aborted}");
    let resp = api.send_json(Method::PATCH, &path, &abort).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["state"], "Aborted");
    let again = api.send_json(Method::PATCH, &path, &abort).await;
    assert_eq!(again.status, 400);
    let wrong_state = api
        .send_json(Method::PATCH, &path, &json!({"state": "JobComplete"}))
        .await;
    assert_eq!(wrong_state.error_code(), "INVALIDJOB");
    assert_eq!(api.get(&format!("{path}/results")).await.status, 400);

    org.advance_clock(Duration::from_secs(61));
    let info = api.get(&format!("jobs/query/{slow}")).await;
    assert_eq!(info.body["state"], "JobComplete");
    assert_eq!(info.body["totalProcessingTime"], 60_000);
    assert_eq!(
        api.get(&path).await.body["state"],
        "Aborted",
        "aborted stays"
    );
    let done = api
        .send_json(Method::PATCH, &format!("jobs/query/{slow}"), &abort)
        .await;
    assert_eq!(done.status, 400, "a complete job is not aborted");

    let deleted = api.send_json(Method::DELETE, &path, &json!({})).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(api.get(&path).await.status, 404);
    let listed = api.get("jobs/query").await;
    let ids: Vec<&Value> = listed.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| &j["id"])
        .collect();
    assert_eq!(ids, [&json!(slow)]);
}

#[tokio::test]
async fn bulk_refuses_what_salesforce_refuses() {
    let org = small_org();
    let api = login(&org).await;
    let refusals = [
        (
            "SELECT Id, BillingAddress FROM Account",
            "API_ERROR",
            "Selecting compound data not supported in Bulk Query",
        ),
        (
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            "API_ERROR",
            "Aggregate Relationships not supported in Bulk V2 Query with CSV content type.",
        ),
        ("SELECT COUNT() FROM Account", "API_ERROR", "COUNT()"),
        (
            "SELECT Id FROM Account LIMIT 5 OFFSET 2",
            "API_ERROR",
            "OFFSET",
        ),
        (
            "SELECT Id, NoSuchField__c FROM Account",
            "INVALID_FIELD",
            "NoSuchField__c",
        ),
        (
            "SELECT Id FROM NoSuchObject__c",
            "INVALID_TYPE",
            "NoSuchObject__c",
        ),
    ];
    for (soql, code, message) in refusals {
        let resp = create_job(&api, json!({"operation": "query", "query": soql})).await;
        assert_eq!(resp.status, 400, "{soql}");
        assert_eq!(resp.error_code(), code, "{soql}: {:?}", resp.body);
        let text = resp.body[0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{soql}: {text}");
    }
    let bad_settings = [
        json!({"operation": "insert", "query": "SELECT Id FROM Account"}),
        json!({"query": "SELECT Id FROM Account"}),
        json!({"operation": "query"}),
        json!({"operation": "query", "query": "SELECT Id FROM Account", "columnDelimiter": "COLON"}),
        json!({"operation": "query", "query": "SELECT Id FROM Account", "lineEnding": "CR"}),
        json!({"operation": "query", "query": "SELECT Id FROM Account", "contentType": "JSON"}),
    ];
    for body in bad_settings {
        let resp = create_job(&api, body.clone()).await;
        assert_eq!(resp.status, 400, "{body}");
        assert_eq!(resp.error_code(), "INVALIDJOB", "{body}");
    }
    let unknown = "750000000000000AAA";
    for (method, path) in [
        (Method::GET, format!("jobs/query/{unknown}")),
        (Method::GET, format!("jobs/query/{unknown}/results")),
        (Method::PATCH, format!("jobs/query/{unknown}")),
        (Method::DELETE, format!("jobs/query/{unknown}")),
    ] {
        let resp = api
            .send_json(method.clone(), &path, &json!({"state": "Aborted"}))
            .await;
        assert_eq!(resp.status, 404, "{method} {path}");
        assert_eq!(resp.error_code(), "NOT_FOUND");
    }
    let job = create_query_job(&api, "SELECT Id FROM Account").await;
    for bad in ["maxRecords=0", "maxRecords=lots", "locator=nonsense"] {
        let resp = api.get(&format!("jobs/query/{job}/results?{bad}")).await;
        assert_eq!(resp.status, 400, "{bad}");
    }
    let other_version = format!("/services/data/v60.0/jobs/query/{job}/results");
    assert_eq!(api.get(&other_version).await.status, 409);
    let too_old = "/services/data/v46.0/jobs/query";
    assert_eq!(
        api.get(too_old).await.status,
        404,
        "Bulk 2.0 queries start at v47.0"
    );
    assert_eq!(
        org.open_cursors(),
        0,
        "bulk jobs hold no REST query locators"
    );
}

#[tokio::test]
async fn columns_true_describes_the_select_list_without_rows_or_a_cursor() {
    let org = small_org();
    let api = login(&org).await;
    org.reset_stats();
    let soql = "SELECT Id, Name, AnnualRevenue, Owner.Name, (SELECT LastName FROM Contacts) \
                FROM Account";
    let resp = send(
        api.http
            .get(api.url("query"))
            .query(&[("q", soql), ("columns", "true")])
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(
        keys(&resp.body),
        [
            "columnMetadata",
            "entityName",
            "groupBy",
            "idSelected",
            "keyPrefix"
        ]
    );
    assert_eq!(resp.body["entityName"], "Account");
    assert_eq!(resp.body["groupBy"], false);
    assert_eq!(resp.body["idSelected"], true);
    assert_eq!(resp.body["keyPrefix"], "001");
    let columns = resp.body["columnMetadata"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["columnName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Id", "Name", "AnnualRevenue", "Owner", "Contacts"]);
    let column_keys: BTreeSet<String> = [
        "aggregate",
        "apexType",
        "booleanType",
        "columnName",
        "custom",
        "displayName",
        "foreignKeyName",
        "insertable",
        "joinColumns",
        "numberType",
        "textType",
        "updatable",
    ]
    .map(String::from)
    .into();
    for column in columns {
        assert_eq!(
            keys(column).into_iter().collect::<BTreeSet<_>>(),
            column_keys
        );
    }
    let (id, name, revenue, owner, contacts) = (
        &columns[0],
        &columns[1],
        &columns[2],
        &columns[3],
        &columns[4],
    );
    assert_eq!(id["apexType"], "Id");
    assert_eq!(
        (id["insertable"].clone(), id["updatable"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(name["apexType"], "String");
    assert_eq!(name["textType"], true);
    assert_eq!(
        (name["insertable"].clone(), name["updatable"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(revenue["numberType"], true);
    assert_eq!(owner["apexType"], Value::Null);
    assert_eq!(owner["joinColumns"][0]["columnName"], "Name");
    assert_eq!(owner["joinColumns"][0]["displayName"], "Owner.Name");
    assert_eq!(contacts["aggregate"], true);
    assert_eq!(contacts["joinColumns"][0]["columnName"], "LastName");
    assert!(resp.body.get("records").is_none(), "no rows");
    assert_eq!(org.open_cursors(), 0, "no query locator");

    let bad = send(
        api.http
            .get(api.url("query"))
            .query(&[("q", "SELECT Nope FROM Account"), ("columns", "true")])
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_code(), "INVALID_FIELD");
    let stats = org.stats();
    assert_eq!((stats.requests.query, stats.api_usage), (2, 2));
}

#[tokio::test]
async fn userinfo_and_the_identity_url_answer_for_the_run_as_user() {
    let org = small_org();
    let http = reqwest::Client::new();
    let token = request_token(&http, &org).await;
    let access = token.body["access_token"].as_str().unwrap().to_string();
    let identity_url = token.body["id"].as_str().unwrap().to_string();
    org.reset_stats();

    let identity = send(http.get(&identity_url).bearer_auth(&access)).await;
    assert_eq!(identity.status, 200, "{:?}", identity.body);
    assert_eq!(identity.body["id"], identity_url.as_str());
    for key in [
        "username",
        "display_name",
        "email",
        "urls",
        "user_type",
        "last_modified_date",
    ] {
        assert!(identity.body.get(key).is_some(), "identity lacks {key}");
    }

    let userinfo_url = format!("{}/services/oauth2/userinfo", org.base_url());
    let info = send(http.get(&userinfo_url).bearer_auth(&access)).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], identity_url.as_str());
    assert_eq!(info.body["user_id"], identity.body["user_id"]);
    assert_eq!(
        info.body["organization_id"],
        identity.body["organization_id"]
    );
    assert_eq!(info.body["preferred_username"], identity.body["username"]);
    assert_eq!(info.body["name"], identity.body["display_name"]);
    assert_eq!(info.body["email"], identity.body["email"]);
    assert!(identity_url.ends_with(&format!(
        "/id/{}/{}",
        info.body["organization_id"].as_str().unwrap(),
        info.body["user_id"].as_str().unwrap()
    )));
    let rest = info.body["urls"]["rest"].as_str().unwrap();
    assert_eq!(
        rest,
        format!("{}/services/data/v{{version}}/", org.base_url())
    );

    for url in [&userinfo_url, &identity_url] {
        let refused = send(http.get(url).bearer_auth("00D!not-a-token")).await;
        assert_eq!(refused.status, 401, "{url}");
        let anonymous = send(http.get(url)).await;
        assert_eq!(anonymous.status, 401, "{url}");
    }
    let stats = org.stats();
    assert_eq!(stats.requests.identity, 6);
    assert_eq!(stats.api_usage, 0, "OAuth endpoints are not REST API calls");
}

#[tokio::test]
async fn the_organization_query_the_cli_sends_at_login_succeeds() {
    let org = small_org();
    let api = login(&org).await;
    let resp = api
        .query(
            "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, \
             OrganizationType, CreatedDate FROM Organization",
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let record = &resp.body["records"][0];
    assert_eq!(resp.body["totalSize"], 1);
    assert_eq!(record["IsSandbox"], false);
    assert_eq!(record["TrialExpirationDate"], Value::Null);
    assert_eq!(record["NamespacePrefix"], Value::Null);
    assert_eq!(record["OrganizationType"], "Developer Edition");
    assert!(record["InstanceName"].is_string());
}
