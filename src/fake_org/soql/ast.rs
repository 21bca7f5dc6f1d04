//! The parsed form of a SOQL query, before it is checked against a schema.
//!
//! Names are kept as written (any casing); the evaluator resolves them case-insensitively
//! and echoes canonical casing. Positions are byte offsets into the query text, kept so
//! that schema errors can point a caret at the offending word as Salesforce does.

use chrono::{DateTime, FixedOffset, NaiveDate};

/// One `SELECT ... FROM ...` statement (top level, subquery or semi-join).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    /// The object (top level) or child relationship (subquery) named after FROM.
    pub from: Name,
    pub where_clause: Option<Expr>,
    pub order_by: Vec<OrderBy>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl Query {
    /// True for `SELECT COUNT() FROM ...`.
    pub fn is_count(&self) -> bool {
        self.select
            .iter()
            .any(|item| matches!(item, SelectItem::Count))
    }
}

/// A word of the query with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    /// Byte offset in the query text.
    pub pos: usize,
}

/// A field, possibly reached through parent relationships: `Account.Owner.Email` is
/// `["Account", "Owner", "Email"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub segments: Vec<String>,
    /// Byte offset of the first segment in the query text.
    pub pos: usize,
}

impl FieldPath {
    /// The path as written, dot-separated.
    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Field(FieldPath),
    /// `COUNT()`: the query answers only a row count.
    Count,
    /// A parent-to-child subquery, `(SELECT ... FROM Contacts ...)`.
    Subquery(Box<Query>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One character class of a LIKE pattern, after SOQL escapes are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikePart {
    Char(char),
    /// `_`: exactly one character.
    AnyOne,
    /// `%`: any run of characters, possibly empty.
    AnyMany,
}

/// A date literal relative to today (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelativeDate {
    Today,
    Yesterday,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    ThisYear,
    LastYear,
    NextYear,
    Last90Days,
    Next90Days,
    /// `LAST_N_DAYS:n`: today and the n days before it.
    LastNDays(u32),
    /// `NEXT_N_DAYS:n`: today and the n days after it.
    NextNDays(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// A number as written, with its value.
    Number(f64),
    /// A quoted string with its escapes applied.
    String(String),
    /// An unquoted date, `2024-01-15`.
    Date(NaiveDate),
    /// An unquoted datetime, `2024-01-15T10:30:00Z` or with an offset.
    DateTime(DateTime<FixedOffset>),
    Relative(RelativeDate),
}

/// The right side of `IN` / `NOT IN`.
#[derive(Debug, Clone, PartialEq)]
pub enum InList {
    Values(Vec<Literal>),
    /// A semi-join, `Id IN (SELECT AccountId FROM Contact ...)`.
    Subquery(Box<Query>),
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        field: FieldPath,
        op: CompareOp,
        value: Literal,
        /// Byte offset of the value, for type errors.
        value_pos: usize,
    },
    Like {
        field: FieldPath,
        pattern: Vec<LikePart>,
    },
    In {
        field: FieldPath,
        negated: bool,
        list: InList,
        value_pos: usize,
    },
    /// Multi-select picklist `INCLUDES` / `EXCLUDES`: each entry is a set of values
    /// (`'a;b'` means both a and b).
    Includes {
        field: FieldPath,
        excludes: bool,
        values: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub field: FieldPath,
    pub descending: bool,
    /// `None` when not written: nulls then come first for ASC and last for DESC.
    pub nulls_first: Option<bool>,
}

impl OrderBy {
    /// Where nulls go, with Salesforce's default when the query does not say.
    pub fn nulls_first(&self) -> bool {
        self.nulls_first.unwrap_or(!self.descending)
    }
}
