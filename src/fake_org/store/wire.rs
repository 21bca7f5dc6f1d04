//! The wire formats the store writes: blob URLs and Salesforce's datetime form.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// The relative URL of a blob field's bytes, as records show it (`.../VersionData`).
pub fn blob_url(api_version: &str, object: &str, id: &str, field: &str) -> String {
    format!(
        "/services/data/v{}/sobjects/{object}/{id}/{field}",
        bare_version(api_version)
    )
}

/// `59.0` from `59.0` or `v59.0`.
pub(super) fn bare_version(api_version: &str) -> &str {
    api_version.strip_prefix('v').unwrap_or(api_version)
}

/// Salesforce's datetime wire format: UTC, milliseconds, `+0000` without a colon.
pub fn format_datetime(at: DateTime<Utc>) -> String {
    // Hand-rolled: chrono's strftime parsing dominated seeding time, and stored datetimes
    // are rendered like this on every read, several per row of a page.
    // A leap second shows as millisecond 1000+ in chrono; Salesforce has none.
    let millis = at.timestamp_subsec_millis().min(999);
    if (0..=9999).contains(&at.year()) {
        let mut text = *b"0000-00-00T00:00:00.000+0000";
        let mut put = |end: usize, mut value: u32, width: usize| {
            for slot in text[end - width..end].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(4, at.year().unsigned_abs(), 4);
        put(7, at.month(), 2);
        put(10, at.day(), 2);
        put(13, at.hour(), 2);
        put(16, at.minute(), 2);
        put(19, at.second(), 2);
        put(23, millis, 3);
        return String::from_utf8_lossy(&text).into_owned();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        millis
    )
}

/// Parses the wire format written by [`format_datetime`].
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .ok()
        .map(|at| at.with_timezone(&Utc))
}
