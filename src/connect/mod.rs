//! `connect-pagerduty`: wires PagerDuty to a deployed stack, from the deployer's machine.
//! It reads the stack's outputs and routing policy, finds the scope (the account, a service or a
//! team), and makes sure one Generic Webhook v3 subscription delivers the events the policy acts
//! on to the stack's URL with the `X-Webhook-Secret` header from the bridge's secret: it keeps
//! one that does (its events updated, re-enabled if PagerDuty disabled it), or creates a new one
//! (storing the signing secret PagerDuty returns) and then deletes the bridge's others, so no
//! delivery is refused during the change. It sends a test ping and shows the bridge's answer
//! from its log group. Safe to run again; a run with nothing to change changes nothing. No
//! secret is ever printed.
//!
//! `--rotate-webhook-secret` rotates `WEBHOOK_SECRET` end to end; `--check` changes nothing and
//! says what is wrong between the stack, Devin and PagerDuty, one line per check.
//!
//! Its own room: an operator's command, not part of either function (feature `connect`, so the
//! Lambda binaries never compile its AWS clients). It imports the core only.
//!
//! - [`args`]: the command line and the environment;
//! - [`wire`]: the subscription made right (the default, and a rotation's middle step);
//! - [`rotate`]: the rotation of `WEBHOOK_SECRET` (`--rotate-webhook-secret`);
//! - [`check`]: what `--check` looks at;
//! - [`pagerduty`], [`devin`]: the REST calls, with the operator's PagerDuty key and the
//!   bridge's Devin key;
//! - [`aws`]: the stack, the secret and the log group;
//! - [`subscription`]: the subscription the bridge needs, as data, and the plan that makes it so.

pub mod args;
mod aws;
mod check;
mod devin;
mod pagerduty;
mod rotate;
pub mod subscription;
mod wire;

use std::io::Write;
use std::time::Duration;

use thiserror::Error;

use args::{Args, Mode};
use aws::Stack;

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

/// How a run ended, when it could run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `--check` found this many problems.
    ChecksFailed(usize),
}

/// Does what `args` say, telling `out` each step.
pub async fn run(args: Args, out: &mut impl Write) -> Result<Outcome, ConnectError> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let stack = Stack::read(&config, &args.stack_name).await?;
    match args.mode {
        Mode::Check => check::run(&args, &stack, out).await,
        Mode::Connect => {
            let wiring = wire::Wiring::prepare(&args, &stack, out).await?;
            let secret_string = stack.secret_string().await?;
            let header = pushed_header(&secret_string)?;
            wiring.apply(secret_string, &header, out).await?;
            Ok(Outcome::Done)
        }
        Mode::RotateWebhookSecret => {
            rotate::run(&args, &stack, out).await?;
            Ok(Outcome::Done)
        }
    }
}

/// The `WEBHOOK_SECRET` value the subscription should send: the first listed.
fn pushed_header(secret_string: &str) -> Result<String, ConnectError> {
    pure::inbound::pushed::webhook_secrets(secret_string)
        .into_iter()
        .next()
        .ok_or_else(|| {
            ConnectError::Secret("it holds no WEBHOOK_SECRET for the custom header".into())
        })
}

fn say(out: &mut impl Write, line: String) {
    let _ = writeln!(out, "==> {line}");
}

/// How long to wait for the bridge's answer to the ping, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);
