//! What a listing of one object selects: which parent relationships it resolves, which
//! objects carry their feed, emails and activities, which file metadata comes with attached
//! documents. These are
//! the product's choices; the client only builds and runs the SOQL of the plan made here.
//! Plans are read from the client's describe caches and cached with them, so they cost
//! describes only the first time (and again after the org's schema changed).

use std::sync::Arc;

use super::content::{
    EMAIL_MESSAGE_FIELDS, EMAIL_ORDER, EVENT_FIELDS, EVENT_ORDER, TASK_FIELDS, TASK_ORDER,
};
use crate::salesforce::{
    ActivitySource, ChildQueryPlan, DescribeGlobal, FeedCommentPlan, ObjectPlan, SObjectDescribe,
    SalesforceClient, SfError, SubqueryPlan, NAME_PSEUDO_OBJECT_FIELDS,
};

/// Parent relationships worth resolving, with the fields wanted from the parent. A field is
/// kept only when the parent has it (or, for polymorphic lookups, the `Name` pseudo-object).
const PARENT_RELATIONSHIPS: [(&str, &[&str]); 6] = [
    ("Owner", &["Id", "Name", "Email"]),
    ("CreatedBy", &["Id", "Name", "Email"]),
    ("LastModifiedBy", &["Id", "Name"]),
    ("Parent", &["Id", "Name"]),
    ("Account", &["Id", "Name"]),
    ("Contact", &["Id", "Name", "Email"]),
];

/// Objects whose records carry their feed (the product shows Case feeds).
const OBJECTS_WITH_FEEDS: [&str; 1] = ["Case"];

/// Objects whose records carry their emails, tasks and events (the whole Case).
const OBJECTS_WITH_ACTIVITIES: [&str; 1] = ["Case"];

/// Parent fields shown with each task and event: who it is with, who owns it.
const ACTIVITY_PARENTS: [(&str, &[&str]); 2] = [("Who", &["Name"]), ("Owner", &["Name"])];

/// File metadata shown with each attached document.
const CONTENT_DOCUMENT_FIELDS: [&str; 5] = [
    "Title",
    "FileExtension",
    "ContentSize",
    "LatestPublishedVersionId",
    "LastModifiedDate",
];

/// Which fields, relationship fields and subqueries a listing of `object` selects, from the
/// cached describes. Computed once per object.
pub async fn listing_plan(
    client: &SalesforceClient,
    object: &str,
) -> Result<Arc<ObjectPlan>, SfError> {
    client.cached_plan(object, || build(client, object)).await
}

async fn build(client: &SalesforceClient, object: &str) -> Result<ObjectPlan, SfError> {
    let global = client.describe_global().await?;
    let entry = global.find(object).ok_or_else(|| SfError::NotFound {
        what: format!("object {object} is not in this org (or not visible to the Run As user)"),
    })?;
    if !entry.queryable {
        return Err(SfError::InvalidType {
            message: format!("object {} cannot be queried", entry.name),
        });
    }
    let describe = client.describe(&entry.name).await?;
    let fields = describe.selectable_fields();
    let formula_fields = describe
        .fields
        .iter()
        .filter(|f| f.calculated && fields.contains(&f.name))
        .map(|f| f.name.clone())
        .collect();
    let mut relationship_fields = Vec::new();
    for (relationship, wanted) in PARENT_RELATIONSHIPS {
        relationship_fields
            .extend(parent_fields(client, &global, &describe, relationship, wanted).await?);
    }

    let mut subquery_plans = Vec::new();
    if let Some(links) = content_links_subquery(client, &global, &describe).await? {
        subquery_plans.push(links);
    }
    if let Some(attachments) = attachments_subquery(client, &global, &describe).await? {
        subquery_plans.push(attachments);
    }
    let mut feed_comments = None;
    if OBJECTS_WITH_FEEDS
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&describe.name))
    {
        if let Some((feeds, comments)) = feeds_subquery(client, &global, &describe).await? {
            subquery_plans.push(feeds);
            feed_comments = Some(comments);
        }
    }
    let mut child_queries = Vec::new();
    let mut child_activity = Vec::new();
    if OBJECTS_WITH_ACTIVITIES
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&describe.name))
    {
        if let Some((emails, source)) = emails_subquery(client, global.as_ref(), &describe).await? {
            subquery_plans.push(emails);
            child_activity.extend(source);
        }
        for (relationship, wanted, order) in [
            ("Tasks", &TASK_FIELDS[..], &TASK_ORDER[..]),
            ("Events", &EVENT_FIELDS[..], &EVENT_ORDER[..]),
        ] {
            let found =
                activity_query(client, &global, &describe, relationship, wanted, order).await?;
            if let Some((query, source)) = found {
                child_queries.push(query);
                child_activity.extend(source);
            }
        }
    }
    Ok(ObjectPlan {
        object: describe.name.clone(),
        label: describe.label.clone(),
        key_prefix: describe
            .key_prefix
            .clone()
            .or_else(|| entry.key_prefix.clone()),
        custom: describe.custom,
        has_system_modstamp: describe
            .field("SystemModstamp")
            .is_some_and(|f| !f.deprecated_and_hidden),
        name_field: describe.name_field().map(|f| f.name.clone()),
        // Every child relationship the records carry, whichever way it is fetched: what
        // `check` shows, and what a restarted mount compares to see the plan moved.
        subqueries: subquery_plans
            .iter()
            .map(|s| s.relationship.clone())
            .chain(child_queries.iter().map(|c| c.relationship.clone()))
            .collect(),
        fields,
        relationship_fields,
        formula_fields,
        subquery_plans,
        feed_comments,
        child_queries,
        child_activity,
    })
}

/// `Rel.Field` paths for one parent relationship of `describe`, or nothing when the
/// relationship is absent or its parent cannot be queried.
async fn parent_fields(
    client: &SalesforceClient,
    global: &DescribeGlobal,
    describe: &SObjectDescribe,
    relationship: &str,
    wanted: &[&str],
) -> Result<Vec<String>, SfError> {
    let Some(lookup) = describe.relationship(relationship) else {
        return Ok(Vec::new());
    };
    if lookup.deprecated_and_hidden {
        return Ok(Vec::new());
    }
    let rel = lookup
        .relationship_name
        .clone()
        .unwrap_or_else(|| relationship.to_string());
    if lookup.is_polymorphic() {
        return Ok(wanted
            .iter()
            .filter(|f| NAME_PSEUDO_OBJECT_FIELDS.contains(f))
            .map(|f| format!("{rel}.{f}"))
            .collect());
    }
    let Some(target) = lookup.reference_to.first() else {
        return Ok(Vec::new());
    };
    if !global.is_queryable(target) {
        return Ok(Vec::new());
    }
    let parent = client.describe(target).await?;
    let mut out: Vec<String> = Vec::new();
    for name in wanted {
        if let Some(f) = parent.field(name).filter(|f| !f.deprecated_and_hidden) {
            out.push(format!("{rel}.{}", f.name));
        } else if *name == "Name" {
            // Objects without a Name field (Case) have another name field (CaseNumber).
            if let Some(f) = parent.name_field().filter(|f| !f.deprecated_and_hidden) {
                out.push(format!("{rel}.{}", f.name));
            }
        }
    }
    Ok(out)
}

async fn content_links_subquery(
    client: &SalesforceClient,
    global: &DescribeGlobal,
    describe: &SObjectDescribe,
) -> Result<Option<SubqueryPlan>, SfError> {
    let Some(child) = describe.child_relationship("ContentDocumentLinks") else {
        return Ok(None);
    };
    if !global.is_queryable(&child.child_sobject) {
        return Ok(None);
    }
    let link = client.describe(&child.child_sobject).await?;
    let mut fields: Vec<String> = ["Id", "ContentDocumentId", "ShareType", "Visibility"]
        .iter()
        .filter_map(|n| {
            link.field(n)
                .filter(|f| !f.deprecated_and_hidden)
                .map(|f| f.name.clone())
        })
        .collect();
    if let Some(doc_lookup) = link.relationship("ContentDocument") {
        let target = doc_lookup
            .reference_to
            .first()
            .cloned()
            .unwrap_or_else(|| "ContentDocument".into());
        if global.is_queryable(&target) {
            let doc = client.describe(&target).await?;
            for name in CONTENT_DOCUMENT_FIELDS {
                if let Some(f) = doc.field(name).filter(|f| !f.deprecated_and_hidden) {
                    fields.push(format!("ContentDocument.{}", f.name));
                }
            }
        }
    }
    if fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(SubqueryPlan {
        relationship: child.relationship_name.clone().unwrap_or_default(),
        child_object: child.child_sobject.clone(),
        fields,
        order_by: Vec::new(),
    }))
}

/// Fields of a legacy Attachment the `.files` folder needs (never `Body`: its bytes are
/// fetched on read from the Body endpoint, and a query cannot return them anyway).
const ATTACHMENT_FIELDS: [&str; 5] = [
    "Id",
    "Name",
    "ContentType",
    "BodyLength",
    "LastModifiedDate",
];

/// `(SELECT Id, Name, ContentType, BodyLength, LastModifiedDate FROM Attachments)` when
/// the object has legacy Attachments the user may query; their files join the
/// ContentDocuments in the record's `.files` folder.
async fn attachments_subquery(
    client: &SalesforceClient,
    global: &DescribeGlobal,
    describe: &SObjectDescribe,
) -> Result<Option<SubqueryPlan>, SfError> {
    let Some(child) = describe.child_relationship("Attachments") else {
        return Ok(None);
    };
    if !global.is_queryable(&child.child_sobject) {
        return Ok(None);
    }
    let attachment = client.describe(&child.child_sobject).await?;
    let fields: Vec<String> = ATTACHMENT_FIELDS
        .iter()
        .filter_map(|n| {
            attachment
                .field(n)
                .filter(|f| !f.deprecated_and_hidden)
                .map(|f| f.name.clone())
        })
        .collect();
    // Without an Id or a length no file can be shown: leave the subquery out.
    if !fields.iter().any(|f| f == "Id") || !fields.iter().any(|f| f == "BodyLength") {
        return Ok(None);
    }
    Ok(Some(SubqueryPlan {
        relationship: child.relationship_name.clone().unwrap_or_default(),
        child_object: child.child_sobject.clone(),
        fields,
        order_by: Vec::new(),
    }))
}

async fn feeds_subquery(
    client: &SalesforceClient,
    global: &DescribeGlobal,
    describe: &SObjectDescribe,
) -> Result<Option<(SubqueryPlan, FeedCommentPlan)>, SfError> {
    let Some(child) = describe.child_relationship("Feeds") else {
        return Ok(None);
    };
    if !global.is_queryable(&child.child_sobject) || !global.is_queryable("FeedComment") {
        return Ok(None);
    }
    let feed = client.describe(&child.child_sobject).await?;
    let mut feed_fields = feed.selectable_fields();
    if feed.relationship("CreatedBy").is_some() {
        feed_fields.push("CreatedBy.Name".into());
    }
    let comment = client.describe("FeedComment").await?;
    let Some(feed_item_field) = comment.field("FeedItemId").map(|f| f.name.clone()) else {
        return Ok(None);
    };
    // Filtering comments by the parent record needs one Id per record instead of one per
    // feed item: fewer bytes, fewer queries.
    let filter_field = comment
        .field("ParentId")
        .filter(|f| f.filterable && !f.deprecated_and_hidden)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| feed_item_field.clone());
    let mut comment_fields = comment.selectable_fields();
    if comment.relationship("CreatedBy").is_some() {
        comment_fields.push("CreatedBy.Name".into());
    }
    let order_by = |d: &SObjectDescribe| -> Vec<String> {
        ["CreatedDate", "Id"]
            .iter()
            .filter_map(|n| {
                d.field(n)
                    .filter(|f| f.sortable || f.name == "Id")
                    .map(|f| f.name.clone())
            })
            .collect()
    };
    Ok(Some((
        SubqueryPlan {
            relationship: child.relationship_name.clone().unwrap_or_default(),
            child_object: child.child_sobject.clone(),
            fields: feed_fields,
            order_by: order_by(&feed),
        },
        FeedCommentPlan {
            object: comment.name.clone(),
            fields: comment_fields,
            activity_sources: [
                ActivitySource::from_describe(&feed, &child.field),
                ActivitySource::from_describe(&comment, "ParentId"),
            ]
            .into_iter()
            .flatten()
            .collect(),
            filter_field,
            feed_item_field,
        },
    )))
}

/// `wanted` fields the describe has (not hidden), in `wanted` order.
fn present(describe: &SObjectDescribe, wanted: &[&str]) -> Vec<String> {
    wanted
        .iter()
        .filter_map(|n| {
            describe
                .field(n)
                .filter(|f| !f.deprecated_and_hidden)
                .map(|f| f.name.clone())
        })
        .collect()
}

/// `order` fields the org can sort on, then `Id` (ties stay in a stable order).
fn sort_fields(describe: &SObjectDescribe, order: &[&str]) -> Vec<String> {
    let mut fields: Vec<String> = order
        .iter()
        .filter_map(|n| {
            describe
                .field(n)
                .filter(|f| f.sortable && !f.deprecated_and_hidden)
                .map(|f| f.name.clone())
        })
        .collect();
    fields.push("Id".into());
    fields
}

/// The `EmailMessages` subquery: emails are never archived, so a subquery brings them all
/// (its cut child lists are followed), at no extra call.
async fn emails_subquery(
    client: &SalesforceClient,
    global: &DescribeGlobal,
    describe: &SObjectDescribe,
) -> Result<Option<(SubqueryPlan, Option<ActivitySource>)>, SfError> {
    let Some(child) = describe.child_relationship("EmailMessages") else {
        return Ok(None);
    };
    if !global.is_queryable(&child.child_sobject) {
        return Ok(None);
    }
    let email = client.describe(&child.child_sobject).await?;
    let fields = present(&email, &EMAIL_MESSAGE_FIELDS);
    if fields.is_empty() {
        return Ok(None);
    }
    Ok(Some((
        SubqueryPlan {
            relationship: child.relationship_name.clone().unwrap_or_default(),
            child_object: email.name.clone(),
            fields,
            order_by: sort_fields(&email, &EMAIL_ORDER),
        },
        ActivitySource::from_describe(&email, &child.field),
    )))
}

/// A Case's `Tasks` or `Events` as a child query. Archived activities are returned only by
/// queryAll, even in a subquery, so these are not subqueries of the listing: they run
/// through queryAll on their own, filtered on `IsDeleted = false`, while the listing stays a
/// plain query (queryAll there would bring back deleted Cases and the deleted rows of every
/// other subquery).
async fn activity_query(
    client: &SalesforceClient,
    global: &DescribeGlobal,
    describe: &SObjectDescribe,
    relationship: &str,
    wanted: &[&str],
    order: &[&str],
) -> Result<Option<(ChildQueryPlan, Option<ActivitySource>)>, SfError> {
    let Some(child) = describe.child_relationship(relationship) else {
        return Ok(None);
    };
    if !global.is_queryable(&child.child_sobject) {
        return Ok(None);
    }
    let activity = client.describe(&child.child_sobject).await?;
    let Some(parent_field) = activity
        .field(&child.field)
        .filter(|f| f.filterable && !f.deprecated_and_hidden)
        .map(|f| f.name.clone())
    else {
        return Ok(None);
    };
    let mut fields = present(&activity, wanted);
    if !fields.contains(&parent_field) {
        fields.insert(fields.len().min(1), parent_field.clone());
    }
    for (parent, parent_wanted) in ACTIVITY_PARENTS {
        fields.extend(parent_fields(client, global, &activity, parent, parent_wanted).await?);
    }
    let include_archived = activity.field("IsArchived").is_some()
        && activity
            .field("IsDeleted")
            .is_some_and(|f| f.filterable && !f.deprecated_and_hidden);
    let mut source = ActivitySource::from_describe(&activity, &parent_field);
    if let (Some(source), Some(lookup)) = (source.as_mut(), activity.field(&parent_field)) {
        // WhatId can name any record: ask only for the activity of this object's records.
        if lookup.is_polymorphic() {
            if let Some(relationship) = &lookup.relationship_name {
                source.parent_type = Some((relationship.clone(), describe.name.clone()));
            }
        }
    }
    Ok(Some((
        ChildQueryPlan {
            relationship: child.relationship_name.clone().unwrap_or_default(),
            object: activity.name.clone(),
            parent_field: parent_field.clone(),
            fields,
            order_by: sort_fields(&activity, order),
            include_archived,
        },
        source,
    )))
}
