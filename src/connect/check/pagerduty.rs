//! The PagerDuty checks: the subscription that delivers to the stack (or that the tool's record
//! names) is there, active, enabled, sends to the stack's URL the events the policy acts on with
//! the header, whose value the bridge's secret lists, and whose signing secret it holds.

use std::io::Write;

use serde_json::Value;

use super::Report;
use crate::connect::args::Args;
use crate::connect::aws::Stack;
use crate::connect::pagerduty::PagerDuty;
use crate::connect::subscription::{self, Scope, WEBHOOK_SECRET_HEADER};
use crate::connect::wire;
use pure::inbound::pushed::{self, Pushed};

const CHECK: &str = "PagerDuty subscription";

pub(super) async fn check<W: Write>(
    report: &mut Report<'_, W>,
    args: &Args,
    stack: &Stack,
    secret_string: Option<&str>,
    events: Option<Vec<String>>,
) {
    let records = secret_string.map(pushed::records).unwrap_or_default();
    let Some(subscription) = find(report, args, stack, &records).await else {
        return;
    };
    let found = Found {
        subscription: &subscription,
        id: subscription["id"].as_str().unwrap_or_default(),
        connect: connect_command(args, Some(&subscription)),
    };
    report.ok(CHECK, format!("{} ({})", found.id, found.filter_shown()));
    found.active(report);
    found.enabled(report, &stack.log_group);
    found.url(report, &stack.webhook_url);
    if let Some(events) = events {
        found.events(report, &events);
    }
    found.header(report);
    let Some(secret_string) = secret_string else {
        return report.fail(
            "header value",
            "not checked: the bridge's secret cannot be read".into(),
            "see the bridge's secret above".into(),
        );
    };
    match recorded(&records, found.subscription) {
        None => {
            let unknown = "PagerDuty shows header values redacted and signing secrets never again, and connect-pagerduty has no record of this subscription (made by hand, or by an older connect-pagerduty)";
            report.fail(
                "header value",
                format!("{}'s is unknown: {unknown}", found.id),
                format!("{} (a recorded subscription replaces it)", found.connect),
            );
        }
        Some(entry) => {
            header_value(report, entry, secret_string, &found.connect);
            signing_secret(report, entry, secret_string, &found.connect);
        }
    }
}

/// The command that puts the subscription right: with the scope given, or the one of the
/// subscription found, or a placeholder.
fn connect_command(args: &Args, found: Option<&Value>) -> String {
    let scope = match (&args.scope, found) {
        (Some(scope), _) => scope.to_string(),
        (None, Some(found)) => subscription::scope_argument(found),
        (None, None) => "<account|service:...|team:...>".to_owned(),
    };
    format!("run `cargo connect-pagerduty --scope {scope}`")
}

/// The tool's record of a subscription.
fn recorded<'r>(records: &'r [Pushed], existing: &Value) -> Option<&'r Pushed> {
    records
        .iter()
        .find(|entry| existing["id"] == entry.id.as_str())
}

/// The subscription that delivers to the stack's URL, or else one the record names.
async fn find<W: Write>(
    report: &mut Report<'_, W>,
    args: &Args,
    stack: &Stack,
    records: &[Pushed],
) -> Option<Value> {
    let listed = listed(report, args).await?;
    let url = &stack.webhook_url;
    let delivers_here = |existing: &&Value| subscription::delivers_to(existing, url);
    let found = listed
        .iter()
        .find(delivers_here)
        .or_else(|| {
            listed
                .iter()
                .find(|existing| recorded(records, existing).is_some())
        })
        .cloned();
    if found.is_none() {
        let connect = connect_command(args, None);
        report.fail(CHECK, format!("no subscription delivers to {url}"), connect);
    }
    found
}

/// The subscriptions in the scope (the account's when none is given).
async fn listed<W: Write>(report: &mut Report<'_, W>, args: &Args) -> Option<Vec<Value>> {
    let pagerduty = match PagerDuty::new(&args.pagerduty_api_url, &args.pagerduty_api_key) {
        Ok(pagerduty) => pagerduty,
        Err(err) => {
            report.fail(
                CHECK,
                err.to_string(),
                "set PAGERDUTY_API_URL to https://api.pagerduty.com (or the EU one)".into(),
            );
            return None;
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
                let fix = format!("give --scope an existing {kind}");
                report.fail(CHECK, err.to_string(), fix);
                return None;
            }
        },
    };
    match pagerduty.subscriptions(filter.as_ref()).await {
        Ok(listed) => Some(listed),
        Err(err) => {
            report.fail(
                CHECK,
                err.to_string(),
                "use a PAGERDUTY_API_KEY that may read webhook subscriptions".into(),
            );
            None
        }
    }
}

/// The subscription found, and the command that puts it right.
struct Found<'a> {
    subscription: &'a Value,
    id: &'a str,
    connect: String,
}

impl Found<'_> {
    /// `service_reference PS1`, or `account_reference (the whole account)`.
    fn filter_shown(&self) -> String {
        let field = |pointer: &str| self.subscription.pointer(pointer).and_then(Value::as_str);
        format!(
            "{} {}",
            field("/filter/type").unwrap_or("?"),
            field("/filter/id").unwrap_or("(the whole account)")
        )
    }

    fn active<W: Write>(&self, report: &mut Report<'_, W>) {
        if self.subscription["active"] == false {
            report.fail(
                "subscription active",
                format!("{} is inactive: PagerDuty sends it nothing", self.id),
                self.connect.clone(),
            );
        } else {
            report.ok("subscription active", "yes".into());
        }
    }

    fn enabled<W: Write>(&self, report: &mut Report<'_, W>, log_group: &str) {
        let (id, connect) = (self.id, &self.connect);
        if subscription::is_disabled(self.subscription) {
            report.fail("subscription enabled", format!("PagerDuty disabled {id} (delivery_method.temporarily_disabled) after deliveries were dropped, and dropped its queue"), format!("see in the log group {log_group} why the bridge refused them, then {connect} (it re-enables it)"));
        } else {
            report.ok("subscription enabled", "not temporarily disabled".into());
        }
    }

    fn url<W: Write>(&self, report: &mut Report<'_, W>, url: &str) {
        match self
            .subscription
            .pointer("/delivery_method/url")
            .and_then(Value::as_str)
        {
            Some(sent_to) if sent_to == url => {
                report.ok("subscription URL", format!("the stack's, {url}"))
            }
            sent_to => report.fail(
                "subscription URL",
                format!(
                    "{} delivers to {}, the stack's URL is {url}",
                    self.id,
                    sent_to.unwrap_or("nowhere")
                ),
                format!(
                    "{} (a new subscription for the stack's URL, then this one deleted)",
                    self.connect
                ),
            ),
        }
    }

    /// The events the policy acts on that the subscription does not send.
    fn events<W: Write>(&self, report: &mut Report<'_, W>, events: &[String]) {
        let sent = self.subscription["events"].as_array();
        let missing: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|event| !sent.into_iter().flatten().any(|listed| listed == *event))
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
                    "the policy acts on {}, which {} does not send",
                    missing.join(", "),
                    self.id
                ),
                format!("{} (it updates the events)", self.connect),
            );
        }
    }

    fn header<W: Write>(&self, report: &mut Report<'_, W>) {
        if subscription::has_header(self.subscription) {
            report.ok(
                "subscription header",
                format!("{WEBHOOK_SECRET_HEADER} is set"),
            );
        } else {
            report.fail(
                "subscription header",
                format!(
                    "{} sends no {WEBHOOK_SECRET_HEADER}: the bridge refuses each delivery (401)",
                    self.id
                ),
                self.connect.clone(),
            );
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
