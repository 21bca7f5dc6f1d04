//! The file formats a record is rendered in, and the `format` setting that chooses them.

/// One file format a record is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// The record as Salesforce returns it, pretty-printed (`.json`).
    Json,
    /// The content-extraction view for people and grep (`.txt`).
    Text,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Json => "json",
            FileFormat::Text => "txt",
        }
    }

    /// The format whose file extension is `extension` (as stored by the local store).
    pub fn from_extension(extension: &str) -> Option<FileFormat> {
        [FileFormat::Json, FileFormat::Text]
            .into_iter()
            .find(|format| format.extension() == extension)
    }
}

/// The values of the `format` setting, as help texts list them.
pub const FORMAT_SETTING_VALUES: [&str; 3] = ["json", "text", "both"];

/// The formats a `format` setting stands for, in file order (JSON first): `json`, `text`
/// (or `txt`) or `both`, any case. `None` for anything else; the caller says where the
/// value came from.
pub fn parse_format_setting(text: &str) -> Option<&'static [FileFormat]> {
    match text.trim().to_ascii_lowercase().as_str() {
        "json" => Some(&[FileFormat::Json]),
        "text" | "txt" => Some(&[FileFormat::Text]),
        "both" => Some(&[FileFormat::Json, FileFormat::Text]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_setting_value_parses_and_json_comes_first() {
        for value in FORMAT_SETTING_VALUES {
            let formats = parse_format_setting(value).unwrap();
            assert!(!formats.is_empty(), "{value}");
        }
        assert_eq!(
            parse_format_setting(" Both "),
            Some(&[FileFormat::Json, FileFormat::Text][..])
        );
        assert_eq!(parse_format_setting("txt"), Some(&[FileFormat::Text][..]));
        assert_eq!(parse_format_setting("yaml"), None);
    }
}
