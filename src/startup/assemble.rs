//! Builds the bridge from its settings, secrets and clients: the one wiring the function runs
//! with, used by `main.rs` and by the tests.

use std::time::Duration;

use reqwest::header::HeaderValue;
use thiserror::Error;

use crate::delivery::{Bridge, Options};
use crate::edge::devin::DevinClient;
use crate::edge::pagerduty::PagerDutyClient;
use crate::edge::secrets_store::SecretStore;
use crate::pure::secret::SecretsError;
use crate::startup::settings::{Settings, SettingsError};

/// Why a cold start stopped. Each says what to fix, in one line.
#[derive(Debug, Error)]
pub enum ColdStartError {
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

/// The cold start: settings and secrets through `env` (`std::env::var` in production), the
/// HTTP client built while Secrets Manager answers, then [`assemble`].
pub async fn cold_start(env: impl Fn(&str) -> Option<String>) -> Result<Bridge, ColdStartError> {
    let settings = Settings::from_lookup(&env)?;
    let (secrets, http) = tokio::join!(
        SecretStore::load(settings.secret_source.clone(), settings.secrets_ttl, &env),
        async { http_client() }
    );
    let (secrets, http) = (secrets?, http.map_err(ColdStartError::HttpClient)?);
    let function_name = env("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".into());
    assemble(settings, secrets, http, function_name).await
}

/// The one HTTP client of the process, shared by the Devin and PagerDuty clients.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        // A frozen instance cannot see a server close its idle connections: drop them before
        // typical keep-alive limits (60 s on AWS load balancers) rather than reuse a dead one.
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!(
            "pagerduty-devin-bridge/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// The bridge from its parts. Logs the cold-start summary line.
pub async fn assemble(
    settings: Settings,
    secrets: SecretStore,
    http: reqwest::Client,
    function_name: String,
) -> Result<Bridge, ColdStartError> {
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
        function_name,
        stale_after: settings.secrets_stale_after,
    };
    Ok(Bridge::new(
        secrets,
        devin,
        pagerduty,
        settings.policy,
        options,
    ))
}
