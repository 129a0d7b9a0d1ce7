//! `--rotate-webhook-secret`: a new `WEBHOOK_SECRET`, end to end, with no delivery refused.
//!
//! 1. A new random value goes first in the secret, the old one kept after it (`new,old`): the
//!    bridge accepts any listed value, and fetches the secret again when a header does not
//!    match, so the old subscription's deliveries still pass.
//! 2. A new subscription sends the new value (its signing secret stored next to the old one);
//!    the old subscription is deleted ([`wire`](crate::connect::wire)).
//! 3. The old value leaves the secret, unless a subscription of another scope still sends it
//!    (per the record): that one is named, and the value kept.
//!
//! Safe to rerun if it dies midway: a secret that already lists several values is a rotation
//! under way, and the rerun finishes it with the first one instead of drawing another; step 2
//! is the ordinary rerunnable wiring; step 3 only drops values nothing sends.

use std::io::Write;

use crate::connect::args::Args;
use crate::connect::aws::Stack;
use crate::connect::wire::Wiring;
use crate::connect::{say, ConnectError};
use crate::pure::pushed;

pub async fn run(args: &Args, stack: &Stack, out: &mut impl Write) -> Result<(), ConnectError> {
    let wiring = Wiring::prepare(args, stack, out).await?;
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
    let new = values[0].clone();
    let secret_string = wiring.apply(secret_string, &new, out).await?;
    if args.dry_run {
        say(
            out,
            "dry run: would then drop the old WEBHOOK_SECRET from the bridge's secret".into(),
        );
        return Ok(());
    }
    let records = pushed::records(&secret_string);
    let mut kept = vec![new];
    for old in &values[1..] {
        let senders: Vec<&str> = records
            .iter()
            .filter(|entry| entry.sends(old))
            .map(|entry| entry.id.as_str())
            .collect();
        if senders.is_empty() {
            continue;
        }
        say(out, format!("kept an old WEBHOOK_SECRET value: the subscription(s) {} (another scope) still send it; rotate them with --scope <their scope>", senders.join(", ")));
        kept.push(old.clone());
    }
    if kept.len() < values.len() {
        let updated =
            pushed::with_webhook_secrets(&secret_string, &kept).map_err(ConnectError::Secret)?;
        stack.store_secret(&updated).await?;
        say(
            out,
            format!(
                "dropped the old WEBHOOK_SECRET from {}: the rotation is done",
                stack.secret_arn
            ),
        );
    }
    Ok(())
}
