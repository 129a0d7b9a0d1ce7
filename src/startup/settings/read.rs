//! How each kind of setting is read: a base URL, a bounded number, a flag, an id, an email.
//! Each refuses what it cannot use, with the setting's name and what was expected.

use std::net::IpAddr;

use reqwest::Url;

use super::SettingsError;

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
