//! Checking a parsed query against the schema: names resolved to canonical fields,
//! literals typed against the fields they are compared with, restrictions enforced.
//! The result (a [`Plan`]) owns everything it needs, so an [`super::Execution`] can keep
//! it for later pages without borrowing the data source.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Utc};

use super::ast::{
    CompareOp, Expr, FieldPath, InList, LikePart, Literal, Query, RelativeDate, SelectItem,
};
use super::parser::caret_error;
use super::{eval, ExecOptions, SoqlError};
use crate::fake_org::model::{DataSource, FieldDef, FieldType, ObjectDef};
use crate::sfid;

mod filter;

/// Child-to-parent hops allowed in one field path, as on a real org.
pub const MAX_RELATIONSHIP_HOPS: usize = 5;

/// The fields of the `Name` pseudo-object that stands for the target of a polymorphic
/// lookup (Case.Owner may be a User or a Queue) when a query does not use TYPEOF.
const NAME_PSEUDO_FIELDS: &[(&str, FieldType)] = &[
    ("Id", FieldType::Id),
    ("Name", FieldType::String),
    ("Alias", FieldType::String),
    ("Email", FieldType::Email),
    ("FirstName", FieldType::String),
    ("LastName", FieldType::String),
    ("Type", FieldType::Picklist),
    ("Username", FieldType::String),
    ("IsActive", FieldType::Boolean),
    ("Title", FieldType::String),
    ("Phone", FieldType::Phone),
    ("UserRoleId", FieldType::Reference),
    ("ProfileId", FieldType::Reference),
];

/// One child-to-parent step: follow `reference_field`, shown as `relationship`.
#[derive(Debug, Clone)]
pub struct Hop {
    pub reference_field: String,
    pub relationship: String,
    /// The lookup has several possible targets; the nested object is typed `Name`.
    pub polymorphic: bool,
}

/// A field reached from the queried object through zero or more parent hops.
#[derive(Debug, Clone)]
pub struct ResolvedField {
    pub hops: Vec<Hop>,
    /// The field's definition; behind a polymorphic hop, the `Name` pseudo-field (the
    /// value is then read from the real target record).
    pub field: FieldDef,
}

impl ResolvedField {
    pub fn behind_polymorphic(&self) -> bool {
        self.hops.last().is_some_and(|h| h.polymorphic)
    }

    fn canonical_path(&self) -> String {
        let mut parts: Vec<&str> = self.hops.iter().map(|h| h.relationship.as_str()).collect();
        parts.push(&self.field.name);
        parts.join(".")
    }
}

/// A typed value a field is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Null,
    Bool(bool),
    Number(f64),
    /// Text compared case-insensitively; held lower-cased.
    Text(String),
    /// A fixed-width string compared as is: a date `2024-01-15` or a datetime in the
    /// stored UTC form `2024-01-15T10:30:00.000+0000` (so string order is time order).
    Ordered(String),
    /// A relative date literal: `[start, end)` in the same fixed-width form.
    Range(String, String),
}

/// A WHERE condition with every name and literal resolved.
#[derive(Debug, Clone)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Compare {
        field: ResolvedField,
        op: CompareOp,
        value: Operand,
    },
    Like {
        field: ResolvedField,
        /// Lower-cased: LIKE is case-insensitive.
        pattern: Vec<LikePart>,
    },
    In {
        field: ResolvedField,
        negated: bool,
        values: Vec<Operand>,
        /// The lower-cased values when all are text, so a long list costs one hash
        /// lookup per row instead of a comparison per value.
        text_set: Option<HashSet<String>>,
    },
    /// `=` / `IN` on an Id or lookup field: Ids in 18-character form, in the order
    /// written (for deterministic index lookups) and as a set (for the scan).
    IdIn {
        field: ResolvedField,
        negated: bool,
        ordered: Vec<String>,
        set: HashSet<String>,
        matches_null: bool,
    },
    Includes {
        field: ResolvedField,
        excludes: bool,
        /// Each entry is a set of lower-cased values that must all be present.
        sets: Vec<Vec<String>>,
    },
}

#[derive(Debug, Clone)]
pub struct SortSpec {
    pub field: ResolvedField,
    pub descending: bool,
    pub nulls_first: bool,
}

/// What a row shows, in SELECT order.
#[derive(Debug, Clone)]
pub enum Column {
    Field(FieldDef),
    Parent { hop: Hop, columns: Vec<Column> },
    Subquery(Box<SubPlan>),
}

/// A parent-to-child subquery.
#[derive(Debug, Clone)]
pub struct SubPlan {
    /// The relationship name in canonical casing, the key in the parent row.
    pub relationship: String,
    pub parent_field: String,
    pub plan: Plan,
}

/// A resolved query over one object.
#[derive(Debug, Clone)]
pub struct Plan {
    pub object: String,
    pub is_count: bool,
    pub columns: Vec<Column>,
    pub filter: Option<Cond>,
    pub order: Vec<SortSpec>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

pub struct Planner<'a> {
    pub ds: &'a dyn DataSource,
    pub soql: &'a str,
    /// queryAll: soft-deleted rows count too (semi-joins run with the same setting).
    pub include_deleted: bool,
    /// Relative date literals are relative to this UTC day.
    pub today: NaiveDate,
}

const CUSTOM_FIELD_HINT: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_RELATIONSHIP_HINT: &str = "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_OBJECT_HINT: &str = "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.";

impl<'a> Planner<'a> {
    pub fn new(ds: &'a dyn DataSource, soql: &'a str, opts: &ExecOptions) -> Self {
        Planner {
            ds,
            soql,
            include_deleted: opts.include_deleted,
            today: Utc::now().date_naive(),
        }
    }

    fn error(&self, code: &str, pos: usize, text: &str) -> SoqlError {
        caret_error(code, self.soql, pos, text)
    }

    /// The queryable object named after a top-level FROM.
    pub fn object(&self, name: &str, pos: usize) -> Result<&'a ObjectDef, SoqlError> {
        match self.ds.object(name) {
            Some(object) if object.queryable => Ok(object),
            _ => Err(self.error(
                "INVALID_TYPE",
                pos,
                &format!("sObject type '{name}' is not supported. {CUSTOM_OBJECT_HINT}"),
            )),
        }
    }

    /// Resolves a top-level query.
    pub fn plan_top(&self, query: &Query) -> Result<Plan, SoqlError> {
        let object = self.object(&query.from.text, query.from.pos)?;
        let plan = self.plan(query, object, true)?;
        check_required_filter(object, &plan)?;
        Ok(plan)
    }

    fn plan(&self, query: &Query, object: &ObjectDef, top_level: bool) -> Result<Plan, SoqlError> {
        let is_count = query.is_count();
        let mut columns = Vec::new();
        let mut seen = HashSet::new();
        for item in &query.select {
            match item {
                SelectItem::Count => {
                    if query.select.len() > 1 || !top_level {
                        return Err(self.error(
                            "MALFORMED_QUERY",
                            query.from.pos,
                            "COUNT() must be the only element in the SELECT list",
                        ));
                    }
                }
                SelectItem::Field(path) => {
                    let resolved = self.resolve(object, path)?;
                    let canonical = resolved.canonical_path();
                    if !seen.insert(canonical.to_ascii_lowercase()) {
                        return Err(self.error(
                            "MALFORMED_QUERY",
                            path.pos,
                            &format!("duplicate field selected: {canonical}"),
                        ));
                    }
                    insert_column(&mut columns, &resolved.hops, resolved.field);
                }
                SelectItem::Subquery(sub) => {
                    let sub_plan = self.plan_subquery(object, sub, query)?;
                    if !seen.insert(sub_plan.relationship.to_ascii_lowercase()) {
                        return Err(self.error(
                            "MALFORMED_QUERY",
                            sub.from.pos,
                            &format!("duplicate field selected: {}", sub_plan.relationship),
                        ));
                    }
                    columns.push(Column::Subquery(Box::new(sub_plan)));
                }
            }
        }
        let filter = match &query.where_clause {
            Some(expr) => Some(self.condition(object, expr)?),
            None => None,
        };
        let mut order = Vec::new();
        for item in &query.order_by {
            let field = self.resolve(object, &item.field)?;
            if !field.field.sortable || field.field.field_type == FieldType::Address {
                return Err(self.error(
                    "INVALID_FIELD",
                    item.field.pos,
                    &format!(
                        "field '{}' can not be sorted in a query call",
                        field.field.name
                    ),
                ));
            }
            order.push(SortSpec {
                field,
                descending: item.descending,
                nulls_first: item.nulls_first(),
            });
        }
        Ok(Plan {
            object: object.name.clone(),
            is_count,
            columns,
            filter,
            order,
            limit: query.limit,
            offset: query.offset,
        })
    }

    fn plan_subquery(
        &self,
        parent: &ObjectDef,
        sub: &Query,
        outer: &Query,
    ) -> Result<SubPlan, SoqlError> {
        let not_understood = || {
            self.error(
                "INVALID_TYPE",
                sub.from.pos,
                &format!(
                    "Didn't understand relationship '{}' in FROM part of query call. {CUSTOM_RELATIONSHIP_HINT}",
                    sub.from.text
                ),
            )
        };
        let relationship = parent
            .child_relationship(&sub.from.text)
            .ok_or_else(not_understood)?;
        let child = self
            .ds
            .object(&relationship.child_object)
            .ok_or_else(not_understood)?;
        if sub.offset.is_some() && outer.limit != Some(1) {
            return Err(self.error(
                "MALFORMED_QUERY",
                sub.from.pos,
                "OFFSET in a subquery is only allowed when the outer query has LIMIT 1",
            ));
        }
        let plan = self.plan(sub, child, false)?;
        Ok(SubPlan {
            relationship: relationship
                .relationship_name
                .clone()
                .unwrap_or_else(|| sub.from.text.clone()),
            parent_field: relationship.field.clone(),
            plan,
        })
    }

    /// Resolves `Account.Owner.Email` from `object`, case-insensitively.
    pub fn resolve(
        &self,
        object: &ObjectDef,
        path: &FieldPath,
    ) -> Result<ResolvedField, SoqlError> {
        let mut segments: &[String] = &path.segments;
        // `SELECT Account.Name FROM Account` is valid SOQL: the object name may prefix a path.
        if segments.len() > 1
            && segments[0].eq_ignore_ascii_case(&object.name)
            && object.field_by_relationship(&segments[0]).is_none()
        {
            segments = &segments[1..];
        }
        let (last, relationships) = segments
            .split_last()
            .ok_or_else(|| self.error("MALFORMED_QUERY", path.pos, "empty field path"))?;
        let mut current = object;
        let mut hops: Vec<Hop> = Vec::new();
        for relationship in relationships {
            let bad_relationship = || {
                self.error(
                    "INVALID_FIELD",
                    path.pos,
                    &format!(
                        "Didn't understand relationship '{relationship}' in field path. {CUSTOM_RELATIONSHIP_HINT}"
                    ),
                )
            };
            if hops.last().is_some_and(|h| h.polymorphic) {
                return Err(bad_relationship());
            }
            if hops.len() == MAX_RELATIONSHIP_HOPS {
                return Err(self.error(
                    "MALFORMED_QUERY",
                    path.pos,
                    &format!(
                        "A field path can follow at most {MAX_RELATIONSHIP_HOPS} relationships: {}",
                        path.dotted()
                    ),
                ));
            }
            let field = current
                .field_by_relationship(relationship)
                .filter(|f| !f.reference_to.is_empty())
                .ok_or_else(bad_relationship)?;
            let polymorphic = field.reference_to.len() > 1;
            hops.push(Hop {
                reference_field: field.name.clone(),
                relationship: field
                    .relationship_name
                    .clone()
                    .unwrap_or_else(|| relationship.clone()),
                polymorphic,
            });
            if !polymorphic {
                current = self
                    .ds
                    .object(&field.reference_to[0])
                    .ok_or_else(bad_relationship)?;
            }
        }
        let no_such_column = |entity: &str| {
            self.error(
                "INVALID_FIELD",
                path.pos,
                &format!("No such column '{last}' on entity '{entity}'. {CUSTOM_FIELD_HINT}"),
            )
        };
        let field = if hops.last().is_some_and(|h| h.polymorphic) {
            name_pseudo_field(last).ok_or_else(|| no_such_column("Name"))?
        } else {
            current
                .field(last)
                .cloned()
                .ok_or_else(|| no_such_column(&current.name))?
        };
        Ok(ResolvedField { hops, field })
    }
}

/// ContentDocumentLink and similar objects must be filtered by one of their key fields
/// with `=` or `IN` at the top level of the WHERE clause.
fn check_required_filter(object: &ObjectDef, plan: &Plan) -> Result<(), SoqlError> {
    if object.required_filter_fields.is_empty() {
        return Ok(());
    }
    let satisfies = |cond: &Cond| match cond {
        Cond::IdIn { field, negated, .. } => {
            !negated
                && field.hops.is_empty()
                && object
                    .required_filter_fields
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(&field.field.name))
        }
        _ => false,
    };
    let ok = match &plan.filter {
        Some(Cond::And(terms)) => terms.iter().any(satisfies),
        Some(cond) => satisfies(cond),
        None => false,
    };
    if ok {
        return Ok(());
    }
    let mut named: Vec<&str> = object
        .required_filter_fields
        .iter()
        .map(String::as_str)
        .filter(|f| !f.eq_ignore_ascii_case("Id"))
        .collect();
    named.sort_unstable();
    Err(SoqlError::new(
        "MALFORMED_QUERY",
        format!(
            "Implementation restriction: {} requires a filter by a single Id on {} using the equals operator or multiple Id's using the IN operator.",
            object.name,
            named.join(" or ")
        ),
    ))
}

fn is_id_like(field: &FieldDef) -> bool {
    matches!(field.field_type, FieldType::Id | FieldType::Reference)
}

/// Builds the Id-set condition; operands are already normalized Ids or Null.
fn id_in(field: ResolvedField, negated: bool, operands: Vec<Operand>) -> Cond {
    let mut ordered = Vec::new();
    let mut set = HashSet::new();
    let mut matches_null = false;
    for operand in operands {
        match operand {
            Operand::Ordered(id) => {
                if set.insert(id.clone()) {
                    ordered.push(id);
                }
            }
            _ => matches_null = true,
        }
    }
    Cond::IdIn {
        field,
        negated,
        ordered,
        set,
        matches_null,
    }
}

fn lowercase_part(part: &LikePart) -> LikePart {
    match part {
        LikePart::Char(c) => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => LikePart::Char(l),
                _ => LikePart::Char(*c),
            }
        }
        other => *other,
    }
}

pub fn split_multipicklist(value: &str) -> Vec<String> {
    value
        .split(';')
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The 18-character form of a 15- or 18-character Id written in any letter case
/// (the 18-character suffix records the case of the first 15), or `None`.
pub fn normalize_id(id: &str) -> Option<String> {
    match id.len() {
        15 => sfid::to_18(id),
        18 if id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            if sfid::is_valid_18(id) {
                return Some(id.to_string());
            }
            const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
            let (head, tail) = id.split_at(15);
            let mut restored = String::with_capacity(18);
            for (chunk, check) in head.as_bytes().chunks(5).zip(tail.bytes()) {
                let bits = ALPHABET
                    .iter()
                    .position(|&a| a == check.to_ascii_uppercase())?;
                for (i, &c) in chunk.iter().enumerate() {
                    restored.push(if bits & (1 << i) != 0 {
                        c.to_ascii_uppercase() as char
                    } else {
                        c.to_ascii_lowercase() as char
                    });
                }
            }
            sfid::to_18(&restored)
        }
        _ => None,
    }
}

fn name_pseudo_field(name: &str) -> Option<FieldDef> {
    let (canonical, field_type) = NAME_PSEUDO_FIELDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    Some(FieldDef {
        name: canonical.to_string(),
        label: canonical.to_string(),
        field_type: *field_type,
        length: 0,
        reference_to: Vec::new(),
        relationship_name: None,
        nillable: true,
        custom: false,
        calculated: false,
        filterable: true,
        sortable: true,
        compound_field_name: None,
        name_field: *canonical == "Name",
        hidden: false,
        picklist_values: Vec::new(),
    })
}

/// Adds a selected field to the column tree, merging paths that share relationships so
/// that `Owner.Name, Owner.Email` give one nested `Owner` object.
fn insert_column(columns: &mut Vec<Column>, hops: &[Hop], field: FieldDef) {
    let Some((hop, rest)) = hops.split_first() else {
        columns.push(Column::Field(field));
        return;
    };
    let existing = columns.iter_mut().find_map(|c| match c {
        Column::Parent { hop: h, columns } if h.relationship == hop.relationship => Some(columns),
        _ => None,
    });
    match existing {
        Some(children) => insert_column(children, rest, field),
        None => {
            let mut children = Vec::new();
            insert_column(&mut children, rest, field);
            columns.push(Column::Parent {
                hop: hop.clone(),
                columns: children,
            });
        }
    }
}

/// `date` moved by `days`, saturating at chrono's calendar limits (LAST_N_DAYS:4000000000
/// is valid SOQL and must not overflow).
fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(Duration::days(days))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// `YYYY-MM-DD`, clamped to years 0000-9999 so that string order stays date order
/// (a saturated LAST_N_DAYS range would otherwise print a sign before the year).
fn fixed_width_date(date: NaiveDate) -> String {
    let clamped = date.clamp(
        NaiveDate::from_ymd_opt(0, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX),
    );
    clamped.format("%Y-%m-%d").to_string()
}

fn midnight(date: NaiveDate) -> String {
    format!("{}T00:00:00.000+0000", fixed_width_date(date))
}

fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(date)
}

/// `[start, end)` of a relative date literal. Weeks start on Sunday, as in the default
/// (en_US) locale of a Salesforce org; days are UTC days.
pub fn relative_range(literal: RelativeDate, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let day = Duration::days(1);
    let week_start = today - Duration::days(i64::from(today.weekday().num_days_from_sunday()));
    let month_start = today.with_day(1).unwrap_or(today);
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let year = |offset: i32| {
        let start = NaiveDate::from_ymd_opt(today.year() + offset, 1, 1).unwrap_or(year_start);
        (start, add_months(start, 12))
    };
    match literal {
        RelativeDate::Today => (today, today + day),
        RelativeDate::Yesterday => (today - day, today),
        RelativeDate::Tomorrow => (today + day, today + day * 2),
        RelativeDate::ThisWeek => (week_start, week_start + day * 7),
        RelativeDate::LastWeek => (week_start - day * 7, week_start),
        RelativeDate::NextWeek => (week_start + day * 7, week_start + day * 14),
        RelativeDate::ThisMonth => (month_start, add_months(month_start, 1)),
        RelativeDate::LastMonth => (add_months(month_start, -1), month_start),
        RelativeDate::NextMonth => (add_months(month_start, 1), add_months(month_start, 2)),
        RelativeDate::ThisYear => year(0),
        RelativeDate::LastYear => year(-1),
        RelativeDate::NextYear => year(1),
        RelativeDate::Last90Days => (today - day * 90, today + day),
        RelativeDate::Next90Days => (today + day, today + day * 91),
        RelativeDate::LastNDays(n) => (shift(today, -i64::from(n)), today + day),
        RelativeDate::NextNDays(n) => (today + day, shift(today, 1 + i64::from(n))),
    }
}
