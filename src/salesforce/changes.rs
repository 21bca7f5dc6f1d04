//! `changes_since`: which records of some objects changed at or after an instant, by the org's
//! own stamps. One query per object (`Id`, the stamp, `IsDeleted`) through queryAll, so
//! deleted rows come back too, and one per feed activity source of plans with feeds, because
//! a new post or comment does not move its parent's stamp; likewise one per child activity
//! source (a Case's EmailMessage, Task, Event: a new email or task leaves the Case's stamp
//! alone), through queryAll too, so deleted and archived children name their parent. Every
//! query of a call goes out together, five per composite request (one API call each).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::client::SalesforceClient;
use super::error::SfError;
use super::plan::{ActivitySource, ObjectPlan};
use super::soql::{Condition, Literal, Soql};
use super::Record;

/// One object whose changes are asked for.
#[derive(Debug, Clone, Copy)]
pub struct ChangeQuery<'a> {
    pub plan: &'a ObjectPlan,
    /// Inclusive, and cut to the second by the SOQL literal: a row at the edge can come back
    /// twice but is never lost.
    pub since: DateTime<Utc>,
}

/// The answer for one [`ChangeQuery`].
#[derive(Debug, Clone, Default)]
pub struct RecentChanges {
    /// False when the object has no stamp to filter on: nothing can be asked incrementally,
    /// only a whole listing brings it up to date.
    pub incremental: bool,
    pub rows: Vec<RecentRow>,
    pub feed_activity: Vec<RecentFeedActivity>,
    /// Activity sources the org refused to list, with its answer. Some orgs refuse unfiltered
    /// feed queries to users without View All Data; the record changes still count, only the
    /// feed-only changes of those sources are missing.
    pub refused_feeds: Vec<(String, SfError)>,
}

/// A row stamped at or after the query's `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentRow {
    pub id: String,
    /// The stamp as the org sent it (SystemModstamp, or LastModifiedDate).
    pub stamp: Option<String>,
    pub deleted: bool,
}

/// A feed item, comment or other child row (email, task, event) stamped at or after the
/// query's `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentFeedActivity {
    pub id: String,
    /// The record whose feed it belongs to.
    pub parent_id: String,
    pub stamp: Option<String>,
}

/// Where one query's answers sit among the call's queries.
struct Layout<'a> {
    own: usize,
    stamp_field: &'a str,
    feeds: Vec<(usize, &'a ActivitySource)>,
    /// Child activity queries; their parent field may point at other objects too (a Task's
    /// polymorphic WhatId), so rows are kept only when the parent has this object's prefix.
    children: Vec<(usize, &'a ActivitySource)>,
    key_prefix: Option<&'a str>,
}

type Answers = Vec<Option<Result<Vec<Record>, SfError>>>;

impl SalesforceClient {
    /// What changed in each queried object, one answer per query in order. The outer error
    /// means no answer came at all (the composite call failed); an object whose own query
    /// the org refused gets that error. A refusal as built from the cached describes
    /// (INVALID_FIELD, INVALID_TYPE) drops the caches, so the next plan describes again.
    pub async fn changes_since(
        &self,
        queries: &[ChangeQuery<'_>],
    ) -> Result<Vec<Result<RecentChanges, SfError>>, SfError> {
        let mut soqls: Vec<String> = Vec::new();
        let layouts: Vec<Option<Layout>> = queries
            .iter()
            .map(|query| lay_out(query, &mut soqls))
            .collect();
        let mut answers: Answers = if soqls.is_empty() {
            Vec::new()
        } else {
            self.composite_queries(&soqls, true)
                .await?
                .into_iter()
                .map(Some)
                .collect()
        };
        Ok(layouts
            .into_iter()
            .map(|layout| match layout {
                None => Ok(RecentChanges::default()),
                Some(layout) => self.collect(layout, &mut answers),
            })
            .collect())
    }

    fn collect(&self, layout: Layout<'_>, answers: &mut Answers) -> Result<RecentChanges, SfError> {
        let rows = match answers[layout.own].take().unwrap_or(Ok(Vec::new())) {
            Ok(rows) => rows,
            Err(error) => {
                if matches!(
                    error,
                    SfError::InvalidField { .. } | SfError::InvalidType { .. }
                ) {
                    self.forget_schema();
                }
                return Err(error);
            }
        };
        let mut changes = RecentChanges {
            incremental: true,
            rows: rows
                .iter()
                .filter_map(|row| {
                    Some(RecentRow {
                        id: text(row, "Id")?,
                        stamp: text(row, layout.stamp_field),
                        deleted: row.get("IsDeleted").and_then(Value::as_bool) == Some(true),
                    })
                })
                .collect(),
            ..RecentChanges::default()
        };
        for (index, source) in layout.feeds {
            match answers[index].take().unwrap_or(Ok(Vec::new())) {
                Ok(rows) => changes.feed_activity.extend(rows.iter().filter_map(|row| {
                    Some(RecentFeedActivity {
                        id: text(row, "Id")?,
                        parent_id: text(row, &source.parent_field)?,
                        stamp: text(row, &source.modstamp_field),
                    })
                })),
                Err(error) => changes.refused_feeds.push((source.object.clone(), error)),
            }
        }
        let ours = |parent: &str| {
            layout
                .key_prefix
                .is_none_or(|prefix| parent.get(..prefix.len()) == Some(prefix))
        };
        for (index, source) in layout.children {
            match answers[index].take().unwrap_or(Ok(Vec::new())) {
                Ok(rows) => changes.feed_activity.extend(rows.iter().filter_map(|row| {
                    let parent_id = text(row, &source.parent_field).filter(|p| ours(p))?;
                    Some(RecentFeedActivity {
                        id: text(row, "Id")?,
                        parent_id,
                        stamp: text(row, &source.modstamp_field),
                    })
                })),
                Err(error) => changes.refused_feeds.push((source.object.clone(), error)),
            }
        }
        Ok(changes)
    }
}

/// Appends the queries of `query` to `soqls` and says where they are; None when the object
/// has no stamp to filter on.
fn lay_out<'a>(query: &ChangeQuery<'a>, soqls: &mut Vec<String>) -> Option<Layout<'a>> {
    let plan = query.plan;
    let stamp_field = plan.modstamp_field()?;
    let since = Condition::ge(stamp_field, Literal::DateTime(query.since));
    let mut fields = vec!["Id", stamp_field];
    if plan
        .fields
        .iter()
        .any(|f| f.eq_ignore_ascii_case("IsDeleted"))
    {
        fields.push("IsDeleted");
    }
    soqls.push(
        Soql::select(fields)
            .from(&plan.object)
            .where_(since)
            .build(),
    );
    let mut layout = Layout {
        own: soqls.len() - 1,
        stamp_field,
        feeds: Vec::new(),
        children: Vec::new(),
        key_prefix: plan.key_prefix.as_deref(),
    };
    for source in plan
        .feed_comments
        .iter()
        .flat_map(|comments| comments.activity_sources.iter())
    {
        soqls.push(activity_query(source, query.since));
        layout.feeds.push((soqls.len() - 1, source));
    }
    for source in &plan.child_activity {
        soqls.push(activity_query(source, query.since));
        layout.children.push((soqls.len() - 1, source));
    }
    Some(layout)
}

/// `SELECT Id, <parent>, <stamp> FROM <object> WHERE <stamp> >= since [AND <rel>.Type =
/// '<parent object>']`.
fn activity_query(source: &ActivitySource, since: DateTime<Utc>) -> String {
    let mut condition = Condition::ge(&source.modstamp_field, Literal::DateTime(since));
    if let Some((relationship, object)) = &source.parent_type {
        condition = condition.and(Condition::eq(
            format!("{relationship}.Type"),
            Literal::string(object.clone()),
        ));
    }
    Soql::select([
        "Id",
        source.parent_field.as_str(),
        source.modstamp_field.as_str(),
    ])
    .from(&source.object)
    .where_(condition)
    .build()
}

fn text(row: &Record, field: &str) -> Option<String> {
    row.get(field).and_then(Value::as_str).map(str::to_string)
}
