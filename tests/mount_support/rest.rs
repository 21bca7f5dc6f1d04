//! A blocking REST client for tests that change the fake org as another integration would.

use std::time::Duration;

use serde_json::Value;
use sfmount::fake_org::FakeOrg;

/// The REST API version the tests speak (the fake org serves it).
const API_VERSION: &str = "62.0";

/// A blocking REST client for changing the org as another integration would (its own
/// small runtime, so tests call it from plain threads).
pub struct Rest {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Rest {
    pub fn login(org: &FakeOrg) -> Rest {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let response: Value = runtime.block_on(async {
            http.post(format!("{}/services/oauth2/token", org.base_url()))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", org.client_id()),
                    ("client_secret", org.client_secret()),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        Rest {
            runtime,
            http,
            base: org.base_url(),
            token: response["access_token"].as_str().unwrap().to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/services/data/v{API_VERSION}/{path}", self.base)
    }

    pub fn send(&self, method: reqwest::Method, url: String, body: Option<&Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let (status, text) = self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        });
        assert!(status.is_success(), "{method} {url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub fn update(&self, object: &str, id: &str, fields: Value) {
        self.send(
            reqwest::Method::PATCH,
            self.url(&format!("sobjects/{object}/{id}")),
            Some(&fields),
        );
    }

    pub fn create(&self, object: &str, fields: Value) -> String {
        let created = self.send(
            reqwest::Method::POST,
            self.url(&format!("sobjects/{object}")),
            Some(&fields),
        );
        created["id"].as_str().unwrap().to_string()
    }

    pub fn delete(&self, object: &str, id: &str) {
        self.send(
            reqwest::Method::DELETE,
            self.url(&format!("sobjects/{object}/{id}")),
            None,
        );
    }

    pub fn undelete(&self, id: &str) {
        self.send(
            reqwest::Method::POST,
            format!("{}/_fake/undelete/{id}", self.base),
            None,
        );
    }
}
