//! Record titles and the file names made from them.

use serde_json::{Map, Value};

/// Longest file name most Linux filesystems (and FUSE's `NAME_MAX`) accept, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Salesforce Ids are 15 (case-sensitive) or 18 (case-insensitive) characters.
const ID_LENGTHS: [usize; 2] = [15, 18];

fn text_of(record: &Map<String, Value>, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::String(text) => Some(text.trim().to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
    .filter(|text| !text.is_empty())
}

/// The record's title: its name field (`name_field` from describe, else `Name`); for Case
/// `"CaseNumber Subject"` (either part alone when the other is empty); the Id when there is
/// no usable name. The raw value, trimmed: `file_name` makes it safe for a file system.
pub fn record_title(object: &str, record: &Map<String, Value>, name_field: Option<&str>) -> String {
    let title = if object.eq_ignore_ascii_case("Case") {
        let parts: Vec<String> = ["CaseNumber", "Subject"]
            .iter()
            .filter_map(|field| text_of(record, field))
            .collect();
        Some(parts.join(" ")).filter(|title| !title.is_empty())
    } else {
        text_of(record, name_field.unwrap_or("Name"))
    };
    title.or_else(|| text_of(record, "Id")).unwrap_or_default()
}

/// Bidirectional formatting controls: they make a name display in a different order than it
/// is stored (a right-to-left override makes "invoice<U+202E>fdp.exe" look like "invoiceexe.pdf"), so they are dropped from file names. Ordinary
/// right-to-left letters are kept.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The title as a single line that is safe inside a file name: `/` becomes `_`, control
/// characters and any whitespace (newlines, tabs, Unicode line separators) become one space,
/// bidi controls and byte-order marks are dropped, and leading dots and spaces are removed
/// (a leading dot would hide the file from `ls` and `*`).
fn clean_title(title: &str) -> String {
    let mut cleaned = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.chars() {
        if is_bidi_control(c) || c == '\u{FEFF}' {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !cleaned.is_empty() {
            cleaned.push(' ');
        }
        pending_space = false;
        cleaned.push(if c == '/' { '_' } else { c });
    }
    cleaned.trim_start_matches(['.', ' ']).to_string()
}

/// The longest prefix of `text` that fits in `max_bytes` and ends on a character boundary.
fn truncate_on_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `"<safe title> [<Id>].<ext>"`: no `/`, NUL or control characters, never `.` or `..` nor
/// hidden, `"[<Id>].<ext>"` when the title is empty, at most 255 bytes (the title is cut on a
/// UTF-8 boundary). Unique because the Id is in it; stable while the title is unchanged.
/// `id` is expected to be a Salesforce Id; any character other than an ASCII letter or digit
/// in it is replaced with `_` so that even a malformed Id cannot produce an unsafe name.
/// `extension` is sfmount's own (`json`, `txt`); an empty one gives no trailing dot.
pub fn file_name(title: &str, id: &str, extension: &str) -> String {
    let safe_id: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let suffix = if extension.is_empty() {
        format!("[{safe_id}]")
    } else {
        format!("[{safe_id}].{extension}")
    };
    let cleaned = clean_title(title);
    // The title and the space that separates it from the suffix must fit in what is left.
    let budget = MAX_FILE_NAME_BYTES.saturating_sub(suffix.len() + 1);
    let title = truncate_on_char_boundary(&cleaned, budget).trim_end();
    if title.is_empty() {
        suffix
    } else {
        format!("{title} {suffix}")
    }
}

/// The Id inside a file name made by `file_name`, or `None` for any other name.
pub fn id_from_file_name(name: &str) -> Option<&str> {
    let open = name.rfind('[')?;
    if open > 0 && !name[..open].ends_with(' ') {
        return None;
    }
    let after_open = &name[open + 1..];
    let close = after_open.find(']')?;
    let id = &after_open[..close];
    let rest = &after_open[close + 1..];
    let rest_ok = rest.is_empty()
        || rest
            .strip_prefix('.')
            .is_some_and(|ext| !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric()));
    let id_ok = ID_LENGTHS.contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    (rest_ok && id_ok).then_some(id)
}
