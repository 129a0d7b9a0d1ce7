//! Whatever event the Lambda runtime hands over, the function answers it below 500 and nothing
//! panics: the raw Function URL event (query string, headers, base64 flag, body), through the
//! same handler the function runs, in dry run (nothing leaves the process).
//! Seeds: the sample events in `corpus/function_url_event/`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pagerduty_devin_bridge::delivery::function_url::FunctionUrlRequest;
use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::startup::assemble::cold_start;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// The bridge with the local development settings, in dry run.
fn bridge() -> &'static Bridge {
    static BRIDGE: OnceLock<Bridge> = OnceLock::new();
    BRIDGE.get_or_init(|| {
        let env = |name: &str| {
            Some(
                match name {
                    "DEVIN_ORG_ID" => "org-fuzz",
                    "DEVIN_API_KEY" => "cog_fuzz",
                    "WEBHOOK_SECRET" => "local-webhook-secret",
                    "PAGERDUTY_SIGNING_SECRET" => "local-signing-secret",
                    "DEVIN_DRY_RUN" => "true",
                    "DELIVERY_MAX_AGE_HOURS" => "0",
                    _ => return None,
                }
                .to_owned(),
            )
        };
        runtime().block_on(cold_start(env)).expect("the fuzz bridge starts")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<FunctionUrlRequest>(data) else {
        // The Lambda runtime answers an event it cannot read with an invocation error.
        return;
    };
    let answer = runtime().block_on(bridge().handle(event, None));
    assert!(answer.status_code < 500, "{}", answer.status_code);
});
