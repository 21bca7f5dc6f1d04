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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const ID: &str = "001Hs00002AbCdEIAV";

    fn record(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn assert_safe(name: &str, id: &str) {
        assert!(
            name.len() <= MAX_FILE_NAME_BYTES,
            "{} bytes: {name:?}",
            name.len()
        );
        assert!(!name.contains('/') && !name.contains('\0'), "{name:?}");
        assert!(!name.chars().any(char::is_control), "{name:?}");
        assert!(
            name != "." && name != ".." && !name.starts_with('.'),
            "{name:?}"
        );
        assert_eq!(id_from_file_name(name), Some(id), "{name:?}");
    }

    #[test]
    fn ordinary_title() {
        assert_eq!(
            file_name("Acme Corporation", ID, "json"),
            "Acme Corporation [001Hs00002AbCdEIAV].json"
        );
    }

    #[test]
    fn dot_titles_never_give_dot_names_or_hidden_files() {
        assert_eq!(file_name("..", ID, "json"), "[001Hs00002AbCdEIAV].json");
        assert_eq!(file_name(".", ID, "txt"), "[001Hs00002AbCdEIAV].txt");
        assert_eq!(
            file_name(".hidden plan", ID, "json"),
            "hidden plan [001Hs00002AbCdEIAV].json"
        );
        assert_eq!(
            file_name("v1.2 . ..", ID, "json"),
            "v1.2 . .. [001Hs00002AbCdEIAV].json"
        );
    }

    #[test]
    fn slashes_become_underscores() {
        assert_eq!(file_name("/", ID, "json"), "_ [001Hs00002AbCdEIAV].json");
        assert_eq!(
            file_name("A/B Test", ID, "json"),
            "A_B Test [001Hs00002AbCdEIAV].json"
        );
        assert_safe(&file_name("../../etc/passwd", ID, "json"), ID);
    }

    #[test]
    fn empty_or_blank_title_gives_just_the_id() {
        assert_eq!(file_name("", ID, "json"), "[001Hs00002AbCdEIAV].json");
        assert_eq!(file_name(" \t\n ", ID, "json"), "[001Hs00002AbCdEIAV].json");
        assert_eq!(file_name("", ID, ""), "[001Hs00002AbCdEIAV]");
    }

    #[test]
    fn control_characters_and_nul_become_single_spaces() {
        let name = file_name("Line1\nLine2\0\x07end\r\n\u{85}x\u{2028}y", ID, "json");
        assert_eq!(name, "Line1 Line2 end x y [001Hs00002AbCdEIAV].json");
    }

    #[test]
    fn bidi_overrides_are_dropped_but_rtl_letters_kept() {
        let name = file_name("invoice\u{202E}fdp.exe", ID, "json");
        assert_eq!(name, "invoicefdp.exe [001Hs00002AbCdEIAV].json");
        let hebrew = file_name("שלום עולם", ID, "json");
        assert_eq!(hebrew, "שלום עולם [001Hs00002AbCdEIAV].json");
        let arabic = file_name("\u{2067}مرحبا\u{2069}", ID, "json");
        assert_eq!(arabic, "مرحبا [001Hs00002AbCdEIAV].json");
    }

    #[test]
    fn long_titles_are_cut_to_255_bytes_on_a_char_boundary() {
        let ascii = "a".repeat(1000);
        let name = file_name(&ascii, ID, "json");
        assert_eq!(name.len(), MAX_FILE_NAME_BYTES);
        assert_safe(&name, ID);

        // Two-, three- and four-byte characters, offset so the cut lands mid-character.
        for unit in ["é", "中", "😀", "👩‍👩‍👧"] {
            for pad in 0..4 {
                let title = format!("{}{}", "x".repeat(pad), unit.repeat(1000));
                let name = file_name(&title, ID, "json");
                assert_safe(&name, ID);
                assert!(
                    name.len() > MAX_FILE_NAME_BYTES - 4 - unit.len(),
                    "cut too much: {}",
                    name.len()
                );
                assert!(name.ends_with(" [001Hs00002AbCdEIAV].json"));
            }
        }
    }

    #[test]
    fn emoji_only_titles_are_kept() {
        assert_eq!(
            file_name("🚀🔥", ID, "json"),
            "🚀🔥 [001Hs00002AbCdEIAV].json"
        );
    }

    #[test]
    fn same_title_different_ids_give_different_names() {
        let other = "001Hs00002AbCdFIAV";
        let a = file_name("Acme", ID, "json");
        let b = file_name("Acme", other, "json");
        assert_ne!(a, b);
        assert_eq!(id_from_file_name(&b), Some(other));
    }

    #[test]
    fn names_are_stable_for_the_same_title() {
        assert_eq!(
            file_name("Acme ✓", ID, "json"),
            file_name("Acme ✓", ID, "json")
        );
    }

    #[test]
    fn malformed_ids_cannot_make_unsafe_names() {
        let name = file_name("x", "../../\0etc", "json");
        assert!(!name.contains('/') && !name.contains('\0'));
        assert_eq!(id_from_file_name(&name), None, "not a Salesforce Id shape");
    }

    #[test]
    fn id_from_file_name_accepts_only_our_shape() {
        assert_eq!(
            id_from_file_name("Acme [001Hs00002AbCdEIAV].json"),
            Some(ID)
        );
        assert_eq!(
            id_from_file_name("[001Hs00002AbCdE].txt"),
            Some("001Hs00002AbCdE")
        );
        assert_eq!(
            id_from_file_name("Title [x] [001Hs00002AbCdEIAV].json"),
            Some(ID)
        );
        assert_eq!(id_from_file_name("[001Hs00002AbCdEIAV]"), Some(ID));
        for bad in [
            ".sobject.json",
            "Acme.json",
            "Acme[001Hs00002AbCdEIAV].json",
            "Acme [001Hs00002AbCdEIA].json",
            "Acme [001Hs00002AbCdEIAV].json.swp.x]",
            "Acme [001Hs00002AbCdEIAV]x",
            "Acme [001Hs00002AbCdEIAV].",
            "Acme [001Hs00002AbCd-IAV].json",
            "[]",
            "",
        ] {
            assert_eq!(id_from_file_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn titles_follow_the_object_rules() {
        let account = record(json!({"Id": ID, "Name": "  Acme  "}));
        assert_eq!(record_title("Account", &account, None), "Acme");

        let case = record(
            json!({"Id": "500Hs00001XyZaBIAR", "CaseNumber": "00001026", "Subject": "Engine failure"}),
        );
        assert_eq!(
            record_title("Case", &case, Some("CaseNumber")),
            "00001026 Engine failure"
        );
        let case_no_subject =
            record(json!({"Id": "500Hs00001XyZaBIAR", "CaseNumber": "00001026", "Subject": null}));
        assert_eq!(record_title("Case", &case_no_subject, None), "00001026");
        let case_subject_only = record(json!({"Id": "500Hs00001XyZaBIAR", "Subject": "Broken"}));
        assert_eq!(record_title("Case", &case_subject_only, None), "Broken");

        let nameless = record(json!({"Id": "a00Hs00000ZzZzZIAV", "Amount__c": 5}));
        assert_eq!(
            record_title("Payment__c", &nameless, None),
            "a00Hs00000ZzZzZIAV"
        );
        let blank_name = record(json!({"Id": "a00Hs00000ZzZzZIAV", "Name": "   "}));
        assert_eq!(
            record_title("Invoice__c", &blank_name, None),
            "a00Hs00000ZzZzZIAV"
        );

        let contract = record(json!({"Id": "800Hs0000000001IAA", "ContractNumber": "00000100"}));
        assert_eq!(
            record_title("Contract", &contract, Some("ContractNumber")),
            "00000100"
        );
        let autonumber = record(json!({"Id": "a01Hs0000000001IAA", "Seq__c": 42}));
        assert_eq!(record_title("Thing__c", &autonumber, Some("Seq__c")), "42");

        assert_eq!(record_title("Account", &Map::new(), None), "");
    }

    fn salesforce_id() -> impl Strategy<Value = String> {
        prop_oneof!["[a-zA-Z0-9]{15}", "[a-zA-Z0-9]{18}"]
    }

    proptest! {
        #[test]
        fn file_names_are_always_safe_and_reversible(
            title in any::<String>(),
            id in salesforce_id(),
            ext in prop_oneof![Just("json"), Just("txt"), Just("")],
        ) {
            let name = file_name(&title, &id, ext);
            prop_assert!(name.len() <= MAX_FILE_NAME_BYTES);
            prop_assert!(!name.contains('/') && !name.contains('\0'));
            prop_assert!(!name.chars().any(char::is_control));
            prop_assert!(name != "." && name != "..");
            prop_assert!(!name.starts_with('.'));
            prop_assert!(name.contains(&id));
            prop_assert_eq!(id_from_file_name(&name), Some(id.as_str()));
            prop_assert_eq!(&name, &file_name(&title, &id, ext));
        }

        #[test]
        fn long_unicode_titles_fit(title in "\\PC{200,400}", id in salesforce_id()) {
            let name = file_name(&title, &id, "json");
            prop_assert!(name.len() <= MAX_FILE_NAME_BYTES);
            prop_assert_eq!(id_from_file_name(&name), Some(id.as_str()));
        }
    }
}
