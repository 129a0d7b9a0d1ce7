//! `--check`: changes nothing, and says what is wrong between the deployed stack, Devin and
//! PagerDuty, one line per check with its fix: the routing policy, the bridge's secret, the
//! Devin token and its organization, its permission to list sessions, the PagerDuty
//! subscription (there, active, enabled, its URL, its events, its header, the header's value
//! and its signing secret, per the tool's own record). The run fails when any check does.
//!
//! Here the stack's own checks (the policy, the secret); [`devin`] checks the token and its
//! organization, [`pagerduty`] the subscription.

mod devin;
mod pagerduty;

use std::io::Write;

use crate::connect::args::Args;
use crate::connect::aws::Stack;
use crate::connect::wire;
use crate::connect::{ConnectError, Outcome};
use pure::policy::Policy;

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
    let policy = policy(&mut report, stack);
    let secret_string = secret(&mut report, stack).await;
    devin::check(&mut report, stack, secret_string.as_deref()).await;
    let events = policy.map(|policy| policy.event_types_heard());
    pagerduty::check(&mut report, args, stack, secret_string.as_deref(), events).await;
    Ok(match report.failed {
        0 => Outcome::Done,
        failed => Outcome::ChecksFailed(failed),
    })
}

/// The stack's routing policy, when it is valid.
fn policy<W: Write>(report: &mut Report<'_, W>, stack: &Stack) -> Option<Policy> {
    match wire::policy(stack) {
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
    }
}

/// The bridge's secret, when this identity may read it.
async fn secret<W: Write>(report: &mut Report<'_, W>, stack: &Stack) -> Option<String> {
    match stack.secret_string().await {
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
    }
}
