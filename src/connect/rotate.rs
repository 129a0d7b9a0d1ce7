//! `--rotate-webhook-secret`: a new `WEBHOOK_SECRET`, end to end, with no delivery refused.
//!
//! 1. A new random value goes first in the secret, the old one kept after it (`new,old`): the
//!    bridge accepts any listed value, and fetches the secret again when a header does not
//!    match, so the old subscription's deliveries still pass.
//! 2. A new subscription sends the new value (its signing secret stored next to the old one);
//!    the old subscription is deleted ([`wire`](crate::connect::wire)).
//! 3. The old value leaves the secret, unless a subscription may still send it: every
//!    subscription of the account is listed (any filter, every page), and one the record says
//!    sends it, or one the tool did not make that delivers to the stack's URL with the header
//!    (PagerDuty redacts header values, so it may send the old one), keeps the value. Each is
//!    named with what to do: rerun `connect-pagerduty` for its scope (a new subscription sends
//!    the new value, then it is deleted), then rotate again, which drops the value.
//!
//! Safe to rerun if it dies midway: a secret that already lists several values is a rotation
//! under way, and the rerun finishes it with the first one instead of drawing another; step 2
//! is the ordinary rerunnable wiring; step 3 only drops values nothing sends.

use std::io::Write;

use serde_json::Value;

use crate::connect::args::Args;
use crate::connect::aws::Stack;
use crate::connect::subscription;
use crate::connect::wire::Wiring;
use crate::connect::{say, ConnectError};
use pure::inbound::pushed;

pub async fn run(args: &Args, stack: &Stack, out: &mut impl Write) -> Result<(), ConnectError> {
    let wiring = Wiring::prepare(args, stack, out).await?;
    let (values, secret_string) = new_value_first(args, stack, out).await?;
    let secret_string = wiring.apply(secret_string, &values[0], out).await?;
    if args.dry_run {
        say(
            out,
            "dry run: would then drop the old WEBHOOK_SECRET from the bridge's secret".into(),
        );
        return Ok(());
    }
    let listed = wiring.every_subscription().await?;
    let kept = still_sent(&listed, stack, &secret_string, &values, out);
    drop_the_rest(stack, &secret_string, values.len(), &kept, out).await
}

/// Step 1: the `WEBHOOK_SECRET` values with the new one first (empty on a dry run), and the
/// SecretString that lists them.
async fn new_value_first(
    args: &Args,
    stack: &Stack,
    out: &mut impl Write,
) -> Result<(Vec<String>, String), ConnectError> {
    let secret_string = stack.secret_string().await?;
    let mut values = pushed::webhook_secrets(&secret_string);
    let mut secret_string = secret_string;
    if values.len() > 1 {
        say(out, format!("WEBHOOK_SECRET already lists {} values: finishing the rotation under way with the first one", values.len()));
    } else if args.dry_run {
        say(out, "dry run: would put a new random WEBHOOK_SECRET first in the bridge's secret, the old one kept after it".into());
        values.insert(0, String::new());
    } else {
        values.insert(0, stack.random_webhook_secret().await?);
        secret_string =
            pushed::with_webhook_secrets(&secret_string, &values).map_err(ConnectError::Secret)?;
        stack.store_secret(&secret_string).await?;
        say(out, format!("put a new WEBHOOK_SECRET in {}, the old one kept after it (the bridge accepts both)", stack.secret_arn));
    }
    Ok((values, secret_string))
}

/// Step 3's question: the new value, and each old one a subscription may still send (each such
/// subscription named, with what to do).
fn still_sent(
    listed: &[Value],
    stack: &Stack,
    secret_string: &str,
    values: &[String],
    out: &mut impl Write,
) -> Vec<String> {
    let records = pushed::records(secret_string);
    let mut kept = vec![values[0].clone()];
    for old in &values[1..] {
        let senders = subscription::may_send(listed, &records, &stack.webhook_url, old);
        if senders.is_empty() {
            continue;
        }
        for sender in &senders {
            let why = if sender.recorded {
                "sends it, per connect-pagerduty's record"
            } else {
                "delivers to the stack's URL with an X-Webhook-Secret header connect-pagerduty did not set (PagerDuty shows its value redacted), so it may send it"
            };
            say(out, format!("kept the old WEBHOOK_SECRET value: the subscription {} ({}) {why}; run `cargo connect-pagerduty --scope {}` (a new subscription sends the new value, then {} is deleted)", sender.id, sender.scope, sender.scope, sender.id));
        }
        kept.push(old.clone());
    }
    kept
}

/// Step 3: only the `kept` values stay in the secret (of the `listed` it held).
async fn drop_the_rest(
    stack: &Stack,
    secret_string: &str,
    listed: usize,
    kept: &[String],
    out: &mut impl Write,
) -> Result<(), ConnectError> {
    if kept.len() < listed {
        let updated =
            pushed::with_webhook_secrets(secret_string, kept).map_err(ConnectError::Secret)?;
        stack.store_secret(&updated).await?;
        let done = if kept.len() == 1 {
            "the rotation is done"
        } else {
            "the ones that may still be sent are kept"
        };
        say(
            out,
            format!(
                "dropped the old WEBHOOK_SECRET from {}: {done}",
                stack.secret_arn
            ),
        );
    }
    if kept.len() > 1 {
        say(out, format!("then run this command again (--rotate-webhook-secret): it finishes the rotation with the new value and drops the old one, which {} still lists", stack.secret_arn));
    }
    Ok(())
}
