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

    #[test]
    fn a_record_without_a_stamp_has_the_epoch_and_no_watermark() {
        let mut record = Record::new();
        assert_eq!(record_time(&record, "CreatedDate"), SystemTime::UNIX_EPOCH);
        assert_eq!(record_watermark(&record), None);
        record.insert(
            "LastModifiedDate".into(),
            "2024-01-15T10:30:00.000+0000".into(),
        );
        assert!(record_watermark(&record).is_some());
    }
}
