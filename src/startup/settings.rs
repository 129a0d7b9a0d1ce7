//! The function's plain (non-secret) settings, read once at cold start.

use std::time::Duration;

use thiserror::Error;

use crate::delivery::bridge::{DEFAULT_CLAIM_LEASE, DEFAULT_DELIVERY_BUDGET, DEFAULT_STALE_AFTER};
use crate::pure::policy::{Policy, PolicyError};
use crate::pure::secret::SecretSource;

pub const DEFAULT_DEVIN_API_URL: &str = "https://api.devin.ai";
/// US accounts; EU accounts set `PAGERDUTY_API_URL` to `https://api.eu.pagerduty.com`.
pub const DEFAULT_PAGERDUTY_API_URL: &str = "https://api.pagerduty.com";
/// PagerDuty waits 5 s for an answer, counted from when it sent the request: a budget above this
/// leaves no time for the answer to travel back.
pub const MAX_DELIVERY_BUDGET_MS: u64 = 4500;
/// A claim must outlive any delivery, and not block an incident for long.
pub const MAX_CLAIM_LEASE_SECONDS: u64 = 900;
/// How long secrets are used before they are fetched again (rotation without a redeploy).
pub const DEFAULT_SECRETS_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Settings {
    pub devin_org_id: String,
    /// Without a trailing slash.
    pub devin_api_url: String,
    /// The time one delivery may take, Devin calls and retries included.
    pub delivery_budget: Duration,
    pub secrets_ttl: Duration,
    /// How old the secrets must be before a refused secret or signature fetches them again.
    /// Not read from the environment; tests shorten it.
    pub secrets_stale_after: Duration,
    pub dry_run: bool,
    pub secret_source: SecretSource,
    /// `ROUTING_CONFIG`; unset, every triggered incident gets the built-in brief.
    pub policy: Policy,
    /// `LEDGER_TABLE`: the DynamoDB table of the ledger; unset, a ledger in memory.
    pub ledger_table: Option<String>,
    /// How long a delivery's claim on an incident holds.
    pub claim_lease: Duration,
    /// Without a trailing slash.
    pub pagerduty_api_url: String,
    /// The `From` of notes on incidents; needed when `PAGERDUTY_API_TOKEN` is set.
    pub pagerduty_from_email: Option<String>,
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
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl Settings {
    /// Reads the settings through `var`, which is `std::env::var` in production and a map in
    /// tests. An empty variable counts as unset.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        // In this order, so the first wrong setting is the one named.
        Ok(Settings {
            devin_org_id: org_id(&var)?,
            devin_api_url: base_url(
                &var,
                "DEVIN_API_URL",
                DEFAULT_DEVIN_API_URL,
                "an http(s):// URL such as https://api.devin.ai",
            )?,
            pagerduty_api_url: base_url(
                &var,
                "PAGERDUTY_API_URL",
                DEFAULT_PAGERDUTY_API_URL,
                "an http(s):// URL such as https://api.pagerduty.com",
            )?,
            pagerduty_from_email: from_email(&var)?,
            delivery_budget: at_most(
                positive(
                    &var,
                    "DELIVERY_BUDGET_MS",
                    "a whole number of milliseconds from 1 to 4500",
                )?,
                MAX_DELIVERY_BUDGET_MS,
                "DELIVERY_BUDGET_MS",
                "a whole number of milliseconds from 1 to 4500 (PagerDuty waits 5 s)",
            )?
            .map_or(DEFAULT_DELIVERY_BUDGET, Duration::from_millis),
            secrets_ttl: positive(
                &var,
                "SECRETS_TTL_SECONDS",
                "a whole number of seconds above 0",
            )?
            .map_or(DEFAULT_SECRETS_TTL, Duration::from_secs),
            secrets_stale_after: DEFAULT_STALE_AFTER,
            dry_run: flag(&var, "DEVIN_DRY_RUN")?,
            secret_source: match var("BRIDGE_SECRET_ID") {
                Some(secret_id) => SecretSource::SecretsManager { secret_id },
                None => SecretSource::Environment,
            },
            policy: match var("ROUTING_CONFIG") {
                Some(json) => Policy::from_json(&json)?,
                None => Policy::default(),
            },
            ledger_table: var("LEDGER_TABLE").map(|table| table.trim().to_owned()),
            claim_lease: at_most(
                positive(
                    &var,
                    "CLAIM_LEASE_SECONDS",
                    "a whole number of seconds from 1 to 900",
                )?,
                MAX_CLAIM_LEASE_SECONDS,
                "CLAIM_LEASE_SECONDS",
                "a whole number of seconds from 1 to 900",
            )?
            .map_or(DEFAULT_CLAIM_LEASE, Duration::from_secs),
        })
    }
}

/// `DEVIN_ORG_ID`, which becomes a URL path segment: anything beyond its alphabet is a typo at
/// best.
fn org_id(var: &impl Fn(&str) -> Option<String>) -> Result<String, SettingsError> {
    let org_id = var("DEVIN_ORG_ID").ok_or(SettingsError::Missing("DEVIN_ORG_ID"))?;
    if org_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Ok(org_id);
    }
    Err(SettingsError::Invalid {
        name: "DEVIN_ORG_ID",
        value: org_id,
        expected: "an organization id such as org-abc123 (letters, digits, '-' and '_')",
    })
}

/// `PAGERDUTY_FROM_EMAIL`, when set. It travels as the `From` header: one address, no spaces.
fn from_email(var: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, SettingsError> {
    let Some(email) = var("PAGERDUTY_FROM_EMAIL").map(|email| email.trim().to_owned()) else {
        return Ok(None);
    };
    if email.contains('@') && email.chars().all(|c| c.is_ascii_graphic() && c != ',') {
        return Ok(Some(email));
    }
    Err(SettingsError::Invalid {
        name: "PAGERDUTY_FROM_EMAIL",
        value: email,
        expected: "the email address of a user on the PagerDuty account",
    })
}

/// A true/false setting; unset is false.
fn flag(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, SettingsError> {
    let Some(value) = var(name) else {
        return Ok(false);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(SettingsError::Invalid {
            name,
            value,
            expected: "true or false",
        }),
    }
}

/// An http(s) base URL without its trailing slash, or `default`.
fn base_url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
    expected: &'static str,
) -> Result<String, SettingsError> {
    match var(name) {
        None => Ok(default.to_owned()),
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        Some(url) => Err(SettingsError::Invalid {
            name,
            value: url,
            expected,
        }),
    }
}

/// `value`, unless it is above `max`.
fn at_most(
    value: Option<u64>,
    max: u64,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<u64>, SettingsError> {
    match value {
        Some(value) if value > max => Err(SettingsError::Invalid {
            name,
            value: value.to_string(),
            expected,
        }),
        value => Ok(value),
    }
}

/// A whole number above zero, when the variable is set.
fn positive(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<u64>, SettingsError> {
    let Some(value) = var(name) else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(number) if number > 0 => Ok(Some(number)),
        _ => Err(SettingsError::Invalid {
            name,
            value,
            expected,
        }),
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
        assert_eq!(s.devin_api_url, "https://api.devin.ai");
        assert_eq!(s.delivery_budget, Duration::from_secs(4));
        assert_eq!(s.secrets_ttl, Duration::from_secs(300));
        assert!(!s.dry_run);
        assert_eq!(s.secret_source, SecretSource::Environment);
        assert!(s.policy.accepts("incident.triggered") && !s.policy.accepts("pagey.ping"));
        assert_eq!(s.pagerduty_api_url, "https://api.pagerduty.com");
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
        ])
        .unwrap();
        assert_eq!(s.ledger_table.as_deref(), Some("bridge-ledger"));
        assert_eq!(s.claim_lease, Duration::from_secs(5));
        assert_eq!(s.devin_api_url, "http://127.0.0.1:8080");
        assert_eq!(s.delivery_budget, Duration::from_millis(250));
        assert_eq!(s.secrets_ttl, Duration::from_secs(60));
        assert_eq!(s.pagerduty_api_url, "http://127.0.0.1:9");
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
            ("DELIVERY_BUDGET_MS", "0"),
            ("DELIVERY_BUDGET_MS", "4s"),
            ("DELIVERY_BUDGET_MS", "4501"),
            ("CLAIM_LEASE_SECONDS", "0"),
            ("CLAIM_LEASE_SECONDS", "901"),
            ("SECRETS_TTL_SECONDS", "-1"),
            ("PAGERDUTY_API_URL", "api.pagerduty.com"),
            ("PAGERDUTY_FROM_EMAIL", "not an email"),
            ("PAGERDUTY_FROM_EMAIL", "a@b.example,c@d.example"),
            ("DEVIN_DRY_RUN", "maybe"),
        ] {
            let err = settings(&[("DEVIN_ORG_ID", "org-1"), (name, value)]).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{name} is {value:?}")),
                "{err}"
            );
        }
    }
}
