//! Where the secrets come from, and when they are fetched again: Secrets Manager (one
//! `GetSecretValue` at cold start, again when the copy is older than its time to live or looks
//! stale), or the environment for local development.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::edge::lock::lock;
use pure::inbound::secret::{SecretSource, Secrets, SecretsError};

/// The secrets of a warm instance: fetched at cold start, fetched again once they are older than
/// their time to live, or sooner when they look stale (a refused signature, a Devin 401). When a
/// refresh fails, the secrets already held keep serving and a warning is logged.
pub struct SecretStore {
    source: SecretSource,
    /// Present only for [`SecretSource::SecretsManager`]: environment secrets never change.
    client: Option<aws_sdk_secretsmanager::Client>,
    ttl: Duration,
    snapshot: Mutex<Snapshot>,
    /// One fetch at a time; a second caller waits and then uses the fresh snapshot.
    fetching: tokio::sync::Mutex<()>,
    /// When the last fetch failed: no other is tried for [`RETRY_FAILED_FETCH_AFTER`], so an
    /// outage of Secrets Manager does not slow every delivery.
    failed_at: Mutex<Option<Instant>>,
}

/// How long a failed refresh waits before the next one is tried.
pub const RETRY_FAILED_FETCH_AFTER: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Snapshot {
    secrets: Arc<Secrets>,
    fetched_at: Instant,
}

impl SecretStore {
    /// Reads `secret_id` through `client` now, and again whenever the copy is older than `ttl`.
    pub async fn from_secrets_manager(
        client: aws_sdk_secretsmanager::Client,
        secret_id: &str,
        ttl: Duration,
    ) -> Result<Self, SecretsError> {
        let source = SecretSource::SecretsManager {
            secret_id: secret_id.to_owned(),
        };
        let secrets = fetch(&client, secret_id, &source).await?;
        Ok(SecretStore {
            snapshot: Mutex::new(Snapshot {
                secrets: Arc::new(secrets),
                fetched_at: Instant::now(),
            }),
            source,
            client: Some(client),
            ttl,
            fetching: tokio::sync::Mutex::new(()),
            failed_at: Mutex::new(None),
        })
    }

    /// Secrets that never refresh: from the environment, or given by a test.
    pub fn fixed(secrets: Secrets) -> Self {
        SecretStore {
            source: SecretSource::Environment,
            client: None,
            ttl: Duration::MAX,
            snapshot: Mutex::new(Snapshot {
                secrets: Arc::new(secrets),
                fetched_at: Instant::now(),
            }),
            fetching: tokio::sync::Mutex::new(()),
            failed_at: Mutex::new(None),
        }
    }

    /// The secrets to use now, fetched again first when older than their time to live.
    pub async fn current(&self) -> Arc<Secrets> {
        self.refresh_if_older_than(self.ttl).await;
        self.snapshot().secrets
    }

    /// Fetches the secrets again now (a refused key or signature suggests they were rotated).
    /// The new secrets, or `None` when nothing was fetched or the fetch failed.
    pub async fn refresh_now(&self) -> Option<Arc<Secrets>> {
        self.refresh_if_older_than(Duration::ZERO).await
    }

    /// Fetches the secrets again when the ones held are older than `age`. Returns the new
    /// secrets when a fetch succeeded, `None` when nothing was fetched or the fetch failed (the
    /// old secrets keep serving).
    async fn refresh_if_older_than(&self, age: Duration) -> Option<Arc<Secrets>> {
        let (client, SecretSource::SecretsManager { secret_id }) = (&self.client, &self.source)
        else {
            return None;
        };
        let client = client.as_ref()?;
        if self.snapshot().fetched_at.elapsed() < age {
            return None;
        }
        let failed_at = *lock(&self.failed_at);
        if failed_at.is_some_and(|at| at.elapsed() < RETRY_FAILED_FETCH_AFTER) {
            return None;
        }
        let _one_at_a_time = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if self.snapshot().fetched_at.elapsed() < age {
            return Some(self.snapshot().secrets);
        }
        match fetch(client, secret_id, &self.source).await {
            Ok(secrets) => {
                let secrets = Arc::new(secrets);
                *lock(&self.snapshot) = Snapshot {
                    secrets: secrets.clone(),
                    fetched_at: Instant::now(),
                };
                *lock(&self.failed_at) = None;
                tracing::info!(source = %self.source, "secrets refreshed");
                Some(secrets)
            }
            Err(err) => {
                *lock(&self.failed_at) = Some(Instant::now());
                tracing::warn!(
                    error = %err,
                    retry_in_s = RETRY_FAILED_FETCH_AFTER.as_secs(),
                    "secrets not refreshed; the ones held keep serving"
                );
                None
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        lock(&self.snapshot).clone()
    }
}

async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    source: &SecretSource,
) -> Result<Secrets, SecretsError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|err| SecretsError::Fetch {
            origin: source.clone(),
            detail: aws_sdk_secretsmanager::error::DisplayErrorContext(err).to_string(),
        })?;
    let secret_string = output
        .secret_string()
        .ok_or_else(|| SecretsError::NoSecretString {
            origin: source.clone(),
        })?;
    Secrets::from_json(source.clone(), secret_string)
}
