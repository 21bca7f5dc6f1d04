//! The search term of a SOSL `FIND {...}` (or a `parameterizedSearch?q=`), and whether a
//! record's text matches it.
//!
//! Salesforce's search index matches whole words, case-insensitively: `Acme` finds "Acme
//! Corp" but not "Acmeville". Here both the term and the field text are cut into words of
//! letters and digits; `*` stands for any characters and `?` for one inside a word; words
//! of the term must all appear somewhere in the record (SOSL's implicit AND), `OR`
//! separates alternatives, and a word with punctuation (`jdoe@acme.com`) or a quoted
//! phrase must appear as consecutive words. Phone fields also match on digits alone, as
//! the index strips a number's formatting. Not served: `AND NOT`, parentheses, and the
//! index's stemming and synonyms.

use crate::fake_org::model::{FieldDef, FieldType, Record};
use serde_json::Value;

/// One word of the term: a pattern over one lower-cased word of text.
type WordPattern = Vec<char>;
/// Consecutive words that must appear in this order in one field.
type Sequence = Vec<WordPattern>;

/// A parsed search term: alternatives (`OR`), each a set of sequences that must all match.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SearchTerm {
    alternatives: Vec<Vec<Sequence>>,
}

/// Why a term cannot be searched, in Salesforce's words.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TermError {
    /// Nothing but operators, wildcards and punctuation (or only one character of text).
    TooShort,
}

/// Lower-cased runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Like [`words`], keeping the wildcards inside the term's words.
fn pattern_words(text: &str) -> Vec<WordPattern> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '?'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().collect())
        .collect()
}

/// Cuts the term into quoted phrases and bare words, keeping `OR` as a separator.
fn pieces(term: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = term.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            let end = after.find('"').unwrap_or(after.len());
            out.push(after[..end].to_string());
            rest = after.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out
}

impl SearchTerm {
    /// Parses the text between the braces (escapes already removed).
    pub fn parse(term: &str) -> Result<SearchTerm, TermError> {
        let mut alternatives = vec![Vec::new()];
        for piece in pieces(term) {
            match piece.as_str() {
                "OR" => alternatives.push(Vec::new()),
                // AND is implicit; AND NOT is not served and reads as AND.
                "AND" | "NOT" => {}
                _ => {
                    let sequence = pattern_words(&piece);
                    if !sequence.is_empty() {
                        alternatives
                            .last_mut()
                            .expect("one alternative")
                            .push(sequence);
                    }
                }
            }
        }
        alternatives.retain(|a| !a.is_empty());
        // Salesforce refuses a term with fewer than two characters of text in all.
        let letters: usize = alternatives
            .iter()
            .flatten()
            .flatten()
            .map(|w| w.iter().filter(|c| **c != '*' && **c != '?').count())
            .sum();
        if alternatives.is_empty() || letters < 2 {
            return Err(TermError::TooShort);
        }
        Ok(SearchTerm { alternatives })
    }

    /// True when some alternative has every one of its sequences in one of `fields`.
    pub fn matches(&self, record: &Record, fields: &[&FieldDef]) -> bool {
        let texts: Vec<(FieldType, &str)> = fields
            .iter()
            .filter_map(|f| match record.get(&f.name) {
                Some(Value::String(text)) => Some((f.field_type, text.as_str())),
                _ => None,
            })
            .collect();
        let field_words: Vec<Vec<String>> = texts.iter().map(|(_, t)| words(t)).collect();
        self.alternatives.iter().any(|sequences| {
            sequences.iter().all(|sequence| {
                texts.iter().zip(&field_words).any(|((kind, text), words)| {
                    contains_sequence(words, sequence)
                        || (*kind == FieldType::Phone && phone_digits_match(text, sequence))
                })
            })
        })
    }
}

fn contains_sequence(words: &[String], sequence: &[WordPattern]) -> bool {
    !sequence.is_empty()
        && words.len() >= sequence.len()
        && words.windows(sequence.len()).any(|window| {
            window
                .iter()
                .zip(sequence)
                .all(|(word, pattern)| glob(pattern, &word.chars().collect::<Vec<_>>()))
        })
}

/// `(415) 555-1212` is found by `4155551212` and by `555-1212`: digits against digits.
fn phone_digits_match(text: &str, sequence: &[WordPattern]) -> bool {
    let wanted: String = sequence
        .iter()
        .flatten()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let have: String = text.chars().filter(char::is_ascii_digit).collect();
    // Fewer digits than a local number would match nearly every phone.
    wanted.len() >= 4 && have.contains(&wanted)
}

/// `*` matches any run of characters, `?` exactly one.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, at)) => {
                    p = star + 1;
                    t = at + 1;
                    backtrack = Some((star, at + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_org::server::tooling::plain_field;
    use serde_json::json;

    fn matches(term: &str, record: serde_json::Value) -> bool {
        let name = plain_field("Name", FieldType::String);
        let phone = plain_field("Phone", FieldType::Phone);
        let record = record.as_object().unwrap().clone();
        SearchTerm::parse(term)
            .unwrap()
            .matches(&record, &[&name, &phone])
    }

    #[test]
    fn whole_words_case_insensitive_with_wildcards() {
        let acme = json!({"Name": "Acme Corp", "Phone": "(415) 555-1212"});
        assert!(matches("acme", acme.clone()));
        assert!(!matches("acm", acme.clone()));
        assert!(matches("acm*", acme.clone()));
        assert!(matches("ac?e", acme.clone()));
        assert!(matches("corp acme", acme.clone()), "AND in any order");
        assert!(!matches("acme globex", acme.clone()));
        assert!(matches("globex OR acme", acme.clone()));
        assert!(matches("\"acme corp\"", acme.clone()));
        assert!(!matches("\"corp acme\"", acme.clone()));
        assert!(matches("4155551212", acme.clone()));
        assert!(matches("555-1212", acme));
    }

    #[test]
    fn one_character_terms_are_refused() {
        assert_eq!(SearchTerm::parse("a"), Err(TermError::TooShort));
        assert_eq!(SearchTerm::parse("a*"), Err(TermError::TooShort));
        assert_eq!(SearchTerm::parse(" OR "), Err(TermError::TooShort));
        assert!(SearchTerm::parse("ab").is_ok());
    }

    #[test]
    fn glob_backtracks() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(glob(&chars("a*c*e"), &chars("abcde")));
        assert!(glob(&chars("*"), &chars("")));
        assert!(!glob(&chars("a*z"), &chars("abc")));
    }
}
