//! The process-wide parts of a cold start, the same for every binary: logging as Lambda asks,
//! the TLS trust store, and telling the Lambda Runtime API why a cold start failed.

use tracing_subscriber::filter::LevelFilter;

use crate::startup::assemble::ColdStartError;

/// Logs as Lambda's advanced logging controls ask: JSON lines when `AWS_LAMBDA_LOG_FORMAT` is
/// `JSON`, at `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`; `INFO` by default). Lambda adds the time.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let logs = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
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

/// Tells Lambda why the cold start failed (`/runtime/init/error`), so the reason shows in the
/// invocation error as well as in the log. Best effort: the process exits either way.
pub async fn report_init_error(err: &ColdStartError) {
    let Ok(runtime_api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let url = format!("http://{runtime_api}/2018-06-01/runtime/init/error");
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
