//! Salesforce's datetimes, read in one place: the listing's file times, the refresh
//! watermarks, the status documents and the text view all parse through [`parse`]. HTTP
//! dates (`Last-Modified`, `If-Modified-Since` of describes) are read and written here too,
//! by the client and the fake org alike.

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

/// A time as an HTTP date (IMF-fixdate, RFC 9110 §5.6.7): `Wed, 03 Jul 2013 19:43:31 GMT`,
/// whole seconds, always GMT. Salesforce documents describe's `If-Modified-Since` as
/// `EEE, dd MMM yyyy HH:mm:ss z`, which this is.
pub fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An HTTP date in any of the three forms RFC 9110 says a recipient must accept: IMF-fixdate
/// (and RFC 2822 generally, which also reads Salesforce's `MST` style zone names), the
/// obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`). `None` for anything else.
pub fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%A, %d-%b-%y %H:%M:%S GMT")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%a %b %e %H:%M:%S %Y"))
        .ok()?;
    Some(naive.and_utc())
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
    fn http_dates_print_in_imf_form_and_read_in_all_three() {
        let at = parse("2013-07-03T19:43:31.000+0000").unwrap();
        assert_eq!(http_date(at), "Wed, 03 Jul 2013 19:43:31 GMT");
        for text in [
            "Wed, 03 Jul 2013 19:43:31 GMT",
            // Salesforce's own example spells the day with one digit.
            "Wed, 3 Jul 2013 19:43:31 GMT",
            "Wed, 03 Jul 2013 12:43:31 MST",
            "Wednesday, 03-Jul-13 19:43:31 GMT",
            "Wed Jul  3 19:43:31 2013",
        ] {
            assert_eq!(parse_http_date(text), Some(at), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "2013-07-03T19:43:31Z",
            "Wed, 32 Jul 2013 19:43:31 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
