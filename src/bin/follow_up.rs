//! The follow-up function's process: one run per invocation (the schedule's event carries
//! nothing the run needs). A cold start that cannot build the follow-up says why in one line
//! and stops.

use std::process::ExitCode;

use pagerduty_devin_bridge::follow_up::FollowUp;
use pagerduty_devin_bridge::startup::assemble::cold_start_follow_up;
use pagerduty_devin_bridge::startup::process;
use serde::de::IgnoredAny;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let follow_up = cold_start_follow_up(|name| std::env::var(name).ok());
    process::serve(
        follow_up,
        async |follow_up: &FollowUp, _: IgnoredAny, deadline| follow_up.run(deadline).await,
    )
    .await
}
