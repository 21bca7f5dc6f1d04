//! The `Sforce-Limit-Info` header: the org's daily API usage, sent on every REST response;
//! and `GET /limits`, the cheapest way to ask for that figure when nothing else calls.

use serde_json::Value;

use super::client::{Meter, SalesforceClient};
use super::error::SfError;
use crate::sync::lock;

/// Daily API requests used and allowed, as the org last reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    pub used: u64,
    pub max: u64,
}

impl ApiUsage {
    /// Share of the daily limit used, 0.0 to 1.0 (1.0 when max is 0: nothing to spend).
    pub fn used_fraction(&self) -> f64 {
        if self.max == 0 {
            return 1.0;
        }
        (self.used as f64 / self.max as f64).min(1.0)
    }

    /// Share of the daily limit still available, 0.0 to 1.0 (0.0 when max is 0).
    pub fn remaining_fraction(&self) -> f64 {
        if self.max == 0 {
            return 0.0;
        }
        self.max.saturating_sub(self.used) as f64 / self.max as f64
    }
}

/// Reads `api-usage=USED/MAX` out of a `Sforce-Limit-Info` value. Real orgs may append other
/// entries (`; api-bursts=1/750`, `per-app-api-usage=...`), so the org-wide entry is looked up
/// by name rather than by position; `per-app-api-usage` is not the org-wide figure.
pub fn parse_limit_info(header: &str) -> Option<ApiUsage> {
    header.split([';', ',']).find_map(|part| {
        let value = part.trim().strip_prefix("api-usage=")?;
        let (used, max) = value.split_once('/')?;
        let max_digits: String = max.chars().take_while(|c| c.is_ascii_digit()).collect();
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            max: max_digits.parse().ok()?,
        })
    })
}

impl SalesforceClient {
    /// Asks the org for its daily API usage now (`GET .../limits`, one API call) and keeps
    /// the figure for [`SalesforceClient::api_usage`]. The answer's `Sforce-Limit-Info`
    /// header already sets it; `DailyApiRequests` in the body is read too, so a proxy that
    /// drops the header does not leave the old figure in place.
    pub async fn refresh_api_usage(&self) -> Result<Option<ApiUsage>, SfError> {
        let path = format!("{}/limits", self.data_path());
        let value = self
            .get_json(path, "limits".into(), &Meter::default())
            .await?;
        if let Some(usage) = daily_api_requests(&value) {
            *lock(&self.inner.usage) = Some(usage);
        }
        Ok(self.api_usage())
    }
}

/// `DailyApiRequests {Max, Remaining}` of a `/limits` answer, as used and allowed.
fn daily_api_requests(limits: &Value) -> Option<ApiUsage> {
    let daily = limits.get("DailyApiRequests")?;
    let max = daily.get("Max")?.as_u64()?;
    let remaining = daily.get("Remaining")?.as_u64()?;
    Some(ApiUsage {
        used: max.saturating_sub(remaining),
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_daily_api_requests_of_a_limits_answer() {
        let limits = serde_json::json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14990}});
        assert_eq!(
            daily_api_requests(&limits),
            Some(ApiUsage {
                used: 10,
                max: 15000
            })
        );
        assert_eq!(daily_api_requests(&serde_json::json!({})), None);
    }

    #[test]
    fn parses_the_plain_form() {
        assert_eq!(
            parse_limit_info("api-usage=18/15000"),
            Some(ApiUsage {
                used: 18,
                max: 15000
            })
        );
    }

    #[test]
    fn parses_forms_with_suffixes_and_per_app_entries() {
        assert_eq!(
            parse_limit_info("api-usage=10018/100000; api-bursts=1/750"),
            Some(ApiUsage {
                used: 10018,
                max: 100000
            })
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=17/250(appName=sample); api-usage=25/5000"),
            Some(ApiUsage {
                used: 25,
                max: 5000
            })
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "api-usage=",
            "api-usage=a/b",
            "usage=1/2",
            "api-usage=5",
            "per-app-api-usage=1/2",
        ] {
            assert_eq!(parse_limit_info(bad), None, "{bad}");
        }
    }

    #[test]
    fn remaining_fraction() {
        assert!((ApiUsage { used: 90, max: 100 }.remaining_fraction() - 0.1).abs() < 1e-9);
        assert_eq!(
            ApiUsage {
                used: 200,
                max: 100
            }
            .remaining_fraction(),
            0.0
        );
        assert_eq!(ApiUsage { used: 0, max: 0 }.remaining_fraction(), 0.0);
    }
}
