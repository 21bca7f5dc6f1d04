//! Talking to a fake org over real HTTP, shared by the fake-org test files: log in with
//! client credentials, send requests, keep status, headers and body of each answer.

#![allow(dead_code)] // each test file uses a different subset

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

/// The API version the tests speak.
pub const V: &str = "59.0";

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or("<none>")
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
}

pub async fn send(req: reqwest::RequestBuilder) -> Resp {
    let resp = req.send().await.expect("request completes");
    let status = resp.status();
    let headers = resp.headers().clone();
    let raw = resp.bytes().await.expect("body").to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        raw,
    }
}

/// A small org (about 30 records per object) of its own, for tests that write or count.
pub fn small_org() -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records: 30,
        ..FakeOrgConfig::default()
    })
    .expect("fake org starts")
}

/// The token endpoint's answer to the org's own client credentials.
pub async fn request_token(http: &reqwest::Client, org: &FakeOrg) -> Resp {
    send(
        http.post(format!("{}/services/oauth2/token", org.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", org.client_id()),
                ("client_secret", org.client_secret()),
            ]),
    )
    .await
}

pub async fn login(org: &FakeOrg) -> Api {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let resp = request_token(&http, org).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    Api {
        base: org.base_url(),
        http,
        token: resp.body["access_token"].as_str().unwrap().to_string(),
    }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/services/data/v{V}/{path}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.http.get(self.url(path)).bearer_auth(&self.token)).await
    }

    pub async fn query(&self, soql: &str) -> Resp {
        send(
            self.http
                .get(self.url("query"))
                .query(&[("q", soql)])
                .bearer_auth(&self.token),
        )
        .await
    }

    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Resp {
        send(
            self.http
                .request(method, self.url(path))
                .json(body)
                .bearer_auth(&self.token),
        )
        .await
    }

    /// Follows `nextRecordsUrl` to the end; returns every page.
    pub async fn all_pages(&self, first: Resp) -> Vec<Value> {
        let mut pages = vec![first.body];
        while pages.last().unwrap()["done"] == false {
            let next = pages.last().unwrap()["nextRecordsUrl"]
                .as_str()
                .expect("nextRecordsUrl while not done")
                .to_string();
            let resp = self.get(&next).await;
            assert_eq!(resp.status, 200, "{:?}", resp.body);
            pages.push(resp.body);
        }
        pages
    }
}
