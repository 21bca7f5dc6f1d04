//! The request pipeline against small local servers that misbehave in ways the fake org
//! does not: HTML error pages, truncated JSON, silence, closed ports.

use std::net::SocketAddr;
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
    Silent,
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
        Answer::Silent => unreachable!("handled by sleeping"),
    }
}

async fn start(token: Answer, api: Answer) -> (String, Mock) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
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
                    m.token_hits.fetch_add(1, Ordering::SeqCst);
                    if let Answer::Silent = m.token {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    respond(m.token, &b)
                }
            }),
        )
        .route(
            "/services/data/v62.0/sobjects",
            get(move || {
                let m = m2.clone();
                let b = b2.clone();
                async move {
                    m.api_hits.fetch_add(1, Ordering::SeqCst);
                    if let Answer::Silent = m.api {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    respond(m.api, &b)
                }
            }),
        );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
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
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, SfError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.to_lowercase().contains("refused") || text.contains("connect"),
        "{text}"
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
async fn truncated_json_is_malformed_and_not_retried() {
    let (base, mock) = start(Answer::Token, Answer::Truncated).await;
    let client = SalesforceClient::connect(settings(&base, Duration::from_secs(10)))
        .await
        .unwrap();
    let err = client.describe_global().await.unwrap_err();
    assert!(matches!(err, SfError::Malformed { .. }), "{err:?}");
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 1);
    // The limit header of the failed response was still read.
    assert_eq!(
        client.api_usage().map(|u| (u.used, u.max)),
        Some((7, 15000))
    );
    // A failed describeGlobal is not cached: the next call asks again.
    let _ = client.describe_global().await;
    assert_eq!(mock.api_hits.load(Ordering::SeqCst), 2);
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
