//! Durations as users write them (`30s`, `5m`, `1h30m`, seconds), and the refresh minimum.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// Shortest refresh interval accepted. Every refresh costs API calls from the org's daily
/// allowance shared with other integrations; polling faster than this buys little freshness
/// and can exhaust the allowance within hours.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// A duration as one settings source gave it: `interval = "30s"` or `interval = 30`
/// (seconds) in the file, text on the command line. Kept unparsed until it is the value
/// used, so a bad value overridden by a later source is no error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub enum DurationValue {
    Seconds(i64),
    Text(String),
}

impl DurationValue {
    pub(super) fn to_duration(&self) -> Result<Duration, ConfigError> {
        match self {
            DurationValue::Seconds(secs) => {
                u64::try_from(*secs).map(Duration::from_secs).map_err(|_| {
                    ConfigError::BadDuration {
                        text: secs.to_string(),
                        reason: "a duration cannot be negative".into(),
                    }
                })
            }
            DurationValue::Text(text) => parse_duration(text),
        }
    }

    /// The value as the user wrote it, for error messages.
    pub(super) fn text(&self) -> String {
        match self {
            DurationValue::Seconds(secs) => secs.to_string(),
            DurationValue::Text(text) => text.clone(),
        }
    }

    /// The duration, at least [`MIN_INTERVAL`] (a refresh schedule).
    pub(super) fn to_interval(&self) -> Result<Duration, ConfigError> {
        check_interval(self.to_duration()?, &self.text())
    }
}

/// A refresh interval as written by the user (`30s`, `5m`, or seconds), at least
/// [`MIN_INTERVAL`]: what `--interval` of `mount` and `demo` accept.
pub fn parse_interval(text: &str) -> Result<Duration, ConfigError> {
    check_interval(parse_duration(text)?, text)
}

fn check_interval(interval: Duration, text: &str) -> Result<Duration, ConfigError> {
    if interval < MIN_INTERVAL {
        return Err(ConfigError::IntervalTooShort {
            text: text.to_string(),
        });
    }
    Ok(interval)
}

/// Parses `30s`, `5m`, `1h30m`, `500ms`, `2d`, or a bare number of seconds (`45`).
/// Units: ms, s, m, h, d. Whole numbers only, so `1.5m` is rejected (write `90s`).
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let bad = |reason: &str| ConfigError::BadDuration {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed.starts_with('-') {
        return Err(bad("a duration cannot be negative"));
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = trimmed
            .parse()
            .map_err(|_| bad("the number is too large"))?;
        return Ok(Duration::from_secs(secs));
    }

    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(bad("each part must start with a whole number, e.g. `30s`"));
        }
        let number: u64 = rest[..digits_end]
            .parse()
            .map_err(|_| bad("the number is too large"))?;
        rest = &rest[digits_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest[..unit_end].trim();
        rest = &rest[unit_end..];
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(bad(
                    "a number inside a duration needs a unit (ms, s, m, h, d)",
                ))
            }
            _ => return Err(bad("unknown unit; use ms, s, m, h or d")),
        };
        let part = number
            .checked_mul(millis_per_unit)
            .ok_or_else(|| bad("it is too long"))?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(|| bad("it is too long"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_INTERVAL;

    #[test]
    fn parse_interval_applies_the_minimum() {
        assert_eq!(parse_interval("30s").unwrap(), DEFAULT_INTERVAL);
        assert_eq!(parse_interval("5").unwrap(), MIN_INTERVAL);
        for short in ["4s", "0", "500ms"] {
            let err = parse_interval(short).unwrap_err();
            assert!(
                matches!(&err, ConfigError::IntervalTooShort { text } if text == short),
                "{short}: {err}"
            );
        }
        assert!(matches!(
            parse_interval("soon"),
            Err(ConfigError::BadDuration { .. })
        ));
    }

    #[test]
    fn parse_duration_accepts_the_documented_forms() {
        let cases = [
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("2d", 172_800_000),
            ("45", 45_000),
            (" 10s ", 10_000),
            ("1m 30s", 90_000),
            ("0", 0),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_millis(millis),
                "{text}"
            );
        }
    }

    #[test]
    fn parse_duration_rejects_bad_values() {
        for text in [
            "",
            "  ",
            "-5s",
            "5x",
            "s",
            "1.5m",
            "10 20",
            "99999999999999999999",
            "18446744073709551615d",
            "m5",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadDuration { .. }),
                "{text}: {err}"
            );
        }
    }
}
