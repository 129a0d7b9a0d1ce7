//! How many sessions may start: the routing policy's limits (`limits`) as counters in the
//! ledger, one per budget and fixed UTC hour or day, all taken together or none.

use crate::policy::Limits;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

/// One budget a new session counts against now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The ledger counter: the budget, its scope and its hour or day.
    pub key: String,
    pub cap: u32,
    /// `sessions_per_hour` or `sessions_per_day`.
    pub limit: &'static str,
    /// `bridge`, or `rule <name>`.
    pub scope: String,
    /// When the counter's hour or day ends and the budget refills (ms since the epoch).
    pub refills_at_ms: u64,
}

/// The limits a session started at `now_ms` under `rule` counts against: the bridge's, then
/// the rule's own.
pub fn slots(now_ms: u64, bridge: Limits, rule: &str, rule_limits: Limits) -> Vec<Slot> {
    let mut slots = Vec::new();
    for (scope, key_scope, limits) in [
        ("bridge".to_owned(), "bridge".to_owned(), bridge),
        (format!("rule {rule}"), format!("rule#{rule}"), rule_limits),
    ] {
        for (limit, cap, period, unit) in [
            (
                "sessions_per_hour",
                limits.sessions_per_hour,
                HOUR_MS,
                "hour",
            ),
            ("sessions_per_day", limits.sessions_per_day, DAY_MS, "day"),
        ] {
            let Some(cap) = cap else { continue };
            let index = now_ms / period;
            slots.push(Slot {
                key: format!("budget#{key_scope}#{unit}#{index}"),
                cap: cap.get(),
                limit,
                scope: scope.clone(),
                refills_at_ms: (index + 1) * period,
            });
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn each_budget_counts_in_its_own_hour_or_day() {
        let limits = |hour, day| Limits {
            sessions_per_hour: NonZeroU32::new(hour),
            sessions_per_day: NonZeroU32::new(day),
        };
        let now = 1_795_857_124_512; // 2026-11-28T09:12:04.512Z
        let slots = slots(now, limits(5, 20), "sev1", limits(2, 0));
        let keys: Vec<&str> = slots.iter().map(|slot| slot.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "budget#bridge#hour#498849",
                "budget#bridge#day#20785",
                "budget#rule#sev1#hour#498849",
            ]
        );
        assert_eq!((slots[0].cap, slots[0].limit), (5, "sessions_per_hour"));
        assert_eq!(slots[0].refills_at_ms, 1_795_860_000_000, "10:00 UTC");
        assert_eq!(slots[1].refills_at_ms, 1_795_910_400_000, "midnight UTC");
        assert_eq!(slots[2].scope, "rule sev1");
        assert!(super::slots(now, Limits::default(), "r", Limits::default()).is_empty());
    }
}
