//! The function's plain (non-secret) settings, read once at cold start; each wrong one stops it
//! with one line naming it. How each one is read is in [`read`].

mod follow_up;
mod lease;
mod read;

use std::time::Duration;

use reqwest::Url;
use thiserror::Error;

use crate::delivery::bridge::DEFAULT_REFRESH_ON_REFUSAL;
pub use follow_up::follow_up_options;
use lease::DeliveryLife;
use pure::inbound::secret::SecretSource;
use pure::inbound::sources::SourceAllowlist;
use pure::policy::{Policy, PolicyError};
use pure::text::commands::Commanders;
use read::{
    allowed_commanders, allowed_sources, base_url, claim_lease, delivery_budget, delivery_max_age,
    flag, from_email, org_id, policy, secret_source, secrets_ttl,
};

pub const DEFAULT_DEVIN_API_URL: &str = "https://api.devin.ai";
/// US accounts; EU accounts set `PAGERDUTY_API_URL` to `https://api.eu.pagerduty.com`.
pub const DEFAULT_PAGERDUTY_API_URL: &str = "https://api.pagerduty.com";
/// PagerDuty waits 5 s for an answer, counted from when it sent the request: a budget above this
/// leaves no time for the answer to travel back.
pub const MAX_DELIVERY_BUDGET_MS: u64 = 4500;
/// How long secrets are used before they are fetched again (rotation without a redeploy).
pub const DEFAULT_SECRETS_TTL: Duration = Duration::from_secs(300);
/// PagerDuty retries a delivery for 48 hours: anything older is a replay, with an hour's slack.
pub const DEFAULT_DELIVERY_MAX_AGE_HOURS: u64 = 49;

#[derive(Debug, Clone)]
pub struct Settings {
    pub devin_org_id: String,
    /// `https://`, or `http://` on loopback only.
    pub devin_api_url: Url,
    /// The time one delivery may take, Devin calls and retries included.
    pub delivery_budget: Duration,
    pub secrets_ttl: Duration,
    /// How often, at most, a refused secret or signature fetches the secrets again. Not read
    /// from the environment; tests change it.
    pub secrets_refresh_on_refusal: Duration,
    pub dry_run: bool,
    pub secret_source: SecretSource,
    /// `ROUTING_CONFIG`; unset, every triggered incident gets the built-in brief.
    pub policy: Policy,
    /// `LEDGER_TABLE`: the DynamoDB table of the ledger; unset, a ledger in memory.
    pub ledger_table: Option<String>,
    /// How long a delivery's claim on an incident holds.
    pub claim_lease: Duration,
    /// `https://`, or `http://` on loopback only.
    pub pagerduty_api_url: Url,
    /// The `From` of notes on incidents; needed when `PAGERDUTY_API_TOKEN` is set.
    pub pagerduty_from_email: Option<String>,
    /// `ALLOWED_SOURCE_CIDRS`: when set, only these addresses may send deliveries.
    pub allowed_sources: Option<SourceAllowlist>,
    /// Deliveries that happened longer ago are answered `stale`; `None` (0 hours): no check.
    pub delivery_max_age: Option<Duration>,
    /// `ALLOWED_COMMANDERS`: when set, only these PagerDuty users may give note commands.
    pub allowed_commanders: Option<Commanders>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is {value:?}: expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "CLAIM_LEASE_SECONDS is {value}: expected more than {floor}; a lease that ends while its \
         delivery may still create the session lets another delivery create a second one"
    )]
    LeaseTooShort { value: String, floor: String },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl Settings {
    /// Reads the settings through `var`, which is `std::env::var` in production and a map in
    /// tests. An empty variable counts as unset.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        // In this order, so the first wrong setting is the one named.
        let settings = Settings {
            devin_org_id: org_id(&var)?,
            devin_api_url: base_url(
                &var,
                "DEVIN_API_URL",
                DEFAULT_DEVIN_API_URL,
                "an https:// URL such as https://api.devin.ai (http:// on loopback only)",
            )?,
            pagerduty_api_url: base_url(
                &var,
                "PAGERDUTY_API_URL",
                DEFAULT_PAGERDUTY_API_URL,
                "an https:// URL such as https://api.pagerduty.com (http:// on loopback only)",
            )?,
            pagerduty_from_email: from_email(&var)?,
            delivery_budget: delivery_budget(&var)?,
            secrets_ttl: secrets_ttl(&var)?,
            secrets_refresh_on_refusal: DEFAULT_REFRESH_ON_REFUSAL,
            dry_run: flag(&var, "DEVIN_DRY_RUN")?,
            secret_source: secret_source(&var),
            policy: policy(&var)?,
            ledger_table: var("LEDGER_TABLE").map(|table| table.trim().to_owned()),
            claim_lease: claim_lease(&var)?,
            allowed_sources: allowed_sources(&var)?,
            delivery_max_age: delivery_max_age(&var)?,
            allowed_commanders: allowed_commanders(&var)?,
        };
        DeliveryLife::read(&var, settings.delivery_budget)?
            .outlived_by(settings.claim_lease, var("CLAIM_LEASE_SECONDS").is_some())?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn only_the_org_id_is_required() {
        let s = settings(&[("DEVIN_ORG_ID", "org-123")]).unwrap();
        assert_eq!(s.devin_org_id, "org-123");
        assert_eq!(s.devin_api_url.as_str(), "https://api.devin.ai/");
        assert_eq!(s.delivery_budget, Duration::from_secs(4));
        assert_eq!(s.secrets_ttl, Duration::from_secs(300));
        assert!(!s.dry_run);
        assert_eq!(s.secret_source, SecretSource::Environment);
        assert!(s.policy.accepts("incident.triggered") && !s.policy.accepts("pagey.ping"));
        assert_eq!(s.pagerduty_api_url.as_str(), "https://api.pagerduty.com/");
        assert_eq!(s.allowed_sources, None);
        assert_eq!(s.delivery_max_age, Some(Duration::from_secs(49 * 3600)));
        assert_eq!(s.pagerduty_from_email, None);
        assert_eq!(s.ledger_table, None);
        assert_eq!(s.claim_lease, Duration::from_secs(120));
    }

    #[test]
    fn a_missing_or_empty_org_id_is_named() {
        for vars in [&[][..], &[("DEVIN_ORG_ID", "  ")][..]] {
            let err = settings(vars).unwrap_err();
            assert_eq!(err.to_string(), "DEVIN_ORG_ID is not set");
        }
    }

    #[test]
    fn an_org_id_that_would_bend_the_url_is_refused() {
        let err = settings(&[("DEVIN_ORG_ID", "org-1/../admin")]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("DEVIN_ORG_ID is \"org-1/../admin\""));
    }

    #[test]
    fn every_setting_is_read() {
        let s = settings(&[
            ("DEVIN_ORG_ID", "org-1"),
            ("DEVIN_API_URL", "http://127.0.0.1:8080/"),
            ("DELIVERY_BUDGET_MS", "250"),
            ("SECRETS_TTL_SECONDS", "60"),
            ("PAGERDUTY_API_URL", "http://127.0.0.1:9/"),
            ("PAGERDUTY_FROM_EMAIL", " bridge@acme.example "),
            ("DEVIN_DRY_RUN", "TRUE"),
            ("BRIDGE_SECRET_ID", "bridge/secrets"),
            ("LEDGER_TABLE", "bridge-ledger"),
            ("CLAIM_LEASE_SECONDS", "5"),
            ("ALLOWED_SOURCE_CIDRS", "44.242.69.192/32, 10.0.0.0/8"),
            ("DELIVERY_MAX_AGE_HOURS", "0"),
            ("ALLOWED_COMMANDERS", "PABC123,dana@acme.example"),
        ])
        .unwrap();
        assert_eq!(s.allowed_commanders.map(|list| list.len()), Some(2));
        assert_eq!(s.ledger_table.as_deref(), Some("bridge-ledger"));
        assert_eq!(s.claim_lease, Duration::from_secs(5));
        assert_eq!(s.devin_api_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.delivery_budget, Duration::from_millis(250));
        assert_eq!(s.secrets_ttl, Duration::from_secs(60));
        assert_eq!(s.pagerduty_api_url.as_str(), "http://127.0.0.1:9/");
        assert_eq!(s.allowed_sources.map(|list| list.len()), Some(2));
        assert_eq!(s.delivery_max_age, None);
        assert_eq!(
            s.pagerduty_from_email.as_deref(),
            Some("bridge@acme.example")
        );
        assert!(s.dry_run);
        assert_eq!(
            s.secret_source,
            SecretSource::SecretsManager {
                secret_id: "bridge/secrets".into()
            }
        );
    }

    #[test]
    fn a_bad_routing_policy_stops_the_cold_start_with_its_path() {
        let err = settings(&[
            ("DEVIN_ORG_ID", "org-1"),
            (
                "ROUTING_CONFIG",
                r#"{"rules":[{"name":"x","when":{"urgency":["urgent"]}}]}"#,
            ),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("ROUTING_CONFIG: rules[0].when.urgency[0]: unknown variant `urgent`"),
            "{err}"
        );
    }

    #[test]
    fn malformed_settings_are_named() {
        for (name, value) in [
            ("DEVIN_API_URL", "api.devin.ai"),
            ("DEVIN_API_URL", "http://api.devin.ai"),
            ("DEVIN_API_URL", "https://"),
            ("PAGERDUTY_API_URL", "http://api.pagerduty.com"),
            ("ALLOWED_SOURCE_CIDRS", "10.0.0.0/40"),
            ("DELIVERY_MAX_AGE_HOURS", "-1"),
            ("DELIVERY_BUDGET_MS", "0"),
            ("DELIVERY_BUDGET_MS", "4s"),
            ("DELIVERY_BUDGET_MS", "4501"),
            ("CLAIM_LEASE_SECONDS", "0"),
            ("CLAIM_LEASE_SECONDS", "901"),
            ("SECRETS_TTL_SECONDS", "-1"),
            ("FUNCTION_TIMEOUT_SECONDS", "0"),
            ("FUNCTION_TIMEOUT_SECONDS", "901"),
            ("PAGERDUTY_API_URL", "api.pagerduty.com"),
            ("PAGERDUTY_FROM_EMAIL", "not an email"),
            ("PAGERDUTY_FROM_EMAIL", "a@b.example,c@d.example"),
            ("DEVIN_DRY_RUN", "maybe"),
            ("ALLOWED_COMMANDERS", "not an id"),
        ] {
            let err = settings(&[("DEVIN_ORG_ID", "org-1"), (name, value)]).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{name} is {value:?}")),
                "{err}"
            );
        }
    }
}
