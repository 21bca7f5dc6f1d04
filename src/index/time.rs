//! Salesforce's datetimes, read and written in one place: the listing's file times, the
//! refresh watermarks and the status documents all go through these.

use std::time::SystemTime;

use super::source::Record;

/// Salesforce writes `2024-01-15T10:30:00.000+0000`; RFC 3339 is accepted too.
pub fn parse_salesforce_datetime(text: &str) -> Option<SystemTime> {
    let parsed = chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()?;
    Some(SystemTime::from(parsed.with_timezone(&chrono::Utc)))
}

/// A time as the status documents show it: UTC, whole seconds, `Z`.
pub fn rfc3339(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A record's datetime field as a SystemTime; the epoch when absent or unparsable (an honest
/// "unknown" rather than a made-up time).
pub fn record_time(record: &Record, field: &str) -> SystemTime {
    record
        .get(field)
        .and_then(|v| v.as_str())
        .and_then(parse_salesforce_datetime)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The record's SystemModstamp, or its LastModifiedDate when the object has none.
pub fn record_watermark(record: &Record) -> Option<SystemTime> {
    ["SystemModstamp", "LastModifiedDate"]
        .iter()
        .find_map(|field| record.get(*field)?.as_str())
        .and_then(parse_salesforce_datetime)
}
