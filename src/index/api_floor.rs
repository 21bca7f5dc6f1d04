//! The API floor: the one rule for when sfmount stops spending the org's daily API limit in
//! the background. The refresher applies it before every tick and `sfmount check` reports it,
//! so what check warns about is exactly what a mount would do.

use crate::salesforce::ApiUsage;

/// Background refresh pauses once this share of the org's daily API limit is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiFloor {
    stop_at_used_percent: u8,
}

impl ApiFloor {
    /// 80 % used: the remaining fifth is left to the org's other integrations, which share
    /// the same daily allowance.
    pub const DEFAULT_STOP_AT_USED_PERCENT: u8 = 80;
    pub const DEFAULT: ApiFloor = ApiFloor {
        stop_at_used_percent: Self::DEFAULT_STOP_AT_USED_PERCENT,
    };

    /// A floor at `stop_at_used_percent` % used; `None` outside 1 to 100 (0 would never
    /// refresh, above 100 never stop).
    pub fn new(stop_at_used_percent: u8) -> Option<ApiFloor> {
        (1..=100)
            .contains(&stop_at_used_percent)
            .then_some(ApiFloor {
                stop_at_used_percent,
            })
    }

    pub fn stop_at_used_percent(self) -> u8 {
        self.stop_at_used_percent
    }

    /// Whether `usage` has reached the floor. An org reporting a limit of 0 has nothing to
    /// spend, so it counts as reached.
    pub fn is_reached_by(self, usage: ApiUsage) -> bool {
        usage.used_fraction() >= f64::from(self.stop_at_used_percent) / 100.0
    }
}

impl Default for ApiFloor {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(used: u64, max: u64) -> ApiUsage {
        ApiUsage { used, max }
    }

    #[test]
    fn the_floor_is_reached_at_its_percentage_and_not_before() {
        let floor = ApiFloor::DEFAULT;
        assert!(!floor.is_reached_by(usage(79, 100)));
        assert!(floor.is_reached_by(usage(80, 100)));
        assert!(floor.is_reached_by(usage(120, 100)), "over the limit");
        assert!(
            floor.is_reached_by(usage(0, 0)),
            "a zero limit has nothing to spend"
        );
    }

    #[test]
    fn the_floor_is_a_setting() {
        // 20 % of the daily limit left.
        let left_a_fifth = usage(80_000, 100_000);
        assert!(!ApiFloor::new(90).unwrap().is_reached_by(left_a_fifth));
        assert!(ApiFloor::new(75).unwrap().is_reached_by(left_a_fifth));
        for bad in [0, 101, 255] {
            assert_eq!(ApiFloor::new(bad), None, "{bad}");
        }
        assert_eq!(ApiFloor::new(100).unwrap().stop_at_used_percent(), 100);
    }
}
