//! The SOQL lexer: tokens with their byte spans, and the decoding of string and LIKE
//! literals (escapes, UTF-16 units, wildcards) as Salesforce reads them.

use super::ast::{CompareOp, LikePart};
use super::parser::malformed;
use super::SoqlError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An identifier or keyword, possibly dotted (`Account.Owner.Name`).
    Word,
    /// A quoted string; the span includes the quotes.
    Str,
    Number,
    Date,
    DateTime,
    LParen,
    RParen,
    Comma,
    Colon,
    Op(CompareOp),
    Eof,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn digits_at(b: &[u8], at: usize, n: usize) -> bool {
    at + n <= b.len() && b[at..at + n].iter().all(u8::is_ascii_digit)
}

/// Length of a date (`2024-01-15`) or datetime literal starting at `at`, if one is there.
fn date_literal_len(b: &[u8], at: usize) -> Option<(Kind, usize)> {
    if !(digits_at(b, at, 4)
        && b.get(at + 4) == Some(&b'-')
        && digits_at(b, at + 5, 2)
        && b.get(at + 7) == Some(&b'-')
        && digits_at(b, at + 8, 2))
    {
        return None;
    }
    let mut i = at + 10;
    if !matches!(b.get(i), Some(b'T') | Some(b't')) {
        return Some((Kind::Date, 10));
    }
    i += 1;
    if !(digits_at(b, i, 2)
        && b.get(i + 2) == Some(&b':')
        && digits_at(b, i + 3, 2)
        && b.get(i + 5) == Some(&b':')
        && digits_at(b, i + 6, 2))
    {
        return None;
    }
    i += 8;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    match b.get(i) {
        Some(b'Z') | Some(b'z') => i += 1,
        Some(b'+') | Some(b'-') => {
            if digits_at(b, i + 1, 2) && b.get(i + 3) == Some(&b':') && digits_at(b, i + 4, 2) {
                i += 6;
            } else if digits_at(b, i + 1, 4) {
                i += 5;
            } else {
                return None;
            }
        }
        _ => return None,
    }
    Some((Kind::DateTime, i - at))
}

/// Splits a statement into tokens. Long on purpose: one arm per character class, in one
/// place, so the whole token grammar reads top to bottom.
pub(super) fn lex(soql: &str) -> Result<Vec<Token>, SoqlError> {
    let b = soql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let kind = match c {
            b'(' => {
                i += 1;
                Kind::LParen
            }
            b')' => {
                i += 1;
                Kind::RParen
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b':' => {
                i += 1;
                Kind::Colon
            }
            b'=' => {
                i += 1;
                Kind::Op(CompareOp::Eq)
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                Kind::Op(CompareOp::Ne)
            }
            b'<' => match b.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    Kind::Op(CompareOp::Le)
                }
                Some(b'>') => {
                    i += 2;
                    Kind::Op(CompareOp::Ne)
                }
                _ => {
                    i += 1;
                    Kind::Op(CompareOp::Lt)
                }
            },
            b'>' => {
                if b.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Kind::Op(CompareOp::Ge)
                } else {
                    i += 1;
                    Kind::Op(CompareOp::Gt)
                }
            }
            b'\'' => {
                i = scan_string(soql, i)?;
                Kind::Str
            }
            c if c.is_ascii_digit()
                || ((c == b'-' || c == b'+' || c == b'.')
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                if let Some((kind, len)) = date_literal_len(b, i) {
                    i += len;
                    kind
                } else {
                    if c == b'-' || c == b'+' {
                        i += 1;
                    }
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                    if b.get(i).is_some_and(|&c| is_ident_char(c)) {
                        return Err(malformed(
                            soql,
                            start,
                            &format!("unexpected token: '{}'", word_at(soql, start)),
                        ));
                    }
                    Kind::Number
                }
            }
            c if is_ident_start(c) => {
                loop {
                    while i < b.len() && is_ident_char(b[i]) {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(|&c| is_ident_start(c)) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if b.get(i) == Some(&b'.') {
                    return Err(malformed(soql, i, "unexpected token: '.'"));
                }
                Kind::Word
            }
            _ => {
                let ch = soql[i..].chars().next().unwrap_or('?');
                return Err(malformed(soql, i, &format!("unexpected token: '{ch}'")));
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens.push(Token {
        kind: Kind::Eof,
        start: soql.len(),
        end: soql.len(),
    });
    Ok(tokens)
}

/// The run of non-space, non-punctuation characters at `start`, for error messages.
fn word_at(soql: &str, start: usize) -> &str {
    let rest = &soql[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || "(),=<>!'".contains(c))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Finds the end (one past the closing quote) of the string literal opening at `start`,
/// checking its escapes.
fn scan_string(soql: &str, start: usize) -> Result<usize, SoqlError> {
    let b = soql.as_bytes();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\'' => return Ok(i + 1),
            b'\\' => {
                let next = b.get(i + 1).copied();
                match next {
                    Some(b'\'' | b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' | b'_' | b'%') => {
                        i += 2
                    }
                    Some(b'u')
                        if b.get(i + 2..i + 6)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                    {
                        i += 6
                    }
                    Some(_) => {
                        let escaped_len = soql[i + 1..].chars().next().map_or(0, char::len_utf8);
                        let end = i + 1 + escaped_len;
                        return Err(malformed(
                            soql,
                            start,
                            &format!(
                                "Invalid string literal '{}'. Illegal character sequence '{}' in string literal.",
                                &soql[start + 1..end],
                                &soql[i..end]
                            ),
                        ));
                    }
                    None => break,
                }
            }
            _ => i += 1,
        }
    }
    Err(SoqlError::new(
        "MALFORMED_QUERY",
        format!(
            "line 1:{} mismatched character '<EOF>' expecting '''",
            soql.chars().count()
        ),
    ))
}

/// One decoded unit of a string literal body: a character, or a LIKE-only escape.
enum Unit {
    Char(char),
    /// `\_` or `\%`: the literal wildcard character in LIKE.
    EscapedWildcard(char),
}

/// Decodes the body of a string literal whose escapes `scan_string` already checked.
fn decode_units(body: &str) -> Vec<Unit> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(Unit::Char(c));
            continue;
        }
        let Some(e) = chars.next() else { break };
        let unit = match e {
            'n' => Unit::Char('\n'),
            'r' => Unit::Char('\r'),
            't' => Unit::Char('\t'),
            'b' => Unit::Char('\u{8}'),
            'f' => Unit::Char('\u{c}'),
            '_' | '%' => Unit::EscapedWildcard(e),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                Unit::Char(decode_utf16_unit(code, &mut chars))
            }
            other => Unit::Char(other),
        };
        out.push(unit);
    }
    out
}

/// Joins a `\uD83D\uDE00` surrogate pair; a lone surrogate becomes U+FFFD.
fn decode_utf16_unit(code: u32, rest: &mut std::iter::Peekable<std::str::Chars>) -> char {
    if (0xD800..0xDC00).contains(&code) {
        let lookahead: String = rest.clone().take(6).collect();
        if let Some(hex) = lookahead.strip_prefix("\\u") {
            if let Ok(low) = u32::from_str_radix(hex, 16) {
                if (0xDC00..0xE000).contains(&low) {
                    rest.nth(5);
                    let combined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    return char::from_u32(combined).unwrap_or('\u{FFFD}');
                }
            }
        }
    }
    char::from_u32(code).unwrap_or('\u{FFFD}')
}

/// The value of a string literal outside LIKE: `\_` and `\%` keep their backslash.
pub fn decode_string(body: &str) -> String {
    let mut s = String::with_capacity(body.len());
    for unit in decode_units(body) {
        match unit {
            Unit::Char(c) => s.push(c),
            Unit::EscapedWildcard(c) => {
                s.push('\\');
                s.push(c);
            }
        }
    }
    s
}

/// The pattern of a LIKE literal: `%` and `_` are wildcards unless escaped.
pub fn decode_like(body: &str) -> Vec<LikePart> {
    decode_units(body)
        .into_iter()
        .map(|unit| match unit {
            Unit::Char('%') => LikePart::AnyMany,
            Unit::Char('_') => LikePart::AnyOne,
            Unit::Char(c) | Unit::EscapedWildcard(c) => LikePart::Char(c),
        })
        .collect()
}
