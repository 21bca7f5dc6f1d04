//! The fake org's REST resources beyond records and queries, over real HTTP: `/limits`
//! with a real org's key set, SOSL `search` and `parameterizedSearch`, `composite/tree`
//! (all or nothing) and `tooling/query`. Each request counts one API call.

use reqwest::Method;
use serde_json::{json, Value};

use sfmount::fake_org::server::MAX_TREE_RECORDS;

mod fake_org_support;
use fake_org_support::{login, small_org, Api, Resp};

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

async fn search(api: &Api, sosl: &str) -> Resp {
    fake_org_support::send(
        api.http
            .get(api.url("search"))
            .query(&[("q", sosl)])
            .bearer_auth(&api.token),
    )
    .await
}

async fn tooling(api: &Api, soql: &str) -> Resp {
    fake_org_support::send(
        api.http
            .get(api.url("tooling/query"))
            .query(&[("q", soql)])
            .bearer_auth(&api.token),
    )
    .await
}

async fn create(api: &Api, object: &str, body: Value) -> String {
    let resp = api
        .send_json(Method::POST, &format!("sobjects/{object}"), &body)
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    resp.body["id"].as_str().unwrap().to_string()
}

fn ids(resp: &Resp) -> Vec<String> {
    resp.body["searchRecords"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", resp.body))
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

/// A real org's limits that `sf org list limits` shows; a subset of the full list.
const EXPECTED_LIMITS: &[&str] = &[
    "ConcurrentAsyncGetReportInstances",
    "DailyApiRequests",
    "DailyAsyncApexExecutions",
    "DailyBulkApiBatches",
    "DailyBulkV2QueryFileStorageMB",
    "DailyBulkV2QueryJobs",
    "DailyStreamingApiEvents",
    "DataStorageMB",
    "FileStorageMB",
    "HourlyODataCallout",
    "MassEmail",
    "PermissionSets",
    "SingleEmail",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_list_a_real_orgs_keys_and_follow_the_counters() {
    let org = small_org();
    let api = login(&org).await;
    let limits = api.get("limits").await;
    assert_eq!(limits.status, 200, "{:?}", limits.body);
    let names = keys(&limits.body);
    for expected in EXPECTED_LIMITS {
        assert!(
            names.contains(&expected.to_string()),
            "{expected}: {names:?}"
        );
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "real orgs list limits alphabetically");
    for (name, limit) in limits.body.as_object().unwrap() {
        let (max, remaining) = (limit["Max"].as_u64(), limit["Remaining"].as_u64());
        assert!(max.is_some() && remaining <= max, "{name}: {limit}");
    }
    let used = org.stats().api_usage;
    assert_eq!(limits.body["DailyApiRequests"]["Max"], 100_000);
    assert_eq!(limits.body["DailyApiRequests"]["Remaining"], 100_000 - used);
    let storage = &limits.body["DataStorageMB"];
    let used_mb = storage["Max"].as_u64().unwrap() - storage["Remaining"].as_u64().unwrap();
    assert!(
        (1..10).contains(&used_mb),
        "30 records an object: {storage}"
    );

    let job = api
        .send_json(
            Method::POST,
            "jobs/query",
            &json!({"operation": "query", "query": "SELECT Id FROM Account"}),
        )
        .await;
    assert_eq!(job.status, 200, "{:?}", job.body);
    let after = api.get("limits").await;
    assert_eq!(
        after.body["DailyBulkV2QueryJobs"],
        json!({"Max": 10_000, "Remaining": 9_999})
    );
    org.reset_stats();
    let next_day = api.get("limits").await;
    assert_eq!(next_day.body["DailyBulkV2QueryJobs"]["Remaining"], 10_000);
    assert_eq!(org.stats().api_usage, 1, "a limits call is an API call");
    assert_eq!(org.stats().requests.limits, 1);
    assert_eq!(next_day.body["DailyApiRequests"]["Remaining"], 100_000 - 1);

    // Keys come and go with the API version, as the docs list them.
    let v48 = api.get("/services/data/v48.0/limits").await;
    assert!(v48.body.get("DailyBulkApiRequests").is_some());
    assert!(v48.body.get("DailyBulkApiBatches").is_none());
    let v46 = api.get("/services/data/v46.0/limits").await;
    assert!(v46.body.get("DailyBulkV2QueryJobs").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sosl_finds_whole_words_in_the_scope_with_per_object_clauses() {
    let org = small_org();
    let api = login(&org).await;
    let holdings = create(&api, "Account", json!({"Name": "Quokka Holdings"})).await;
    let farms = create(&api, "Account", json!({"Name": "Quokka Farms"})).await;
    let contact = create(
        &api,
        "Contact",
        json!({"LastName": "Smith", "Email": "quokka@example.com", "AccountId": farms}),
    )
    .await;
    org.reset_stats();

    let all = search(
        &api,
        "FIND {quokka} IN ALL FIELDS RETURNING Account(Id, Name ORDER BY Name), Contact(Id, Email)",
    )
    .await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(ids(&all), [farms.as_str(), &holdings, &contact]);
    let first = &all.body["searchRecords"][0];
    assert_eq!(keys(first), ["attributes", "Id", "Name"]);
    assert_eq!(
        first["attributes"],
        json!({"type": "Account", "url": format!("/services/data/v59.0/sobjects/Account/{farms}")})
    );
    assert_eq!(all.body["searchRecords"][2]["Email"], "quokka@example.com");

    let names_only = search(
        &api,
        "FIND {Quokka} IN NAME FIELDS RETURNING Account, Contact",
    )
    .await;
    assert_eq!(ids(&names_only), [holdings.as_str(), &farms]);
    assert_eq!(
        keys(&names_only.body["searchRecords"][0]),
        ["attributes", "Id"]
    );
    let email = search(
        &api,
        "FIND {quokka@example.com} IN EMAIL FIELDS RETURNING Contact",
    )
    .await;
    assert_eq!(ids(&email), [contact.as_str()]);
    let filtered = search(
        &api,
        "FIND {quok*} RETURNING Account(Name WHERE Name LIKE '%Farms' LIMIT 5)",
    )
    .await;
    assert_eq!(filtered.body["searchRecords"][0]["Name"], "Quokka Farms");
    assert_eq!(filtered.body["searchRecords"].as_array().unwrap().len(), 1);
    let limited = search(
        &api,
        "FIND {quokka} RETURNING Account(Id LIMIT 1), Contact LIMIT 2",
    )
    .await;
    assert_eq!(ids(&limited), [holdings.as_str(), &contact]);
    let nothing = search(&api, "FIND {quokk} RETURNING Account").await;
    assert_eq!(
        nothing.body,
        json!({"searchRecords": []}),
        "whole words only"
    );
    let everywhere = search(&api, "FIND {quokka}").await;
    assert_eq!(ids(&everywhere).len(), 3, "every searchable object");

    let stats = org.stats();
    assert_eq!(stats.requests.search, 7);
    assert_eq!(stats.api_usage, 7, "each search is one API call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameterized_search_takes_its_clauses_from_parameters() {
    let org = small_org();
    let api = login(&org).await;
    create(&api, "Account", json!({"Name": "Quokka Holdings"})).await;
    create(&api, "Account", json!({"Name": "Quokka Farms"})).await;
    org.reset_stats();
    let param = fake_org_support::send(
        api.http
            .get(api.url("parameterizedSearch"))
            .query(&[
                ("q", "quokka"),
                ("sobject", "Account"),
                ("Account.fields", "Id,Name"),
                ("Account.limit", "1"),
            ])
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(param.status, 200, "{:?}", param.body);
    assert_eq!(param.body["searchRecords"][0]["Name"], "Quokka Holdings");
    assert_eq!(param.body["searchRecords"].as_array().unwrap().len(), 1);

    assert_eq!(org.stats().requests.search, 1);
    assert_eq!(org.stats().api_usage, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sosl_gets_salesforce_errors() {
    let org = small_org();
    let api = login(&org).await;
    for (sosl, code) in [
        ("Acme", "MALFORMED_SEARCH"),
        ("FIND {Acme} RETURNING Account(Id", "MALFORMED_SEARCH"),
        ("FIND {Acme} IN EVERY FIELDS", "MALFORMED_SEARCH"),
        ("FIND {a}", "INVALID_SEARCH"),
        ("FIND {Acme} RETURNING Nope__c", "INVALID_TYPE"),
        ("FIND {Acme} RETURNING Account(Nope)", "INVALID_FIELD"),
    ] {
        let resp = search(&api, sosl).await;
        assert_eq!(resp.status, 400, "{sosl}: {:?}", resp.body);
        assert_eq!(resp.error_code(), code, "{sosl}: {:?}", resp.body);
    }
    let short = search(&api, "FIND {a}").await;
    assert_eq!(
        short.body[0]["message"],
        "search term must be longer than one character: a"
    );
    let no_braces = search(&api, "FIND Acme").await;
    assert_eq!(
        no_braces.body[0]["message"],
        "No search term found. The search term must be enclosed in braces."
    );
    assert_eq!(
        org.stats().api_usage,
        8,
        "refused searches are still API calls"
    );
}

fn tree_body() -> Value {
    json!({"records": [
        {
            "attributes": {"type": "Account", "referenceId": "ref1"},
            "Name": "Wombat Tree One",
            "Contacts": {"records": [
                {"attributes": {"type": "Contact", "referenceId": "ref2"}, "LastName": "Burrow"},
                {"attributes": {"type": "Contact", "referenceId": "ref3"}, "LastName": "Digger"},
            ]},
        },
        {"attributes": {"type": "Account", "referenceId": "ref4"}, "Name": "Wombat Tree Two"},
    ]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_tree_creates_parents_then_children() {
    let org = small_org();
    let api = login(&org).await;
    org.reset_stats();
    let resp = api
        .send_json(Method::POST, "composite/tree/Account", &tree_body())
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    assert_eq!(resp.body["hasErrors"], false);
    let results = resp.body["results"].as_array().unwrap();
    let references: Vec<&str> = results
        .iter()
        .map(|r| r["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["ref1", "ref4", "ref2", "ref3"], "roots first");
    assert_eq!(keys(&results[0]), ["referenceId", "id"]);
    let account = results[0]["id"].as_str().unwrap();
    let contacts = api
        .query(&format!(
            "SELECT LastName FROM Contact WHERE AccountId = '{account}' ORDER BY LastName"
        ))
        .await;
    assert_eq!(contacts.body["totalSize"], 2, "{:?}", contacts.body);
    assert_eq!(contacts.body["records"][0]["LastName"], "Burrow");
    let stats = org.stats();
    assert_eq!(stats.requests.composite_tree, 1);
    assert_eq!(stats.api_usage, 2, "one tree and one query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_composite_tree_rolls_everything_back() {
    let org = small_org();
    let api = login(&org).await;
    let before = api.query("SELECT COUNT() FROM Contact").await.body["totalSize"].clone();
    let mut body = tree_body();
    // The second contact lacks its required LastName: nothing of the tree may stay.
    body["records"][0]["Contacts"]["records"][1]
        .as_object_mut()
        .unwrap()
        .remove("LastName");
    let resp = api
        .send_json(Method::POST, "composite/tree/Account", &body)
        .await;
    assert_eq!(resp.status, 400, "{:?}", resp.body);
    assert_eq!(resp.body["hasErrors"], true);
    let failed = &resp.body["results"].as_array().unwrap()[..];
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["referenceId"], "ref3");
    assert_eq!(
        failed[0]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    assert_eq!(failed[0]["errors"][0]["fields"], json!(["LastName"]));
    let accounts = api
        .query("SELECT Id FROM Account WHERE Name LIKE 'Wombat Tree%'")
        .await;
    assert_eq!(
        accounts.body["totalSize"], 0,
        "rolled back: {:?}",
        accounts.body
    );
    let deleted = fake_org_support::send(
        api.http
            .get(api.url("queryAll"))
            .query(&[("q", "SELECT Id FROM Account WHERE Name LIKE 'Wombat Tree%'")])
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(deleted.body["totalSize"], 0, "not even in the recycle bin");
    let after = api.query("SELECT COUNT() FROM Contact").await.body["totalSize"].clone();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_trees_with_bad_references_or_too_many_records_are_refused() {
    let org = small_org();
    let api = login(&org).await;
    org.reset_stats();

    let mut duplicate = tree_body();
    duplicate["records"][1]["attributes"]["referenceId"] = json!("ref1");
    let resp = api
        .send_json(Method::POST, "composite/tree/Account", &duplicate)
        .await;
    assert_eq!(resp.status, 400);
    let references: Vec<&str> = resp.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["ref1", "ref1"], "one entry per duplicate");
    let mut wrong_type = tree_body();
    wrong_type["records"][1]["attributes"]["type"] = json!("Contact");
    let resp = api
        .send_json(Method::POST, "composite/tree/Account", &wrong_type)
        .await;
    assert_eq!(resp.body["results"][0]["referenceId"], "ref4");
    let records: Vec<Value> = (0..=MAX_TREE_RECORDS)
        .map(|n| json!({"attributes": {"type": "Account", "referenceId": format!("r{n}")}, "Name": "x"}))
        .collect();
    let too_many = api
        .send_json(
            Method::POST,
            "composite/tree/Account",
            &json!({"records": records}),
        )
        .await;
    assert_eq!(too_many.status, 400);
    let unknown = api
        .send_json(Method::POST, "composite/tree/Nope__c", &tree_body())
        .await;
    assert_eq!(unknown.status, 404);
    let get = api.get("composite/tree/Account").await;
    assert_eq!(get.status, 405);
    let stats = org.stats();
    assert_eq!(stats.requests.composite_tree, 5, "refused trees are seen");
    assert_eq!(stats.api_usage, 5, "and each is an API call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tooling_queries_answer_as_a_production_org() {
    let org = small_org();
    let api = login(&org).await;
    org.reset_stats();
    let classes = tooling(&api, "SELECT Id, Name, Body FROM ApexClass").await;
    assert_eq!(classes.status, 200, "{:?}", classes.body);
    assert_eq!(
        keys(&classes.body),
        [
            "size",
            "totalSize",
            "done",
            "queryLocator",
            "entityTypeName",
            "records"
        ]
    );
    assert_eq!(classes.body["totalSize"], 0, "no code in this org");
    let triggers = tooling(&api, "SELECT Id FROM ApexTrigger WHERE Status = 'Active'").await;
    assert_eq!(triggers.body["records"], json!([]));

    let objects = tooling(
        &api,
        "SELECT Id, DeveloperName FROM CustomObject ORDER BY DeveloperName",
    )
    .await;
    assert_eq!(objects.status, 200, "{:?}", objects.body);
    let names: Vec<&str> = objects.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["DeveloperName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Invoice") && names.contains(&"Project"),
        "{names:?}"
    );
    let first = &objects.body["records"][0];
    let id = first["Id"].as_str().unwrap();
    assert!(id.starts_with("01I"));
    assert_eq!(
        first["attributes"]["url"],
        format!("/services/data/v59.0/tooling/sobjects/CustomObject/{id}")
    );
    let invoice_id = objects.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["DeveloperName"] == "Invoice")
        .unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let fields = tooling(
        &api,
        &format!("SELECT DeveloperName FROM CustomField WHERE TableEnumOrId = '{invoice_id}'"),
    )
    .await;
    assert!(
        fields.body["totalSize"].as_u64().unwrap() > 0,
        "{:?}",
        fields.body
    );
    let count = tooling(&api, "SELECT COUNT() FROM ApexClass").await;
    assert_eq!(count.body["totalSize"], 0);

    let source = tooling(&api, "SELECT Id FROM SourceMember").await;
    assert_eq!(source.status, 400);
    assert_eq!(
        source.error_code(),
        "INVALID_TYPE",
        "no source tracking in production"
    );
    let stats = org.stats();
    assert_eq!(stats.requests.tooling_query, 6);
    assert_eq!(stats.api_usage, 6);
}
