//! Recursive-descent parser for the SOQL subset the fake org serves (tokens from
//! [`super::lexer`]).
//!
//! Every failure is a `MALFORMED_QUERY` (or `NUMBER_OUTSIDE_VALID_RANGE` for OFFSET) with
//! Salesforce's caret layout. Nesting depth is bounded so no input can overflow the stack.

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::ast::{
    Expr, FieldPath, InList, Literal, Name, OrderBy, Query, RelativeDate, SelectItem,
};
use super::lexer::{decode_like, decode_string, lex, Kind, Token};
use super::SoqlError;

/// Salesforce rejects OFFSET values above this with NUMBER_OUTSIDE_VALID_RANGE.
pub const MAX_OFFSET: u64 = 2_000;

/// The longest SOQL statement a real org accepts, in characters.
pub const MAX_QUERY_CHARS: usize = 100_000;

/// Parentheses and NOT nest at most this deep; real queries stay far below, and the bound
/// keeps recursion on hostile input from exhausting the stack.
const MAX_NESTING: usize = 64;

/// Builds Salesforce's caret message: the query line, a caret under the column, the
/// row/column line, then the text.
pub fn caret_message(soql: &str, pos: usize, text: &str) -> String {
    let pos = floor_char_boundary(soql, pos.min(soql.len()));
    let line_start = soql[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = soql[pos..].find('\n').map_or(soql.len(), |i| pos + i);
    let row = soql[..pos].matches('\n').count() + 1;
    let column = soql[line_start..pos].chars().count() + 1;
    format!(
        "\n{}\n{}^\nERROR at Row:{row}:Column:{column}\n{text}",
        &soql[line_start..line_end],
        " ".repeat(column - 1)
    )
}

fn floor_char_boundary(s: &str, mut pos: usize) -> usize {
    while !s.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

pub fn caret_error(code: &str, soql: &str, pos: usize, text: &str) -> SoqlError {
    SoqlError::new(code, caret_message(soql, pos, text))
}

pub(super) fn malformed(soql: &str, pos: usize, text: &str) -> SoqlError {
    caret_error("MALFORMED_QUERY", soql, pos, text)
}

/// Where a query sits, which decides what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    TopLevel,
    /// `(SELECT ... FROM Children)` in a select list.
    Subquery,
    /// `Id IN (SELECT ...)` in a WHERE clause.
    SemiJoin,
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

/// Parses a whole statement.
pub fn parse(soql: &str) -> Result<Query, SoqlError> {
    // Checked on bytes first so a huge input is refused without counting its characters.
    if soql.len() > MAX_QUERY_CHARS && soql.chars().count() > MAX_QUERY_CHARS {
        return Err(SoqlError::new(
            "MALFORMED_QUERY",
            format!("SOQL statements cannot be longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let tokens = lex(soql)?;
    let mut parser = Parser {
        src: soql,
        tokens,
        at: 0,
        depth: 0,
    };
    let query = parser.query(Context::TopLevel)?;
    parser.expect_end()?;
    Ok(query)
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Token {
        self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> Token {
        self.tokens[(self.at + ahead).min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != Kind::Eof {
            self.at += 1;
        }
        token
    }

    fn text(&self, token: Token) -> &'s str {
        &self.src[token.start..token.end]
    }

    fn unexpected(&self, token: Token) -> SoqlError {
        let shown = if token.kind == Kind::Eof {
            "<EOF>"
        } else {
            self.text(token)
        };
        malformed(
            self.src,
            token.start,
            &format!("unexpected token: '{shown}'"),
        )
    }

    fn is_keyword(&self, token: Token, keyword: &str) -> bool {
        token.kind == Kind::Word && self.text(token).eq_ignore_ascii_case(keyword)
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.is_keyword(self.peek(), keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.at_keyword(keyword) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<Token, SoqlError> {
        let token = self.peek();
        if self.is_keyword(token, keyword) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(token))
        }
    }

    fn expect(&mut self, kind: Kind) -> Result<Token, SoqlError> {
        let token = self.peek();
        if token.kind == kind {
            Ok(self.bump())
        } else {
            Err(self.unexpected(token))
        }
    }

    fn expect_end(&mut self) -> Result<(), SoqlError> {
        let token = self.peek();
        if token.kind == Kind::Eof {
            Ok(())
        } else {
            Err(self.unexpected(token))
        }
    }

    fn enter(&mut self, token: Token) -> Result<(), SoqlError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(malformed(
                self.src,
                token.start,
                &format!("Query is nested too deeply (more than {MAX_NESTING} levels)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A field path word: not a keyword of the grammar.
    fn field_path(&mut self) -> Result<FieldPath, SoqlError> {
        let token = self.peek();
        if token.kind != Kind::Word || is_reserved(self.text(token)) {
            return Err(self.unexpected(token));
        }
        self.bump();
        Ok(FieldPath {
            segments: self.text(token).split('.').map(str::to_string).collect(),
            pos: token.start,
        })
    }

    /// One SELECT statement. Long on purpose: its clauses in the order SOQL requires them
    /// (SELECT, FROM, WHERE, WITH, ORDER BY, LIMIT, OFFSET, FOR), each a few lines, so the
    /// clause order is visible in one place.
    fn query(&mut self, context: Context) -> Result<Query, SoqlError> {
        self.expect_keyword("SELECT")?;
        let mut select = Vec::new();
        loop {
            select.push(self.select_item(context)?);
            if self.peek().kind == Kind::Comma {
                self.bump();
            } else {
                break;
            }
        }
        self.expect_keyword("FROM")?;
        let from_token = self.peek();
        if from_token.kind != Kind::Word
            || is_reserved(self.text(from_token))
            || self.text(from_token).contains('.')
        {
            return Err(self.unexpected(from_token));
        }
        self.bump();
        let from = Name {
            text: self.text(from_token).to_string(),
            pos: from_token.start,
        };
        // `FROM Account a`: an alias that field paths may start with.
        let alias_token = self.peek();
        let alias = if alias_token.kind == Kind::Word
            && !is_reserved(self.text(alias_token))
            && !is_clause_word(self.text(alias_token))
            && !self.text(alias_token).contains('.')
        {
            self.bump();
            Some(self.text(alias_token))
        } else {
            None
        };
        let where_clause = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        if self.eat_keyword("WITH") {
            // Sharing and security modes change nothing in a single-user fake org.
            let mode = self.peek();
            if !["SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE"]
                .iter()
                .any(|m| self.is_keyword(mode, m))
            {
                return Err(self.unexpected(mode));
            }
            self.bump();
        }
        let mut order_by = Vec::new();
        if self.eat_keyword("ORDER") {
            self.expect_keyword("BY")?;
            loop {
                order_by.push(self.order_item()?);
                if self.peek().kind == Kind::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.unsigned()?.0)
        } else {
            None
        };
        let offset = if self.eat_keyword("OFFSET") {
            let (value, token) = self.unsigned()?;
            if value > MAX_OFFSET {
                return Err(caret_error(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    self.src,
                    token.start,
                    &format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
                ));
            }
            Some(value)
        } else {
            None
        };
        if self.eat_keyword("FOR") {
            // FOR VIEW / FOR REFERENCE only update "recently viewed" data on a real org.
            let what = self.peek();
            if !(self.is_keyword(what, "VIEW") || self.is_keyword(what, "REFERENCE")) {
                return Err(self.unexpected(what));
            }
            self.bump();
        }
        let mut query = Query {
            select,
            from,
            where_clause,
            order_by,
            limit,
            offset,
        };
        if let Some(alias) = alias {
            strip_alias(&mut query, alias);
        }
        Ok(query)
    }

    fn unsigned(&mut self) -> Result<(u64, Token), SoqlError> {
        let token = self.peek();
        if token.kind != Kind::Number {
            return Err(self.unexpected(token));
        }
        match self.text(token).parse::<u64>() {
            Ok(value) => {
                self.bump();
                Ok((value, token))
            }
            Err(_) => Err(self.unexpected(token)),
        }
    }

    fn select_item(&mut self, context: Context) -> Result<SelectItem, SoqlError> {
        let token = self.peek();
        match token.kind {
            Kind::LParen => {
                if context != Context::TopLevel {
                    // Only one level of parent-to-child nesting, and none in a semi-join.
                    return Err(malformed(
                        self.src,
                        token.start,
                        "unexpected token: '('. Only one level of parent-to-child subquery is supported",
                    ));
                }
                self.enter(token)?;
                self.bump();
                let sub = self.query(Context::Subquery)?;
                self.expect(Kind::RParen)?;
                self.leave();
                Ok(SelectItem::Subquery(Box::new(sub)))
            }
            Kind::Word
                if self.text(token).eq_ignore_ascii_case("COUNT")
                    && self.peek_at(1).kind == Kind::LParen =>
            {
                self.bump();
                self.bump();
                self.expect(Kind::RParen)?;
                Ok(SelectItem::Count)
            }
            _ => Ok(SelectItem::Field(self.field_path()?)),
        }
    }

    fn order_item(&mut self) -> Result<OrderBy, SoqlError> {
        let field = self.field_path()?;
        let descending = if self.eat_keyword("DESC") {
            true
        } else {
            self.eat_keyword("ASC");
            false
        };
        let nulls_first = if self.eat_keyword("NULLS") {
            if self.eat_keyword("FIRST") {
                Some(true)
            } else {
                self.expect_keyword("LAST")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(OrderBy {
            field,
            descending,
            nulls_first,
        })
    }

    /// A WHERE expression. SOQL refuses AND and OR side by side without parentheses.
    fn condition(&mut self) -> Result<Expr, SoqlError> {
        let first = self.unary()?;
        let joiner = if self.at_keyword("AND") {
            "AND"
        } else if self.at_keyword("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let other = if joiner == "AND" { "OR" } else { "AND" };
        let mut terms = vec![first];
        while self.eat_keyword(joiner) {
            terms.push(self.unary()?);
        }
        if self.at_keyword(other) {
            return Err(self.unexpected(self.peek()));
        }
        Ok(if joiner == "AND" {
            Expr::And(terms)
        } else {
            Expr::Or(terms)
        })
    }

    fn unary(&mut self) -> Result<Expr, SoqlError> {
        let token = self.peek();
        if self.is_keyword(token, "NOT") {
            self.enter(token)?;
            self.bump();
            let inner = self.unary()?;
            self.leave();
            return Ok(Expr::Not(Box::new(inner)));
        }
        if token.kind == Kind::LParen {
            self.enter(token)?;
            self.bump();
            let inner = self.condition()?;
            self.expect(Kind::RParen)?;
            self.leave();
            return Ok(inner);
        }
        self.simple_condition()
    }

    fn simple_condition(&mut self) -> Result<Expr, SoqlError> {
        let field = self.field_path()?;
        let token = self.peek();
        if let Kind::Op(op) = token.kind {
            self.bump();
            let value_pos = self.peek().start;
            let value = self.literal()?;
            return Ok(Expr::Compare {
                field,
                op,
                value,
                value_pos,
            });
        }
        if self.eat_keyword("LIKE") {
            let pattern_token = self.expect(Kind::Str)?;
            let body = &self.src[pattern_token.start + 1..pattern_token.end - 1];
            return Ok(Expr::Like {
                field,
                pattern: decode_like(body),
            });
        }
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("IN") {
            let open = self.expect(Kind::LParen)?;
            let value_pos = self.peek().start;
            let list = if self.at_keyword("SELECT") {
                self.enter(open)?;
                let sub = self.query(Context::SemiJoin)?;
                self.leave();
                InList::Subquery(Box::new(sub))
            } else {
                let mut values = Vec::new();
                loop {
                    values.push(self.literal()?);
                    if self.peek().kind == Kind::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                InList::Values(values)
            };
            self.expect(Kind::RParen)?;
            return Ok(Expr::In {
                field,
                negated,
                list,
                value_pos,
            });
        }
        if negated {
            return Err(self.unexpected(self.peek()));
        }
        let excludes = if self.eat_keyword("INCLUDES") {
            false
        } else if self.eat_keyword("EXCLUDES") {
            true
        } else {
            return Err(self.unexpected(self.peek()));
        };
        self.expect(Kind::LParen)?;
        let mut values = Vec::new();
        loop {
            let token = self.expect(Kind::Str)?;
            values.push(decode_string(&self.src[token.start + 1..token.end - 1]));
            if self.peek().kind == Kind::Comma {
                self.bump();
            } else {
                break;
            }
        }
        self.expect(Kind::RParen)?;
        Ok(Expr::Includes {
            field,
            excludes,
            values,
        })
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let token = self.peek();
        let text = self.text(token);
        let literal = match token.kind {
            Kind::Str => Literal::String(decode_string(&text[1..text.len() - 1])),
            Kind::Number => match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Literal::Number(n),
                _ => return Err(self.unexpected(token)),
            },
            Kind::Date => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) => Literal::Date(date),
                Err(_) => return Err(self.invalid_date(token)),
            },
            Kind::DateTime => match parse_datetime_literal(text) {
                Some(datetime) => Literal::DateTime(datetime),
                None => return Err(self.invalid_date(token)),
            },
            Kind::Word => {
                if text.eq_ignore_ascii_case("null") {
                    Literal::Null
                } else if text.eq_ignore_ascii_case("true") {
                    Literal::Bool(true)
                } else if text.eq_ignore_ascii_case("false") {
                    Literal::Bool(false)
                } else if let Some(relative) = fixed_relative_date(text) {
                    Literal::Relative(relative)
                } else if text.eq_ignore_ascii_case("LAST_N_DAYS")
                    || text.eq_ignore_ascii_case("NEXT_N_DAYS")
                {
                    self.bump();
                    self.expect(Kind::Colon)?;
                    let (n, n_token) = self.unsigned()?;
                    let n = u32::try_from(n).map_err(|_| self.unexpected(n_token))?;
                    return Ok(Literal::Relative(
                        if text.eq_ignore_ascii_case("LAST_N_DAYS") {
                            RelativeDate::LastNDays(n)
                        } else {
                            RelativeDate::NextNDays(n)
                        },
                    ));
                } else {
                    return Err(self.unexpected(token));
                }
            }
            _ => return Err(self.unexpected(token)),
        };
        self.bump();
        Ok(literal)
    }

    fn invalid_date(&self, token: Token) -> SoqlError {
        malformed(
            self.src,
            token.start,
            &format!("invalid date or datetime literal: '{}'", self.text(token)),
        )
    }
}

/// Rewrites `a.Name` to `Name` in a query whose object is aliased `a` (not inside its
/// subqueries, which have their own FROM).
fn strip_alias(query: &mut Query, alias: &str) {
    fn strip(path: &mut FieldPath, alias: &str) {
        if path.segments.len() > 1 && path.segments[0].eq_ignore_ascii_case(alias) {
            path.segments.remove(0);
            path.pos += alias.len() + 1;
        }
    }
    fn walk(expr: &mut Expr, alias: &str) {
        match expr {
            Expr::And(terms) | Expr::Or(terms) => terms.iter_mut().for_each(|t| walk(t, alias)),
            Expr::Not(inner) => walk(inner, alias),
            Expr::Compare { field, .. }
            | Expr::Like { field, .. }
            | Expr::In { field, .. }
            | Expr::Includes { field, .. } => strip(field, alias),
        }
    }
    for item in &mut query.select {
        if let SelectItem::Field(path) = item {
            strip(path, alias);
        }
    }
    if let Some(expr) = &mut query.where_clause {
        walk(expr, alias);
    }
    for order in &mut query.order_by {
        strip(&mut order.field, alias);
    }
}

/// Clause keywords this engine does not support; never taken for an object alias, so
/// that using one fails on the keyword itself.
fn is_clause_word(word: &str) -> bool {
    const CLAUSES: &[&str] = &[
        "WITH", "GROUP", "HAVING", "FOR", "USING", "UPDATE", "TYPEOF",
    ];
    CLAUSES.iter().any(|c| c.eq_ignore_ascii_case(word))
}

/// Words that end a field list or clause and so cannot name a field.
fn is_reserved(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN",
        "LIKE", "NULL", "TRUE", "FALSE", "ASC", "DESC", "NULLS", "INCLUDES", "EXCLUDES",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

fn fixed_relative_date(word: &str) -> Option<RelativeDate> {
    const TABLE: &[(&str, RelativeDate)] = &[
        ("TODAY", RelativeDate::Today),
        ("YESTERDAY", RelativeDate::Yesterday),
        ("TOMORROW", RelativeDate::Tomorrow),
        ("LAST_WEEK", RelativeDate::LastWeek),
        ("THIS_WEEK", RelativeDate::ThisWeek),
        ("NEXT_WEEK", RelativeDate::NextWeek),
        ("LAST_MONTH", RelativeDate::LastMonth),
        ("THIS_MONTH", RelativeDate::ThisMonth),
        ("NEXT_MONTH", RelativeDate::NextMonth),
        ("THIS_YEAR", RelativeDate::ThisYear),
        ("LAST_YEAR", RelativeDate::LastYear),
        ("NEXT_YEAR", RelativeDate::NextYear),
        ("LAST_90_DAYS", RelativeDate::Last90Days),
        ("NEXT_90_DAYS", RelativeDate::Next90Days),
    ];
    TABLE
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
        .map(|(_, value)| *value)
}

/// Parses `2024-01-15T10:30:00Z`, `...00.000Z`, `...+01:00` or `...+0100`.
pub fn parse_datetime_literal(text: &str) -> Option<DateTime<FixedOffset>> {
    let upper = text.to_ascii_uppercase();
    let normalized = match upper.strip_suffix('Z') {
        Some(head) => format!("{head}+00:00"),
        None => upper,
    };
    DateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M:%S%.f%:z")
        .or_else(|_| DateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
}
