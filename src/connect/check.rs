//! `--check`: changes nothing, and says what is wrong between the deployed stack, Devin and
//! PagerDuty, one line per check with its fix: the routing policy, the bridge's secret, the
//! Devin token and its organization, its permission to list sessions, the PagerDuty
//! subscription (there, active, enabled, its URL, its events, its header, the header's value
//! and its signing secret, per the tool's own record). The run fails when any check does.

use std::io::Write;

use serde_json::{Map, Value};

use crate::connect::args::Args;
use crate::connect::aws::Stack;
use crate::connect::devin::{Answer, Devin};
use crate::connect::pagerduty::PagerDuty;
use crate::connect::subscription::{self, Scope, WEBHOOK_SECRET_HEADER};
use crate::connect::wire;
use crate::connect::{ConnectError, Outcome};
use pure::inbound::pushed::{self, Pushed};
use pure::inbound::secret::DEVIN_API_KEY;

/// The bridge's `DEVIN_API_URL` when the stack sets none (the template's default).
const DEFAULT_DEVIN_API_URL: &str = "https://api.devin.ai";

struct Report<'o, W: Write> {
    out: &'o mut W,
    failed: usize,
}

impl<W: Write> Report<'_, W> {
    fn ok(&mut self, check: &str, detail: String) {
        let _ = writeln!(self.out, "ok   {check}: {detail}");
    }

    fn fail(&mut self, check: &str, detail: String, fix: String) {
        self.failed += 1;
        let _ = writeln!(self.out, "FAIL {check}: {detail}; fix: {fix}");
    }
}

pub async fn run(
    args: &Args,
    stack: &Stack,
    out: &mut impl Write,
) -> Result<Outcome, ConnectError> {
    let mut report = Report { out, failed: 0 };
    let policy = match wire::policy(stack) {
        Ok(policy) => {
            let read = match stack.routing_config {
                None => "none set: every triggered incident, the built-in brief",
                Some(_) => "RoutingConfig is valid",
            };
            report.ok("routing policy", read.into());
            Some(policy)
        }
        Err(err) => {
            report.fail(
                "routing policy",
                format!("RoutingConfig is invalid: {err}"),
                "run `cargo policy check` on your policy file, fix it, and deploy again".into(),
            );
            None
        }
    };
    let secret_string = match stack.secret_string().await {
        Ok(secret_string) => {
            report.ok(
                "bridge's secret",
                format!("{} is readable", stack.secret_arn),
            );
            Some(secret_string)
        }
        Err(err) => {
            report.fail(
                "bridge's secret",
                err.to_string(),
                format!(
                    "let your AWS identity read {} (secretsmanager:GetSecretValue)",
                    stack.secret_arn
                ),
            );
            None
        }
    };
    devin(&mut report, stack, secret_string.as_deref()).await;
    let events = policy.map(|policy| policy.event_types_heard());
    pagerduty(&mut report, args, stack, secret_string.as_deref(), events).await;
    Ok(match report.failed {
        0 => Outcome::Done,
        failed => Outcome::ChecksFailed(failed),
    })
}

async fn devin<W: Write>(report: &mut Report<'_, W>, stack: &Stack, secret_string: Option<&str>) {
    let arn = &stack.secret_arn;
    let put_key =
        format!("put a valid Devin service user credential (cog_...) in DEVIN_API_KEY of {arn}");
    let Some(org) = stack.devin_org_id.as_deref() else {
        report.fail(
            "Devin token",
            "the stack has no DevinOrgId parameter".into(),
            "deploy with DevinOrgId=<your organization id>".into(),
        );
        return;
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
            put_key,
        );
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
            put_key.clone(),
        ),
        Answer::Refused(status) => report.fail(
            "Devin token",
            format!("GET /v3/self answered {status}"),
            put_key.clone(),
        ),
        Answer::Unreachable(detail) => {
            report.fail(
                "Devin token",
                format!("{url} did not answer: {detail}"),
                "check DevinApiUrl and your network".into(),
            );
            return;
        }
    }
    match devin.list_one_session(org).await {
        Answer::Ok(_) => report.ok("Devin sessions", format!("the token may list the sessions of {org}")),
        Answer::Refused(status) if status.as_u16() == 403 => report.fail("Devin sessions", format!("the token may not list the sessions of {org} (403)"), format!("give the service user the ViewOrgSessions and ManageOrgSessions permissions in {org}")),
        Answer::Refused(status) if status.as_u16() == 404 => report.fail("Devin sessions", format!("Devin knows no organization {org} (404)"), "deploy with the right DevinOrgId (Devin's Settings show it)".into()),
        Answer::Refused(status) => report.fail("Devin sessions", format!("listing the sessions of {org} answered {status}"), put_key),
        Answer::Unreachable(detail) => report.fail("Devin sessions", format!("{url} did not answer: {detail}"), "check DevinApiUrl and your network".into()),
    }
}

async fn pagerduty<W: Write>(
    report: &mut Report<'_, W>,
    args: &Args,
    stack: &Stack,
    secret_string: Option<&str>,
    events: Option<Vec<String>>,
) {
    const CHECK: &str = "PagerDuty subscription";
    let url = &stack.webhook_url;
    let scope_text = args.scope.as_ref().map_or_else(
        || "<account|service:...|team:...>".to_owned(),
        Scope::to_string,
    );
    let mut connect = format!("run `cargo connect-pagerduty --scope {scope_text}`");
    let pagerduty = match PagerDuty::new(&args.pagerduty_api_url, &args.pagerduty_api_key) {
        Ok(pagerduty) => pagerduty,
        Err(err) => {
            return report.fail(
                CHECK,
                err.to_string(),
                "set PAGERDUTY_API_URL to https://api.pagerduty.com (or the EU one)".into(),
            )
        }
    };
    let filter = match &args.scope {
        None => None,
        Some(scope) => match wire::filter(&pagerduty, scope).await {
            Ok(filter) => Some(filter),
            Err(err) => {
                // Only a service or a team is looked for (the account is no lookup).
                let kind = match scope {
                    Scope::Team(_) => "team",
                    _ => "service",
                };
                return report.fail(
                    CHECK,
                    err.to_string(),
                    format!("give --scope an existing {kind}"),
                );
            }
        },
    };
    let listed = match pagerduty.subscriptions(filter.as_ref()).await {
        Ok(listed) => listed,
        Err(err) => {
            return report.fail(
                CHECK,
                err.to_string(),
                "use a PAGERDUTY_API_KEY that may read webhook subscriptions".into(),
            )
        }
    };
    let records = secret_string.map(pushed::records).unwrap_or_default();
    let recorded = |existing: &Value| {
        records
            .iter()
            .find(|entry| existing["id"] == entry.id.as_str())
    };
    let delivers_here = |existing: &&Value| subscription::delivers_to(existing, url);
    let Some(found) = listed
        .iter()
        .find(delivers_here)
        .or_else(|| listed.iter().find(|existing| recorded(existing).is_some()))
    else {
        return report.fail(CHECK, format!("no subscription delivers to {url}"), connect);
    };
    let id = found["id"].as_str().unwrap_or_default();
    if args.scope.is_none() {
        connect = format!(
            "run `cargo connect-pagerduty --scope {}`",
            subscription::scope_argument(found)
        );
    }
    let filter_shown = format!(
        "{} {}",
        found
            .pointer("/filter/type")
            .and_then(Value::as_str)
            .unwrap_or("?"),
        found
            .pointer("/filter/id")
            .and_then(Value::as_str)
            .unwrap_or("(the whole account)")
    );
    report.ok(CHECK, format!("{id} ({filter_shown})"));
    if found["active"] == false {
        report.fail(
            "subscription active",
            format!("{id} is inactive: PagerDuty sends it nothing"),
            connect.clone(),
        );
    } else {
        report.ok("subscription active", "yes".into());
    }
    if subscription::is_disabled(found) {
        report.fail("subscription enabled", format!("PagerDuty disabled {id} (delivery_method.temporarily_disabled) after deliveries were dropped, and dropped its queue"), format!("see in the log group {} why the bridge refused them, then {connect} (it re-enables it)", stack.log_group));
    } else {
        report.ok("subscription enabled", "not temporarily disabled".into());
    }
    match found
        .pointer("/delivery_method/url")
        .and_then(Value::as_str)
    {
        Some(sent_to) if sent_to == url => {
            report.ok("subscription URL", format!("the stack's, {url}"))
        }
        sent_to => report.fail(
            "subscription URL",
            format!(
                "{id} delivers to {}, the stack's URL is {url}",
                sent_to.unwrap_or("nowhere")
            ),
            format!("{connect} (a new subscription for the stack's URL, then this one deleted)"),
        ),
    }
    if let Some(events) = events {
        let missing: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|event| {
                !found["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|listed| listed == *event)
            })
            .collect();
        if missing.is_empty() {
            report.ok(
                "subscription events",
                "every event the policy acts on".into(),
            );
        } else {
            report.fail(
                "subscription events",
                format!(
                    "the policy acts on {}, which {id} does not send",
                    missing.join(", ")
                ),
                format!("{connect} (it updates the events)"),
            );
        }
    }
    if subscription::has_header(found) {
        report.ok(
            "subscription header",
            format!("{WEBHOOK_SECRET_HEADER} is set"),
        );
    } else {
        report.fail(
            "subscription header",
            format!(
                "{id} sends no {WEBHOOK_SECRET_HEADER}: the bridge refuses each delivery (401)"
            ),
            connect.clone(),
        );
    }
    let Some(secret_string) = secret_string else {
        return report.fail(
            "header value",
            "not checked: the bridge's secret cannot be read".into(),
            "see the bridge's secret above".into(),
        );
    };
    match recorded(found) {
        None => {
            let unknown = "PagerDuty shows header values redacted and signing secrets never again, and connect-pagerduty has no record of this subscription (made by hand, or by an older connect-pagerduty)";
            report.fail(
                "header value",
                format!("{id}'s is unknown: {unknown}"),
                format!("{connect} (a recorded subscription replaces it)"),
            );
        }
        Some(entry) => {
            header_value(report, entry, secret_string, &connect);
            signing_secret(report, entry, secret_string, &connect);
        }
    }
}

fn header_value<W: Write>(
    report: &mut Report<'_, W>,
    entry: &Pushed,
    secret_string: &str,
    connect: &str,
) {
    let values = pushed::webhook_secrets(secret_string);
    match values.iter().position(|value| entry.sends(value)) {
        Some(0) => report.ok("header value", "the WEBHOOK_SECRET of the bridge's secret (per the record)".into()),
        Some(_) => report.ok("header value", "an older value WEBHOOK_SECRET still lists, a newer one first: a rotation is under way (finish it with --rotate-webhook-secret)".into()),
        None => report.fail("header value", format!("{} sends a value WEBHOOK_SECRET no longer lists: every delivery is refused (401)", entry.id), format!("{connect} (a new subscription sends the current value, then this one is deleted)")),
    }
}

fn signing_secret<W: Write>(
    report: &mut Report<'_, W>,
    entry: &Pushed,
    secret_string: &str,
    connect: &str,
) {
    let stored = pushed::verifiable_records(secret_string).contains(entry);
    if stored {
        report.ok(
            "signing secret",
            format!("{}'s is in PAGERDUTY_SIGNING_SECRET", entry.id),
        );
    } else {
        report.fail("signing secret", format!("{}'s is not in PAGERDUTY_SIGNING_SECRET: every signed delivery is refused (401)", entry.id), format!("{connect} (PagerDuty never shows a signing secret again: a new subscription is the way)"));
    }
}
