//! Byte sizes as users write them: `64MiB`, `512KiB`, `1GiB`, `64M`, or a number of bytes.

use serde::Deserialize;

use super::ConfigError;

/// A size as one settings source gave it: `memory_cache_size = "64MiB"` or a whole number of
/// bytes in the file, text on the command line. Kept unparsed until it is the value used, as
/// durations are, so a bad value overridden by a later source is no error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub enum SizeValue {
    Bytes(i64),
    Text(String),
}

impl SizeValue {
    pub(super) fn to_bytes(&self) -> Result<usize, ConfigError> {
        let bad = |text: String| ConfigError::BadSize { text };
        match self {
            SizeValue::Bytes(n) => usize::try_from(*n).map_err(|_| bad(n.to_string())),
            SizeValue::Text(text) => parse_size(text).ok_or_else(|| bad(text.clone())),
        }
    }
}

impl TryFrom<toml::Value> for SizeValue {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Integer(n) => Ok(SizeValue::Bytes(n)),
            toml::Value::String(text) => Ok(SizeValue::Text(text)),
            other => Err(format!(
                "a size is a string such as \"64MiB\", or a whole number of bytes, not a {}",
                other.type_str()
            )),
        }
    }
}

/// `64MiB`, `64 MiB`, `64M`, `512k`, `1GiB` or plain bytes. Units are binary (a cache budget
/// is memory, counted in powers of two); `M` and `MB` are read as MiB, as `free -m` and
/// `du -m` use them.
pub fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("64 MiB"), Some(64 << 20));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("0"), Some(0));
        for bad in [
            "",
            "MiB",
            "-1M",
            "1.5G",
            "64 parsecs",
            "99999999999999999999",
        ] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
        assert!(SizeValue::Bytes(-1).to_bytes().is_err());
        assert_eq!(SizeValue::Bytes(10).to_bytes().unwrap(), 10);
    }
}
