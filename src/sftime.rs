//! Salesforce's datetimes, read in one place: the listing's file times, the refresh
//! watermarks, the status documents and the text view all parse through [`parse`].

use std::time::SystemTime;

use chrono::{DateTime, Utc};

/// Salesforce writes `2024-01-15T10:30:00.000+0000` (no colon in the offset, which RFC 3339
/// requires); RFC 3339 is accepted too, as some clients and captures write it.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()?;
    Some(parsed.with_timezone(&Utc))
}

/// [`parse`], as the `SystemTime` that file times and watermarks use.
pub fn parse_salesforce_datetime(text: &str) -> Option<SystemTime> {
    parse(text).map(SystemTime::from)
}

/// A time as the status documents show it: UTC, whole seconds, `Z`.
pub fn rfc3339(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_and_rfc3339_times_read_alike_and_print_in_utc() {
        let salesforce = parse_salesforce_datetime("2024-01-15T10:30:00.000+0000").unwrap();
        let rfc = parse_salesforce_datetime("2024-01-15T11:30:00+01:00").unwrap();
        assert_eq!(salesforce, rfc);
        assert_eq!(rfc3339(salesforce), "2024-01-15T10:30:00Z");
        assert_eq!(parse_salesforce_datetime("yesterday"), None);
    }
}
