//! What a listing of one object selects: the plan the client builds its SOQL from. Which
//! objects, relationships and subqueries a listing wants is decided above this layer
//! (`catalog::listing_plan`); this module holds the shapes.

use super::describe::SObjectDescribe;
/// A parent-to-child subquery of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryPlan {
    /// The child relationship name used in FROM (`ContentDocumentLinks`, `Feeds`).
    pub relationship: String,
    pub child_object: String,
    pub fields: Vec<String>,
    pub order_by: Vec<String>,
}

/// Children fetched by their own queries, IN-lists of parent Ids sized to the URI budget and
/// batched five per composite call, instead of a subquery: activities (Task, Event), whose
/// archived rows only `/queryAll` returns. A whole listing under queryAll would also bring
/// back deleted parents and the deleted children of every other subquery, so only these
/// queries use it, each filtered on `IsDeleted = false`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildQueryPlan {
    /// The key the rows are attached under: Salesforce's child relationship name (`Tasks`).
    pub relationship: String,
    pub object: String,
    /// The child's field holding the parent's Id (`WhatId`), filtered with IN.
    pub parent_field: String,
    /// Selected fields; `parent_field` among them, so rows can be sorted to their parent.
    pub fields: Vec<String>,
    pub order_by: Vec<String>,
    /// Run through `/queryAll` (archived rows included) with `IsDeleted = false`.
    pub include_archived: bool,
}

/// How the comments of feed items are fetched (a second level of subquery is not allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedCommentPlan {
    pub object: String,
    pub fields: Vec<String>,
    /// The field filtered with IN: `ParentId` (the record, fewest Ids) or `FeedItemId`.
    pub filter_field: String,
    /// The field linking a comment to its feed item.
    pub feed_item_field: String,
    /// Where feed activity is found for incremental fetches: (object, field holding the
    /// parent record's Id, modstamp field). A new comment does not move its case's
    /// SystemModstamp, so a refresh asks these objects which parents had activity.
    pub activity_sources: Vec<ActivitySource>,
}

/// An object whose recent rows name parent records to refetch.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivitySource {
    pub object: String,
    pub parent_field: String,
    pub modstamp_field: String,
    /// For a polymorphic parent field (a Task's `WhatId`): the relationship and the parent
    /// object whose rows are wanted (`What`, `Case`), filtered as `What.Type = 'Case'` so the
    /// org does not send the activity of every other kind of record.
    pub parent_type: Option<(String, String)>,
}

impl ActivitySource {
    /// The activity source of `describe` whose rows name their parent in `parent_field`, with
    /// the first filterable stamp the object has; None when either is missing.
    pub fn from_describe(describe: &SObjectDescribe, parent_field: &str) -> Option<ActivitySource> {
        let parent = describe
            .field(parent_field)
            .filter(|f| !f.deprecated_and_hidden)?;
        let modstamp = ["SystemModstamp", "LastModifiedDate", "CreatedDate"]
            .iter()
            .find_map(|n| {
                describe
                    .field(n)
                    .filter(|f| f.filterable && !f.deprecated_and_hidden)
            })?;
        Some(ActivitySource {
            object: describe.name.clone(),
            parent_field: parent.name.clone(),
            modstamp_field: modstamp.name.clone(),
            parent_type: None,
        })
    }
}

/// Which fields, relationship fields and subqueries a listing of `object` selects.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPlan {
    pub object: String,
    pub label: String,
    pub key_prefix: Option<String>,
    pub custom: bool,
    /// Scalar fields selected, in describe order (readable, not hidden, not base64).
    pub fields: Vec<String>,
    /// `Owner.Name`-style paths whose relationship and parent field exist.
    pub relationship_fields: Vec<String>,
    /// Child relationship names of the subqueries.
    pub subqueries: Vec<String>,
    pub name_field: Option<String>,
    pub has_system_modstamp: bool,
    /// `calculated` fields: their values can change without SystemModstamp moving.
    pub formula_fields: Vec<String>,
    /// The full subqueries behind `subqueries`.
    pub subquery_plans: Vec<SubqueryPlan>,
    /// Set when records carry `Feeds` whose items get `FeedComments`.
    pub feed_comments: Option<FeedCommentPlan>,
    /// Children attached after each page by their own batched queries (a Case's `Tasks` and
    /// `Events`), in plan order after the subqueries.
    pub child_queries: Vec<ChildQueryPlan>,
    /// Children whose new, changed or deleted rows do not move the parent's stamp but change
    /// its file (a Case's EmailMessage, Task, Event): a refresh asks them which parents had
    /// activity, as it asks the feed sources.
    pub child_activity: Vec<ActivitySource>,
}

impl ObjectPlan {
    /// The field incremental refreshes filter on: SystemModstamp, or LastModifiedDate.
    pub fn modstamp_field(&self) -> Option<&str> {
        if self.has_system_modstamp {
            Some("SystemModstamp")
        } else {
            self.fields
                .iter()
                .find(|f| f.eq_ignore_ascii_case("LastModifiedDate"))
                .map(String::as_str)
        }
    }

    /// The relationship name of the Feeds subquery, when the plan has one.
    pub fn feeds_relationship(&self) -> Option<&str> {
        self.feed_comments.as_ref()?;
        self.subquery_plans
            .iter()
            .find(|s| s.relationship.eq_ignore_ascii_case("Feeds"))
            .map(|s| s.relationship.as_str())
    }
}
