//! A record's times: its file time and its refresh watermark, read with the one Salesforce
//! datetime parser (`crate::sftime`).

use std::time::SystemTime;

use super::source::Record;
pub use crate::sftime::{parse_salesforce_datetime, rfc3339};

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
