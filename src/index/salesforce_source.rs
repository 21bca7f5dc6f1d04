//! The index's source in production: the Salesforce REST client.

use crate::sync::lock;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::catalog::listing_plan;
use crate::salesforce::soql::{Condition, Literal, Soql};
use crate::salesforce::{DescribeGlobal, FetchFilter, SalesforceClient, SfError};

use super::source::{
    ApiUsageFigure, ChangeRequest, ChangedRow, FeedActivity, ListingPlan, ObjectChanges,
    ObjectSource, RecordSink, SourceError, SourceFuture,
};

/// Lists and fetches records through a connected client. Plans come from the client's
/// describe cache, so after the first listing of an object they cost no call.
pub struct ClientSource {
    client: SalesforceClient,
    /// Feed objects whose activity query the org refused, already warned about (a warning
    /// per tick would flood the log).
    feed_warned: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl ClientSource {
    pub fn new(client: SalesforceClient) -> ClientSource {
        ClientSource {
            client,
            feed_warned: std::sync::Mutex::default(),
        }
    }

    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }
}

impl ObjectSource for ClientSource {
    fn plan<'a>(&'a self, object: &'a str) -> SourceFuture<'a, ListingPlan> {
        Box::pin(async move {
            let plan = listing_plan(&self.client, object)
                .await
                .map_err(source_error)?;
            let mut fields = plan.fields.clone();
            fields.extend(plan.relationship_fields.iter().cloned());
            Ok(ListingPlan {
                fields,
                subqueries: plan.subqueries.clone(),
                name_field: plan.name_field.clone(),
            })
        })
    }

    fn fetch<'a>(
        &'a self,
        object: &'a str,
        ids: Option<&'a [String]>,
        sink: RecordSink<'a>,
    ) -> SourceFuture<'a, ()> {
        Box::pin(async move {
            let plan = listing_plan(&self.client, object)
                .await
                .map_err(source_error)?;
            let filter = FetchFilter {
                ids: ids.map(<[String]>::to_vec),
                ..FetchFilter::default()
            };
            let summary = self
                .client
                .fetch_records(&plan, &filter, sink)
                .await
                .map_err(source_error)?;
            tracing::debug!(
                object,
                records = summary.records,
                api_calls = summary.api_calls,
                by_id = ids.is_some(),
                "fetched"
            );
            Ok(())
        })
    }

    /// One `SELECT Id, <stamp>, IsDeleted ... WHERE <stamp> >= since` per object, plus one
    /// query per feed activity source (FeedItem, FeedComment) of objects with feeds, all sent
    /// through queryAll in composite requests of 5 queries (one API call each). Plans come
    /// from the describe cache, so a tick makes no describe call.
    fn changes<'a>(
        &'a self,
        requests: &'a [ChangeRequest],
    ) -> SourceFuture<'a, Vec<Result<ObjectChanges, SourceError>>> {
        Box::pin(async move {
            // Per request: Err (no plan), or the index of its own query (None: no stamp)
            // and the indexes and parent fields of its feed queries.
            let mut soqls: Vec<String> = Vec::new();
            let mut layout: Vec<Result<RequestQueries, SourceError>> = Vec::new();
            for request in requests {
                let plan = match listing_plan(&self.client, &request.object).await {
                    Ok(plan) => plan,
                    Err(error) => {
                        layout.push(Err(source_error(error)));
                        continue;
                    }
                };
                let since = DateTime::<Utc>::from(request.since);
                let Some(stamp) = plan.modstamp_field().map(str::to_string) else {
                    layout.push(Ok(RequestQueries::default()));
                    continue;
                };
                let mut fields = vec!["Id".to_string(), stamp.clone()];
                let has_is_deleted = plan
                    .fields
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case("IsDeleted"));
                if has_is_deleted {
                    fields.push("IsDeleted".to_string());
                }
                soqls.push(
                    Soql::select(&fields)
                        .from(&plan.object)
                        .where_(Condition::ge(&stamp, Literal::DateTime(since)))
                        .build(),
                );
                let mut queries = RequestQueries {
                    own: Some((soqls.len() - 1, stamp)),
                    feeds: Vec::new(),
                };
                for source in plan
                    .feed_comments
                    .iter()
                    .flat_map(|c| c.activity_sources.iter())
                {
                    soqls.push(
                        Soql::select([
                            "Id",
                            source.parent_field.as_str(),
                            source.modstamp_field.as_str(),
                        ])
                        .from(&source.object)
                        .where_(Condition::ge(
                            &source.modstamp_field,
                            Literal::DateTime(since),
                        ))
                        .build(),
                    );
                    queries.feeds.push((
                        soqls.len() - 1,
                        source.parent_field.clone(),
                        source.modstamp_field.clone(),
                    ));
                }
                layout.push(Ok(queries));
            }
            let mut results: Vec<Option<Result<Vec<crate::salesforce::Record>, SfError>>> =
                if soqls.is_empty() {
                    Vec::new()
                } else {
                    self.client
                        .composite_queries(&soqls, true)
                        .await
                        .map_err(source_error)?
                        .into_iter()
                        .map(Some)
                        .collect()
                };
            let mut answers = Vec::with_capacity(layout.len());
            for (request, queries) in requests.iter().zip(layout) {
                let queries = match queries {
                    Ok(queries) => queries,
                    Err(error) => {
                        answers.push(Err(error));
                        continue;
                    }
                };
                let Some((own, stamp)) = queries.own else {
                    answers.push(Ok(ObjectChanges::default()));
                    continue;
                };
                let rows = match results[own].take() {
                    Some(Ok(rows)) => rows,
                    Some(Err(error)) => {
                        if matches!(
                            error,
                            SfError::InvalidField { .. } | SfError::InvalidType { .. }
                        ) {
                            // The schema changed under the cached describes: describe again
                            // on the next tick.
                            self.client.forget_schema();
                        }
                        answers.push(Err(source_error(error)));
                        continue;
                    }
                    None => Vec::new(),
                };
                let rows = rows
                    .iter()
                    .filter_map(|row| {
                        Some(ChangedRow {
                            id: row.get("Id")?.as_str()?.to_string(),
                            modstamp: row_time(row, &stamp),
                            deleted: row.get("IsDeleted").and_then(Value::as_bool) == Some(true),
                        })
                    })
                    .collect();
                let mut feed_activity = Vec::new();
                for (index, parent_field, stamp_field) in queries.feeds {
                    match results[index].take() {
                        Some(Ok(feed_rows)) => {
                            feed_activity.extend(feed_rows.iter().filter_map(|row| {
                                Some(FeedActivity {
                                    id: row.get("Id")?.as_str()?.to_string(),
                                    parent_id: row.get(&parent_field)?.as_str()?.to_string(),
                                    modstamp: row_time(row, &stamp_field),
                                })
                            }))
                        }
                        // Orgs may refuse unfiltered feed queries to users without View All
                        // Data; the record changes themselves still apply.
                        Some(Err(error)) => {
                            let first = lock(&self.feed_warned).insert(request.object.clone());
                            if first {
                                tracing::warn!(
                                    object = %request.object,
                                    error = %error,
                                    "cannot list recent feed activity: new feed items and comments show only when their record changes or is re-read whole"
                                );
                            }
                        }
                        None => {}
                    }
                }
                answers.push(Ok(ObjectChanges {
                    incremental: true,
                    rows,
                    feed_activity,
                }));
            }
            Ok(answers)
        })
    }

    fn needs_full_refresh<'a>(&'a self, object: &'a str) -> SourceFuture<'a, bool> {
        Box::pin(async move {
            let plan = listing_plan(&self.client, object)
                .await
                .map_err(source_error)?;
            Ok(!plan.formula_fields.is_empty() || plan.modstamp_field().is_none())
        })
    }

    fn api_usage(&self) -> Option<ApiUsageFigure> {
        self.client.api_usage().map(|usage| ApiUsageFigure {
            used: usage.used,
            max: usage.max,
        })
    }
}

/// Where one change request's answers sit among a tick's queries.
#[derive(Default)]
struct RequestQueries {
    /// The object's own query and its stamp field; None when it has no stamp.
    own: Option<(usize, String)>,
    /// (query index, parent field, stamp field) of each feed activity query.
    feeds: Vec<(usize, String, String)>,
}

fn row_time(row: &crate::salesforce::Record, field: &str) -> Option<SystemTime> {
    row.get(field)
        .and_then(Value::as_str)
        .and_then(super::parse_salesforce_datetime)
}

/// The kind of a client error, for the errno table; the message keeps the client's advice.
pub fn source_error(error: SfError) -> SourceError {
    let message = error.to_string();
    match error {
        SfError::Timeout { .. } => SourceError::Timeout,
        SfError::Unavailable { .. } => SourceError::Unavailable(message),
        SfError::LimitExceeded { .. } => SourceError::LimitExceeded(message),
        SfError::Auth { .. } => SourceError::Auth(message),
        SfError::NotFound { .. } | SfError::InvalidType { .. } => SourceError::NotFound(message),
        SfError::Http { status, .. } if status >= 500 => SourceError::Unavailable(message),
        _ => SourceError::Other(message),
    }
}

pub fn key_prefix(global: &DescribeGlobal, object: &str) -> Option<String> {
    global.find(object).and_then(|o| o.key_prefix.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn client_errors_keep_their_kind() {
        let timeout = SfError::Timeout {
            what: "query".into(),
            after: Duration::from_secs(30),
        };
        assert_eq!(source_error(timeout), SourceError::Timeout);
        let limit = SfError::LimitExceeded {
            message: "TotalRequests Limit exceeded.".into(),
        };
        assert!(
            matches!(source_error(limit), SourceError::LimitExceeded(m) if m.contains("limit"))
        );
        let down = SfError::Http {
            status: 503,
            what: "query".into(),
            code: "SERVER_UNAVAILABLE".into(),
            message: "down".into(),
        };
        assert!(matches!(source_error(down), SourceError::Unavailable(_)));
        let auth = SfError::Auth {
            message: "invalid_client".into(),
            hint: None,
        };
        assert!(matches!(source_error(auth), SourceError::Auth(_)));
    }
}
