//! The index's source in production: the Salesforce REST client.

use crate::sync::lock;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::catalog::listing_plan;
use crate::salesforce::{
    ChangeQuery, DescribeGlobal, FetchFilter, RecentChanges, SalesforceClient, SfError,
};

use super::source::{
    ApiUsage, ChangeRequest, ChangedRow, FeedActivity, ListingPlan, ObjectChanges, ObjectSource,
    RecordSink, SourceError, SourceFuture,
};

/// Lists and fetches records through a connected client. Plans come from the client's
/// describe cache, so after the first listing of an object they cost no call.
pub struct ClientSource {
    client: SalesforceClient,
    /// Feed objects whose activity query the org refused, already warned about (a warning
    /// per tick would flood the log).
    feed_warned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// How a client error is worded where users see it (the log, `.sobject.json`): the
    /// client's own message unless the command that mounts gives its wording, which can name
    /// its flags.
    wording: fn(&SfError) -> String,
}

impl ClientSource {
    pub fn new(client: SalesforceClient) -> ClientSource {
        ClientSource {
            client,
            feed_warned: std::sync::Mutex::default(),
            wording: SfError::to_string,
        }
    }

    /// Words the errors users see with `wording` instead of the client's own message.
    pub fn with_error_wording(mut self, wording: fn(&SfError) -> String) -> ClientSource {
        self.wording = wording;
        self
    }

    fn error(&self, error: SfError) -> SourceError {
        let message = (self.wording)(&error);
        classify(error, message)
    }

    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }

    /// The client's answer in the index's terms. A refused feed source is said once per
    /// object (a warning per tick would flood the log); the record changes still apply.
    fn object_changes(&self, object: &str, changes: RecentChanges) -> ObjectChanges {
        for (_, error) in &changes.refused_feeds {
            if lock(&self.feed_warned).insert(object.to_string()) {
                tracing::warn!(
                    object = %object,
                    error = %error,
                    "cannot list recent feed activity: new feed items and comments show only when their record changes or is re-read whole"
                );
            }
        }
        ObjectChanges {
            incremental: changes.incremental,
            rows: changes
                .rows
                .into_iter()
                .map(|row| ChangedRow {
                    modstamp: stamp_time(row.stamp.as_deref()),
                    id: row.id,
                    deleted: row.deleted,
                })
                .collect(),
            feed_activity: changes
                .feed_activity
                .into_iter()
                .map(|activity| FeedActivity {
                    modstamp: stamp_time(activity.stamp.as_deref()),
                    id: activity.id,
                    parent_id: activity.parent_id,
                })
                .collect(),
        }
    }
}

impl ObjectSource for ClientSource {
    fn trust_kept_schema(&self) {
        self.client.trust_kept_describes();
    }

    fn plan<'a>(&'a self, object: &'a str) -> SourceFuture<'a, ListingPlan> {
        Box::pin(async move {
            let plan = listing_plan(&self.client, object)
                .await
                .map_err(|e| self.error(e))?;
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
                .map_err(|e| self.error(e))?;
            let filter = FetchFilter {
                ids: ids.map(<[String]>::to_vec),
                ..FetchFilter::default()
            };
            let summary = self
                .client
                .fetch_records(&plan, &filter, sink)
                .await
                .map_err(|e| self.error(e))?;
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

    /// The client's [`SalesforceClient::changes_since`] for every request whose plan is known
    /// (plans come from the describe cache, so a tick makes no describe call): one query per
    /// object and per feed activity source, five per API call.
    fn changes<'a>(
        &'a self,
        requests: &'a [ChangeRequest],
    ) -> SourceFuture<'a, Vec<Result<ObjectChanges, SourceError>>> {
        Box::pin(async move {
            let mut plans = Vec::with_capacity(requests.len());
            for request in requests {
                plans.push(listing_plan(&self.client, &request.object).await);
            }
            let queries: Vec<ChangeQuery> = requests
                .iter()
                .zip(&plans)
                .filter_map(|(request, plan)| {
                    Some(ChangeQuery {
                        plan: plan.as_ref().ok()?,
                        since: DateTime::<Utc>::from(request.since),
                    })
                })
                .collect();
            let mut answers = self
                .client
                .changes_since(&queries)
                .await
                .map_err(|e| self.error(e))?
                .into_iter();
            Ok(requests
                .iter()
                .zip(plans)
                .map(|(request, plan)| {
                    plan.map_err(|e| self.error(e))?;
                    // changes_since answers every query, so the fallback is never used.
                    let changes = answers
                        .next()
                        .unwrap_or_else(|| Ok(RecentChanges::default()))
                        .map_err(|e| self.error(e))?;
                    Ok(self.object_changes(&request.object, changes))
                })
                .collect())
        })
    }

    fn needs_full_refresh<'a>(&'a self, object: &'a str) -> SourceFuture<'a, bool> {
        Box::pin(async move {
            let plan = listing_plan(&self.client, object)
                .await
                .map_err(|e| self.error(e))?;
            Ok(!plan.formula_fields.is_empty() || plan.modstamp_field().is_none())
        })
    }

    fn document<'a>(&'a self, version_id: &'a str, size: u64) -> SourceFuture<'a, Vec<u8>> {
        Box::pin(async move {
            self.client
                .version_data(version_id, size)
                .await
                .map_err(|e| self.error(e))
        })
    }

    fn document_from<'a>(
        &'a self,
        version_id: &'a str,
        size: u64,
        from: u64,
        sink: &'a mut (dyn FnMut(u64, &[u8]) -> bool + Send),
    ) -> SourceFuture<'a, ()> {
        Box::pin(async move {
            let mut stream = self
                .client
                .version_stream(version_id, from, size)
                .await
                .map_err(|e| self.error(e))?;
            let mut at = stream.start();
            while let Some(piece) = stream.next_piece().await.map_err(|e| self.error(e))? {
                if !sink(at, &piece) {
                    break;
                }
                at += piece.len() as u64;
            }
            Ok(())
        })
    }

    fn api_usage(&self) -> Option<ApiUsage> {
        self.client.api_usage()
    }

    fn refresh_api_usage(&self) -> SourceFuture<'_, Option<ApiUsage>> {
        Box::pin(async move {
            self.client
                .refresh_api_usage()
                .await
                .map_err(|e| self.error(e))
        })
    }
}

fn stamp_time(stamp: Option<&str>) -> Option<SystemTime> {
    stamp.and_then(super::parse_salesforce_datetime)
}

/// The kind of a client error, for the errno table; the message keeps the client's advice.
pub fn source_error(error: SfError) -> SourceError {
    let message = error.to_string();
    classify(error, message)
}

/// The kind of `error`, carrying `message`.
fn classify(error: SfError, message: String) -> SourceError {
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
