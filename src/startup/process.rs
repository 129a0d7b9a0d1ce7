//! The process-wide parts of a cold start, the same for every binary: logging as Lambda asks,
//! the TLS trust store, and telling the Lambda Runtime API why a cold start failed.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{service_fn, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::startup::assemble::ColdStartError;

/// Logs as Lambda's advanced logging controls ask: JSON lines when `AWS_LAMBDA_LOG_FORMAT` is
/// `JSON`, at `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`, with its `target=level` directives; `INFO` by
/// default), with the I/O crates capped (see [`log_filter`]). Lambda adds the time.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = log_filter(level.as_deref(), rust_log.as_deref());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let lines = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time();
    if json {
        tracing_subscriber::registry()
            .with(lines.json().with_filter(filter))
            .init();
    } else {
        tracing_subscriber::registry()
            .with(lines.with_filter(filter))
            .init();
    }
}

/// Crates whose logs stop at DEBUG whatever is asked: at TRACE the Lambda runtime logs every raw
/// event (the webhook secret header among them), and the HTTP, TLS and AWS crates log requests.
const CAPPED_AT_DEBUG: [&str; 9] = [
    "lambda_runtime",
    "lambda_http",
    "hyper",
    "reqwest",
    "h2",
    "rustls",
    "tokio_rustls",
    "aws_",
    "tower",
];

/// Which lines are written: `level` (`AWS_LAMBDA_LOG_LEVEL`, a level) or else `rust_log`
/// (`RUST_LOG`: a level, or `target=level` directives), `INFO` when neither reads; the crates
/// of [`CAPPED_AT_DEBUG`] never below DEBUG.
pub fn log_filter(level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let asked = match (level, rust_log) {
        (Some(level), _) if level.trim().parse::<LevelFilter>().is_ok() => {
            level.trim().parse::<Targets>()
        }
        (_, Some(directives)) => directives.trim().parse::<Targets>(),
        _ => Ok(Targets::new()),
    }
    .unwrap_or_default();
    let default = asked.default_level().unwrap_or(LevelFilter::INFO);
    let capped = |target: &str, level: LevelFilter| {
        if CAPPED_AT_DEBUG
            .iter()
            .any(|crate_| target.starts_with(crate_))
        {
            level.min(LevelFilter::DEBUG)
        } else {
            level
        }
    };
    let mut filter = Targets::new().with_default(default);
    for (target, level) in asked.iter() {
        filter = filter.with_target(target.to_owned(), capped(target, level));
    }
    for crate_ in CAPPED_AT_DEBUG {
        if !asked.iter().any(|(target, _)| target == crate_) {
            filter = filter.with_target(crate_, default.min(LevelFilter::DEBUG));
        }
    }
    filter
}

/// The system's CA bundle, by distribution: Amazon Linux 2023 (Lambda's `provided.al2023`), then
/// Debian and Ubuntu.
const CA_BUNDLES: [&str; 2] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
];

/// Points the TLS trust store at the system's CA bundle file. Left to itself, the AWS SDK's
/// client (rustls-native-certs) also reads every file of the certificate directory, which holds
/// the same certificates one per file: on a Debian machine that is ~300 files and most of the
/// cold start with Secrets Manager. Nothing changes when `SSL_CERT_FILE` or `SSL_CERT_DIR` is
/// already set, or when no known bundle exists.
pub fn trust_the_ca_bundle_file() {
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        return;
    }
    if let Some(bundle) = CA_BUNDLES
        .iter()
        .find(|path| std::path::Path::new(path).is_file())
    {
        // Still one thread: the runtime is current-thread and nothing else has started.
        std::env::set_var("SSL_CERT_FILE", bundle);
    }
}

/// A function's process, the same for every binary: logging, the trust store, the cold start
/// (built once; a failure says why in one line, tells the Runtime API, and stops), then one
/// `handle` per invocation, borrowing what the cold start built, until the runtime stops. A
/// panic fails that invocation only (the release profile unwinds; the runtime catches it).
pub async fn serve<State, Event, Answer>(
    cold_start: impl Future<Output = Result<State, ColdStartError>>,
    handle: impl AsyncFn(&State, Event, Option<Instant>) -> Answer,
) -> ExitCode
where
    Event: DeserializeOwned,
    Answer: Serialize,
{
    init_logging();
    trust_the_ca_bundle_file();
    let state = match cold_start.await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error = %err, "cold start failed");
            report_init_error(&err).await;
            return ExitCode::FAILURE;
        }
    };
    let (state, handle) = (&state, &handle);
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        let deadline = deadline_of(event.context.deadline());
        Ok::<_, lambda_runtime::Error>(handle(state, event.payload, deadline).await)
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// Lambda gives an invocation's deadline as wall-clock time; the functions count in monotonic
/// time. A deadline already past when the invocation starts is not Lambda's (whose invocations
/// have at least a second): local emulators send one (`cargo lambda watch` does), and it counts
/// as unknown.
pub fn deadline_of(deadline: SystemTime) -> Option<Instant> {
    let left = deadline.duration_since(SystemTime::now()).ok()?;
    (left > Duration::ZERO).then(|| Instant::now() + left)
}

/// Where a failed cold start is reported. Lambda gives `host:port`; local emulators may give a
/// URL with its scheme and a path (`cargo lambda watch` does).
fn init_error_url(runtime_api: &str) -> String {
    let base = runtime_api.trim_end_matches('/');
    if base.starts_with("http://") || base.starts_with("https://") {
        format!("{base}/2018-06-01/runtime/init/error")
    } else {
        format!("http://{base}/2018-06-01/runtime/init/error")
    }
}

/// Tells Lambda why the cold start failed (`/runtime/init/error`), so the reason shows in the
/// invocation error as well as in the log. Best effort: the process exits either way.
pub async fn report_init_error(err: &ColdStartError) {
    let Ok(runtime_api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let url = init_error_url(&runtime_api);
    let diagnostic = serde_json::json!({
        "errorType": "Runtime.ConfigurationError",
        "errorMessage": err.to_string(),
    });
    let sent = reqwest::Client::new()
        .post(url)
        .header(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ConfigurationError",
        )
        .json(&diagnostic)
        .send()
        .await;
    if let Err(err) = sent {
        tracing::warn!(error = %err, "could not report the cold start failure to the Runtime API");
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn the_init_error_goes_to_lambdas_address_or_an_emulators_url() {
        assert_eq!(
            super::init_error_url("127.0.0.1:9001"),
            "http://127.0.0.1:9001/2018-06-01/runtime/init/error"
        );
        assert_eq!(
            super::init_error_url("http://127.0.0.1:9000/.rt/bootstrap/"),
            "http://127.0.0.1:9000/.rt/bootstrap/2018-06-01/runtime/init/error"
        );
    }

    use super::*;

    fn enabled(filter: &Targets, target: &str, level: Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn the_bridge_logs_at_the_level_asked_the_io_crates_at_most_debug() {
        let trace = log_filter(Some("TRACE"), None);
        assert!(enabled(
            &trace,
            "pagerduty_devin_bridge::delivery",
            Level::TRACE
        ));
        for target in [
            "lambda_runtime::layers::api_response",
            "aws_smithy_runtime",
            "hyper_util::client",
            "reqwest::connect",
        ] {
            assert!(!enabled(&trace, target, Level::TRACE), "{target}");
            assert!(enabled(&trace, target, Level::DEBUG), "{target}");
        }
        let info = log_filter(None, None);
        assert!(enabled(&info, "pagerduty_devin_bridge", Level::INFO));
        assert!(!enabled(&info, "pagerduty_devin_bridge", Level::DEBUG));
        assert!(!enabled(&info, "lambda_runtime", Level::DEBUG));
    }

    #[test]
    fn rust_log_directives_work_and_stay_capped() {
        let filter = log_filter(
            None,
            Some("warn,pagerduty_devin_bridge=trace,lambda_runtime=trace"),
        );
        assert!(enabled(
            &filter,
            "pagerduty_devin_bridge::edge",
            Level::TRACE
        ));
        assert!(!enabled(&filter, "lambda_runtime::layers", Level::TRACE));
        assert!(enabled(&filter, "lambda_runtime::layers", Level::DEBUG));
        assert!(!enabled(&filter, "some_crate", Level::INFO));
        // AWS_LAMBDA_LOG_LEVEL wins over RUST_LOG; nonsense falls back to INFO.
        let level_wins = log_filter(Some("DEBUG"), Some("trace"));
        assert!(!enabled(
            &level_wins,
            "pagerduty_devin_bridge",
            Level::TRACE
        ));
        let nonsense = log_filter(Some("loud"), Some("=!"));
        assert!(enabled(&nonsense, "pagerduty_devin_bridge", Level::INFO));
        assert!(!enabled(&nonsense, "pagerduty_devin_bridge", Level::DEBUG));
    }
}
