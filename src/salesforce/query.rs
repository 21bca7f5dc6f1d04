//! Paginated queries (`nextRecordsUrl`, child batches) and composite batches of queries.

use serde_json::{json, Value};

use super::client::{Meter, SalesforceClient};
use super::error::{api_error, SfError};
use super::soql::{encode_query_value, MAX_URI_BYTES};
use super::transport::Call;
use super::Record;

/// Salesforce's cap on queries in one composite request (the other subrequests may be up to
/// 25, but only 5 of them may be queries).
pub const COMPOSITE_MAX_QUERIES: usize = 5;

/// One page of a query result.
#[derive(Debug, Clone, Default)]
pub struct QueryPage {
    /// Rows of the whole result (repeated on every page; the count for `SELECT COUNT()`).
    pub total_size: u64,
    pub done: bool,
    pub next_records_url: Option<String>,
    pub records: Vec<Record>,
}

impl QueryPage {
    /// Parses a query result body (`totalSize`, `done`, `nextRecordsUrl`, `records`).
    pub fn parse(value: Value) -> Result<QueryPage, SfError> {
        QueryPage::from_value(value, "a query result")
    }

    pub(crate) fn from_value(value: Value, what: &str) -> Result<QueryPage, SfError> {
        let malformed = |detail: &str| SfError::Malformed {
            what: what.to_string(),
            detail: detail.to_string(),
        };
        let Value::Object(mut obj) = value else {
            return Err(malformed("a query result must be a JSON object"));
        };
        let done = obj
            .get("done")
            .and_then(Value::as_bool)
            .ok_or_else(|| malformed("the query result has no boolean \"done\""))?;
        let total_size = obj.get("totalSize").and_then(Value::as_u64).unwrap_or(0);
        let next_records_url = obj
            .get("nextRecordsUrl")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !done && next_records_url.is_none() {
            return Err(malformed(
                "the result is not done but has no nextRecordsUrl",
            ));
        }
        let records = match obj.remove("records") {
            Some(Value::Array(rows)) => rows
                .into_iter()
                .map(|row| match row {
                    Value::Object(map) => Ok(map),
                    _ => Err(malformed("a record is not a JSON object")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(malformed("the query result has no \"records\" array")),
        };
        Ok(QueryPage {
            total_size,
            done: done || next_records_url.is_none(),
            next_records_url: if done { None } else { next_records_url },
            records,
        })
    }
}

/// The path of a query: `/services/data/vNN.N/query?q=...` (or queryAll).
pub(crate) fn query_path(client: &SalesforceClient, soql: &str, include_deleted: bool) -> String {
    let resource = if include_deleted { "queryAll" } else { "query" };
    format!(
        "{}/{resource}?q={}",
        client.data_path(),
        encode_query_value(soql)
    )
}

/// A nextRecordsUrl must stay on the org's REST API: we send our token there.
fn check_next_url(url: &str, what: &str) -> Result<(), SfError> {
    if url.starts_with("/services/data/") && !url.contains("..") {
        Ok(())
    } else {
        Err(SfError::Malformed {
            what: what.to_string(),
            detail: format!("unexpected nextRecordsUrl {url:?}"),
        })
    }
}

/// Pulls a query's pages one at a time; each page comes with every child subquery batch
/// already followed (a parent's next page would invalidate the child cursors).
pub(crate) struct Pager {
    state: PagerState,
    what: String,
}

enum PagerState {
    First { soql: String, include_deleted: bool },
    More(String),
    Done,
}

impl Pager {
    pub(crate) fn new(soql: String, include_deleted: bool, what: String) -> Pager {
        Pager {
            state: PagerState::First {
                soql,
                include_deleted,
            },
            what,
        }
    }

    /// Continues a result whose first page came from elsewhere (a composite response).
    pub(crate) fn resume(next: Option<String>, what: String) -> Pager {
        Pager {
            state: next.map_or(PagerState::Done, PagerState::More),
            what,
        }
    }

    pub(crate) async fn next_page(
        &mut self,
        client: &SalesforceClient,
        meter: &Meter,
    ) -> Result<Option<QueryPage>, SfError> {
        let path = match std::mem::replace(&mut self.state, PagerState::Done) {
            PagerState::Done => return Ok(None),
            PagerState::First {
                soql,
                include_deleted,
            } => {
                let path = query_path(client, &soql, include_deleted);
                // Salesforce would answer 414 (sometimes as an HTML page): refuse before
                // spending a call, and say what to change.
                if path.len() > MAX_URI_BYTES {
                    return Err(SfError::Query {
                        code: "URI_TOO_LONG".into(),
                        message: format!(
                            "the {} is {} bytes once percent-encoded, over Salesforce's {MAX_URI_BYTES}-byte limit on request URIs; select fewer fields or filter on fewer values",
                            self.what,
                            path.len()
                        ),
                    });
                }
                path
            }
            PagerState::More(url) => {
                check_next_url(&url, &self.what)?;
                url
            }
        };
        let value = client.get_json(path, self.what.clone(), meter).await?;
        let mut page = QueryPage::from_value(value, &self.what)?;
        complete_child_batches(client, &mut page.records, &self.what, meter).await?;
        if let Some(next) = page.next_records_url.clone() {
            self.state = PagerState::More(next);
        }
        Ok(Some(page))
    }
}

/// Follows the `nextRecordsUrl` of every child subquery result that was cut into batches,
/// so each nested result holds all its rows (`done: true`).
pub(crate) async fn complete_child_batches(
    client: &SalesforceClient,
    records: &mut [Record],
    what: &str,
    meter: &Meter,
) -> Result<(), SfError> {
    for record in records.iter_mut() {
        for (_, value) in record.iter_mut() {
            let Value::Object(nested) = value else {
                continue;
            };
            let not_done = nested.get("done").and_then(Value::as_bool) == Some(false);
            if !not_done || !nested.contains_key("records") {
                continue;
            }
            let mut next = nested
                .get("nextRecordsUrl")
                .and_then(Value::as_str)
                .map(str::to_string);
            while let Some(url) = next.take() {
                check_next_url(&url, what)?;
                let page = QueryPage::from_value(
                    client
                        .get_json(url, format!("{what} (child batch)"), meter)
                        .await?,
                    what,
                )?;
                if let Some(Value::Array(rows)) = nested.get_mut("records") {
                    rows.extend(page.records.into_iter().map(Value::Object));
                }
                next = page.next_records_url;
            }
            nested.insert("done".into(), Value::Bool(true));
            nested.remove("nextRecordsUrl");
        }
    }
    Ok(())
}

impl SalesforceClient {
    /// One SOQL query (queryAll when `include_deleted`), every page delivered to `sink` in
    /// turn; returns the number of rows delivered.
    pub async fn query_all_pages(
        &self,
        soql: &str,
        include_deleted: bool,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
    ) -> Result<u64, SfError> {
        let meter = Meter::default();
        self.query_all_pages_metered(soql, include_deleted, sink, &meter)
            .await
    }

    pub(crate) async fn query_all_pages_metered(
        &self,
        soql: &str,
        include_deleted: bool,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
        meter: &Meter,
    ) -> Result<u64, SfError> {
        let mut pager = Pager::new(soql.to_string(), include_deleted, query_what(soql));
        let mut rows = 0u64;
        while let Some(page) = pager.next_page(self, meter).await? {
            rows += page.records.len() as u64;
            sink(page.records);
        }
        Ok(rows)
    }

    /// Up to 5 queries per composite request (one API call each); the first pages come back
    /// in the composite response, the rest are followed. One result per query, in order.
    pub async fn composite_queries(
        &self,
        soqls: &[String],
        include_deleted: bool,
    ) -> Result<Vec<Result<Vec<Record>, SfError>>, SfError> {
        let meter = Meter::default();
        let pages = self
            .composite_first_pages(soqls, include_deleted, &meter)
            .await?;
        let mut results = Vec::with_capacity(pages.len());
        for (soql, first) in soqls.iter().zip(pages) {
            results.push(match first {
                Ok(page) => self.drain(page, query_what(soql), &meter).await,
                Err(e) => Err(e),
            });
        }
        Ok(results)
    }

    /// `SELECT COUNT()` of each object, batched in composite calls. One result per object.
    pub async fn count_records(
        &self,
        objects: &[String],
    ) -> Result<Vec<Result<u64, SfError>>, SfError> {
        let soqls: Vec<String> = objects
            .iter()
            .map(|o| super::soql::count_query(o))
            .collect();
        let pages = self
            .composite_first_pages(&soqls, false, &Meter::default())
            .await?;
        Ok(pages
            .into_iter()
            .map(|p| p.map(|page| page.total_size))
            .collect())
    }

    /// All records of a result whose first page is in hand.
    pub(crate) async fn drain(
        &self,
        first: QueryPage,
        what: String,
        meter: &Meter,
    ) -> Result<Vec<Record>, SfError> {
        let mut records = first.records;
        let mut pager = Pager::resume(first.next_records_url, what);
        while let Some(page) = pager.next_page(self, meter).await? {
            records.extend(page.records);
        }
        Ok(records)
    }

    /// First pages of `soqls`, 5 queries per composite call, child batches completed.
    pub(crate) async fn composite_first_pages(
        &self,
        soqls: &[String],
        include_deleted: bool,
        meter: &Meter,
    ) -> Result<Vec<Result<QueryPage, SfError>>, SfError> {
        let queries: Vec<(&str, bool)> = soqls
            .iter()
            .map(|soql| (soql.as_str(), include_deleted))
            .collect();
        self.composite_first_pages_mixed(&queries, meter).await
    }

    /// First pages of `queries` (SOQL, and whether it goes to queryAll), 5 per composite call
    /// whatever their endpoints, so queries of both kinds share calls.
    pub(crate) async fn composite_first_pages_mixed(
        &self,
        queries: &[(&str, bool)],
        meter: &Meter,
    ) -> Result<Vec<Result<QueryPage, SfError>>, SfError> {
        let mut out = Vec::with_capacity(queries.len());
        for batch in queries.chunks(COMPOSITE_MAX_QUERIES) {
            let subrequests: Vec<Value> = batch
                .iter()
                .enumerate()
                .map(|(i, (soql, include_deleted))| {
                    json!({
                        "method": "GET",
                        "url": query_path(self, soql, *include_deleted),
                        "referenceId": format!("q{i}"),
                    })
                })
                .collect();
            let body = json!({ "allOrNone": false, "compositeRequest": subrequests });
            let what = format!("composite of {} queries", batch.len());
            let value = self
                .call_json(
                    Call {
                        method: reqwest::Method::POST,
                        path: format!("{}/composite", self.data_path()),
                        body: Some(&body),
                        // Every subrequest is a query: repeating the batch changes nothing.
                        safe: true,
                        what: what.clone(),
                        if_modified_since: None,
                        raw: false,
                    },
                    meter,
                )
                .await?;
            let responses = value
                .get("compositeResponse")
                .and_then(Value::as_array)
                .ok_or_else(|| SfError::Malformed {
                    what: what.clone(),
                    detail: "no compositeResponse array".into(),
                })?;
            for (i, (soql, include_deleted)) in batch.iter().enumerate() {
                let reference = format!("q{i}");
                let sub = responses.iter().find(|r| {
                    r.get("referenceId").and_then(Value::as_str) == Some(reference.as_str())
                });
                let result = match sub {
                    Some(sub) => {
                        self.subquery_result(sub, soql, *include_deleted, meter)
                            .await
                    }
                    None => Err(SfError::Malformed {
                        what: what.clone(),
                        detail: format!("no response for subrequest {reference}"),
                    }),
                };
                if let Err(SfError::LimitExceeded { message }) = &result {
                    // The composite call itself succeeded, so the pipeline did not see the
                    // refusal: start the cool-down here, or the next caller spends a request.
                    self.latch_limit(message);
                    return Err(SfError::LimitExceeded {
                        message: message.clone(),
                    });
                }
                out.push(result);
            }
        }
        Ok(out)
    }

    /// The first page of one query of a composite call, from its subresponse `sub`: child
    /// batches completed, or the query repeated on its own when it failed transiently.
    async fn subquery_result(
        &self,
        sub: &Value,
        soql: &str,
        include_deleted: bool,
        meter: &Meter,
    ) -> Result<QueryPage, SfError> {
        let what = query_what(soql);
        let status = sub
            .get("httpStatusCode")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u16;
        let body = sub.get("body").cloned().unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            let mut page = QueryPage::from_value(body, &what)?;
            complete_child_batches(self, &mut page.records, &what, meter).await?;
            return Ok(page);
        }
        let status =
            reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        match api_error(status, &bytes, &what) {
            // The composite call succeeded, so the pipeline saw no failure to retry: repeat
            // this one query on its own, with the pipeline's retries and deadline, rather
            // than lose its rows.
            error if error.is_transient() => {
                tracing::warn!(what = %what, error = %error, "a query of a composite batch failed; repeating it alone");
                Pager::new(soql.to_string(), include_deleted, what)
                    .next_page(self, meter)
                    .await
                    .and_then(|page| page.ok_or(error))
            }
            error => Err(error),
        }
    }
}

/// "query Account" from a SOQL text, for errors and logs (never the whole statement: it can
/// be 15 KB).
pub(crate) fn query_what(soql: &str) -> String {
    // The outer FROM is the one at parenthesis depth zero (subqueries come before it).
    let upper = soql.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut depth = 0i32;
    for (j, b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        if depth == 0 && bytes[j..].starts_with(b" FROM ") {
            let object = soql[j + 6..].split_whitespace().next().unwrap_or("?");
            return format!("query {object}");
        }
    }
    "query ?".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_outer_object() {
        assert_eq!(
            query_what("SELECT Id, (SELECT Id FROM Feeds) FROM Case WHERE x = 1"),
            "query Case"
        );
        assert_eq!(query_what("SELECT COUNT() FROM Account"), "query Account");
        assert_eq!(query_what("garbage"), "query ?");
    }

    #[test]
    fn page_parsing_checks_shape() {
        let page = QueryPage::from_value(
            json!({"totalSize": 3, "done": false, "nextRecordsUrl": "/services/data/v62.0/query/01gX-2000", "records": [{"Id": "a"}]}),
            "q",
        )
        .unwrap();
        assert_eq!(page.total_size, 3);
        assert_eq!(
            page.next_records_url.as_deref(),
            Some("/services/data/v62.0/query/01gX-2000")
        );
        assert!(QueryPage::from_value(json!({"done": false, "records": []}), "q").is_err());
        assert!(QueryPage::from_value(json!({"done": true}), "q").is_err());
        assert!(QueryPage::from_value(json!([1]), "q").is_err());
        assert!(check_next_url("https://evil.example/x", "q").is_err());
        assert!(check_next_url("/services/data/v62.0/query/01g-1", "q").is_ok());
    }
}
