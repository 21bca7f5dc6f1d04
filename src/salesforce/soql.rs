//! A fluent SOQL builder with typed literals, and the byte arithmetic that keeps a GET query
//! URI under Salesforce's limit.
//!
//! ```
//! use sfmount::salesforce::soql::{Soql, Condition, Literal};
//! let q = Soql::select(["Id", "Name", "name"])
//!     .from("Account")
//!     .where_(Condition::eq("Name", Literal::string("O'Brien")))
//!     .order_by("Id")
//!     .limit(10)
//!     .build();
//! assert_eq!(q, "SELECT Id, Name FROM Account WHERE Name = 'O\\'Brien' ORDER BY Id ASC LIMIT 10");
//! ```

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Salesforce answers 414 when the request URI passes 16,384 bytes, and 431 when URI plus
/// headers do.
pub const MAX_URI_BYTES: usize = 16_384;
/// What our own headers (Bearer token of ~112 chars, Host, Accept, User-Agent,
/// Sforce-Query-Options) take out of the 431 budget, rounded up generously.
pub const HEADER_ALLOWANCE: usize = 1_024;
/// The bytes a query URI (path plus `?q=` plus the encoded SOQL) may use.
pub const URI_BUDGET: usize = MAX_URI_BYTES - HEADER_ALLOWANCE;

/// Everything but RFC 3986 unreserved characters is percent-encoded, so the byte count we
/// budget is the byte count we send.
const QUERY_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded for a query-string value.
pub fn encode_query_value(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_ENCODE_SET).to_string()
}

/// The length of [`encode_query_value`]`(s)` without building it.
pub fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// A value in a WHERE clause, rendered the way SOQL wants its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Number(f64),
    /// Quoted and escaped (`'O\'Brien'`). Ids are strings too.
    Str(String),
    /// Unquoted `2024-01-15`.
    Date(NaiveDate),
    /// Unquoted UTC `2024-01-15T10:30:00Z` (whole seconds: see [`format_datetime`]).
    DateTime(DateTime<Utc>),
}

impl Literal {
    pub fn string(s: impl Into<String>) -> Literal {
        Literal::Str(s.into())
    }

    pub fn render(&self) -> String {
        match self {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Number(n) if n.is_finite() => n.to_string(),
            // SOQL has no NaN or infinity; null matches nothing, which is the honest answer.
            Literal::Number(_) => "null".into(),
            Literal::Str(s) => quote_string(s),
            Literal::Date(d) => d.format("%Y-%m-%d").to_string(),
            Literal::DateTime(t) => format_datetime(t),
        }
    }
}

/// `s` as a quoted SOQL string literal, with the backslash escapes SOQL defines.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

/// A datetime literal in UTC, to the second. Sub-second precision is dropped on purpose:
/// callers filtering with `>=` on a truncated instant may see a row twice, never lose one.
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
        }
    }
}

/// A WHERE condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Cmp {
        field: String,
        op: Op,
        value: Literal,
    },
    In {
        field: String,
        values: Vec<Literal>,
        negated: bool,
    },
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub fn cmp(field: impl Into<String>, op: Op, value: Literal) -> Condition {
        Condition::Cmp {
            field: field.into(),
            op,
            value,
        }
    }
    pub fn eq(field: impl Into<String>, value: Literal) -> Condition {
        Self::cmp(field, Op::Eq, value)
    }
    pub fn ge(field: impl Into<String>, value: Literal) -> Condition {
        Self::cmp(field, Op::Ge, value)
    }
    pub fn in_list(field: impl Into<String>, values: Vec<Literal>) -> Condition {
        Condition::In {
            field: field.into(),
            values,
            negated: false,
        }
    }
    /// `field IN ('a','b',...)` for string values such as Ids.
    pub fn in_strings<S: AsRef<str>>(field: impl Into<String>, values: &[S]) -> Condition {
        Self::in_list(
            field,
            values.iter().map(|v| Literal::string(v.as_ref())).collect(),
        )
    }
    pub fn and(self, other: Condition) -> Condition {
        match self {
            Condition::And(mut parts) => {
                parts.push(other);
                Condition::And(parts)
            }
            first => Condition::And(vec![first, other]),
        }
    }
    pub fn or(self, other: Condition) -> Condition {
        match self {
            Condition::Or(mut parts) => {
                parts.push(other);
                Condition::Or(parts)
            }
            first => Condition::Or(vec![first, other]),
        }
    }
    pub fn negate(self) -> Condition {
        Condition::Not(Box::new(self))
    }

    pub fn render(&self) -> String {
        match self {
            Condition::Cmp { field, op, value } => {
                format!("{field} {} {}", op.as_str(), value.render())
            }
            Condition::In {
                field,
                values,
                negated,
            } => {
                let list: Vec<String> = values.iter().map(Literal::render).collect();
                let not = if *negated { "NOT " } else { "" };
                format!("{field} {not}IN ({})", list.join(","))
            }
            Condition::And(parts) => join_group(parts, " AND "),
            Condition::Or(parts) => join_group(parts, " OR "),
            Condition::Not(inner) => format!("NOT ({})", inner.render()),
        }
    }
}

fn join_group(parts: &[Condition], sep: &str) -> String {
    parts
        .iter()
        .map(|p| match p {
            Condition::And(_) | Condition::Or(_) => format!("({})", p.render()),
            _ => p.render(),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A SELECT statement under construction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Soql {
    items: Vec<String>,
    from: String,
    condition: Option<Condition>,
    order_by: Vec<(String, Direction)>,
    limit: Option<u64>,
}

impl Soql {
    /// Starts a query selecting `fields` (duplicates, compared case-insensitively, dropped).
    pub fn select<I, S>(fields: I) -> Soql
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Soql::default().fields(fields)
    }

    /// Adds fields (plain or relationship paths like `Owner.Name`), keeping the first spelling
    /// of each and the order of first appearance.
    pub fn fields<I, S>(mut self, fields: I) -> Soql
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for f in fields {
            self = self.field(f.as_ref());
        }
        self
    }

    pub fn field(mut self, field: &str) -> Soql {
        let field = field.trim();
        if !field.is_empty() && !self.items.iter().any(|i| i.eq_ignore_ascii_case(field)) {
            self.items.push(field.to_string());
        }
        self
    }

    /// Adds a parent-to-child subquery; its FROM is the child relationship name.
    pub fn subquery(mut self, sub: &Soql) -> Soql {
        self.items.push(format!("({})", sub.build()));
        self
    }

    pub fn from(mut self, object: &str) -> Soql {
        self.from = object.to_string();
        self
    }

    /// Sets the WHERE condition; a second call ANDs with the first.
    pub fn where_(mut self, condition: Condition) -> Soql {
        self.condition = Some(match self.condition.take() {
            Some(existing) => existing.and(condition),
            None => condition,
        });
        self
    }

    pub fn order_by(self, field: &str) -> Soql {
        self.order_by_dir(field, Direction::Asc)
    }

    pub fn order_by_dir(mut self, field: &str, dir: Direction) -> Soql {
        self.order_by.push((field.to_string(), dir));
        self
    }

    pub fn limit(mut self, n: u64) -> Soql {
        self.limit = Some(n);
        self
    }

    /// The number of selected items (fields and subqueries).
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    pub fn build(&self) -> String {
        let mut q = format!("SELECT {} FROM {}", self.items.join(", "), self.from);
        if let Some(c) = &self.condition {
            q.push_str(" WHERE ");
            q.push_str(&c.render());
        }
        if !self.order_by.is_empty() {
            let parts: Vec<String> = self
                .order_by
                .iter()
                .map(|(f, d)| format!("{f} {}", if *d == Direction::Asc { "ASC" } else { "DESC" }))
                .collect();
            q.push_str(" ORDER BY ");
            q.push_str(&parts.join(", "));
        }
        if let Some(n) = self.limit {
            q.push_str(&format!(" LIMIT {n}"));
        }
        q
    }
}

/// `SELECT COUNT() FROM object`.
pub fn count_query(object: &str) -> String {
    format!("SELECT COUNT() FROM {object}")
}

/// Splits `values` into consecutive runs whose IN-list text (`'a','b',...`, percent-encoded)
/// fits in `budget` bytes. A single value larger than the budget gets a run of its own.
pub fn chunk_in_list<S: AsRef<str>>(values: &[S], budget: usize) -> Vec<&[S]> {
    let comma = encoded_len(",");
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, v) in values.iter().enumerate() {
        let cost = encoded_len(&quote_string(v.as_ref())) + if i > start { comma } else { 0 };
        if i > start && used + cost > budget {
            chunks.push(&values[start..i]);
            start = i;
            used = encoded_len(&quote_string(v.as_ref()));
        } else {
            used += cost;
        }
    }
    if start < values.len() {
        chunks.push(&values[start..]);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn builds_a_full_statement() {
        let feeds = Soql::select(["Id", "Body"])
            .from("Feeds")
            .order_by("CreatedDate");
        let q = Soql::select(["Id", "Subject", "ID", "Owner.Name", "owner.name"])
            .subquery(&feeds)
            .from("Case")
            .where_(Condition::eq("Status", Literal::string("New")))
            .where_(
                Condition::eq("IsClosed", Literal::Bool(false))
                    .or(Condition::eq("Priority", Literal::Null)),
            )
            .order_by_dir("CreatedDate", Direction::Desc)
            .limit(5)
            .build();
        assert_eq!(
            q,
            "SELECT Id, Subject, Owner.Name, (SELECT Id, Body FROM Feeds ORDER BY CreatedDate ASC) FROM Case \
             WHERE Status = 'New' AND (IsClosed = false OR Priority = null) ORDER BY CreatedDate DESC LIMIT 5"
        );
    }

    #[test]
    fn literals_render_per_type() {
        let t = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap()
            + chrono::Duration::milliseconds(999);
        assert_eq!(Literal::DateTime(t).render(), "2024-01-15T10:30:00Z");
        assert_eq!(
            Literal::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()).render(),
            "2024-02-29"
        );
        assert_eq!(Literal::Int(-3).render(), "-3");
        assert_eq!(Literal::Number(2.5).render(), "2.5");
        assert_eq!(Literal::Number(f64::NAN).render(), "null");
        assert_eq!(
            Literal::string("a'b\"c\\d\ne").render(),
            r#"'a\'b\"c\\d\ne'"#
        );
        let not_in = Condition::In {
            field: "Id".into(),
            values: vec![Literal::string("x")],
            negated: true,
        };
        assert_eq!(not_in.render(), "Id NOT IN ('x')");
        assert_eq!(
            Condition::eq("A", Literal::Int(1)).negate().render(),
            "NOT (A = 1)"
        );
    }

    #[test]
    fn encoded_len_matches_encoding() {
        for s in ["SELECT Id FROM Account", "a'b,c", "é漢字🙂", "-._~", ""] {
            assert_eq!(encoded_len(s), encode_query_value(s).len(), "{s}");
        }
    }

    #[test]
    fn in_chunks_respect_the_budget_and_keep_every_value() {
        let ids: Vec<String> = (0..2000)
            .map(|i| crate::sfid::make_id("500", "Hs0", i))
            .collect();
        let budget = 5_000;
        let chunks = chunk_in_list(&ids, budget);
        assert!(chunks.len() > 1);
        let mut total = 0;
        for chunk in &chunks {
            let text = chunk
                .iter()
                .map(|v| quote_string(v))
                .collect::<Vec<_>>()
                .join(",");
            assert!(
                encoded_len(&text) <= budget,
                "chunk of {} is {}",
                chunk.len(),
                encoded_len(&text)
            );
            total += chunk.len();
        }
        assert_eq!(total, ids.len());
        // Each 18-char Id costs 27 encoded bytes with its quotes and comma: chunks are full.
        assert!(chunks[0].len() >= budget / 27 - 1, "{}", chunks[0].len());
        let flat: Vec<&String> = chunks.iter().flat_map(|c| c.iter()).collect();
        assert!(flat.iter().zip(ids.iter()).all(|(a, b)| *a == b));
    }

    #[test]
    fn oversized_value_gets_its_own_chunk() {
        let values = vec!["a".to_string(), "x".repeat(100), "b".to_string()];
        let chunks = chunk_in_list(&values, 20);
        assert_eq!(chunks.len(), 3);
        assert!(chunk_in_list::<String>(&[], 20).is_empty());
    }
}
