//! `cargo connect-pagerduty --scope service:<name>`: wires PagerDuty to the deployed stack
//! (see `pagerduty_devin_bridge::connect`). Exits 0 when connected (or, with `--dry-run`, when
//! the plan was shown; with `--check`, when every check passed), 1 with one line that says why
//! not (or when a check failed), 2 on a usage mistake.

use std::process::ExitCode;

use pagerduty_devin_bridge::connect::args::Args;
use pagerduty_devin_bridge::connect::{self, ConnectError, Outcome};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::read(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    match connect::run(args, &mut std::io::stdout()).await {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::ChecksFailed(failed)) => {
            eprintln!("connect-pagerduty: {failed} check(s) failed");
            ExitCode::FAILURE
        }
        Err(err @ ConnectError::Usage(_)) => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("connect-pagerduty: {err}");
            ExitCode::FAILURE
        }
    }
}
