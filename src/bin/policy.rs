//! `cargo policy check|test ...`: the routing policy checked and tested before it ships (see
//! `pagerduty_devin_bridge::policy_tool`). Exits 0 when valid (and every `--expect` holds), 1
//! when not, 2 on a usage mistake.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use pagerduty_devin_bridge::policy_tool;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let read = |path: &str| std::fs::read_to_string(path).map_err(|err| err.to_string());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    let code = policy_tool::run(&args, read, now_ms, &mut std::io::stdout());
    ExitCode::from(code)
}
