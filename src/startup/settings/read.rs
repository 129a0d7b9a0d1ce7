//! How each setting is read, and each kind of setting: a base URL, a bounded number, a flag,
//! an id, an email, a list. Each refuses what it cannot use, with the setting's name and what
//! was expected.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use super::{
    SettingsError, DEFAULT_DELIVERY_MAX_AGE_HOURS, DEFAULT_SECRETS_TTL, MAX_DELIVERY_BUDGET_MS,
};
use crate::delivery::bridge::{DEFAULT_CLAIM_LEASE, DEFAULT_DELIVERY_BUDGET};
use pure::inbound::secret::SecretSource;
use pure::inbound::sources::SourceAllowlist;
use pure::life::records::MAX_CLAIM_LEASE_SECONDS;
use pure::policy::Policy;
use pure::text::commands::Commanders;

/// `DELIVERY_BUDGET_MS`: the time one delivery may take, inside what PagerDuty waits.
pub(super) fn delivery_budget(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Duration, SettingsError> {
    let budget = up_to(
        var,
        "DELIVERY_BUDGET_MS",
        MAX_DELIVERY_BUDGET_MS,
        "a whole number of milliseconds from 1 to 4500",
        "a whole number of milliseconds from 1 to 4500 (PagerDuty waits 5 s)",
    )?;
    Ok(budget.map_or(DEFAULT_DELIVERY_BUDGET, Duration::from_millis))
}

/// `SECRETS_TTL_SECONDS`: how long secrets are used before they are fetched again.
pub(super) fn secrets_ttl(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Duration, SettingsError> {
    let ttl = positive(
        var,
        "SECRETS_TTL_SECONDS",
        "a whole number of seconds above 0",
    )?;
    Ok(ttl.map_or(DEFAULT_SECRETS_TTL, Duration::from_secs))
}

/// `BRIDGE_SECRET_ID`: the secret in Secrets Manager; unset, the environment.
pub(super) fn secret_source(var: &impl Fn(&str) -> Option<String>) -> SecretSource {
    match var("BRIDGE_SECRET_ID") {
        Some(secret_id) => SecretSource::SecretsManager { secret_id },
        None => SecretSource::Environment,
    }
}

/// `ROUTING_CONFIG`; unset, the built-in policy.
pub(super) fn policy(var: &impl Fn(&str) -> Option<String>) -> Result<Policy, SettingsError> {
    match var("ROUTING_CONFIG") {
        Some(json) => Ok(Policy::from_json(&json)?),
        None => Ok(Policy::default()),
    }
}

/// `CLAIM_LEASE_SECONDS`: how long a delivery's claim on an incident holds.
pub(super) fn claim_lease(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Duration, SettingsError> {
    let expected = "a whole number of seconds from 1 to 900";
    let lease = up_to(
        var,
        "CLAIM_LEASE_SECONDS",
        MAX_CLAIM_LEASE_SECONDS,
        expected,
        expected,
    )?;
    Ok(lease.map_or(DEFAULT_CLAIM_LEASE, Duration::from_secs))
}

/// `ALLOWED_SOURCE_CIDRS`, when set.
pub(super) fn allowed_sources(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<SourceAllowlist>, SettingsError> {
    let Some(list) = var("ALLOWED_SOURCE_CIDRS") else {
        return Ok(None);
    };
    let allowlist = SourceAllowlist::parse(&list).map_err(|entry| SettingsError::Invalid {
        name: "ALLOWED_SOURCE_CIDRS",
        value: entry,
        expected: "comma-separated IPv4 or IPv6 ranges such as 44.242.69.192/32",
    })?;
    Ok(Some(allowlist))
}

/// `DELIVERY_MAX_AGE_HOURS`: `None` when 0 (no check).
pub(super) fn delivery_max_age(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Duration>, SettingsError> {
    let hours = match var("DELIVERY_MAX_AGE_HOURS") {
        None => DEFAULT_DELIVERY_MAX_AGE_HOURS,
        Some(hours) => match hours.trim().parse::<u64>() {
            Ok(hours) if hours <= 24 * 30 => hours,
            _ => {
                return Err(SettingsError::Invalid {
                    name: "DELIVERY_MAX_AGE_HOURS",
                    value: hours,
                    expected: "a whole number of hours from 0 (no check) to 720",
                })
            }
        },
    };
    Ok((hours > 0).then(|| Duration::from_secs(hours * 3600)))
}

/// `ALLOWED_COMMANDERS`, when set.
pub(super) fn allowed_commanders(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Commanders>, SettingsError> {
    let Some(list) = var("ALLOWED_COMMANDERS") else {
        return Ok(None);
    };
    let commanders = Commanders::parse(&list).map_err(|entry| SettingsError::Invalid {
        name: "ALLOWED_COMMANDERS",
        value: entry,
        expected: "comma-separated PagerDuty user ids (PABC123) or emails",
    })?;
    Ok(Some(commanders))
}

/// `DEVIN_ORG_ID`, which becomes a URL path segment: anything beyond its alphabet is a typo at
/// best.
pub(super) fn org_id(var: &impl Fn(&str) -> Option<String>) -> Result<String, SettingsError> {
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
pub(super) fn from_email(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, SettingsError> {
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
pub(super) fn flag(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<bool, SettingsError> {
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

/// A base URL: `https://`, or `http://` to a loopback address only (a local fake), since the
/// clients send their credentials to it. `default` when unset.
pub(super) fn base_url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
    expected: &'static str,
) -> Result<Url, SettingsError> {
    let text = var(name).unwrap_or_else(|| default.to_owned());
    let invalid = || SettingsError::Invalid {
        name,
        value: text.clone(),
        expected,
    };
    let url = Url::parse(text.trim()).map_err(|_| invalid())?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok_and(|address| address.is_loopback())
    });
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(invalid()),
    }
}

/// `value`, unless it is above `max`.
pub(super) fn at_most(
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
pub(super) fn positive(
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

/// A whole number from 1 to `max`, when the variable is set: `expected` is said of a value
/// that is not a whole number above zero, `above` of one above `max`.
pub(super) fn up_to(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    max: u64,
    expected: &'static str,
    above: &'static str,
) -> Result<Option<u64>, SettingsError> {
    at_most(positive(var, name, expected)?, max, name, above)
}
