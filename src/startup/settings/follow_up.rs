//! The follow-up's own settings: its run budget, the sweep's look-back and grace, and how long a
//! session may sit idle before it is closed out.

use std::time::Duration;

use super::read::up_to;
use super::SettingsError;
use crate::follow_up::{
    FollowUpOptions, DEFAULT_GRACE, DEFAULT_IDLE_AFTER, DEFAULT_LOOKBACK, DEFAULT_RUN_BUDGET,
};
use pure::inbound::secret::split_list;
use pure::inbound::webhook::is_pagerduty_id;

/// A run must end well inside the function's 60 s timeout (`template.yaml`).
pub const MAX_RUN_BUDGET_SECONDS: u64 = 50;
/// PagerDuty's open incidents are looked at back to a day at most.
pub const MAX_LOOKBACK_MINUTES: u64 = 24 * 60;
pub const MAX_GRACE_MINUTES: u64 = 60;
/// An idle session is closed out within the 30 days the ledger keeps its record.
pub const MAX_IDLE_HOURS: u64 = 720;

/// Reads `FOLLOW_UP_BUDGET_SECONDS`, `SWEEP_LOOKBACK_MINUTES`, `SWEEP_GRACE_MINUTES`,
/// `FOLLOW_UP_IDLE_HOURS`, `SWEEP_SERVICE_IDS` and `SWEEP_TEAM_IDS`.
pub fn follow_up_options(
    var: impl Fn(&str) -> Option<String>,
) -> Result<FollowUpOptions, SettingsError> {
    let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let run_budget = up_to(
        &var,
        "FOLLOW_UP_BUDGET_SECONDS",
        MAX_RUN_BUDGET_SECONDS,
        "a whole number of seconds from 1 to 50",
        "a whole number of seconds from 1 to 50 (the function times out at 60)",
    )?
    .map_or(DEFAULT_RUN_BUDGET, Duration::from_secs);
    let expected = "a whole number of minutes from 1 to 1440";
    let lookback = up_to(
        &var,
        "SWEEP_LOOKBACK_MINUTES",
        MAX_LOOKBACK_MINUTES,
        expected,
        expected,
    )?
    .map_or(DEFAULT_LOOKBACK, |minutes| {
        Duration::from_secs(minutes * 60)
    });
    let grace = grace(&var, lookback)?;
    let idle_after = up_to(
        &var,
        "FOLLOW_UP_IDLE_HOURS",
        MAX_IDLE_HOURS,
        "a whole number of hours from 1 to 720",
        "a whole number of hours from 1 to 720 (the ledger keeps records 30 days)",
    )?
    .map_or(DEFAULT_IDLE_AFTER, |hours| {
        Duration::from_secs(hours * 3600)
    });
    Ok(FollowUpOptions {
        run_budget,
        lookback,
        grace,
        idle_after,
        service_ids: pagerduty_ids(&var, "SWEEP_SERVICE_IDS")?,
        team_ids: pagerduty_ids(&var, "SWEEP_TEAM_IDS")?,
    })
}

/// `SWEEP_GRACE_MINUTES`: from 0 to 60, and less than the look-back.
fn grace(
    var: &impl Fn(&str) -> Option<String>,
    lookback: Duration,
) -> Result<Duration, SettingsError> {
    let grace = match var("SWEEP_GRACE_MINUTES") {
        None => DEFAULT_GRACE,
        Some(minutes) => match minutes.trim().parse::<u64>() {
            Ok(minutes) if minutes <= MAX_GRACE_MINUTES => Duration::from_secs(minutes * 60),
            _ => {
                return Err(SettingsError::Invalid {
                    name: "SWEEP_GRACE_MINUTES",
                    value: minutes,
                    expected: "a whole number of minutes from 0 to 60",
                })
            }
        },
    };
    if grace >= lookback {
        return Err(SettingsError::Invalid {
            name: "SWEEP_GRACE_MINUTES",
            value: (grace.as_secs() / 60).to_string(),
            expected: "fewer minutes than SWEEP_LOOKBACK_MINUTES",
        });
    }
    Ok(grace)
}

/// A comma list of PagerDuty ids (`PSVC123,PSVC456`); empty when unset. Each id goes into a
/// query string: anything but letters and digits is a typo, or a name where an id belongs.
fn pagerduty_ids(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Vec<String>, SettingsError> {
    let Some(list) = var(name) else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = split_list(&list).map(str::to_owned).collect();
    if ids.is_empty() || !ids.iter().all(|id| is_pagerduty_id(id)) {
        return Err(SettingsError::Invalid {
            name,
            value: list,
            expected: "PagerDuty ids separated by commas, such as PSVC123,PSVC456",
        });
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn options(vars: &[(&str, &str)]) -> Result<FollowUpOptions, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        follow_up_options(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_then_each_setting() {
        let defaults = options(&[]).unwrap();
        assert_eq!(defaults.run_budget, Duration::from_secs(45));
        assert_eq!(defaults.lookback, Duration::from_secs(3600));
        assert_eq!(defaults.grace, Duration::from_secs(120));
        assert_eq!(defaults.idle_after, Duration::from_secs(24 * 3600));
        assert!(defaults.service_ids.is_empty() && defaults.team_ids.is_empty());
        let set = options(&[
            ("FOLLOW_UP_BUDGET_SECONDS", "20"),
            ("SWEEP_LOOKBACK_MINUTES", "90"),
            ("SWEEP_GRACE_MINUTES", "0"),
            ("FOLLOW_UP_IDLE_HOURS", "720"),
            ("SWEEP_SERVICE_IDS", " PSVC1, PSVC2 "),
            ("SWEEP_TEAM_IDS", "PTEAM1"),
        ])
        .unwrap();
        assert_eq!(
            (set.service_ids, set.team_ids),
            (
                vec!["PSVC1".to_owned(), "PSVC2".to_owned()],
                vec!["PTEAM1".to_owned()]
            )
        );
        assert_eq!(set.idle_after, Duration::from_secs(720 * 3600));
        assert_eq!(
            (set.run_budget, set.lookback, set.grace),
            (
                Duration::from_secs(20),
                Duration::from_secs(5400),
                Duration::ZERO
            )
        );
    }

    #[test]
    fn wrong_settings_are_named() {
        for (name, value) in [
            ("FOLLOW_UP_BUDGET_SECONDS", "51"),
            ("FOLLOW_UP_BUDGET_SECONDS", "0"),
            ("SWEEP_LOOKBACK_MINUTES", "1441"),
            ("SWEEP_GRACE_MINUTES", "61"),
            ("SWEEP_GRACE_MINUTES", "-1"),
            ("FOLLOW_UP_IDLE_HOURS", "0"),
            ("FOLLOW_UP_IDLE_HOURS", "721"),
            ("FOLLOW_UP_IDLE_HOURS", "1.5"),
            ("SWEEP_SERVICE_IDS", "checkout-api"),
            ("SWEEP_SERVICE_IDS", ","),
            ("SWEEP_TEAM_IDS", "PTEAM1,P/2"),
        ] {
            let err = options(&[(name, value)]).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{name} is {value:?}")),
                "{err}"
            );
        }
        let err = options(&[
            ("SWEEP_LOOKBACK_MINUTES", "2"),
            ("SWEEP_GRACE_MINUTES", "2"),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SWEEP_GRACE_MINUTES is \"2\": expected fewer minutes than SWEEP_LOOKBACK_MINUTES"
        );
    }
}
