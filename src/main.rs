//! Cold start: read the settings and secrets, build the bridge once, then serve deliveries.
//! A cold start that cannot build the bridge says why in one line and stops: the function never
//! answers without its secrets.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use lambda_http::{service_fn, RequestExt};
use pagerduty_devin_bridge::devin::DevinClient;
use pagerduty_devin_bridge::handler::{Bridge, Options};
use pagerduty_devin_bridge::pagerduty::PagerDutyClient;
use pagerduty_devin_bridge::secrets::{SecretStore, SecretsError};
use pagerduty_devin_bridge::settings::{Settings, SettingsError};
use reqwest::header::HeaderValue;
use thiserror::Error;
use tracing_subscriber::filter::LevelFilter;

#[derive(Debug, Error)]
enum ColdStartError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error(
        "PAGERDUTY_FROM_EMAIL is not set: PagerDuty needs it to add notes with PAGERDUTY_API_TOKEN"
    )]
    NoFromEmail,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    init_logging();
    trust_the_ca_bundle_file();

    let bridge = match cold_start().await {
        Ok(bridge) => bridge,
        Err(err) => {
            tracing::error!(error = %err, "cold start failed");
            report_init_error(&err).await;
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

async fn cold_start() -> Result<Bridge, ColdStartError> {
    let env = |name: &str| std::env::var(name).ok();
    let settings = Settings::from_lookup(env)?;
    // The HTTP client is built while Secrets Manager answers.
    let (secrets, http) = tokio::join!(
        SecretStore::load(settings.secret_source.clone(), settings.secrets_ttl, env),
        async {
            reqwest::Client::builder()
                // A frozen instance cannot see a server close its idle connections: drop them
                // before typical keep-alive limits (60 s on AWS load balancers) rather than
                // reuse a dead one.
                .pool_idle_timeout(Duration::from_secs(50))
                .user_agent(concat!(
                    "pagerduty-devin-bridge/",
                    env!("CARGO_PKG_VERSION")
                ))
                .build()
        }
    );
    let (secrets, http) = (secrets?, http.map_err(ColdStartError::HttpClient)?);
    let devin = DevinClient::new(
        http.clone(),
        &settings.devin_api_url,
        &settings.devin_org_id,
    );
    let current = secrets.current().await;
    // Notes need both the token (a secret) and the user they are written as.
    let pagerduty = match (
        &settings.pagerduty_from_email,
        current.pagerduty_authorization(),
    ) {
        (Some(email), _) => Some(PagerDutyClient::new(
            http,
            &settings.pagerduty_api_url,
            HeaderValue::try_from(email.as_str()).expect("checked with the settings"),
        )),
        (None, Some(_)) => return Err(ColdStartError::NoFromEmail),
        (None, None) => None,
    };

    tracing::info!(
        devin_api_url = %settings.devin_api_url,
        devin_org_id = %settings.devin_org_id,
        dry_run = settings.dry_run,
        secrets_from = %settings.secret_source,
        secrets_ttl_s = settings.secrets_ttl.as_secs(),
        delivery_budget_ms = settings.delivery_budget.as_millis() as u64,
        checks_webhook_secret = current.webhook_secret.is_some(),
        signing_secrets = current.signing_secrets.len(),
        routing_rules = settings.policy.rule_count(),
        "bridge ready"
    );
    if current.pagerduty_authorization().is_none() {
        tracing::info!("PAGERDUTY_API_TOKEN is not set: no notes on PagerDuty incidents");
    }
    let options = Options {
        dry_run: settings.dry_run,
        delivery_budget: settings.delivery_budget,
        function_name: env("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".into()),
        ..Options::default()
    };
    let bridge = Bridge::new(secrets, devin, settings.policy, options);
    Ok(match pagerduty {
        Some(pagerduty) => bridge.with_pagerduty(pagerduty),
        None => bridge,
    })
}

/// Logs as Lambda's advanced logging controls ask: JSON lines when `AWS_LAMBDA_LOG_FORMAT` is
/// `JSON`, at `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`; `INFO` by default). Lambda adds the time.
fn init_logging() {
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
fn trust_the_ca_bundle_file() {
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

/// Lambda gives the deadline as wall-clock time; the bridge counts in monotonic time.
fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}

/// Tells Lambda why the cold start failed (`/runtime/init/error`), so the reason shows in the
/// invocation error as well as in the log. Best effort: the process exits either way.
async fn report_init_error(err: &ColdStartError) {
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
