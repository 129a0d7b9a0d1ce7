//! Builds the bridge from its settings, secrets and clients: the one wiring the function runs
//! with, used by `main.rs` and by the tests.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use reqwest::header::HeaderValue;
use thiserror::Error;

use crate::delivery::{Bridge, Options};
use crate::edge::devin::DevinClient;
use crate::edge::ledger::{DynamoLedger, Ledger, MemoryLedger};
use crate::edge::pagerduty::PagerDutyClient;
use crate::edge::secrets_store::SecretStore;
use crate::follow_up::FollowUp;
use crate::startup::settings::{follow_up_options, Settings, SettingsError};
use pure::inbound::secret::{SecretSource, Secrets, SecretsError};

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
    #[error(
        "PAGERDUTY_API_TOKEN is not set: ROUTING_CONFIG defers sessions (start_after_minutes), and the follow-up needs the token to see whether a deferred incident is still open"
    )]
    DeferralWithoutToken,
    #[error(
        "LEDGER_TABLE is not set: the follow-up reads the sessions the webhook function recorded there"
    )]
    NoSharedLedger,
}

/// The cold start: settings and secrets through `env` (`std::env::var` in production), the
/// HTTP client built while Secrets Manager answers, the ledger, then [`assemble`].
pub async fn cold_start(env: impl Fn(&str) -> Option<String>) -> Result<Bridge, ColdStartError> {
    let settings = Settings::from_lookup(&env)?;
    build(settings, &env).await
}

/// The cold start from its settings.
async fn build(
    settings: Settings,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Bridge, ColdStartError> {
    let (aws, http) = tokio::join!(
        async {
            let config = aws_config(&settings).await;
            let secrets = match (&settings.secret_source, &config) {
                (SecretSource::SecretsManager { secret_id }, Some(config)) => {
                    let client = aws_sdk_secretsmanager::Client::new(config);
                    SecretStore::from_secrets_manager(client, secret_id, settings.secrets_ttl).await
                }
                _ => Secrets::from_lookup(env).map(SecretStore::fixed),
            };
            (secrets, ledger(&settings, config.as_ref()))
        },
        async { http_client() }
    );
    let ((secrets, ledger), http) = (aws, http.map_err(ColdStartError::HttpClient)?);
    let function_name = env("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".into());
    assemble(settings, secrets?, ledger, http, function_name).await
}

/// The follow-up's cold start: the same bridge as the webhook function's, its own options, and
/// a ledger it shares with the webhook function (in dry run, any).
pub async fn cold_start_follow_up(
    env: impl Fn(&str) -> Option<String>,
) -> Result<FollowUp, ColdStartError> {
    let options = follow_up_options(&env)?;
    let settings = Settings::from_lookup(&env)?;
    if settings.ledger_table.is_none() && !settings.dry_run {
        return Err(ColdStartError::NoSharedLedger);
    }
    let bridge = build(settings, &env).await?;
    let follow_up = FollowUp::new(bridge, options.clone());
    let sweeps = follow_up.sweeps().await;
    tracing::info!(
        run_budget_s = options.run_budget.as_secs(),
        sweep = sweeps,
        sweep_lookback_min = options.lookback.as_secs() / 60,
        sweep_grace_min = options.grace.as_secs() / 60,
        "follow-up ready"
    );
    if !sweeps {
        tracing::info!("PAGERDUTY_API_TOKEN is not set: the sweep is off (open incidents without a session are not looked for)");
    } else {
        follow_up.warn_without_scope().await;
    }
    Ok(follow_up)
}

/// The AWS configuration Secrets Manager and the ledger share, when either is used: region,
/// credentials and endpoint (`AWS_ENDPOINT_URL`) from the usual AWS variables, and timeouts
/// that keep a stuck service from eating a delivery's budget.
async fn aws_config(settings: &Settings) -> Option<SdkConfig> {
    let from_secrets_manager =
        matches!(settings.secret_source, SecretSource::SecretsManager { .. });
    if !from_secrets_manager && settings.ledger_table.is_none() {
        return None;
    }
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(1500))
        .build();
    let config = aws_config::from_env()
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await;
    Some(config)
}

/// The ledger `LEDGER_TABLE` names, or one in memory.
pub fn ledger(settings: &Settings, aws: Option<&SdkConfig>) -> Ledger {
    match (&settings.ledger_table, aws) {
        (Some(table), Some(config)) => Ledger::Dynamo(DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(config),
            table,
        )),
        _ => Ledger::Memory(MemoryLedger::default()),
    }
}

/// The one HTTP client of the process, shared by the Devin and PagerDuty clients. It trusts
/// Mozilla's root certificates, compiled in already parsed (the `webpki-roots` crate): the public
/// CAs of api.devin.ai and api.pagerduty.com, without reading the system's CA bundle (0.75 ms of a
/// 2.5 ms cold start) or parsing 150 certificates (~0.15 ms and ~350 KB of heap) at every cold
/// start. The AWS SDK's own client keeps the system's bundle. Should reqwest ever move to another
/// rustls than the one this crate names, `build` fails and so does the cold start, loudly
/// (`tests/bridge/tls.rs` builds it).
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        // A frozen instance cannot see a server close its idle connections: drop them before
        // typical keep-alive limits (60 s on AWS load balancers) rather than reuse a dead one.
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!(
            "pagerduty-devin-bridge/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// What reqwest would build from `tls_certs_only`, with the anchors as they are compiled in:
/// aws-lc-rs (the one provider of the tree), TLS 1.2 and 1.3, HTTP/1.1 by ALPN.
fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The bridge from its parts. Logs the cold-start summary line.
pub async fn assemble(
    settings: Settings,
    secrets: SecretStore,
    ledger: Ledger,
    http: reqwest::Client,
    function_name: String,
) -> Result<Bridge, ColdStartError> {
    let devin = DevinClient::new(
        http.clone(),
        settings.devin_api_url.clone(),
        &settings.devin_org_id,
    );
    let current = secrets.current().await;
    let pagerduty = pagerduty_client(&settings, &current, http)?;
    if settings.policy.defers() && current.pagerduty_authorization().is_none() {
        return Err(ColdStartError::DeferralWithoutToken);
    }
    log_ready(&settings, &current, &ledger);
    let options = Options {
        dry_run: settings.dry_run,
        delivery_budget: settings.delivery_budget,
        function_name,
        refresh_on_refusal: settings.secrets_refresh_on_refusal,
        claim_lease: settings.claim_lease,
        allowed_sources: settings.allowed_sources,
        delivery_max_age: settings.delivery_max_age,
        allowed_commanders: settings.allowed_commanders,
    };
    Ok(Bridge::new(
        secrets,
        devin,
        pagerduty,
        settings.policy,
        ledger,
        options,
    ))
}

/// The PagerDuty client, when notes can be written: they need both the token (a secret) and
/// the user they are written as.
fn pagerduty_client(
    settings: &Settings,
    current: &Secrets,
    http: reqwest::Client,
) -> Result<Option<PagerDutyClient>, ColdStartError> {
    match (
        &settings.pagerduty_from_email,
        current.pagerduty_authorization(),
    ) {
        (Some(email), _) => Ok(Some(PagerDutyClient::new(
            http,
            settings.pagerduty_api_url.clone(),
            HeaderValue::try_from(email.as_str()).expect("checked with the settings"),
        ))),
        (None, Some(_)) => Err(ColdStartError::NoFromEmail),
        (None, None) => Ok(None),
    }
}

/// The cold-start summary line, then what the secrets lack.
fn log_ready(settings: &Settings, current: &Secrets, ledger: &Ledger) {
    tracing::info!(
        devin_api_url = %settings.devin_api_url,
        devin_org_id = %settings.devin_org_id,
        dry_run = settings.dry_run,
        secrets_from = %settings.secret_source,
        secrets_ttl_s = settings.secrets_ttl.as_secs(),
        delivery_budget_ms = settings.delivery_budget.as_millis() as u64,
        webhook_secrets = current.webhook_secrets.len(),
        signing_secrets = current.signing_secrets.len(),
        routing_rules = settings.policy.rule_count(),
        ledger = %ledger.describe(),
        claim_lease_s = settings.claim_lease.as_secs(),
        allowed_source_ranges = settings.allowed_sources.as_ref().map(|list| list.len()),
        delivery_max_age_h = settings.delivery_max_age.map(|age| age.as_secs() / 3600),
        allowed_commanders = settings.allowed_commanders.as_ref().map(|list| list.len()),
        "bridge ready"
    );
    for weakness in current.weaknesses() {
        tracing::warn!("{weakness}");
    }
    if current.pagerduty_authorization().is_none() {
        tracing::info!("PAGERDUTY_API_TOKEN is not set: no notes on PagerDuty incidents");
    }
}
