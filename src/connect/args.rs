//! The command line (`--scope`, `--stack-name`, `--dry-run`, `--wait-seconds`, and the modes
//! `--check` and `--rotate-webhook-secret`) and the
//! environment (`PAGERDUTY_API_KEY`, `PAGERDUTY_API_URL`; AWS credentials and region as the AWS
//! CLI reads them).

use std::time::Duration;

use crate::connect::subscription::Scope;
use crate::connect::{ConnectError, DEFAULT_WAIT};

pub const USAGE: &str = "\
usage: cargo connect-pagerduty --scope account|service:<id or name>|team:<id or name>
         [--stack-name pagerduty-devin-bridge] [--dry-run] [--wait-seconds 60]
         [--rotate-webhook-secret]   a new WEBHOOK_SECRET, pushed to a new subscription
       cargo connect-pagerduty --check [--scope ...] [--stack-name ...]
                                     changes nothing: what is wrong, and how to fix it
environment: PAGERDUTY_API_KEY (a PagerDuty REST API key that may manage webhook subscriptions),
  PAGERDUTY_API_URL (https://api.eu.pagerduty.com for EU accounts), and AWS credentials and region";

/// What the command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Creates or keeps the subscription (the default).
    Connect,
    /// Changes nothing; one line per check.
    Check,
    /// A new `WEBHOOK_SECRET`, end to end.
    RotateWebhookSecret,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub mode: Mode,
    /// Required but with `--check`, which then looks at every subscription of the account.
    pub scope: Option<Scope>,
    pub stack_name: String,
    pub dry_run: bool,
    pub wait: Duration,
    pub pagerduty_api_key: String,
    pub pagerduty_api_url: String,
}

impl Args {
    /// From the arguments (without the program name) and the environment.
    pub fn read(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Args, ConnectError> {
        let usage = |problem: &str| ConnectError::Usage(format!("{problem}\n{USAGE}"));
        let mut scope = None;
        let mut stack_name = "pagerduty-devin-bridge".to_owned();
        let mut dry_run = false;
        let mut mode = Mode::Connect;
        let mut wait = DEFAULT_WAIT;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| usage(&format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--scope" => {
                    let text = value("--scope")?;
                    scope = Some(
                        Scope::parse(&text)
                            .map_err(|text| usage(&format!("--scope {text:?} is not a scope")))?,
                    );
                }
                "--stack-name" => stack_name = value("--stack-name")?,
                "--dry-run" => dry_run = true,
                "--check" | "--rotate-webhook-secret" => {
                    if mode != Mode::Connect {
                        return Err(usage("--check and --rotate-webhook-secret: one at a time"));
                    }
                    mode = if arg == "--check" {
                        Mode::Check
                    } else {
                        Mode::RotateWebhookSecret
                    };
                }
                "--wait-seconds" => {
                    let text = value("--wait-seconds")?;
                    let seconds = text
                        .parse()
                        .map_err(|_| usage(&format!("--wait-seconds {text:?} is not a number")))?;
                    wait = Duration::from_secs(seconds);
                }
                "--help" | "-h" => return Err(ConnectError::Usage(USAGE.into())),
                other => return Err(usage(&format!("unknown argument {other:?}"))),
            }
        }
        if scope.is_none() && mode != Mode::Check {
            return Err(usage("--scope is required"));
        }
        let pagerduty_api_key = env("PAGERDUTY_API_KEY")
            .filter(|key| !key.trim().is_empty())
            .ok_or(ConnectError::Missing("PAGERDUTY_API_KEY"))?;
        let pagerduty_api_url = env("PAGERDUTY_API_URL")
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| "https://api.pagerduty.com".into());
        Ok(Args {
            mode,
            scope,
            stack_name,
            dry_run,
            wait,
            pagerduty_api_key,
            pagerduty_api_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(args: &[&str], key: Option<&str>) -> Result<Args, ConnectError> {
        let key = key.map(str::to_owned);
        Args::read(args.iter().map(|a| a.to_string()), move |name| {
            (name == "PAGERDUTY_API_KEY").then(|| key.clone()).flatten()
        })
    }

    #[test]
    fn the_scope_is_required_and_the_rest_has_defaults() {
        let args = read(&["--scope", "service:checkout-api"], Some("k")).unwrap();
        assert_eq!(args.scope, Some(Scope::Service("checkout-api".into())));
        assert_eq!(args.mode, Mode::Connect);
        assert_eq!(args.stack_name, "pagerduty-devin-bridge");
        assert!(!args.dry_run && args.wait == DEFAULT_WAIT);
        assert_eq!(args.pagerduty_api_url, "https://api.pagerduty.com");
        let args = read(
            &[
                "--scope",
                "account",
                "--dry-run",
                "--stack-name",
                "b",
                "--wait-seconds",
                "5",
            ],
            Some("k"),
        )
        .unwrap();
        assert!(args.dry_run && args.stack_name == "b" && args.wait == Duration::from_secs(5));
        let args = read(&["--check"], Some("k")).unwrap();
        assert_eq!((args.mode, args.scope), (Mode::Check, None));
        let args = read(
            &["--rotate-webhook-secret", "--scope", "account"],
            Some("k"),
        )
        .unwrap();
        assert_eq!(args.mode, Mode::RotateWebhookSecret);
    }

    #[test]
    fn mistakes_are_named() {
        for (args, problem) in [
            (&[][..], "--scope is required"),
            (&["--scope"][..], "--scope needs a value"),
            (
                &["--scope", "svc:x"][..],
                "--scope \"svc:x\" is not a scope",
            ),
            (
                &["--scope", "account", "--force"][..],
                "unknown argument \"--force\"",
            ),
            (&["--rotate-webhook-secret"][..], "--scope is required"),
            (
                &["--check", "--rotate-webhook-secret"][..],
                "--check and --rotate-webhook-secret: one at a time",
            ),
            (
                &["--scope", "account", "--wait-seconds", "soon"][..],
                "--wait-seconds \"soon\" is not a number",
            ),
        ] {
            let err = read(args, Some("k")).unwrap_err().to_string();
            assert!(err.starts_with(problem), "{err}");
        }
        let err = read(&["--scope", "account"], None).unwrap_err();
        assert_eq!(err.to_string(), "PAGERDUTY_API_KEY is not set");
    }
}
