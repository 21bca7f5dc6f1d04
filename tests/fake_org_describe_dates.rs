//! The fake org's describe dates over HTTP: `Last-Modified` on describe and describeGlobal,
//! `If-Modified-Since` answered with 304 and no body, and every schema change (a field
//! hidden, an object made unqueryable, a field added) moving the changed object's date.

mod fake_org_support;

use fake_org_support::{login, send, small_org, Api, Resp};
use serde_json::{json, Value};
use sfmount::sftime::parse_http_date;

impl Api {
    async fn get_since(&self, path: &str, since: &str) -> Resp {
        send(
            self.http
                .get(self.url(path))
                .bearer_auth(&self.token)
                .header("If-Modified-Since", since),
        )
        .await
    }
}

fn last_modified(resp: &Resp) -> String {
    let date = resp
        .header("last-modified")
        .expect("a describe carries Last-Modified")
        .to_string();
    assert!(parse_http_date(&date).is_some(), "{date} is an HTTP date");
    date
}

fn field_names(describe: &Value) -> Vec<String> {
    describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_unchanged_describe_is_answered_304_with_no_body_and_still_counted() {
    let org = small_org();
    let api = login(&org).await;
    for path in ["sobjects", "sobjects/Account/describe"] {
        let fresh = api.get(path).await;
        assert_eq!(fresh.status, 200, "{path}");
        let date = last_modified(&fresh);

        org.reset_stats();
        let same = api.get_since(path, &date).await;
        assert_eq!(same.status, 304, "{path}");
        assert!(same.raw.is_empty(), "{path}: a 304 has no body");
        let stats = org.stats();
        assert_eq!(
            stats.requests.describe + stats.requests.describe_global,
            1,
            "{path}: the 304 is a request"
        );
        assert_eq!(
            stats.api_usage, 1,
            "{path}: and it counts against the limit"
        );

        // An hour earlier than the date: modified since, so the body comes.
        let earlier = parse_http_date(&date).unwrap() - chrono::Duration::hours(1);
        let older = api
            .get_since(path, &sfmount::sftime::http_date(earlier))
            .await;
        assert_eq!(older.status, 200, "{path}");
        assert_eq!(older.body, fresh.body, "{path}");
        // A header that is not a date is ignored.
        let garbled = api.get_since(path, "the day before yesterday").await;
        assert_eq!(garbled.status, 200, "{path}");
        assert_eq!(last_modified(&garbled), date, "{path}");
    }
    // The object's existence is decided before its date: an unknown one is 404.
    let unknown = api
        .get_since(
            "sobjects/NoSuch__c/describe",
            "Fri, 01 Jan 2100 00:00:00 GMT",
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn an_added_field_dates_its_object_and_describe_global_and_no_other_object() {
    let org = small_org();
    let api = login(&org).await;
    let account = api.get("sobjects/Account/describe").await;
    let contact = api.get("sobjects/Contact/describe").await;
    let global = api.get("sobjects").await;
    let (account_date, contact_date, global_date) = (
        last_modified(&account),
        last_modified(&contact),
        last_modified(&global),
    );

    // Within the same second as the seeding, most likely: the date must still move on.
    org.with_store(|s| s.add_field("Account", "Region__c", "Region"))
        .unwrap();
    let changed = api
        .get_since("sobjects/Account/describe", &account_date)
        .await;
    assert_eq!(changed.status, 200);
    let new_date = last_modified(&changed);
    assert!(parse_http_date(&new_date) > parse_http_date(&account_date));
    let names = field_names(&changed.body);
    assert_eq!(names.last().map(String::as_str), Some("Region__c"));
    assert_eq!(names.len(), field_names(&account.body).len() + 1);
    let added = changed.body["fields"].as_array().unwrap().last().unwrap();
    assert_eq!(added["label"], "Region");
    assert_eq!(added["type"], "string");
    assert_eq!(added["custom"], true);

    let global_again = api.get_since("sobjects", &global_date).await;
    assert_eq!(
        global_again.status, 200,
        "the list is dated by its latest change"
    );
    assert_eq!(last_modified(&global_again), new_date);
    let contact_again = api
        .get_since("sobjects/Contact/describe", &contact_date)
        .await;
    assert_eq!(contact_again.status, 304, "Contact did not change");
    let account_again = api.get_since("sobjects/Account/describe", &new_date).await;
    assert_eq!(account_again.status, 304);

    // Records have the field: null until written, then the value.
    let page = api
        .query("SELECT Id, Region__c FROM Account ORDER BY Id LIMIT 2")
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["records"][0]["Region__c"], Value::Null);
    let id = page.body["records"][0]["Id"].as_str().unwrap().to_string();
    let patched = api
        .send_json(
            reqwest::Method::PATCH,
            &format!("sobjects/Account/{id}"),
            &json!({"Region__c": "EMEA"}),
        )
        .await;
    assert_eq!(patched.status, 204, "{:?}", patched.body);
    let record = api.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(record.body["Region__c"], "EMEA");
    let other = page.body["records"][1]["Id"].as_str().unwrap();
    let untouched = api.get(&format!("sobjects/Account/{other}")).await;
    assert_eq!(untouched.body["Region__c"], Value::Null);
}

#[tokio::test]
async fn hiding_a_field_and_closing_an_object_move_their_dates_even_within_a_second() {
    let org = small_org();
    let api = login(&org).await;
    let before = last_modified(&api.get("sobjects/Account/describe").await);
    org.with_store(|s| s.set_field_hidden("Account", "Phone", true))
        .unwrap();
    let hidden = api.get_since("sobjects/Account/describe", &before).await;
    assert_eq!(hidden.status, 200);
    assert!(!field_names(&hidden.body).contains(&"Phone".to_string()));
    let hidden_date = last_modified(&hidden);

    // Two changes in a row, surely within one second: each date is later than the last.
    org.with_store(|s| s.set_field_hidden("Account", "Phone", false))
        .unwrap();
    let shown = api
        .get_since("sobjects/Account/describe", &hidden_date)
        .await;
    assert_eq!(shown.status, 200);
    assert!(parse_http_date(&last_modified(&shown)) > parse_http_date(&hidden_date));

    let lead = last_modified(&api.get("sobjects/Lead/describe").await);
    org.with_store(|s| s.set_queryable("Lead", false)).unwrap();
    let closed = api.get_since("sobjects/Lead/describe", &lead).await;
    assert_eq!(closed.status, 200);
    assert_eq!(closed.body["queryable"], false);
}

#[tokio::test]
async fn add_field_refuses_a_duplicate_and_a_bad_name() {
    let org = small_org();
    let duplicate = org
        .with_store(|s| s.add_field("Account", "phone", "Phone again"))
        .unwrap_err();
    assert_eq!(duplicate.error_code(), "DUPLICATE_DEVELOPER_NAME");
    let bad = org
        .with_store(|s| s.add_field("Account", "Region c", "Region"))
        .unwrap_err();
    assert_eq!(bad.error_code(), "INVALID_FIELD");
    let unknown = org
        .with_store(|s| s.add_field("NoSuch__c", "Region__c", "Region"))
        .unwrap_err();
    assert_eq!(unknown.error_code(), "INVALID_TYPE");
    // Nothing changed: the describe lists no new field.
    let api = login(&org).await;
    let describe = api.get("sobjects/Account/describe").await;
    assert!(!field_names(&describe.body).contains(&"Region c".to_string()));
}
