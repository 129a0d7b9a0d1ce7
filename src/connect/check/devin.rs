//! The Devin checks: the stack names an organization, the bridge's secret holds a key, Devin
//! takes the key (and of which organization), and the key may list the organization's sessions.

use std::io::Write;

use serde_json::{Map, Value};

use super::Report;
use crate::connect::aws::Stack;
use crate::connect::devin::{Answer, Devin};
use pure::inbound::secret::DEVIN_API_KEY;

/// The bridge's `DEVIN_API_URL` when the stack sets none (the template's default).
const DEFAULT_DEVIN_API_URL: &str = "https://api.devin.ai";

pub(super) async fn check<W: Write>(
    report: &mut Report<'_, W>,
    stack: &Stack,
    secret_string: Option<&str>,
) {
    let Some((org, key)) = org_and_key(report, stack, secret_string) else {
        return;
    };
    let url = stack
        .devin_api_url
        .as_deref()
        .unwrap_or(DEFAULT_DEVIN_API_URL);
    let devin = match Devin::new(url, &key) {
        Ok(devin) => devin,
        Err(detail) => {
            report.fail("Devin token", detail, "deploy with a DevinApiUrl such as https://api.devin.ai, and a DEVIN_API_KEY without line breaks".into());
            return;
        }
    };
    let arn = &stack.secret_arn;
    if token(report, &devin, org, url, arn).await {
        sessions(report, &devin, org, url, arn).await;
    }
}

/// The fix for a missing or refused key.
fn put_key(arn: &str) -> String {
    format!("put a valid Devin service user credential (cog_...) in DEVIN_API_KEY of {arn}")
}

/// The stack's organization and the key in the bridge's secret, when both are there.
fn org_and_key<'s, W: Write>(
    report: &mut Report<'_, W>,
    stack: &'s Stack,
    secret_string: Option<&str>,
) -> Option<(&'s str, String)> {
    let Some(org) = stack.devin_org_id.as_deref() else {
        report.fail(
            "Devin token",
            "the stack has no DevinOrgId parameter".into(),
            "deploy with DevinOrgId=<your organization id>".into(),
        );
        return None;
    };
    let key = secret_string
        .and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok())
        .and_then(|secret| secret.get(DEVIN_API_KEY)?.as_str().map(str::to_owned));
    // Read as the bridge reads it (`Secrets::from_values`): a pasted key often ends in a newline.
    let key = key.map(|key| key.trim().to_owned());
    let Some(key) = key.filter(|key| !key.is_empty()) else {
        report.fail(
            "Devin token",
            "DEVIN_API_KEY is not in the bridge's secret".into(),
            put_key(&stack.secret_arn),
        );
        return None;
    };
    Some((org, key))
}

/// Whether Devin takes the key, and of which organization it is; false when Devin did not
/// answer.
async fn token<W: Write>(
    report: &mut Report<'_, W>,
    devin: &Devin,
    org: &str,
    url: &str,
    arn: &str,
) -> bool {
    match devin.who_am_i().await {
        Answer::Ok(me) => {
            let user = me["service_user_name"].as_str().unwrap_or("(unnamed)");
            match me["org_id"].as_str() {
                Some(own) if own == org => report.ok("Devin token", format!("valid (service user {user:?}), of the organization {org}")),
                Some(own) => report.fail("Devin token", format!("valid, but of the organization {own}, and the stack's DevinOrgId is {org}"), format!("put a credential of a service user of {org} in DEVIN_API_KEY of {arn}, or deploy with DevinOrgId={own}")),
                None => report.ok("Devin token", format!("valid (service user {user:?}, of the enterprise: no organization of its own; the next check tries {org})")),
            }
        }
        Answer::Refused(status) if status.as_u16() == 401 => report.fail(
            "Devin token",
            "Devin refuses it (GET /v3/self: 401)".into(),
            put_key(arn),
        ),
        Answer::Refused(status) => report.fail(
            "Devin token",
            format!("GET /v3/self answered {status}"),
            put_key(arn),
        ),
        Answer::Unreachable(detail) => {
            report.fail(
                "Devin token",
                format!("{url} did not answer: {detail}"),
                "check DevinApiUrl and your network".into(),
            );
            return false;
        }
    }
    true
}

/// Whether the key may list the organization's sessions.
async fn sessions<W: Write>(
    report: &mut Report<'_, W>,
    devin: &Devin,
    org: &str,
    url: &str,
    arn: &str,
) {
    match devin.list_one_session(org).await {
        Answer::Ok(_) => report.ok("Devin sessions", format!("the token may list the sessions of {org}")),
        Answer::Refused(status) if status.as_u16() == 403 => report.fail("Devin sessions", format!("the token may not list the sessions of {org} (403)"), format!("give the service user the ViewOrgSessions and ManageOrgSessions permissions in {org}")),
        Answer::Refused(status) if status.as_u16() == 404 => report.fail("Devin sessions", format!("Devin knows no organization {org} (404)"), "deploy with the right DevinOrgId (Devin's Settings show it)".into()),
        Answer::Refused(status) => report.fail("Devin sessions", format!("listing the sessions of {org} answered {status}"), put_key(arn)),
        Answer::Unreachable(detail) => report.fail("Devin sessions", format!("{url} did not answer: {detail}"), "check DevinApiUrl and your network".into()),
    }
}
