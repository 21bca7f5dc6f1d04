//! The SOSL text of `GET .../search?q=`, parsed into a [`Search`]. The WHERE and ORDER BY
//! of a RETURNING entry stay text: they are SOQL, and the SOQL engine checks them.
//!
//! Refusals use Salesforce's codes: `MALFORMED_SEARCH` for syntax (a caret message like
//! SOQL's for an unexpected token), `INVALID_SEARCH` for a term with under two characters.

use super::reply::ApiError;
use super::search::term_error;
use super::search_term::SearchTerm;

/// Which fields a search looks in (`IN ... FIELDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    All,
    Name,
    Email,
    Phone,
}

impl Scope {
    pub fn parse(name: &str) -> Option<Scope> {
        Some(match name.to_ascii_uppercase().as_str() {
            // SIDEBAR is the UI's scope: names and a few more, close enough to ALL.
            "ALL" | "SIDEBAR" => Scope::All,
            "NAME" => Scope::Name,
            "EMAIL" => Scope::Email,
            "PHONE" => Scope::Phone,
            _ => return None,
        })
    }
}

/// One object of RETURNING, with its own clauses.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Returning {
    pub object: String,
    /// The field list as written; `None` means just `Id`.
    pub fields: Option<String>,
    pub where_clause: Option<String>,
    pub order_by: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Search {
    pub term: SearchTerm,
    pub scope: Scope,
    /// Empty: every searchable object.
    pub returning: Vec<Returning>,
    /// The statement's own LIMIT, across all objects.
    pub limit: Option<usize>,
}

const NO_TERM: &str = "No search term found. The search term must be enclosed in braces.";

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "MALFORMED_SEARCH", message)
}

/// Salesforce's caret form: the statement, a caret under the column, then the text.
fn unexpected(text: &str, pos: usize) -> ApiError {
    let column = text[..pos].chars().count() + 1;
    let mut token: String = text[pos..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    if token.is_empty() {
        token = "<EOF>".into();
    }
    malformed(format!(
        "\n{text}\n{}^\nERROR at Row:1:Column:{column}\nunexpected token: {token}",
        " ".repeat(column - 1)
    ))
}

struct Cursor<'s> {
    text: &'s str,
    pos: usize,
}

impl<'s> Cursor<'s> {
    fn rest(&self) -> &'s str {
        &self.text[self.pos..]
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The next word of letters, digits and underscores, if any (not consumed).
    fn peek_word(&mut self) -> &'s str {
        self.skip_spaces();
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    fn word(&mut self) -> &'s str {
        let word = self.peek_word();
        self.pos += word.len();
        word
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek_word().eq_ignore_ascii_case(keyword);
        if found {
            self.pos += keyword.len();
        }
        found
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        let found = self.rest().starts_with(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    fn number(&mut self) -> Result<usize, ApiError> {
        let at = self.pos;
        let word = self.word();
        word.parse().map_err(|_| unexpected(self.text, at))
    }
}

/// Parses a whole SOSL statement.
pub(super) fn parse_sosl(text: &str) -> Result<Search, ApiError> {
    let mut cursor = Cursor { text, pos: 0 };
    if !cursor.keyword("FIND") || !cursor.eat('{') {
        return Err(malformed(NO_TERM));
    }
    let term_text = braced_term(&mut cursor)?;
    let term = SearchTerm::parse(&term_text).map_err(|e| term_error(&term_text, e))?;
    let mut scope = Scope::All;
    if cursor.keyword("IN") {
        let at = cursor.pos;
        scope = Scope::parse(cursor.word()).ok_or_else(|| unexpected(text, at))?;
        let at = cursor.pos;
        if !cursor.keyword("FIELDS") {
            return Err(unexpected(text, at));
        }
    }
    let mut returning = Vec::new();
    if cursor.keyword("RETURNING") {
        loop {
            returning.push(returning_entry(&mut cursor)?);
            if !cursor.eat(',') {
                break;
            }
        }
    }
    let limit = if cursor.keyword("LIMIT") {
        Some(cursor.number()?)
    } else {
        None
    };
    cursor.skip_spaces();
    if !cursor.rest().is_empty() {
        return Err(unexpected(text, cursor.pos));
    }
    Ok(Search {
        term,
        scope,
        returning,
        limit,
    })
}

/// The term up to the closing brace, with `\x` escapes resolved.
fn braced_term(cursor: &mut Cursor) -> Result<String, ApiError> {
    let mut term = String::new();
    let mut chars = cursor.rest().char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    term.push(escaped);
                }
            }
            '}' => {
                cursor.pos += i + 1;
                return Ok(term);
            }
            _ => term.push(c),
        }
    }
    Err(malformed(NO_TERM))
}

/// `Account` or `Account(Id, Name WHERE ... ORDER BY ... LIMIT n OFFSET n)`.
fn returning_entry(cursor: &mut Cursor) -> Result<Returning, ApiError> {
    let at = cursor.pos;
    let object = cursor.word();
    if object.is_empty() {
        cursor.skip_spaces();
        return Err(unexpected(cursor.text, cursor.pos.max(at)));
    }
    let mut entry = Returning {
        object: object.to_string(),
        fields: None,
        where_clause: None,
        order_by: None,
        limit: None,
        offset: None,
    };
    if cursor.eat('(') {
        let open = cursor.pos;
        let close = closing_paren(cursor.rest()).ok_or_else(|| {
            malformed(format!(
                "\n{}\nERROR at Row:1:Column:{open}\nmissing ')' after the field list of {object}",
                cursor.text
            ))
        })?;
        let inner = &cursor.text[open..open + close];
        cursor.pos = open + close + 1;
        fill_clauses(&mut entry, inner, cursor.text, open)?;
    }
    Ok(entry)
}

/// The byte offset of the `)` closing an already opened parenthesis, skipping quoted text.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth == 0 => return Some(i),
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Top-level clause keywords of a RETURNING entry, with where each starts and its text begins.
fn clause_starts(inner: &str) -> Vec<(&'static str, usize, usize)> {
    let mut found = Vec::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    let mut previous = ' ';
    for (i, c) in inner.char_indices() {
        let word_start = !(previous.is_alphanumeric() || previous == '_');
        previous = c;
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ if quoted || depth > 0 || !word_start => {}
            _ => {
                let rest = &inner[i..];
                // The longest keyword, OFFSET, has six letters.
                let upper = rest
                    .chars()
                    .take(6)
                    .collect::<String>()
                    .to_ascii_uppercase();
                for keyword in ["WHERE", "ORDER", "LIMIT", "OFFSET"] {
                    let after = rest.get(keyword.len()..).unwrap_or("");
                    let whole = after.chars().next().is_none_or(|n| !n.is_alphanumeric());
                    if upper.starts_with(keyword) && whole {
                        found.push((keyword, i, i + keyword.len()));
                    }
                }
            }
        }
    }
    found
}

fn fill_clauses(
    entry: &mut Returning,
    inner: &str,
    text: &str,
    offset: usize,
) -> Result<(), ApiError> {
    let starts = clause_starts(inner);
    let fields_end = starts.first().map_or(inner.len(), |s| s.1);
    let fields = inner[..fields_end].trim();
    if fields.is_empty() {
        return Err(unexpected(text, offset + fields_end));
    }
    entry.fields = Some(fields.to_string());
    for (n, &(keyword, start, body_start)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(inner.len(), |s| s.1);
        let body = inner[body_start..end].trim();
        let bad = || unexpected(text, offset + start);
        match keyword {
            "WHERE" => entry.where_clause = Some(body.to_string()),
            "ORDER" => {
                let by = body.get(..2).filter(|b| b.eq_ignore_ascii_case("BY"));
                let order = body.get(2..).map(str::trim).filter(|o| !o.is_empty());
                entry.order_by = Some(by.and(order).ok_or_else(bad)?.to_string());
            }
            "LIMIT" => entry.limit = Some(body.parse().map_err(|_| bad())?),
            _ => entry.offset = Some(body.parse().map_err(|_| bad())?),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_form_parses() {
        let search = parse_sosl(
            "FIND {Acme\\}s} IN NAME FIELDS RETURNING Account(Id, Name WHERE Name LIKE '%(x)%' ORDER BY Name LIMIT 5), Contact LIMIT 20",
        )
        .unwrap();
        assert_eq!(search.scope, Scope::Name);
        assert_eq!(search.limit, Some(20));
        let account = &search.returning[0];
        assert_eq!(account.fields.as_deref(), Some("Id, Name"));
        assert_eq!(account.where_clause.as_deref(), Some("Name LIKE '%(x)%'"));
        assert_eq!(account.order_by.as_deref(), Some("Name"));
        assert_eq!(account.limit, Some(5));
        assert_eq!(search.returning[1].object, "Contact");
        assert_eq!(search.returning[1].fields, None);
    }

    #[test]
    fn malformed_statements_are_refused_with_salesforce_codes() {
        for (text, code) in [
            ("Acme", "MALFORMED_SEARCH"),
            ("FIND Acme", "MALFORMED_SEARCH"),
            ("FIND {Acme", "MALFORMED_SEARCH"),
            ("FIND {Acme} IN BOGUS FIELDS", "MALFORMED_SEARCH"),
            ("FIND {Acme} RETURNING Account(Id", "MALFORMED_SEARCH"),
            ("FIND {Acme} RETURNING Account() ", "MALFORMED_SEARCH"),
            ("FIND {Acme} LIMIT x", "MALFORMED_SEARCH"),
            ("FIND {Acme} trailing", "MALFORMED_SEARCH"),
            ("FIND {a}", "INVALID_SEARCH"),
        ] {
            let err = parse_sosl(text).unwrap_err();
            assert_eq!(err.error_code, code, "{text}");
        }
        let err = parse_sosl("FIND {Acme} trailing").unwrap_err();
        assert!(
            err.message
                .ends_with("Column:13\nunexpected token: trailing"),
            "{}",
            err.message
        );
    }
}
