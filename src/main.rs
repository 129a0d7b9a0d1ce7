//! Cold start: read the settings and secrets, build the bridge once, then serve deliveries.
//! A cold start that cannot build the bridge says why in one line and stops: the function never
//! answers without its secrets.

use std::process::ExitCode;
use std::time::Duration;

use lambda_http::{service_fn, tracing};
use pagerduty_devin_bridge::devin::{DevinClient, InvalidApiKey};
use pagerduty_devin_bridge::handler::Bridge;
use pagerduty_devin_bridge::secrets::{self, SecretsError};
use pagerduty_devin_bridge::settings::{Settings, SettingsError};
use pagerduty_devin_bridge::verify::Verifier;
use thiserror::Error;

#[derive(Debug, Error)]
enum ColdStartError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    ApiKey(#[from] InvalidApiKey),
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing::init_default_subscriber();

    let bridge = match cold_start().await {
        Ok(bridge) => bridge,
        Err(err) => {
            tracing::error!(error = %err, "cold start failed");
            report_init_error(&err).await;
            return ExitCode::FAILURE;
        }
    };
    let bridge = &bridge;
    let served = lambda_http::run(service_fn(move |request| async move {
        Ok::<_, lambda_http::Error>(bridge.handle(request).await)
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

async fn cold_start() -> Result<Bridge, ColdStartError> {
    let env = |name: &str| std::env::var(name).ok();
    let settings = Settings::from_lookup(env)?;
    let secrets = secrets::load(&settings.secret_source, env).await?;
    let http = reqwest::Client::builder()
        .timeout(settings.devin_timeout)
        // A frozen instance cannot see a server close its idle connections: drop them before
        // typical keep-alive limits (60 s on AWS load balancers) rather than reuse a dead one.
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!(
            "pagerduty-devin-bridge/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(ColdStartError::HttpClient)?;
    let devin = DevinClient::new(
        http,
        &settings.devin_api_url,
        &settings.devin_org_id,
        secrets.devin_api_key,
        settings.devin_timeout,
    )?;
    tracing::info!(
        devin_api_url = %settings.devin_api_url,
        devin_org_id = %settings.devin_org_id,
        dry_run = settings.dry_run,
        secrets_from = %settings.secret_source,
        checks_webhook_secret = secrets.webhook_secret.is_some(),
        signing_secrets = secrets.signing_secrets.len(),
        routing_rules = settings.policy.rule_count(),
        "bridge ready"
    );
    let verifier = Verifier::new(secrets.webhook_secret, secrets.signing_secrets);
    Ok(Bridge::new(
        verifier,
        devin,
        settings.policy,
        settings.dry_run,
    ))
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
