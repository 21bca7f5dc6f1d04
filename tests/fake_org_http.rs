//! The fake org over real HTTP: every endpoint, headers, error shapes, pagination, locators,
//! composite, limits, faults, mutations, and shape conformance with captured responses.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sfmount::fake_org::server::MAX_URI_BYTES;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig, Faults};

mod fake_org_support;
use fake_org_support::{login, send, small_org, Api, Resp, V};

/// One read-only org with more than 2,000 Accounts, shared by the tests that only read.
fn big_org() -> &'static FakeOrg {
    static ORG: OnceLock<FakeOrg> = OnceLock::new();
    ORG.get_or_init(|| {
        FakeOrg::start(FakeOrgConfig {
            records: 2500,
            ..FakeOrgConfig::default()
        })
        .expect("fake org starts")
    })
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn assert_json_and_limit_headers(resp: &Resp) {
    assert_eq!(
        resp.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    let info = resp.header("sforce-limit-info").expect("Sforce-Limit-Info");
    let (used, max) = info
        .strip_prefix("api-usage=")
        .and_then(|r| r.split_once('/'))
        .expect("api-usage=USED/MAX");
    assert!(
        used.parse::<u64>().is_ok() && max.parse::<u64>().is_ok(),
        "{info}"
    );
}

/// Captured real-org responses, copied into the repository with their licence notice
/// (BSD-3 from CumulusCI, see the folder's NOTICE.md).
fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/salesforce-captures")
}

fn load_capture(name: &str) -> Value {
    let path = captures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

// ------------------------------------------------------------------ OAuth

#[tokio::test]
async fn token_endpoint_accepts_form_and_basic_and_answers_the_real_key_set() {
    let org = small_org();
    let http = reqwest::Client::new();
    let token_url = format!("{}/services/oauth2/token", org.base_url());

    let form = send(http.post(&token_url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", org.client_id()),
        ("client_secret", org.client_secret()),
    ]))
    .await;
    assert_eq!(form.status, 200);
    assert_eq!(
        form.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    let expected: BTreeSet<String> = [
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&form.body), expected);
    let issued_at = form.body["issued_at"].as_str().unwrap();
    assert!(issued_at.len() == 13 && issued_at.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(form.body["instance_url"], org.base_url());
    assert_eq!(form.body["token_type"], "Bearer");
    let id_url = form.body["id"].as_str().unwrap();
    let tail: Vec<&str> = id_url.rsplit('/').take(2).collect();
    assert!(
        tail[0].starts_with("005") && tail[1].starts_with("00D"),
        "{id_url}"
    );
    let token = form.body["access_token"].as_str().unwrap();
    assert!(token.starts_with(&tail[1][..15]) && token.as_bytes()[15] == b'!');

    let basic = send(
        http.post(&token_url)
            .basic_auth(org.client_id(), Some(org.client_secret()))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(basic.status, 200, "{:?}", basic.body);
    assert_ne!(basic.body["access_token"], form.body["access_token"]);

    // The identity URL works with the token (jsforce identity()).
    let ident = send(http.get(id_url).bearer_auth(token)).await;
    assert_eq!(ident.status, 200);
    assert_eq!(ident.body["user_id"], tail[0]);

    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Form, &str, &str); 3] = [
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nope"),
                ("client_secret", "x"),
            ],
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "sfmount-demo-client"),
                ("client_secret", "wrong"),
            ],
            "invalid_client",
            "invalid client credentials",
        ),
        (
            &[
                ("grant_type", "password"),
                ("client_id", "sfmount-demo-client"),
            ],
            "unsupported_grant_type",
            "grant type not supported",
        ),
    ];
    for (form, error, description) in cases {
        let resp = send(http.post(&token_url).form(form)).await;
        assert_eq!(resp.status, 400);
        assert_eq!(
            resp.body,
            json!({"error": error, "error_description": description})
        );
    }

    org.set_faults(Faults {
        no_run_as_user: Some(true),
        ..Faults::default()
    });
    let resp = send(
        http.post(&token_url)
            .basic_auth(org.client_id(), Some(org.client_secret()))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.body,
        json!({"error": "invalid_grant", "error_description": "no client credentials user enabled"})
    );
    assert_eq!(org.stats().requests.token, 6);
    assert_eq!(org.stats().api_usage, 0, "token requests are not API calls");
}

// ------------------------------------------------------------------ versions, resources, auth

#[tokio::test]
async fn versions_resources_limits_and_unknown_paths() {
    let org = small_org();
    let api = login(&org).await;

    let versions = api.get("/services/data/").await;
    assert_eq!(versions.status, 200);
    assert!(versions.header("sforce-limit-info").is_none());
    let list = versions.body.as_array().unwrap();
    assert_eq!(list.len(), 36);
    assert!(list.contains(
        &json!({"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"})
    ));
    let head = send(api.http.head(api.url("/services/data/"))).await;
    assert_eq!(head.status, 200);
    assert!(head.raw.is_empty(), "HEAD has no body");
    let no_slash = api.get("/services/data").await;
    assert_eq!(no_slash.body, versions.body);
    assert_eq!(org.stats().api_usage, 0, "the version list is free");

    for version in ["31.0", "52.0", "66.0"] {
        for suffix in ["", "/"] {
            let r = api.get(&format!("/services/data/v{version}{suffix}")).await;
            assert_eq!(r.status, 200);
            assert_json_and_limit_headers(&r);
            assert_eq!(
                r.body["sobjects"],
                format!("/services/data/v{version}/sobjects")
            );
        }
    }
    let old = api.get("/services/data/v30.0/sobjects").await;
    assert_eq!(old.status, 404);
    assert_eq!(old.error_code(), "NOT_FOUND");

    // X-PrettyPrint: 1 (simple-salesforce always sends it) gets the Jackson layout.
    let pretty = send(
        api.http
            .get(api.url("sobjects/Account/describe"))
            .header("X-PrettyPrint", "1")
            .bearer_auth(&api.token),
    )
    .await;
    let compact = api.get("sobjects/Account/describe").await;
    let text = String::from_utf8(pretty.raw.clone()).unwrap();
    assert!(
        text.starts_with("{\n  \"") && text.contains("\" : "),
        "{}",
        &text[..80]
    );
    assert!(!String::from_utf8(compact.raw.clone())
        .unwrap()
        .contains('\n'));
    assert_eq!(pretty.body, compact.body);

    let limits = api.get("limits/").await;
    assert_eq!(limits.status, 200);
    assert_eq!(limits.body["DailyApiRequests"]["Max"], 100_000);
    let used = org.stats().api_usage;
    assert_eq!(
        limits.body["DailyApiRequests"]["Remaining"]
            .as_u64()
            .unwrap(),
        100_000 - used
    );

    for path in [
        "/nothing/here",
        "/services/data/v59.0/nothing",
        "/services/data/v59.0/sobjects/Account/describe/extra/x",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.body,
            json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/json;charset=UTF-8")
        );
    }

    // Wrong methods: 405 with the allowed list.
    let put = api
        .send_json(reqwest::Method::PUT, "sobjects/Account", &json!({}))
        .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.error_code(), "METHOD_NOT_ALLOWED");
    assert!(put.header("allow").is_some());
    let get_token = api.get("/services/oauth2/token").await;
    assert_eq!(get_token.status, 405);
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_arrays() {
    let org = small_org();
    let http = reqwest::Client::new();
    let url = format!("{}/services/data/v{V}/sobjects", org.base_url());
    for req in [
        http.get(&url),
        http.get(&url).bearer_auth("00D000000000001!nope"),
        http.get(&url).header("Authorization", "Basic Zm9vOmJhcg=="),
    ] {
        let r = send(req).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.body,
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        );
        assert_json_and_limit_headers(&r);
    }
    assert_eq!(org.stats().api_usage, 0, "refused calls are not counted");
    assert_eq!(org.stats().requests.describe_global, 3, "but they are seen");
}

// ------------------------------------------------------------------ describe

#[tokio::test]
async fn describe_global_and_describe_match_the_captured_key_sets() {
    let api = login(big_org()).await;
    let global = api.get("sobjects").await;
    assert_eq!(global.status, 200);
    assert_json_and_limit_headers(&global);
    let captured_global = load_capture("describe-global.json");
    assert_eq!(keys(&global.body), keys(&captured_global));
    let captured_entry_keys = keys(&captured_global["sobjects"][0]);
    let entries = global.body["sobjects"].as_array().unwrap();
    assert!(entries.len() > 10);
    for entry in entries {
        assert_eq!(keys(entry), captured_entry_keys, "{}", entry["name"]);
    }
    let slash = api.get("sobjects/").await;
    assert_eq!(slash.body, global.body);
    // Every listed object describes at the URL its entry names (clients walk the list),
    // with the keys of the other describes and its flags as listed.
    let account_keys = keys(&api.get("sobjects/Account/describe").await.body);
    for entry in entries {
        let url = entry["urls"]["describe"].as_str().unwrap();
        let described = api.get(url).await;
        assert_eq!(described.status, 200, "{url}: {:?}", described.body);
        assert_eq!(keys(&described.body), account_keys, "{url}");
        for flag in [
            "name",
            "queryable",
            "createable",
            "keyPrefix",
            "associateEntityType",
        ] {
            assert_eq!(described.body[flag], entry[flag], "{url} {flag}");
        }
    }

    // Keys newer captures have that the v48 ones lack.
    let newer: BTreeSet<String> = [
        "associateEntityType",
        "associateParentEntity",
        "sobjectDescribeOption",
    ]
    .map(String::from)
    .into();
    for (capture, object) in [
        ("describe-Account.json", "Account"),
        ("describe-Case.json", "Case"),
        ("describe-Contact.json", "Contact"),
        ("describe-Lead.json", "Lead"),
        ("describe-Opportunity.json", "Opportunity"),
        ("describe-Custom__c.json", "Invoice__c"),
    ] {
        let captured = load_capture(capture);
        let fake = api.get(&format!("sobjects/{object}/describe")).await;
        assert_eq!(fake.status, 200, "{object}");
        let fake_keys = keys(&fake.body);
        let captured_keys = keys(&captured);
        assert!(
            captured_keys.is_subset(&fake_keys),
            "{object}: missing {:?}",
            captured_keys.difference(&fake_keys).collect::<Vec<_>>()
        );
        let extra: BTreeSet<String> = fake_keys.difference(&captured_keys).cloned().collect();
        assert!(extra.is_subset(&newer), "{object}: extra keys {extra:?}");

        let field_keys = keys(&captured["fields"][0]);
        assert_eq!(field_keys.len(), 57);
        let fields = fake.body["fields"].as_array().unwrap();
        assert!(!fields.is_empty());
        for field in fields {
            assert_eq!(keys(field), field_keys, "{object}.{}", field["name"]);
        }
        let child_keys = keys(&load_capture("describe-Lead.json")["childRelationships"][0]);
        assert_eq!(child_keys.len(), 8);
        for child in fake.body["childRelationships"].as_array().unwrap() {
            assert_eq!(
                keys(child),
                child_keys,
                "{object} child {}",
                child["relationshipName"]
            );
        }
        assert_eq!(
            fake.body["urls"]["describe"],
            format!("/services/data/v{V}/sobjects/{object}/describe")
        );
        let slash = api.get(&format!("sobjects/{object}/describe/")).await;
        assert_eq!(slash.body, fake.body);
    }

    let case = api.get("sobjects/Case/describe").await;
    let children: BTreeSet<String> = case.body["childRelationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["relationshipName"].as_str().map(String::from))
        .collect();
    for name in [
        "Feeds",
        "CaseComments",
        "EmailMessages",
        "ContentDocumentLinks",
    ] {
        assert!(children.contains(name), "Case lacks {name}");
    }

    // The row-less objects answer queries as their flags say: the custom metadata type with
    // no rows, a change event with INVALID_TYPE.
    let metadata = api
        .query("SELECT Id, DeveloperName FROM Region_Setting__mdt")
        .await;
    assert_eq!(metadata.status, 200, "{:?}", metadata.body);
    assert_eq!(metadata.body["totalSize"], 0);
    let events = api.query("SELECT Id FROM AccountChangeEvent").await;
    assert_eq!(events.status, 400);
    assert_eq!(events.error_code(), "INVALID_TYPE");

    let missing = api.get("sobjects/NoSuchThing__c/describe").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code(), "NOT_FOUND");
    let summary = api.get("sobjects/Account").await;
    assert_eq!(summary.body["objectDescribe"]["name"], "Account");
}

// ------------------------------------------------------------------ queries

#[tokio::test]
async fn query_pages_over_2000_rows_on_both_locator_forms() {
    let api = login(big_org()).await;
    let count = api.query("SELECT COUNT() FROM Account").await;
    assert_eq!(count.status, 200, "{:?}", count.body);
    let total = count.body["totalSize"].as_u64().unwrap() as usize;
    assert!(total > 2000, "{total}");
    assert_eq!(count.body["records"], json!([]));

    let first = api.query("SELECT Id, Name FROM Account ORDER BY Id").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_json_and_limit_headers(&first);
    assert_eq!(first.body["totalSize"], total);
    assert_eq!(first.body["done"], false);
    assert_eq!(first.body["records"].as_array().unwrap().len(), 2000);
    let next = first.body["nextRecordsUrl"].as_str().unwrap().to_string();
    let prefix = format!("/services/data/v{V}/query/01g");
    assert!(
        next.starts_with(&prefix) && next.ends_with("-2000"),
        "{next}"
    );
    let locator_id = &next[prefix.len() - 3..next.len() - 5];
    assert_eq!(locator_id.len(), 18);
    let record = &first.body["records"][0];
    assert_eq!(record["attributes"]["type"], "Account");
    assert_eq!(
        record["attributes"]["url"],
        format!(
            "/services/data/v{V}/sobjects/Account/{}",
            record["Id"].as_str().unwrap()
        )
    );

    let pages = api.all_pages(first).await;
    assert_eq!(pages.len(), 2);
    assert!(pages[1].get("nextRecordsUrl").is_none());
    let ids: BTreeSet<String> = pages
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap().iter())
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), total, "every row once");

    // The last page used the cursor up.
    let again = api.get(&next).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.body,
        json!([{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}])
    );

    // queryAll/<locator> with a stray q, as tap-salesforce sends it, serves the same page.
    let second_run = api.query("SELECT Id, Name FROM Account ORDER BY Id").await;
    let next = second_run.body["nextRecordsUrl"].as_str().unwrap();
    let locator = next.rsplit('/').next().unwrap();
    let via_query_all = send(
        api.http
            .get(api.url(&format!("queryAll/{locator}")))
            .query(&[("q", "SELECT Id, Name FROM Account ORDER BY Id")])
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(via_query_all.status, 200, "{:?}", via_query_all.body);
    assert_eq!(pages[1]["records"], via_query_all.body["records"]);

    // Smaller batches through Sforce-Query-Options.
    let small = send(
        api.http
            .get(api.url("query/"))
            .query(&[("q", "SELECT Id FROM Account")])
            .header("Sforce-Query-Options", "batchSize=500")
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(small.body["records"].as_array().unwrap().len(), 500);
    assert!(small.body["nextRecordsUrl"]
        .as_str()
        .unwrap()
        .ends_with("-500"));
    let pages = api.all_pages(small).await;
    assert_eq!(pages.len(), total.div_ceil(500));

    for bad in ["01gXXXXXXXXXXXXXXX-2000", "garbage", "01g-1"] {
        let r = api.get(&format!("query/{bad}")).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "INVALID_QUERY_LOCATOR");
    }
}

#[tokio::test]
async fn idle_and_evicted_locators_are_invalid() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 450,
        ..FakeOrgConfig::default()
    })
    .unwrap();
    let api = login(&org).await;
    let open = |api: &Api| {
        let req = api
            .http
            .get(api.url("query"))
            .query(&[("q", "SELECT Id FROM Account")])
            .header("Sforce-Query-Options", "batchSize=200")
            .bearer_auth(&api.token);
        async move {
            send(req).await.body["nextRecordsUrl"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let idle = open(&api).await;
    org.advance_clock(Duration::from_secs(16 * 60));
    let r = api.get(&idle).await;
    assert_eq!(r.error_code(), "INVALID_QUERY_LOCATOR");

    let oldest = open(&api).await;
    for _ in 0..sfmount::fake_org::server::MAX_OPEN_CURSORS {
        open(&api).await;
    }
    assert_eq!(
        org.open_cursors(),
        sfmount::fake_org::server::MAX_OPEN_CURSORS
    );
    let r = api.get(&oldest).await;
    assert_eq!(
        r.error_code(),
        "INVALID_QUERY_LOCATOR",
        "evicted by newer cursors"
    );
}

#[tokio::test]
async fn query_errors_are_salesforce_shaped_and_the_server_keeps_serving() {
    let api = login(big_org()).await;
    let bad_field = api.query("SELECT Id, Foo__x FROM Account").await;
    assert_eq!(bad_field.status, 400);
    assert_eq!(bad_field.error_code(), "INVALID_FIELD");
    assert!(bad_field.body[0]["message"]
        .as_str()
        .unwrap()
        .contains("Foo__x"));

    let bad_type = api.query("SELECT Id FROM Xyzzy").await;
    assert_eq!(bad_type.status, 400);
    assert_eq!(bad_type.error_code(), "INVALID_TYPE");

    for malformed in [
        "SELEC Id FROM Account",
        "SELECT Id FROM Account WHERE Name = 'unterminated",
        "SELECT FROM",
        "'",
    ] {
        let r = api.query(malformed).await;
        assert_eq!(r.status, 400, "{malformed}");
        assert_eq!(
            r.error_code(),
            "MALFORMED_QUERY",
            "{malformed}: {:?}",
            r.body
        );
    }
    let missing_q = api.get("query").await;
    assert_eq!(missing_q.status, 400);
    assert_eq!(missing_q.error_code(), "MALFORMED_QUERY");

    // A long IN list of Ids whose URI (plus headers) stays under the limit is answered with
    // exactly the rows it names; a URI one byte over the limit is refused with 414.
    let known = api
        .query("SELECT Id FROM Account ORDER BY Id LIMIT 5")
        .await;
    let known: Vec<String> = known.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(known.len(), 5);
    // Well-formed Account Ids on a pod the fake never uses, so they match nothing.
    let unknown = |n: u64| sfmount::sfid::make_id("001", "ZZ9", n);
    let in_list = |fillers: u64, tail: &str| {
        let quoted: Vec<String> = known
            .iter()
            .cloned()
            .chain((1..=fillers).map(unknown))
            .map(|id| format!("'{id}'"))
            .collect();
        let soql = format!(
            "SELECT Id FROM Account WHERE Id IN ({}){tail}",
            quoted.join(",")
        );
        let url = url::Url::parse_with_params(&api.url("query"), &[("q", &soql)]).unwrap();
        let uri_len = url.path().len() + 1 + url.query().unwrap().len();
        (soql, uri_len)
    };
    let (soql, uri_len) = in_list(540, "");
    assert!((14_000..16_000).contains(&uri_len), "{uri_len}");
    let fits = api.query(&soql).await;
    assert_eq!(fits.status, 200, "{:?}", fits.body);
    assert_eq!(fits.body["totalSize"], 5, "only the real Ids match");

    // Pad with spaces before the closing clause so the URI is exactly one byte too long
    // (a space is one byte, `+`, once form-encoded).
    let (_, base_len) = in_list(590, "");
    assert!(base_len < MAX_URI_BYTES, "{base_len}");
    let padding = " ".repeat(MAX_URI_BYTES + 1 - base_len);
    let (soql, uri_len) = in_list(590, &padding);
    assert_eq!(uri_len, MAX_URI_BYTES + 1);
    let too_long = api.query(&soql).await;
    assert_eq!(too_long.status, 414);
    assert_eq!(too_long.error_code(), "URI_TOO_LONG");
    assert_eq!(
        too_long.header("content-type"),
        Some("application/json;charset=UTF-8")
    );

    let ok = api.query("SELECT Id FROM Account LIMIT 1").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["records"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn query_pages_have_the_shape_of_the_captured_pages() {
    // Few enough Accounts that the captured queries (no LIMIT) fit one page, as they did.
    let org = small_org();
    let api = login(&org).await;
    let exchanges = load_capture("query-and-error-exchanges.json");
    let mut compared = 0;
    for exchange in exchanges.as_array().unwrap() {
        let uri = exchange["uri"].as_str().unwrap();
        if exchange["method"] != "GET" || !uri.contains("/query/?q=") {
            continue;
        }
        let captured = &exchange["body"];
        let soql: String = url::Url::parse(uri)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let fake = api.query(&soql).await;
        assert_eq!(fake.status, 200, "{soql}: {:?}", fake.body);
        assert_eq!(keys(&fake.body), keys(captured), "{soql}");
        let fake_record = &fake.body["records"][0];
        let captured_record = &captured["records"][0];
        let field_order =
            |r: &Value| -> Vec<String> { r.as_object().unwrap().keys().cloned().collect() };
        assert_eq!(
            field_order(fake_record),
            field_order(captured_record),
            "{soql}"
        );
        assert_eq!(
            keys(&fake_record["attributes"]),
            keys(&captured_record["attributes"])
        );
        for (name, value) in captured_record.as_object().unwrap() {
            if name == "attributes" {
                continue;
            }
            let same_kind = |a: &Value, b: &Value| {
                std::mem::discriminant(a) == std::mem::discriminant(b) || a.is_null() || b.is_null()
            };
            assert!(same_kind(&fake_record[name], value), "{soql}: {name}");
        }
        compared += 1;
    }
    assert!(compared >= 2);

    // The captured composite exchange: count() next to an unknown object.
    let composite = api
        .send_json(
            reqwest::Method::POST,
            "composite",
            &json!({"compositeRequest": [
                {"referenceId": "refAccount", "method": "GET", "url": format!("/services/data/v{V}/query/?q=select count() from Account")},
                {"referenceId": "refXYZZY", "method": "GET", "url": format!("/services/data/v{V}/query/?q=select count() from XYZZY")},
            ]}),
        )
        .await;
    let captured = exchanges
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["source"]
                .as_str()
                .unwrap()
                .starts_with("TestCountSObjects")
        })
        .unwrap();
    let (fake_items, captured_items) = (
        composite.body["compositeResponse"].as_array().unwrap(),
        captured["body"]["compositeResponse"].as_array().unwrap(),
    );
    assert_eq!(fake_items.len(), captured_items.len());
    for (fake, real) in fake_items.iter().zip(captured_items) {
        assert_eq!(keys(fake), keys(real));
        assert_eq!(fake["httpStatusCode"], real["httpStatusCode"]);
        assert_eq!(fake["referenceId"], real["referenceId"]);
        if real["body"].is_array() {
            assert_eq!(keys(&fake["body"][0]), keys(&real["body"][0]));
            assert_eq!(fake["body"][0]["errorCode"], real["body"][0]["errorCode"]);
        } else {
            assert_eq!(keys(&fake["body"]), keys(&real["body"]));
        }
    }
}

// ------------------------------------------------------------------ composite, limits, faults

#[tokio::test]
async fn composite_counts_as_one_api_call_and_enforces_its_limits() {
    let org = small_org();
    let api = login(&org).await;
    org.reset_stats();
    let sub = |i: usize| {
        json!({"method": "GET", "referenceId": format!("r{i}"),
               "url": format!("/services/data/v{V}/query?q=SELECT+Id,+Name+FROM+Account+LIMIT+{}", i + 1)})
    };
    let body = json!({"compositeRequest": (0..5).map(sub).collect::<Vec<_>>()});
    let r = api
        .send_json(reqwest::Method::POST, "composite", &body)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_json_and_limit_headers(&r);
    let items = r.body["compositeResponse"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["httpStatusCode"], 200);
        assert_eq!(item["referenceId"], format!("r{i}"));
        assert_eq!(item["httpHeaders"], json!({}));
        assert_eq!(item["body"]["records"].as_array().unwrap().len(), i + 1);
    }
    let stats = org.stats();
    assert_eq!(stats.api_usage, 1, "one composite is one API call");
    assert_eq!(stats.requests.composite, 1);
    assert_eq!(stats.requests.query, 0, "subrequests are not counted again");
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=1/100000"));

    let six = json!({"compositeRequest": (0..6).map(sub).collect::<Vec<_>>()});
    let r = api
        .send_json(reqwest::Method::POST, "composite", &six)
        .await;
    assert_eq!(r.status, 400);
    let describe = |i: usize| json!({"method": "GET", "referenceId": format!("d{i}"), "url": format!("/services/data/v{V}/sobjects/Account/describe")});
    let many = json!({"compositeRequest": (0..26).map(describe).collect::<Vec<_>>()});
    let r = api
        .send_json(reqwest::Method::POST, "composite", &many)
        .await;
    assert_eq!(r.status, 400);
    let bad = send(
        api.http
            .post(api.url("composite"))
            .bearer_auth(&api.token)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.is_array());
    // Subrequest errors are reported in place, as the capture shows.
    let mixed = json!({"compositeRequest": [
        {"method": "GET", "referenceId": "bad", "url": format!("/services/data/v{V}/sobjects/Foo")},
        describe(1),
    ]});
    let r = api
        .send_json(reqwest::Method::POST, "composite", &mixed)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["compositeResponse"][0]["httpStatusCode"], 404);
    assert_eq!(
        r.body["compositeResponse"][0]["body"][0]["errorCode"],
        "NOT_FOUND"
    );
    assert_eq!(r.body["compositeResponse"][1]["httpStatusCode"], 200);
}

#[tokio::test]
async fn daily_limit_then_403_and_usage_header() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 20,
        api_limit: 5,
        ..FakeOrgConfig::default()
    })
    .unwrap();
    let api = login(&org).await;
    for used in 1..=5 {
        let r = api.get("sobjects").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("sforce-limit-info"),
            Some(format!("api-usage={used}/5").as_str())
        );
    }
    let r = api.get("sobjects").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=5/5"));

    org.set_faults(Faults {
        api_remaining: Some(2),
        ..Faults::default()
    });
    assert_eq!(api.get("sobjects").await.status, 200);
    assert_eq!(api.get("sobjects").await.status, 200);
    assert_eq!(api.get("sobjects").await.status, 403);
}

#[tokio::test]
async fn fault_injection_latency_and_token_expiry() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 20,
        token_ttl: Some(Duration::from_secs(3600)),
        ..FakeOrgConfig::default()
    })
    .unwrap();
    let api = login(&org).await;
    let http = reqwest::Client::new();
    let faults = send(
        http.post(format!("{}/_fake/faults", org.base_url()))
            .json(&json!({"fail_next": 2})),
    )
    .await;
    assert!(faults.status.is_success());
    for _ in 0..2 {
        let r = api.get("sobjects").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.error_code(), "SERVER_UNAVAILABLE");
    }
    assert_eq!(api.get("sobjects").await.status, 200);

    // Settings out of range are refused whole: nothing changes.
    for (bad, named) in [
        (json!({"error_rate": 1.5, "fail_next": 3}), "error_rate"),
        (json!({"error_rate": -0.1}), "error_rate"),
        (
            json!({"latency_ms": sfmount::fake_org::server::MAX_LATENCY_MS + 1}),
            "latency_ms",
        ),
    ] {
        let r = send(
            http.post(format!("{}/_fake/faults", org.base_url()))
                .json(&bad),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "INVALID_INPUT");
        assert!(
            r.body[0]["message"].as_str().unwrap().contains(named),
            "{:?}",
            r.body
        );
    }
    assert_eq!(
        api.get("sobjects").await.status,
        200,
        "fail_next not applied"
    );
    let too_slow = FakeOrg::start(FakeOrgConfig {
        records: 1,
        latency_ms: sfmount::fake_org::server::MAX_LATENCY_MS + 1,
        ..FakeOrgConfig::default()
    });
    assert_eq!(
        too_slow.unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );

    org.set_faults(Faults {
        error_rate: Some(1.0),
        ..Faults::default()
    });
    assert_eq!(api.get("sobjects").await.status, 503);
    org.set_faults(Faults {
        error_rate: Some(0.0),
        latency_ms: Some(300),
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(api.get("limits").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    org.set_faults(Faults {
        latency_ms: Some(0),
        expire_tokens: Some(true),
        ..Faults::default()
    });
    assert_eq!(api.get("limits").await.status, 401);
    let api = login(&org).await;
    assert_eq!(api.get("limits").await.status, 200);

    org.advance_clock(Duration::from_secs(3601));
    let expired = api.get("limits").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.error_code(), "INVALID_SESSION_ID");

    let bad = send(
        http.post(format!("{}/_fake/faults", org.base_url()))
            .body("{\"latency\": 1"),
    )
    .await;
    assert_eq!(bad.status, 400);

    let stats = send(http.get(format!("{}/_fake/stats", org.base_url()))).await;
    let expected: BTreeSet<String> = [
        "token",
        "describe_global",
        "describe",
        "query",
        "query_more",
        "composite",
        "record",
        "mutation",
        "blob",
        "identity",
        "bulk_query_job",
        "bulk_query_results",
        "limits",
        "search",
        "composite_tree",
        "tooling_query",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&stats.body["requests"]), expected);
    assert_eq!(stats.body["api_usage"], org.stats().api_usage);
    assert_eq!(stats.body["requests"]["token"], 2);
}

// ------------------------------------------------------------------ records and mutations

#[tokio::test]
async fn record_crud_recycle_bin_and_undelete() {
    let org = small_org();
    let api = login(&org).await;
    let created = api
        .send_json(
            reqwest::Method::POST,
            "sobjects/Account/",
            &json!({"Name": "Zeta / \"Quoted\" 🚀"}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.body,
        json!({"id": id, "success": true, "errors": []})
    );
    assert!(sfmount::sfid::is_valid_18(&id) && id.starts_with("001"));

    let record = api.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(record.status, 200);
    assert_eq!(record.body["Name"], "Zeta / \"Quoted\" 🚀");
    assert_eq!(record.body["attributes"]["type"], "Account");
    let modstamp = record.body["SystemModstamp"].as_str().unwrap().to_string();
    assert_eq!(record.body["CreatedDate"], modstamp.as_str());
    assert_eq!(record.body["LastModifiedDate"], modstamp.as_str());
    let narrow = api.get(&format!("sobjects/Account/{id}?fields=Name")).await;
    assert!(narrow.body.get("Name").is_some());

    let patched = api
        .send_json(
            reqwest::Method::PATCH,
            &format!("sobjects/Account/{id}"),
            &json!({"Industry": "Energy"}),
        )
        .await;
    assert_eq!(patched.status, 204);
    let record = api.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(record.body["Industry"], "Energy");
    let updated_stamp = record.body["SystemModstamp"].as_str().unwrap().to_string();
    assert!(updated_stamp > modstamp, "{updated_stamp} after {modstamp}");
    assert_eq!(record.body["LastModifiedDate"], updated_stamp.as_str());

    let bad_json = send(
        api.http
            .patch(api.url(&format!("sobjects/Account/{id}")))
            .bearer_auth(&api.token)
            .header("content-type", "application/json")
            .body("{\"Industry\": "),
    )
    .await;
    assert_eq!(bad_json.status, 400);
    assert!(bad_json.body.is_array());
    let bad_field = api
        .send_json(
            reqwest::Method::PATCH,
            &format!("sobjects/Account/{id}"),
            &json!({"Nope__c": 1}),
        )
        .await;
    assert_eq!(bad_field.status, 400);
    assert_eq!(bad_field.error_code(), "INVALID_FIELD");

    let deleted = api
        .send_json(
            reqwest::Method::DELETE,
            &format!("sobjects/Account/{id}"),
            &json!(null),
        )
        .await;
    assert_eq!(deleted.status, 204);
    let soql = format!(
        "SELECT Id, IsDeleted, LastModifiedDate, SystemModstamp FROM Account WHERE Id = '{id}'"
    );
    assert_eq!(api.query(&soql).await.body["totalSize"], 0);
    let all = send(
        api.http
            .get(api.url("queryAll/"))
            .query(&[("q", &soql)])
            .bearer_auth(&api.token),
    )
    .await;
    assert_eq!(all.body["totalSize"], 1, "{:?}", all.body);
    let in_bin = &all.body["records"][0];
    assert_eq!(in_bin["IsDeleted"], true);
    // Deleting is a modification too: both stamps move past the update's.
    let deleted_stamp = in_bin["SystemModstamp"].as_str().unwrap();
    assert!(deleted_stamp > updated_stamp.as_str(), "{deleted_stamp}");
    assert_eq!(in_bin["LastModifiedDate"], deleted_stamp);

    let undeleted =
        send(reqwest::Client::new().post(format!("{}/_fake/undelete/{id}", org.base_url()))).await;
    assert!(undeleted.status.is_success(), "{:?}", undeleted.body);
    assert_eq!(
        api.query(&soql).await.body["records"][0]["IsDeleted"],
        false
    );

    let unknown = api.get("sobjects/Account/001000000000000AAA").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), "NOT_FOUND");
    let stats = org.stats();
    assert_eq!(stats.requests.mutation, 6);
}

#[tokio::test]
async fn feed_items_on_a_case_show_in_case_feed_and_feeds() {
    let org = small_org();
    let api = login(&org).await;
    let case = api
        .query("SELECT Id FROM Case ORDER BY CaseNumber LIMIT 1")
        .await;
    let case_id = case.body["records"][0]["Id"].as_str().unwrap().to_string();
    let created = api
        .send_json(
            reqwest::Method::POST,
            "sobjects/FeedItem",
            &json!({"ParentId": case_id, "Body": "posted by the http test", "Type": "TextPost"}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let item_id = created.body["id"].as_str().unwrap().to_string();

    let feed = api
        .query(&format!(
            "SELECT Id, Body FROM CaseFeed WHERE ParentId = '{case_id}'"
        ))
        .await;
    assert_eq!(feed.status, 200, "{:?}", feed.body);
    assert!(feed.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Id"] == item_id));

    let with_feeds = api
        .query(&format!(
            "SELECT Id, (SELECT Id, Body FROM Feeds) FROM Case WHERE Id = '{case_id}'"
        ))
        .await;
    assert_eq!(with_feeds.status, 200, "{:?}", with_feeds.body);
    let feeds = &with_feeds.body["records"][0]["Feeds"];
    assert!(feeds["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Body"] == "posted by the http test"));

    // A comment on that item shows under the item's FeedComments.
    let comment = api
        .send_json(
            reqwest::Method::POST,
            "sobjects/FeedComment",
            &json!({"FeedItemId": item_id, "CommentBody": "a comment over http"}),
        )
        .await;
    assert_eq!(comment.status, 201, "{:?}", comment.body);
    let with_comments = api
        .query(&format!(
            "SELECT Id, (SELECT Id, CommentBody FROM FeedComments) FROM CaseFeed WHERE ParentId = '{case_id}'"
        ))
        .await;
    assert_eq!(with_comments.status, 200, "{:?}", with_comments.body);
    let item = with_comments.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Id"] == item_id)
        .expect("the new item");
    let comments = &item["FeedComments"]["records"];
    assert_eq!(comments[0]["CommentBody"], "a comment over http");
    assert_eq!(comments[0]["attributes"]["type"], "FeedComment");
}

#[tokio::test]
async fn long_child_lists_are_cut_with_their_own_next_records_url() {
    let org = small_org();
    let api = login(&org).await;
    let account = api
        .query("SELECT Id FROM Account ORDER BY Id LIMIT 1")
        .await;
    let account_id = account.body["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    org.with_store(|store| {
        for i in 0..260 {
            let mut body = serde_json::Map::new();
            body.insert("LastName".into(), json!(format!("Child {i:03}")));
            body.insert("AccountId".into(), json!(account_id));
            store.create("Contact", &body).expect("contact created");
        }
    });
    let soql = format!("SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account WHERE Id = '{account_id}'");
    let r = api.query(&soql).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let contacts = &r.body["records"][0]["Contacts"];
    let total = contacts["totalSize"].as_u64().unwrap() as usize;
    assert!(total >= 260);
    assert_eq!(contacts["done"], false);
    assert_eq!(contacts["records"].as_array().unwrap().len(), 200);
    let next = contacts["nextRecordsUrl"].as_str().unwrap();
    assert!(next.starts_with(&format!("/services/data/v{V}/query/01g")) && next.ends_with("-200"));
    let rest = api.get(next).await;
    assert_eq!(rest.status, 200, "{:?}", rest.body);
    assert_eq!(rest.body["done"], true);
    assert_eq!(rest.body["records"].as_array().unwrap().len(), total - 200);
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for rec in contacts["records"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest.body["records"].as_array().unwrap())
    {
        ids.insert(rec["Id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), total);
    assert_eq!(org.stats().requests.query_more, 1);
}

#[tokio::test]
async fn content_version_bytes_are_served_raw() {
    let api = login(big_org()).await;
    let r = api
        .query("SELECT Id, VersionData, ContentSize FROM ContentVersion LIMIT 3")
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let records = r.body["records"].as_array().unwrap();
    assert!(!records.is_empty());
    for record in records {
        let url = record["VersionData"].as_str().unwrap();
        assert_eq!(
            url,
            format!(
                "/services/data/v{V}/sobjects/ContentVersion/{}/VersionData",
                record["Id"].as_str().unwrap()
            )
        );
        let blob = api.get(url).await;
        assert_eq!(blob.status, 200);
        assert!(!blob
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        assert_eq!(
            blob.raw.len() as u64,
            record["ContentSize"].as_u64().unwrap()
        );
        assert!(blob.header("sforce-limit-info").is_some());
    }
    let missing = api
        .get("sobjects/ContentVersion/068000000000000AAA/VersionData")
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn selecting_every_field_of_the_wide_object_passes_the_uri_limit() {
    let api = login(big_org()).await;
    let describe = api.get("sobjects/Wide_Object__c/describe").await;
    assert_eq!(describe.status, 200);
    let names: Vec<&str> = describe.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.len() > 800);
    let all = api
        .query(&format!("SELECT {} FROM Wide_Object__c", names.join(", ")))
        .await;
    assert_eq!(all.status, 414);
    assert!(all.body.is_array(), "a JSON error body");
    // Half the fields fit, and come back in SELECT order.
    let half = &names[..names.len() / 2];
    let some = api
        .query(&format!(
            "SELECT {} FROM Wide_Object__c LIMIT 2",
            half.join(", ")
        ))
        .await;
    assert_eq!(some.status, 200, "{:?}", some.body);
    let record_keys: Vec<&str> = some.body["records"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(record_keys[0], "attributes");
    assert_eq!(record_keys[1..], *half);
}

#[tokio::test]
async fn hidden_fields_vanish_from_describe_records_and_queries() {
    let org = small_org();
    let api = login(&org).await;
    let first = api.query("SELECT Id, Phone FROM Account LIMIT 1").await;
    assert_eq!(first.status, 200);
    let id = first.body["records"][0]["Id"].as_str().unwrap().to_string();
    org.with_store(|store| store.set_field_hidden("Account", "Phone", true))
        .expect("Phone exists");
    let describe = api.get("sobjects/Account/describe").await;
    assert!(!describe.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Phone"));
    let refused = api.query("SELECT Id, Phone FROM Account LIMIT 1").await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error_code(), "INVALID_FIELD");
    let record = api.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(record.status, 200);
    assert!(record.body.get("Phone").is_none());
}

#[tokio::test]
async fn dropping_the_org_stops_it_even_with_an_idle_keep_alive_client() {
    let org = small_org();
    let base = org.base_url();
    let api = login(&org).await;
    assert_eq!(api.get("limits").await.status, 200);
    // `api.http` keeps its connection open in its pool while the org is dropped.
    let started = Instant::now();
    tokio::task::spawn_blocking(move || org.shutdown())
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let after = reqwest::Client::new()
        .get(format!("{base}/services/data/"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(after.is_err(), "nothing listens any more");
}

#[tokio::test]
async fn a_token_from_one_org_is_refused_by_another_with_the_same_seed() {
    let first = small_org();
    let second = small_org();
    let api = login(&first).await;
    let stranger = Api {
        base: second.base_url(),
        http: api.http.clone(),
        token: api.token.clone(),
    };
    assert_eq!(api.get("limits").await.status, 200);
    assert_eq!(stranger.get("limits").await.status, 401);
}
