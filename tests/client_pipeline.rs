//! The request pipeline against small local servers that misbehave in ways the fake org
//! does not: HTML error pages, truncated JSON, silence, closed ports.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sfmount::salesforce::{ClientSettings, LoginTarget, SalesforceClient, Secret, SfError};

const SECRET: &str = "s3cr3t-value-never-shown";
const TOKEN: &str = "00Dxx0000000001!AQ-token-never-shown";

#[derive(Clone, Copy)]
enum Answer {
    Token,
    Html503,
    Truncated,
    /// A 200 whose body is an HTML page, as a captive proxy sends.
    Html200,
    /// A 200 with no body at all.
    Empty200,
    /// Truncated on the first request, a good describeGlobal (or token) after.
    TruncatedOnce,
    Sobjects,
    Silent,
    Unauthorized,
}

impl Answer {
    /// What to send for the `hit`-th request (counted from 1).
    fn on_hit(self, hit: usize, token: bool) -> Answer {
        match self {
            Answer::TruncatedOnce if hit == 1 => Answer::Truncated,
            Answer::TruncatedOnce if token => Answer::Token,
            Answer::TruncatedOnce => Answer::Sobjects,
            other => other,
        }
    }
}

#[derive(Clone)]
struct Mock {
    token: Answer,
    api: Answer,
    token_hits: Arc<AtomicUsize>,
    api_hits: Arc<AtomicUsize>,
}

fn respond(answer: Answer, base: &str) -> Response {
    match answer {
        Answer::Token => (
            [("content-type", "application/json;charset=UTF-8")],
            format!(r#"{{"access_token":"{TOKEN}","instance_url":"{base}","token_type":"Bearer","issued_at":"1705314600000"}}"#),
        )
            .into_response(),
        Answer::Html503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("content-type", "text/html")],
            "<html><body><h1>Down for maintenance</h1></body></html>",
        )
            .into_response(),
        Answer::Truncated => (
            [("content-type", "application/json;charset=UTF-8"), ("sforce-limit-info", "api-usage=7/15000")],
            r#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"name":"Acc"#,
        )
            .into_response(),
        Answer::Html200 => (
            [("content-type", "text/html")],
            "<html><body>Please sign in to the proxy</body></html>",
        )
            .into_response(),
        Answer::Empty200 => (StatusCode::OK, "").into_response(),
        Answer::Sobjects => (
            [("content-type", "application/json;charset=UTF-8")],
            r#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[]}"#,
        )
            .into_response(),
        Answer::TruncatedOnce => unreachable!("resolved by Answer::on_hit"),
        Answer::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/json;charset=UTF-8")],
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        )
            .into_response(),
        Answer::Silent => unreachable!("handled by sleeping"),
    }
}

/// A loopback listener and its base URL; the URL is known before the routes are built, so
/// a token route can name it as the instance URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

fn serve(listener: tokio::net::TcpListener, app: Router) {
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
}

/// A token endpoint that always grants a token for the instance at `instance`.
fn grant_tokens(instance: &str) -> axum::routing::MethodRouter {
    let instance = instance.to_string();
    post(move || {
        let instance = instance.clone();
        async move { respond(Answer::Token, &instance) }
    })
}

/// A composite endpoint that answers every subrequest with the error `code` and HTTP
/// `status`, counting its calls in `calls`.
fn composite_refusing_every_query(
    status: u16,
    code: &'static str,
    message: &'static str,
    calls: Arc<AtomicUsize>,
) -> axum::routing::MethodRouter {
    composite_answering(calls, move |_| {
        (
            status,
            serde_json::json!([{"errorCode": code, "message": message}]),
        )
    })
}

/// A composite endpoint that answers each subrequest with the HTTP status and body
/// `answer` gives for its URL, counting its calls in `calls`.
fn composite_answering(
    calls: Arc<AtomicUsize>,
    answer: impl Fn(&str) -> (u16, serde_json::Value) + Clone + Send + Sync + 'static,
) -> axum::routing::MethodRouter {
    post(move |axum::Json(body): axum::Json<serde_json::Value>| {
        let calls = calls.clone();
        let answer = answer.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            axum::Json(composite_response(&body, answer))
        }
    })
}

/// The composite answer to the request `body`: each subrequest gets the HTTP status and
/// body `answer` gives for its URL.
fn composite_response(
    body: &serde_json::Value,
    answer: impl Fn(&str) -> (u16, serde_json::Value),
) -> serde_json::Value {
    let responses: Vec<serde_json::Value> = body["compositeRequest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let (status, body) = answer(r["url"].as_str().unwrap_or_default());
            serde_json::json!({
                "body": body,
                "httpHeaders": {}, "httpStatusCode": status, "referenceId": r["referenceId"]
            })
        })
        .collect();
    serde_json::json!({ "compositeResponse": responses })
}

async fn start(token: Answer, api: Answer) -> (String, Mock) {
    let (listener, base) = listen().await;
    let mock = Mock {
        token,
        api,
        token_hits: Arc::default(),
        api_hits: Arc::default(),
    };
    let (m1, m2, b1, b2) = (mock.clone(), mock.clone(), base.clone(), base.clone());
    let app = Router::new()
        .route(
            "/services/oauth2/token",
            post(move || {
                let m = m1.clone();
                let b = b1.clone();
                async move {
                    let hit = m.token_hits.fetch_add(1, Ordering::SeqCst) + 1;
                    if let Answer::Silent = m.token {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    respond(m.token.on_hit(hit, true), &b)
                }
            }),
        )
        .route(
            "/services/data/v62.0/sobjects",
            get(move || {
                let m = m2.clone();
                let b = b2.clone();
                async move {
                    let hit = m.api_hits.fetch_add(1, Ordering::SeqCst) + 1;
                    if let Answer::Silent = m.api {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    respond(m.api.on_hit(hit, false), &b)
                }
            }),
        );
    serve(listener, app);
    (base, mock)
}

fn settings(base: &str, timeout: Duration) -> ClientSettings {
    let mut s = ClientSettings::new(
        LoginTarget::Url(base.to_string()),
        "client-id",
        Secret::new(SECRET),
    );
    s.request_timeout = timeout;
    s
}

fn assert_no_secrets(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
}

#[tokio::test]
async fn closed_port_is_a_clear_error_within_the_deadline() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let err = SalesforceClient::connect(settings(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(3),
    ))
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, SfError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.to_lowercase().contains("refused") || text.contains("connect"),
        "{text}"
    );
    assert!(text.contains("check the domain"), "says what to do: {text}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}")),
        "names the host: {text}"
    );
    assert_no_secrets(&format!("{text} {err:?}"));
}

#[tokio::test]
async fn html_503_on_login_is_retried_then_reported() {
    let (base, mock) = start(Answer::Html503, Answer::Token).await;
    let started = Instant::now();
    let err = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, SfError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("non-JSON"), "{err}");
    // One attempt plus the default three retries: bounded, no storm.
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn html_503_on_an_api_call_is_retried_then_reported() {
    let (base, mock) = start(Answer::Token, Answer::Html503).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let err = client.describe_global().await.unwrap_err();
    assert!(matches!(err, SfError::Unavailable { .. }), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 4);
    assert_no_secrets(&format!("{err} {err:?} {client:?}"));
}

#[tokio::test]
async fn truncated_json_is_retried_then_malformed() {
    // This test used to assert one request: a 200 body that does not parse was final. It
    // is now retried like a 5xx (the issue's item 7), so the request is made 1 + 3 times.
    let (base, mock) = start(Answer::Token, Answer::Truncated).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let err = client.describe_global().await.unwrap_err();
    assert!(matches!(err, SfError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 4);
    // The limit header of the failed response was still read.
    assert_eq!(
        client.api_usage().map(|u| (u.used, u.max)),
        Some((7, 15000))
    );
    // A failed describeGlobal is not cached: the next call asks again.
    let _ = client.describe_global().await;
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn a_truncated_200_then_a_good_one_succeeds_after_two_requests() {
    let (base, mock) = start(Answer::Token, Answer::TruncatedOnce).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    client.describe_global().await.unwrap();
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn html_and_empty_200_bodies_are_retried_then_malformed() {
    for answer in [Answer::Html200, Answer::Empty200] {
        let (base, mock) = start(Answer::Token, answer).await;
        let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
            .await
            .unwrap();
        let err = client.describe_global().await.unwrap_err();
        assert!(matches!(err, SfError::Malformed { .. }), "{err:?}");
        // One attempt plus the default three retries.
        assert_eq!(mock.api_hits.load(Ordering::SeqCst), 4);
    }
}

#[tokio::test]
async fn an_unparsable_token_response_is_retried_and_never_quoted() {
    let (base, mock) = start(Answer::TruncatedOnce, Answer::Sobjects).await;
    SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), 2);

    let (base, mock) = start(Answer::Html200, Answer::Sobjects).await;
    let err = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert!(matches!(err, SfError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("My Domain"), "{err}");
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), 4);
    assert_no_secrets(&format!("{err} {err:?}"));
}

/// A composite endpoint whose first answer is cut short and whose later ones are good:
/// every query returns no rows.
fn composite_truncated_once(calls: Arc<AtomicUsize>) -> axum::routing::MethodRouter {
    post(move |axum::Json(body): axum::Json<serde_json::Value>| {
        let hit = calls.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if hit == 1 {
                return (StatusCode::OK, r#"{"compositeResponse":[{"bo"#).into_response();
            }
            let empty = |_: &str| {
                (
                    200,
                    serde_json::json!({"totalSize": 0, "done": true, "records": []}),
                )
            };
            axum::Json(composite_response(&body, empty)).into_response()
        }
    })
}

#[tokio::test]
async fn a_truncated_composite_of_queries_is_retried_like_its_5xx() {
    // A composite of queries is safe (`Call::safe`, query.rs): its 5xx is retried, so a 200
    // it cannot parse is too.
    use sfmount::salesforce::ChangeQuery;
    let (listener, base) = listen().await;
    let composites = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/services/oauth2/token", grant_tokens(&base))
        .route(
            "/services/data/v62.0/composite",
            composite_truncated_once(composites.clone()),
        );
    serve(listener, app);
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let plan = case_plan_with_feeds();
    let changes = client
        .changes_since(&[ChangeQuery {
            plan: &plan,
            since: chrono::Utc::now(),
        }])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    assert!(changes.rows.is_empty());
    assert_eq!(composites.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_silent_server_ends_in_a_timeout_at_the_deadline() {
    let (base, _mock) = start(Answer::Token, Answer::Silent).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_millis(800)))
        .await
        .unwrap();
    let started = Instant::now();
    let err = client.describe_global().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, SfError::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );

    let (base, _mock) = start(Answer::Silent, Answer::Token).await;
    let started = Instant::now();
    let err = SalesforceClient::connect(settings(&base, Duration::from_millis(800)))
        .await
        .unwrap_err();
    assert!(matches!(err, SfError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn settings_are_checked_before_any_request() {
    let (base, mock) = start(Answer::Token, Answer::Token).await;
    let mut s = settings(&base, Duration::from_secs(5));
    s.client_secret = Secret::new("");
    assert!(matches!(
        SalesforceClient::connect(s).await.unwrap_err(),
        SfError::Config { .. }
    ));
    let mut s = settings(&base, Duration::from_secs(5));
    s.api_version = "v62".into();
    assert!(matches!(
        SalesforceClient::connect(s).await.unwrap_err(),
        SfError::Config { .. }
    ));
    let mut s = settings(&base, Duration::from_secs(5));
    s.login = LoginTarget::Domain("login".into());
    assert!(matches!(
        SalesforceClient::connect(s).await.unwrap_err(),
        SfError::Config { .. }
    ));
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_401_that_survives_reauthentication_is_an_error_not_a_loop() {
    let (base, mock) = start(Answer::Token, Answer::Unauthorized).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let err = client.describe_global().await.unwrap_err();
    assert!(matches!(err, SfError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("INVALID_SESSION_ID"), "{err}");
    // Login, one re-authentication; the call itself twice.
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), 2);
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 2);
    assert_no_secrets(&format!("{err} {err:?}"));
}

/// A wide object whose second field chunk loses row B, as happens when a row changes between
/// the split queries. `refetchable` says whether B can be found again by Id.
async fn start_split_mock(refetchable: bool) -> (String, Arc<AtomicUsize>) {
    use std::collections::HashMap;
    let (listener, base) = listen().await;
    let refetches = Arc::new(AtomicUsize::new(0));
    let r = refetches.clone();
    let app = Router::new()
        .route("/services/oauth2/token", grant_tokens(&base))
        .route(
            "/services/data/v62.0/query",
            get(move |axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>| {
                let r = r.clone();
                async move {
                    let q = params.get("q").cloned().unwrap_or_default();
                    let select = &q[7..q.find(" FROM ").unwrap()];
                    let fields: Vec<&str> = select.split(", ").collect();
                    let ids: Vec<String> = if let Some(start) = q.find(" WHERE Id IN (") {
                        r.fetch_add(1, Ordering::SeqCst);
                        let list = &q[start + 14..q.rfind(')').unwrap()];
                        list.split(',')
                            .map(|s| s.trim_matches('\'').to_string())
                            .filter(|id| refetchable || id != "B")
                            .collect()
                    } else if q.contains("Owner.Name") {
                        vec!["A".into(), "B".into(), "C".into()]
                    } else {
                        vec!["A".into(), "C".into()]
                    };
                    let rows: Vec<serde_json::Value> = ids
                        .iter()
                        .map(|id| {
                            let mut row = serde_json::Map::new();
                            row.insert("attributes".into(), serde_json::json!({"type": "Wide__c"}));
                            row.insert("Id".into(), id.clone().into());
                            for f in &fields {
                                match *f {
                                    "Id" => {}
                                    "Owner.Name" => {
                                        row.insert("Owner".into(), serde_json::json!({"Name": "Olga"}));
                                    }
                                    f => {
                                        row.insert(f.to_string(), format!("{f}={id}").into());
                                    }
                                }
                            }
                            serde_json::Value::Object(row)
                        })
                        .collect();
                    axum::Json(serde_json::json!({"totalSize": rows.len(), "done": true, "records": rows}))
                }
            }),
        );
    serve(listener, app);
    (base, refetches)
}

fn wide_plan() -> sfmount::salesforce::ObjectPlan {
    sfmount::salesforce::ObjectPlan {
        object: "Wide__c".into(),
        label: "Wide".into(),
        key_prefix: None,
        custom: true,
        fields: (0..900)
            .map(|i| format!("Wide_Field_Number_{i:04}__c"))
            .collect(),
        relationship_fields: vec!["Owner.Name".into()],
        subqueries: vec![],
        name_field: None,
        has_system_modstamp: false,
        formula_fields: vec![],
        subquery_plans: vec![],
        feed_comments: None,
        child_queries: vec![],
        child_activity: vec![],
    }
}

#[tokio::test]
async fn a_row_missing_from_a_split_chunk_is_refetched_by_id() {
    let (base, refetches) = start_split_mock(true).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let plan = wide_plan();
    let mut records = Vec::new();
    let summary = client
        .fetch_records(&plan, &Default::default(), &mut |page| records.extend(page))
        .await
        .unwrap();
    let ids: Vec<&str> = records.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["A", "B", "C"]);
    for record in &records {
        let id = record["Id"].as_str().unwrap();
        for field in &plan.fields {
            assert_eq!(record[field], format!("{field}={id}"), "{id} {field}");
        }
        assert_eq!(record["Owner"]["Name"], "Olga");
    }
    // B was missing from every chunk after the first: one refetch per such chunk.
    let chunks = summary.api_calls as usize - refetches.load(Ordering::SeqCst);
    assert!(chunks >= 2, "{summary:?}");
    assert_eq!(refetches.load(Ordering::SeqCst), chunks - 1);
}

#[tokio::test]
async fn a_row_that_vanished_between_split_queries_is_left_out_not_half_filled() {
    let (base, _) = start_split_mock(false).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let plan = wide_plan();
    let mut records = Vec::new();
    client
        .fetch_records(&plan, &Default::default(), &mut |page| records.extend(page))
        .await
        .unwrap();
    let ids: Vec<&str> = records.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["A", "C"]);
    assert!(records
        .iter()
        .all(|r| plan.fields.iter().all(|f| r.contains_key(f))));
}

/// A Case plan as the fake org's describes give it, cut down to what feed handling needs.
fn case_plan_with_feeds() -> sfmount::salesforce::ObjectPlan {
    use sfmount::salesforce::{ActivitySource, FeedCommentPlan, SubqueryPlan};
    let activity = |object: &str| ActivitySource {
        object: object.into(),
        parent_field: "ParentId".into(),
        modstamp_field: "SystemModstamp".into(),
        parent_type: None,
    };
    sfmount::salesforce::ObjectPlan {
        object: "Case".into(),
        label: "Case".into(),
        key_prefix: Some("500".into()),
        custom: false,
        fields: vec!["Id".into(), "SystemModstamp".into()],
        relationship_fields: vec![],
        subqueries: vec!["Feeds".into()],
        name_field: None,
        has_system_modstamp: true,
        formula_fields: vec![],
        subquery_plans: vec![SubqueryPlan {
            relationship: "Feeds".into(),
            child_object: "CaseFeed".into(),
            fields: vec!["Id".into()],
            order_by: vec![],
        }],
        feed_comments: Some(FeedCommentPlan {
            object: "FeedComment".into(),
            fields: vec!["Id".into(), "FeedItemId".into()],
            filter_field: "ParentId".into(),
            feed_item_field: "FeedItemId".into(),
            activity_sources: vec![activity("CaseFeed"), activity("FeedComment")],
        }),
        child_queries: vec![],
        child_activity: vec![],
    }
}

/// An org that refuses unfiltered feed queries, as some do for users without View All Data.
async fn start_restricted_feed_mock() -> (String, Arc<AtomicUsize>) {
    let (listener, base) = listen().await;
    let composites = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/services/oauth2/token", grant_tokens(&base))
        .route(
            "/services/data/v62.0/query",
            get(|| async {
                axum::Json(
                    serde_json::json!({"totalSize": 1, "done": true, "records": [
                        {"attributes": {"type": "Case"}, "Id": "500A", "Feeds": null}
                    ]}),
                )
            }),
        )
        .route(
            "/services/data/v62.0/composite",
            composite_refusing_feed_queries(composites.clone()),
        );
    serve(listener, app);
    (base, composites)
}

/// Answers the Case query of a composite with case `500A` changed, and refuses every feed
/// query in it ("Implementation restriction").
fn composite_refusing_feed_queries(calls: Arc<AtomicUsize>) -> axum::routing::MethodRouter {
    composite_answering(calls, |url| {
        if url.contains("FROM+Case+") || url.contains("FROM%20Case%20") {
            (
                200,
                serde_json::json!({"totalSize": 1, "done": true, "records": [
                    {"attributes": {"type": "Case"}, "Id": "500A", "SystemModstamp": "2026-11-27T23:49:12.000+0000"}
                ]}),
            )
        } else {
            (
                400,
                serde_json::json!([{"errorCode": "MALFORMED_QUERY", "message": "Implementation restriction: this feed requires a filter by Id or ParentId"}]),
            )
        }
    })
}

#[tokio::test]
async fn refused_feed_activity_queries_do_not_fail_an_incremental_listing() {
    use sfmount::salesforce::{ChangeQuery, FetchFilter};
    let (base, composites) = start_restricted_feed_mock().await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let plan = case_plan_with_feeds();
    let since = chrono::Utc::now();
    let changes = client
        .changes_since(&[ChangeQuery { plan: &plan, since }])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    let filter = FetchFilter {
        ids: Some(changes.rows.iter().map(|row| row.id.clone()).collect()),
        ..FetchFilter::default()
    };
    let mut records = Vec::new();
    let summary = client
        .fetch_records(&plan, &filter, &mut |page| records.extend(page))
        .await
        .unwrap();
    assert_eq!(summary.records, 1);
    assert_eq!(records[0]["Feeds"], serde_json::json!([]));
    assert_eq!(
        composites.load(Ordering::SeqCst),
        1,
        "one activity batch, no retry"
    );
}

#[tokio::test]
async fn an_expired_query_locator_is_a_clear_error() {
    let (listener, base) = listen().await;
    let app = Router::new()
        .route("/services/oauth2/token", grant_tokens(&base))
        .route(
            "/services/data/v62.0/query",
            get(|| async {
                axum::Json(serde_json::json!({
                    "totalSize": 4000, "done": false,
                    "nextRecordsUrl": "/services/data/v62.0/query/01gD0000002HU6KIAW-2000",
                    "records": [{"attributes": {"type": "Account"}, "Id": "001A"}]
                }))
            }),
        )
        .route(
            "/services/data/v62.0/query/{locator}",
            get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    axum::Json(serde_json::json!([{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}])),
                )
            }),
        );
    serve(listener, app);
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let mut pages = 0;
    let err = client
        .query_all_pages("SELECT Id FROM Account", false, &mut |_| pages += 1)
        .await
        .unwrap_err();
    assert_eq!(pages, 1, "the first page was delivered before the failure");
    assert!(
        matches!(&err, SfError::Query { code, .. } if code == "INVALID_QUERY_LOCATOR"),
        "{err:?}"
    );
    assert!(err.to_string().contains("start again"), "{err}");
    assert!(!err.is_transient());
}

/// One case with one feed item; the composite call that fetches its comments answers every
/// subrequest with `status`/`code`, and a plain query for comments returns one comment.
/// Counts (composite calls, plain comment queries).
async fn start_comment_batch_mock(
    status: u16,
    code: &'static str,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use std::collections::HashMap;
    let (listener, base) = listen().await;
    let composites = Arc::new(AtomicUsize::new(0));
    let comment_queries = Arc::new(AtomicUsize::new(0));
    let q = comment_queries.clone();
    let app = Router::new()
        .route("/services/oauth2/token", grant_tokens(&base))
        .route(
            "/services/data/v62.0/query",
            get(move |axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>| {
                let q = q.clone();
                async move {
                    let soql = params.get("q").cloned().unwrap_or_default();
                    if soql.contains(" FROM FeedComment ") {
                        q.fetch_add(1, Ordering::SeqCst);
                        return axum::Json(serde_json::json!({"totalSize": 1, "done": true, "records": [
                            {"attributes": {"type": "FeedComment"}, "Id": "0D7A", "FeedItemId": "0D5A"}
                        ]}));
                    }
                    axum::Json(serde_json::json!({"totalSize": 1, "done": true, "records": [
                        {"attributes": {"type": "Case"}, "Id": "500A", "SystemModstamp": "2024-01-15T10:30:00.000+0000",
                         "Feeds": {"totalSize": 1, "done": true, "records": [{"attributes": {"type": "CaseFeed"}, "Id": "0D5A"}]}}
                    ]}))
                }
            }),
        )
        .route(
            "/services/data/v62.0/composite",
            composite_refusing_every_query(status, code, "refused by the mock", composites.clone()),
        );
    serve(listener, app);
    (base, composites, comment_queries)
}

#[tokio::test]
async fn a_refused_comment_batch_fails_the_listing_instead_of_dropping_comments() {
    let (base, composites, comment_queries) =
        start_comment_batch_mock(400, "QUERY_TOO_COMPLICATED").await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let mut delivered = 0;
    let err = client
        .fetch_records(&case_plan_with_feeds(), &Default::default(), &mut |page| {
            delivered += page.len()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SfError::Query { code, .. } if code == "QUERY_TOO_COMPLICATED"),
        "{err:?}"
    );
    assert_eq!(delivered, 0, "no case is delivered without its comments");
    assert_eq!(composites.load(Ordering::SeqCst), 1);
    assert_eq!(
        comment_queries.load(Ordering::SeqCst),
        0,
        "a definite refusal is not repeated"
    );
}

#[tokio::test]
async fn a_transient_failure_inside_a_composite_batch_is_repeated_alone() {
    let (base, composites, comment_queries) =
        start_comment_batch_mock(503, "SERVER_UNAVAILABLE").await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let mut records = Vec::new();
    let summary = client
        .fetch_records(&case_plan_with_feeds(), &Default::default(), &mut |page| {
            records.extend(page)
        })
        .await
        .unwrap();
    assert_eq!(summary.records, 1);
    let comments = &records[0]["Feeds"][0]["FeedComments"];
    assert_eq!(comments[0]["Id"], "0D7A", "{comments}");
    assert_eq!(composites.load(Ordering::SeqCst), 1);
    assert_eq!(comment_queries.load(Ordering::SeqCst), 1);
    // Case page, composite, the repeated comment query.
    assert_eq!(summary.api_calls, 3);
}

#[tokio::test]
async fn a_limit_refusal_inside_a_composite_response_pauses_later_calls() {
    let (listener, base) = listen().await;
    let api_hits = Arc::new(AtomicUsize::new(0));
    let hits = api_hits.clone();
    let app = Router::new()
        .route("/services/oauth2/token", grant_tokens(&base))
        .route(
            "/services/data/v62.0/composite",
            composite_refusing_every_query(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                api_hits.clone(),
            ),
        )
        .route(
            "/services/data/v62.0/sobjects",
            get(move || {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    axum::Json(serde_json::json!({"sobjects": []}))
                }
            }),
        );
    serve(listener, app);
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let err = client
        .count_records(&["Account".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(err, SfError::LimitExceeded { .. }), "{err:?}");
    let again = client.describe_global().await.unwrap_err();
    assert!(matches!(again, SfError::LimitExceeded { .. }), "{again:?}");
    assert_eq!(
        api_hits.load(Ordering::SeqCst),
        1,
        "the refusal inside the composite response pauses the next call too"
    );
}

#[tokio::test]
async fn api_calls_go_to_the_instance_the_token_response_names() {
    let (instance_listener, instance) = listen().await;
    let instance_hits = Arc::new(AtomicUsize::new(0));
    let hits = instance_hits.clone();
    serve(
        instance_listener,
        Router::new().route(
            "/services/data/v62.0/sobjects",
            get(move || {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    axum::Json(
                        serde_json::json!({"sobjects": [{"name": "Account", "queryable": true}]}),
                    )
                }
            }),
        ),
    );
    // The login host knows only the token endpoint: an API call sent there would get 404.
    let (login_listener, login) = listen().await;
    serve(
        login_listener,
        Router::new().route("/services/oauth2/token", grant_tokens(&instance)),
    );
    let client = SalesforceClient::connect(settings(&login, Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(client.instance_url(), instance);
    let global = client.describe_global().await.unwrap();
    assert!(global.is_queryable("Account"));
    assert_eq!(instance_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn re_authentication_spends_the_deadline_of_the_call_that_needed_it() {
    let (listener, base) = listen().await;
    let token_requests = Arc::new(AtomicUsize::new(0));
    let t = token_requests.clone();
    let b = base.clone();
    let app = Router::new()
        .route(
            "/services/oauth2/token",
            // The first token is granted; the login host then stops answering.
            post(move || {
                let (t, b) = (t.clone(), b.clone());
                async move {
                    if t.fetch_add(1, Ordering::SeqCst) > 0 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    respond(Answer::Token, &b)
                }
            }),
        )
        .route(
            "/services/data/v62.0/sobjects",
            // A slow 401: most of the call's deadline is gone before re-authentication starts.
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1_500)).await;
                respond(Answer::Unauthorized, "")
            }),
        );
    serve(listener, app);
    let deadline = Duration::from_secs(2);
    let client = SalesforceClient::connect(settings(&base, deadline))
        .await
        .unwrap();
    let started = Instant::now();
    let err = client.describe_global().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, SfError::Timeout { .. }), "{err:?}");
    assert_eq!(token_requests.load(Ordering::SeqCst), 2);
    // Without the shared deadline the token request would get a fresh 2 s of its own.
    assert!(
        elapsed >= deadline && elapsed < deadline + Duration::from_millis(1_000),
        "{elapsed:?}"
    );
    assert_no_secrets(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn a_login_host_without_a_token_endpoint_is_named_as_the_problem() {
    let (listener, base) = listen().await;
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    // A web server that is not Salesforce: every path is 404.
    serve(
        listener,
        Router::new().fallback(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                (StatusCode::NOT_FOUND, "<html>Not Found</html>")
            }
        }),
    );
    let err = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert!(matches!(err, SfError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("login URL"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a definite answer is not retried"
    );
    assert_no_secrets(&format!("{err} {err:?}"));
}
