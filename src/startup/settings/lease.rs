//! The claim's lease must outlive the delivery that holds it: a lease that ends while its
//! delivery may still create the session lets the next delivery (or PagerDuty's retry) create
//! a second one. A delivery lives at most until the function's timeout
//! (`FUNCTION_TIMEOUT_SECONDS`, which the template sets from the function's `Timeout`); where
//! that is not said, at least its budget (`DELIVERY_BUDGET_MS`).

use std::time::Duration;

use super::read::up_to;
use super::SettingsError;

/// Lambda's longest timeout.
const MAX_FUNCTION_TIMEOUT_SECONDS: u64 = 900;
const FUNCTION_TIMEOUT_EXPECTED: &str =
    "a whole number of seconds from 1 to 900 (the function's Timeout)";

/// How long one delivery can live: the function's timeout when `FUNCTION_TIMEOUT_SECONDS` says
/// it, else its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeliveryLife {
    FunctionTimeout(Duration),
    Budget(Duration),
}

impl DeliveryLife {
    /// Reads `FUNCTION_TIMEOUT_SECONDS`; without it, the delivery's `budget`.
    pub(super) fn read(
        var: &impl Fn(&str) -> Option<String>,
        budget: Duration,
    ) -> Result<Self, SettingsError> {
        let name = "FUNCTION_TIMEOUT_SECONDS";
        let timeout = up_to(
            var,
            name,
            MAX_FUNCTION_TIMEOUT_SECONDS,
            FUNCTION_TIMEOUT_EXPECTED,
            FUNCTION_TIMEOUT_EXPECTED,
        )?;
        Ok(match timeout {
            Some(seconds) => DeliveryLife::FunctionTimeout(Duration::from_secs(seconds)),
            None => DeliveryLife::Budget(budget),
        })
    }

    /// `lease` (`CLAIM_LEASE_SECONDS`, `set` or its default), when it outlives a delivery.
    pub(super) fn outlived_by(self, lease: Duration, set: bool) -> Result<Duration, SettingsError> {
        let (life, floor) = match self {
            DeliveryLife::FunctionTimeout(timeout) => (
                timeout,
                format!(
                    "the function's timeout (FUNCTION_TIMEOUT_SECONDS, {} s)",
                    timeout.as_secs()
                ),
            ),
            DeliveryLife::Budget(budget) => (
                budget,
                format!(
                    "the delivery budget (DELIVERY_BUDGET_MS, {} ms)",
                    budget.as_millis()
                ),
            ),
        };
        if lease > life {
            return Ok(lease);
        }
        let seconds = lease.as_secs();
        Err(SettingsError::LeaseTooShort {
            value: if set {
                format!("\"{seconds}\"")
            } else {
                format!("unset ({seconds} by default)")
            },
            floor,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::Settings;
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        Settings::from_lookup(|name| vars.get(name).map(|value| value.to_string()))
    }

    #[test]
    fn a_lease_shorter_than_a_delivery_can_live_is_refused() {
        let org = ("DEVIN_ORG_ID", "org-1");
        let timeout = ("FUNCTION_TIMEOUT_SECONDS", "10");
        let lease = |seconds| ("CLAIM_LEASE_SECONDS", seconds);
        let s = settings(&[org, timeout, lease("11")]).unwrap();
        assert_eq!(s.claim_lease, Duration::from_secs(11));
        assert!(
            settings(&[org, timeout]).is_ok(),
            "the default outlives 10 s"
        );
        let err = settings(&[org, timeout, lease("10")]).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "CLAIM_LEASE_SECONDS is \"10\": expected more than the function's timeout \
                 (FUNCTION_TIMEOUT_SECONDS, 10 s)"
            ),
            "{err}"
        );
        let long_function = ("FUNCTION_TIMEOUT_SECONDS", "300");
        let err = settings(&[org, long_function]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("CLAIM_LEASE_SECONDS is unset (120 by default): expected more"),
            "{err}"
        );
        // Where the function's timeout is not said, the lease outlives the budget at least.
        let err = settings(&[org, lease("4")]).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "CLAIM_LEASE_SECONDS is \"4\": expected more than the delivery budget \
                 (DELIVERY_BUDGET_MS, 4000 ms)"
            ),
            "{err}"
        );
        assert!(settings(&[org, lease("1"), ("DELIVERY_BUDGET_MS", "900")]).is_ok());
    }
}
