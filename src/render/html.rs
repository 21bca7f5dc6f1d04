//! HTML as plain text, for the text view: Salesforce's rich-text feed bodies and the HTML
//! bodies of emails, so that grep finds words, not markup.
//!
//! A small converter rather than a crate: the text view needs words and line breaks only (no
//! layout, links or tables), and the well-kept HTML-to-text crates bring a full HTML5 parser
//! (html5ever and its string interning) into a binary that otherwise parses no HTML. Mail
//! HTML is often malformed, so this never fails: an unclosed tag or entity is kept as text.

/// Tags whose content is not text a reader sees: styles, scripts, the head's title.
const HIDDEN: [&str; 4] = ["style", "script", "head", "title"];

/// Tags that start a new line.
const BLOCK: [&str; 19] = [
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "hr",
    "pre",
    "dt",
    "dd",
];

/// `html` as lines of text: block tags end lines, other tags are dropped, hidden elements
/// and comments are left out, runs of whitespace read as one space (as a browser shows
/// them), entities are decoded in one pass (so `&amp;lt;` is the text `&lt;`), and at most
/// one empty line separates paragraphs.
pub(super) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            push_text(&mut out, rest);
            break;
        };
        push_text(&mut out, &rest[..open]);
        rest = &rest[open..];
        // As in a browser, `<` starts markup only before a letter, `/` or `!` ("3 < 4").
        let starts_markup = rest[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !starts_markup {
            push_text(&mut out, "<");
            rest = &rest[1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            push_text(&mut out, rest);
            break;
        };
        let inside = &rest[1..close];
        rest = &rest[close + 1..];
        let closing = inside.starts_with('/');
        let name = inside
            .trim_start_matches('/')
            .split(|c: char| c.is_ascii_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !closing && HIDDEN.contains(&name.as_str()) && !inside.ends_with('/') {
            rest = skip_element(rest, &name);
        } else if BLOCK.contains(&name.as_str()) {
            new_line(&mut out);
        }
    }
    tidy(&out)
}

/// What follows the end tag of `name` in `rest` (nothing when it is never closed).
fn skip_element<'a>(rest: &'a str, name: &str) -> &'a str {
    let lower = rest.to_ascii_lowercase();
    let end_tag = format!("</{name}");
    match lower.find(&end_tag) {
        Some(at) => rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..]),
        None => "",
    }
}

fn new_line(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    out.push('\n');
}

/// Text between tags: whitespace runs become one space (none at a line's start), entities
/// decoded.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_whitespace() {
            if !(out.is_empty() || out.ends_with(' ') || out.ends_with('\n')) {
                out.push(' ');
            }
            rest = &rest[1..];
        } else if c == '&' {
            match decode_entity(rest) {
                Some((decoded, used)) => {
                    out.push(decoded);
                    rest = &rest[used..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
}

/// The character of the entity at the start of `text` and its length: numeric ones
/// (`&#8212;`, `&#x2014;`) and the named ones mail and Salesforce's editor emit.
fn decode_entity(text: &str) -> Option<(char, usize)> {
    // The longest entity decoded here (`&#x10FFFF;`) is 10 bytes.
    let end = text.bytes().take(12).position(|b| b == b';')?;
    let name = &text[1..end];
    let decoded = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code)?
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            // A non-breaking space reads as a space (and greps as one).
            "nbsp" => ' ',
            "eacute" => 'é',
            "egrave" => 'è',
            "agrave" => 'à',
            "ccedil" => 'ç',
            "copy" => '©',
            "reg" => '®',
            "hellip" => '…',
            "mdash" => '—',
            "ndash" => '–',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "euro" => '€',
            _ => return None,
        }
    };
    Some((decoded, end + 1))
}

/// Trailing spaces off every line, at most one empty line in a row, none at either end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n').map(|l| l.trim_end_matches(' ')) {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_run > 1 {
                out.push('\n');
            }
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn salesforce_rich_text_reads_as_lines() {
        assert_eq!(
            html_to_text(
                "<p>Gasket <b>replaced</b> &amp; tested</p><p>Next: 3 &lt; 4<br/>done</p>"
            ),
            "Gasket replaced & tested\nNext: 3 < 4\ndone"
        );
        assert_eq!(html_to_text("<p>ok&nbsp;thanks</p>"), "ok thanks");
        assert_eq!(html_to_text("&amp;lt; stays &amp;lt;"), "&lt; stays &lt;");
        assert_eq!(html_to_text("&amp;éééééé"), "&éééééé");
    }

    #[test]
    fn mail_html_loses_styles_comments_and_source_line_breaks() {
        let html = "<html><head><STYLE>p { color: red }</STYLE><title>t</title></head>\n\
                    <body><div>Bonjour&nbsp;l&#39;&eacute;quipe,\n   the printer\n shows \
                    <b>E-42</b>.</div><!-- hidden --><p>Merci &#8212; &#x3042;</p>\
                    <script>alert(1)</script></body></html>";
        assert_eq!(
            html_to_text(html),
            "Bonjour l'équipe, the printer shows E-42.\nMerci — あ"
        );
    }

    #[test]
    fn broken_markup_is_kept_as_text_never_lost() {
        assert_eq!(html_to_text("a < b and c & d"), "a < b and c & d");
        assert_eq!(html_to_text("3 < 4 and 5 > 2"), "3 < 4 and 5 > 2");
        assert_eq!(html_to_text("x <b unclosed"), "x <b unclosed");
        assert_eq!(
            html_to_text("&bogus; &#xZZ; &#99999999;"),
            "&bogus; &#xZZ; &#99999999;"
        );
        assert_eq!(html_to_text("<style>never closed"), "");
        assert_eq!(html_to_text("one<br><br><br><br>two"), "one\n\ntwo");
    }
}
