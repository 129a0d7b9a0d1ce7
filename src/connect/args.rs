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
        let mut read = Args {
            mode: Mode::Connect,
            scope: None,
            stack_name: "pagerduty-devin-bridge".to_owned(),
            dry_run: false,
            wait: DEFAULT_WAIT,
            pagerduty_api_key: String::new(),
            pagerduty_api_url: String::new(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            read.flag(&arg, &mut args)?;
        }
        if read.scope.is_none() && read.mode != Mode::Check {
            return Err(usage("--scope is required"));
        }
        read.pagerduty_api_key = env("PAGERDUTY_API_KEY")
            .filter(|key| !key.trim().is_empty())
            .ok_or(ConnectError::Missing("PAGERDUTY_API_KEY"))?;
        read.pagerduty_api_url = env("PAGERDUTY_API_URL")
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| "https://api.pagerduty.com".into());
        Ok(read)
    }

    /// Takes one argument, and its value from `rest` when it has one.
    fn flag(
        &mut self,
        arg: &str,
        rest: &mut impl Iterator<Item = String>,
    ) -> Result<(), ConnectError> {
        let mut value = |name: &str| {
            rest.next()
                .ok_or_else(|| usage(&format!("{name} needs a value")))
        };
        match arg {
            "--scope" => {
                let text = value("--scope")?;
                self.scope = Some(
                    Scope::parse(&text)
                        .map_err(|text| usage(&format!("--scope {text:?} is not a scope")))?,
                );
            }
            "--stack-name" => self.stack_name = value("--stack-name")?,
            "--dry-run" => self.dry_run = true,
            "--check" | "--rotate-webhook-secret" => {
                if self.mode != Mode::Connect {
                    return Err(usage("--check and --rotate-webhook-secret: one at a time"));
                }
                self.mode = if arg == "--check" {
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
                self.wait = Duration::from_secs(seconds);
            }
            "--help" | "-h" => return Err(ConnectError::Usage(USAGE.into())),
            other => return Err(usage(&format!("unknown argument {other:?}"))),
        }
        Ok(())
    }
}

/// A usage mistake: the problem, then the usage.
fn usage(problem: &str) -> ConnectError {
    ConnectError::Usage(format!("{problem}\n{USAGE}"))
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
