//! `connect-pagerduty`: wires PagerDuty to a deployed stack, once, from the deployer's machine.
//! It reads the stack's outputs and routing policy, finds the scope (the account, a service or a
//! team), creates the Generic Webhook v3 subscription (or finds and updates it: safe to run
//! twice) with the events the policy acts on and the `X-Webhook-Secret` header from the
//! bridge's secret, stores the signing secret PagerDuty returns into that secret, sends a test
//! ping and shows the bridge's answer from its log group. No secret is ever printed.
//!
//! Its own room: an operator's command, not part of either function (feature `connect`, so the
//! Lambda binaries never compile its AWS clients). It imports the core only.
//!
//! - [`args`]: the command line and the environment;
//! - [`pagerduty`]: the PagerDuty REST calls it makes with the operator's key;
//! - [`aws`]: the stack, the secret and the log group.

pub mod args;
mod aws;
mod pagerduty;

use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use crate::pure::policy::Policy;
use crate::pure::subscription::{self, Filter, Scope};
use args::Args;
use aws::Stack;
use pagerduty::PagerDuty;

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("{0}")]
    Usage(String),
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("the stack {stack}: {detail}")]
    Stack { stack: String, detail: String },
    #[error("the bridge's secret: {0}")]
    Secret(String),
    #[error("PagerDuty, {what}: {detail}")]
    PagerDuty { what: String, detail: String },
}

/// Connects PagerDuty to the stack as `args` say, telling `out` each step.
pub async fn run(args: Args, out: &mut impl Write) -> Result<(), ConnectError> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let stack = Stack::read(&config, &args.stack_name).await?;
    let secret_string = stack.secret_string().await?;
    let webhook_secret = subscription::webhook_secret(&secret_string).ok_or_else(|| {
        ConnectError::Secret("it holds no WEBHOOK_SECRET for the custom header".into())
    })?;
    let policy = match stack.routing_config.as_deref() {
        Some(json) => Policy::from_json(json).map_err(|err| ConnectError::Stack {
            stack: args.stack_name.clone(),
            detail: err.to_string(),
        })?,
        None => Policy::default(),
    };
    let events = policy.event_types_heard();
    say(
        out,
        format!(
            "stack {}: deliveries to {}",
            args.stack_name, stack.webhook_url
        ),
    );
    say(out, format!("events: {}", events.join(", ")));

    let pagerduty = PagerDuty::new(&args.pagerduty_api_url, &args.pagerduty_api_key)?;
    let filter = match &args.scope {
        Scope::Account => Filter::account(),
        Scope::Service(name) => Filter::service(&pagerduty.find("services", name).await?),
        Scope::Team(name) => Filter::team(&pagerduty.find("teams", name).await?),
    };
    say(
        out,
        format!(
            "scope: {} {}",
            filter.kind,
            filter.id.as_deref().unwrap_or("(the whole account)")
        ),
    );
    let body = subscription::subscription(&stack.webhook_url, &events, &filter, &webhook_secret);
    let existing = pagerduty.subscriptions(&filter).await?;
    let ours = existing
        .iter()
        .find(|existing| subscription::is_ours(existing, &stack.webhook_url, &filter));
    if args.dry_run {
        let verb = if ours.is_some() { "update" } else { "create" };
        say(out, format!("dry run: would {verb} the subscription:"));
        let _ = writeln!(out, "{:#}", subscription::shown(&body));
        say(
            out,
            "dry run: nothing was changed in PagerDuty or AWS".into(),
        );
        return Ok(());
    }
    let id = match ours.and_then(|ours| ours["id"].as_str()) {
        Some(id) => {
            pagerduty.update_subscription(id, &body).await?;
            say(
                out,
                format!("updated the subscription {id} (found by its URL and scope)"),
            );
            if !secret_string.contains("PAGERDUTY_SIGNING_SECRET") {
                say(out, "note: PagerDuty shows a subscription's signing secret only when it creates it, and the bridge's secret has none: deliveries are checked by the X-Webhook-Secret header alone (delete the subscription and run again to add the signature check)".into());
            }
            id.to_owned()
        }
        None => {
            let created = pagerduty.create_subscription(&body).await?;
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            say(out, format!("created the subscription {id}"));
            let signing = created
                .pointer("/delivery_method/secret")
                .and_then(Value::as_str)
                .ok_or_else(|| ConnectError::PagerDuty {
                    what: "the new subscription".into(),
                    detail: "it came without its signing secret".into(),
                })?;
            let updated = subscription::with_signing_secret(&secret_string, signing)
                .map_err(ConnectError::Secret)?;
            stack.store_secret(&updated).await?;
            say(out, format!("stored the signing secret in {} (PAGERDUTY_SIGNING_SECRET, the one before it kept for rotation)", stack.secret_arn));
            id
        }
    };
    let pinged_at = aws::now_ms();
    pagerduty.ping(&id).await?;
    say(
        out,
        format!(
            "sent a test ping; waiting up to {} s for the bridge's answer in {}",
            args.wait.as_secs(),
            stack.log_group
        ),
    );
    match stack.ping_answer(pinged_at, args.wait).await {
        Some(line) => say(out, format!("the bridge answered the ping: {line}")),
        None => say(out, "no answer from the bridge in its log yet: look in the log group, or press Send Test Event in PagerDuty".into()),
    }
    Ok(())
}

fn say(out: &mut impl Write, line: String) {
    let _ = writeln!(out, "==> {line}");
}

/// How long to wait for the bridge's answer to the ping, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);
