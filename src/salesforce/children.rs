//! The children of a page of records that no subquery can bring: the comments of Case feed
//! items (a subquery cannot nest a second level) and the child queries of a plan (a Case's
//! `Tasks` and `Events`, whose archived rows only `/queryAll` returns). All of a page's
//! queries go out together, five per composite call, so a page costs
//! ⌈(comment queries + child queries) ÷ 5⌉ calls, plus one per further 2,000-row page of any
//! of them. Every row is fetched: no query has a LIMIT, and each is followed to its end.

use std::collections::HashMap;

use serde_json::Value;

use super::client::{Meter, SalesforceClient};
use super::error::SfError;
use super::plan::{ChildQueryPlan, FeedCommentPlan, ObjectPlan};
use super::query::{query_path, query_what};
use super::soql::{chunk_in_list, Condition, Literal, Soql, URI_BUDGET};
use super::Record;

/// Which part of the page a query's rows belong to.
#[derive(Clone, Copy)]
enum Target {
    Comments,
    /// Index into `plan.child_queries`.
    Child(usize),
}

impl SalesforceClient {
    /// Fetches the feed comments and child-query children of `records` (one page) and
    /// attaches them: `FeedComments` on each feed item, and each child query's rows under its
    /// relationship name, in the query's order. A failed query fails the page: a Case must
    /// never silently lose part of its story.
    pub(crate) async fn attach_children(
        &self,
        plan: &ObjectPlan,
        records: &mut [Record],
        meter: &Meter,
    ) -> Result<(), SfError> {
        let feeds = plan.feeds_relationship().zip(plan.feed_comments.as_ref());
        let mut queries: Vec<(String, bool, Target)> = Vec::new();
        if let Some((feeds_key, comments)) = feeds {
            let keys = comment_keys(records, feeds_key, comments)?;
            let base = comment_query(comments, &[] as &[String]);
            for chunk in chunk_in_list(&keys, self.id_budget(&base, false)) {
                queries.push((
                    comment_query(comments, chunk).build(),
                    false,
                    Target::Comments,
                ));
            }
        }
        if !plan.child_queries.is_empty() && !records.is_empty() {
            let parents: Vec<String> = records
                .iter()
                .map(super::fetch::record_id)
                .collect::<Result<_, _>>()?;
            for (index, child) in plan.child_queries.iter().enumerate() {
                let base = child_query(child, &[] as &[String]);
                let budget = self.id_budget(&base, child.include_archived);
                for chunk in chunk_in_list(&parents, budget) {
                    queries.push((
                        child_query(child, chunk).build(),
                        child.include_archived,
                        Target::Child(index),
                    ));
                }
            }
        }
        if queries.is_empty() {
            return Ok(());
        }
        let specs: Vec<(&str, bool)> = queries
            .iter()
            .map(|(soql, all, _)| (soql.as_str(), *all))
            .collect();
        let firsts = self.composite_first_pages_mixed(&specs, meter).await?;
        let mut comments_by_item: HashMap<String, Vec<Value>> = HashMap::new();
        let mut children: Vec<HashMap<String, Vec<Value>>> =
            vec![HashMap::new(); plan.child_queries.len()];
        for ((soql, _, target), first) in queries.iter().zip(firsts) {
            let rows = self.drain(first?, query_what(soql), meter).await?;
            let (by_key, key_field) = match *target {
                Target::Comments => (
                    &mut comments_by_item,
                    feeds.map_or("", |(_, c)| c.feed_item_field.as_str()),
                ),
                Target::Child(index) => (
                    &mut children[index],
                    plan.child_queries[index].parent_field.as_str(),
                ),
            };
            for row in rows {
                let Some(key) = row.get(key_field).and_then(Value::as_str) else {
                    continue;
                };
                by_key
                    .entry(key.to_string())
                    .or_default()
                    .push(Value::Object(row));
            }
        }
        for record in records.iter_mut() {
            if let Some((feeds_key, _)) = feeds {
                attach_comments(record, feeds_key, &mut comments_by_item);
            }
            let id = record
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            for (child, rows) in plan.child_queries.iter().zip(children.iter_mut()) {
                let rows = rows.remove(&id).unwrap_or_default();
                record.insert(child.relationship.clone(), Value::Array(rows));
            }
        }
        Ok(())
    }

    /// Bytes left for an IN-list in `base` (a query with an empty list).
    fn id_budget(&self, base: &Soql, include_deleted: bool) -> usize {
        URI_BUDGET.saturating_sub(query_path(self, &base.build(), include_deleted).len())
    }
}

/// The Ids comments are filtered on: the records' own (one per record with feed items) when
/// the plan filters by ParentId, else every feed item's.
fn comment_keys(
    records: &[Record],
    feeds_key: &str,
    plan: &FeedCommentPlan,
) -> Result<Vec<String>, SfError> {
    let by_parent = plan.filter_field.eq_ignore_ascii_case("ParentId");
    let mut keys: Vec<String> = Vec::new();
    for record in records {
        let items = record.get(feeds_key).and_then(Value::as_array);
        let Some(items) = items.filter(|i| !i.is_empty()) else {
            continue;
        };
        if by_parent {
            keys.push(super::fetch::record_id(record)?);
        } else {
            for item in items {
                if let Some(id) = item.get("Id").and_then(Value::as_str) {
                    keys.push(id.to_string());
                }
            }
        }
    }
    Ok(keys)
}

fn attach_comments(
    record: &mut Record,
    feeds_key: &str,
    by_item: &mut HashMap<String, Vec<Value>>,
) {
    if let Some(Value::Array(items)) = record.get_mut(feeds_key) {
        for item in items.iter_mut() {
            if let Value::Object(item) = item {
                let id = item
                    .get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let comments = by_item.remove(&id).unwrap_or_default();
                item.insert("FeedComments".into(), Value::Array(comments));
            }
        }
    }
}

fn comment_query<S: AsRef<str>>(plan: &FeedCommentPlan, keys: &[S]) -> Soql {
    Soql::select(&plan.fields)
        .from(&plan.object)
        .where_(Condition::in_strings(&plan.filter_field, keys))
        .order_by("CreatedDate")
        .order_by("Id")
}

/// `SELECT <fields> FROM <object> WHERE <parent> IN (...) [AND IsDeleted = false] ORDER BY
/// <order>, Id`. Under queryAll the deleted rows are filtered out here; the archived ones
/// are what queryAll is for.
fn child_query<S: AsRef<str>>(plan: &ChildQueryPlan, parents: &[S]) -> Soql {
    let mut condition = Condition::in_strings(&plan.parent_field, parents);
    if plan.include_archived {
        condition = condition.and(Condition::eq("IsDeleted", Literal::Bool(false)));
    }
    let mut q = Soql::select(&plan.fields)
        .from(&plan.object)
        .where_(condition);
    for field in &plan.order_by {
        q = q.order_by(field);
    }
    if !plan.order_by.iter().any(|f| f.eq_ignore_ascii_case("Id")) {
        q = q.order_by("Id");
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks() -> ChildQueryPlan {
        ChildQueryPlan {
            relationship: "Tasks".into(),
            object: "Task".into(),
            parent_field: "WhatId".into(),
            fields: vec!["Id".into(), "WhatId".into(), "Subject".into()],
            order_by: vec!["CreatedDate".into()],
            include_archived: true,
        }
    }

    #[test]
    fn child_queries_leave_deleted_rows_out_and_end_ordered_by_id() {
        let soql = child_query(&tasks(), &["500A", "500B"]).build();
        assert!(soql.contains("FROM Task"), "{soql}");
        assert!(soql.contains("WhatId IN ('500A','500B')"), "{soql}");
        assert!(soql.contains("IsDeleted = false"), "{soql}");
        assert!(soql.ends_with("ORDER BY CreatedDate ASC, Id ASC"), "{soql}");
        assert!(!soql.contains("LIMIT"), "{soql}");
        let plain = ChildQueryPlan {
            include_archived: false,
            ..tasks()
        };
        assert!(!child_query(&plain, &["500A"]).build().contains("IsDeleted"));
    }
}
