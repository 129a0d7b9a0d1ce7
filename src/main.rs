//! The webhook function's process: logging, the cold start, then one delivery per invocation
//! through `lambda_http`. A cold start that cannot build the bridge says why in one line and
//! stops: the function never answers without its secrets.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use lambda_http::{service_fn, RequestExt};
use pagerduty_devin_bridge::startup::assemble::cold_start;
use pagerduty_devin_bridge::startup::process;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    process::init_logging();
    process::trust_the_ca_bundle_file();

    let bridge = match cold_start(|name| std::env::var(name).ok()).await {
        Ok(bridge) => bridge,
        Err(err) => {
            tracing::error!(error = %err, "cold start failed");
            process::report_init_error(&err).await;
            return ExitCode::FAILURE;
        }
    };
    let bridge = &bridge;
    let served = lambda_http::run(service_fn(
        move |request: lambda_http::Request| async move {
            let deadline = request
                .lambda_context_ref()
                .map(|context| instant_of(context.deadline()));
            Ok::<_, lambda_http::Error>(bridge.handle(request, deadline).await)
        },
    ))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// Lambda gives the deadline as wall-clock time; the bridge counts in monotonic time.
fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}
