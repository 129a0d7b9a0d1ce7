//! The webhook function's process: the Lambda runtime hands over the Function URL's event as it
//! came, and the bridge built at cold start answers it. A cold start that cannot build the bridge
//! says why in one line and stops: the function never answers without its secrets.

use std::process::ExitCode;

use pagerduty_devin_bridge::delivery::function_url::FunctionUrlRequest;
use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::startup::assemble::cold_start;
use pagerduty_devin_bridge::startup::process;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let bridge = cold_start(|name| std::env::var(name).ok());
    process::serve(
        bridge,
        async |bridge: &Bridge, event: FunctionUrlRequest, deadline| {
            bridge.handle(event, deadline).await
        },
    )
    .await
}
