//! The webhook function's process: logging, the cold start, then one delivery per invocation:
//! the Lambda runtime hands over the Function URL's event as it came, and the bridge answers it.
//! A cold start that cannot build the bridge says why in one line and stops: the function never
//! answers without its secrets. A panic anywhere fails that invocation only (the release
//! profile unwinds; the runtime catches it).

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{service_fn, LambdaEvent};
use pagerduty_devin_bridge::delivery::function_url::FunctionUrlRequest;
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
    let served = lambda_runtime::run(service_fn(
        move |event: LambdaEvent<FunctionUrlRequest>| async move {
            let deadline = instant_of(event.context.deadline());
            Ok::<_, lambda_runtime::Error>(bridge.handle(event.payload, deadline).await)
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

/// Lambda gives the deadline as wall-clock time; the bridge counts in monotonic time. A deadline
/// already past when the invocation starts is not Lambda's (whose invocations have at least a
/// second): local emulators send one (`cargo lambda watch` does), and it counts as unknown.
fn instant_of(deadline: SystemTime) -> Option<Instant> {
    let left = deadline.duration_since(SystemTime::now()).ok()?;
    (left > Duration::ZERO).then(|| Instant::now() + left)
}
