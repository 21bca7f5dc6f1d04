//! The index's source in production: the Salesforce REST client.

use crate::salesforce::{DescribeGlobal, FetchFilter, SalesforceClient, SfError};

use super::source::{ListingPlan, ObjectSource, RecordSink, SourceError, SourceFuture};

/// Lists and fetches records through a connected client. Plans come from the client's
/// describe cache, so after the first listing of an object they cost no call.
pub struct ClientSource {
    client: SalesforceClient,
}

impl ClientSource {
    pub fn new(client: SalesforceClient) -> ClientSource {
        ClientSource { client }
    }

    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }
}

impl ObjectSource for ClientSource {
    fn plan<'a>(&'a self, object: &'a str) -> SourceFuture<'a, ListingPlan> {
        Box::pin(async move {
            let plan = self.client.plan(object).await.map_err(source_error)?;
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
            let plan = self.client.plan(object).await.map_err(source_error)?;
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
        };
        assert!(matches!(source_error(auth), SourceError::Auth(_)));
    }
}
