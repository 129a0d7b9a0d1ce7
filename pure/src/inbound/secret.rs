//! The secrets the bridge needs, as values: read from a Secrets Manager SecretString or (for
//! local development) from the environment's variables, and checked. Where they are fetched
//! from, and when again, is the secrets store's business (`edge::secrets_store`).

use std::fmt;

use http::HeaderValue;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::inbound::subscribed::{self, Subscribed};

pub const DEVIN_API_KEY: &str = "DEVIN_API_KEY";
pub const WEBHOOK_SECRET: &str = "WEBHOOK_SECRET";
pub const PAGERDUTY_SIGNING_SECRET: &str = "PAGERDUTY_SIGNING_SECRET";
pub const PAGERDUTY_API_TOKEN: &str = "PAGERDUTY_API_TOKEN";

/// A secret value. It has no `Display`, and its `Debug` prints a placeholder, so it cannot reach
/// a log line or an error message by accident; [`Secret::expose`] is the one way to read it.
// No `PartialEq`: secrets are compared only in constant time, by `pure::inbound::verify`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where the secrets come from, chosen by `BRIDGE_SECRET_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// One `GetSecretValue` call; the SecretString is a JSON object holding the three names.
    SecretsManager { secret_id: String },
    /// The three names as environment variables (local development).
    Environment,
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::SecretsManager { secret_id } => write!(f, "secret {secret_id:?}"),
            SecretSource::Environment => f.write_str("the environment"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Secrets {
    pub devin_api_key: Secret,
    /// Expected verbatim in the `X-Webhook-Secret` header, when set; any of them while one is
    /// being rotated.
    pub webhook_secrets: Vec<Secret>,
    /// PagerDuty's subscription secrets; more than one while a secret is being rotated.
    pub signing_secrets: Vec<Secret>,
    /// The filters of the webhook subscriptions `connect-pagerduty` recorded in the secret
    /// (`pure::inbound::subscribed`), one per subscription (`None`: recorded without its filter); none from
    /// the environment.
    pub subscribed: Vec<Option<Subscribed>>,
    /// `Bearer <DEVIN_API_KEY>`, built once and marked sensitive so no debug output shows it.
    devin_authorization: HeaderValue,
    /// `Token token=<PAGERDUTY_API_TOKEN>`, when the token is set: notes on incidents.
    pagerduty_authorization: Option<HeaderValue>,
}

/// Why the secrets cannot be used. Messages name the source and the key, never a value.
#[derive(Debug, Error)]
pub enum SecretsError {
    #[error("{key} is missing from {origin}")]
    Missing {
        key: &'static str,
        origin: SecretSource,
    },
    #[error("{key} in {origin} must be a JSON string")]
    NotAString {
        key: &'static str,
        origin: SecretSource,
    },
    #[error(
        "{origin} sets neither {WEBHOOK_SECRET} nor {PAGERDUTY_SIGNING_SECRET}: \
         without one of them no delivery can be verified"
    )]
    NoVerification { origin: SecretSource },
    #[error("the SecretString of {origin} is not a JSON object ({detail})")]
    NotAnObject {
        origin: SecretSource,
        detail: String,
    },
    #[error("{key} in {origin} holds characters an HTTP header cannot carry")]
    NotAHeader {
        key: &'static str,
        origin: SecretSource,
    },
    #[error("{origin} has no SecretString (binary secrets are not supported)")]
    NoSecretString { origin: SecretSource },
    #[error("could not read {origin} from Secrets Manager: {detail}")]
    Fetch {
        origin: SecretSource,
        detail: String,
    },
}

/// A `WEBHOOK_SECRET` shorter than this is weak: a generated one has 48 characters.
pub const WEAK_WEBHOOK_SECRET_CHARS: usize = 32;

impl Secrets {
    /// What makes these secrets weaker than they should be, for a warning at cold start: no
    /// signing secret (the header alone proves less), or a short webhook secret. Never a value.
    pub fn weaknesses(&self) -> Vec<&'static str> {
        let mut weak = Vec::new();
        if self.signing_secrets.is_empty() {
            weak.push("PAGERDUTY_SIGNING_SECRET is not set: deliveries are checked by the X-Webhook-Secret header alone, not signed");
        }
        if self
            .webhook_secrets
            .iter()
            .any(|secret| secret.expose().chars().count() < WEAK_WEBHOOK_SECRET_CHARS)
        {
            weak.push("a WEBHOOK_SECRET has fewer than 32 characters: use a long random one");
        }
        weak
    }

    /// Reads the three names through `var` (`std::env::var` in production).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, SecretsError> {
        Self::from_values(SecretSource::Environment, |key| Ok(var(key)))
    }

    /// Parses a Secrets Manager SecretString: a JSON object with the three names as keys.
    /// Other keys are allowed and ignored.
    pub fn from_json(source: SecretSource, secret_string: &str) -> Result<Self, SecretsError> {
        // Parse into an untyped map first: serde's typed errors quote the offending value, and
        // that value is a secret. Syntax errors only carry a position.
        let object: Map<String, Value> = match serde_json::from_str(secret_string) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return Err(SecretsError::NotAnObject {
                    origin: source,
                    detail: "it is valid JSON, but not an object".into(),
                })
            }
            Err(err) => {
                return Err(SecretsError::NotAnObject {
                    detail: format!(
                        "syntax error at line {} column {}",
                        err.line(),
                        err.column()
                    ),
                    origin: source,
                })
            }
        };
        let secrets = Self::from_values(source.clone(), |key| match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(SecretsError::NotAString {
                key,
                origin: source.clone(),
            }),
        })?;
        let subscribed = subscribed::recorded(&object);
        Ok(Secrets {
            subscribed,
            ..secrets
        })
    }

    fn from_values(
        source: SecretSource,
        value: impl Fn(&'static str) -> Result<Option<String>, SecretsError>,
    ) -> Result<Self, SecretsError> {
        // Copy-pasted secrets often end in a newline, and header values never carry outer
        // whitespace: trim, and treat a blank value as unset.
        let value = |key| -> Result<Option<Secret>, SecretsError> {
            Ok(value(key)?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(Secret))
        };

        let devin_api_key = value(DEVIN_API_KEY)?.ok_or_else(|| SecretsError::Missing {
            key: DEVIN_API_KEY,
            origin: source.clone(),
        })?;
        // Both take a comma-separated list: the new and the old value during a rotation.
        let list = |key| -> Result<Vec<Secret>, SecretsError> {
            Ok(value(key)?
                .map(|list| split_list(list.expose()).map(Secret::new).collect())
                .unwrap_or_default())
        };
        let webhook_secrets = list(WEBHOOK_SECRET)?;
        let signing_secrets = list(PAGERDUTY_SIGNING_SECRET)?;

        if webhook_secrets.is_empty() && signing_secrets.is_empty() {
            return Err(SecretsError::NoVerification { origin: source });
        }
        let authorization =
            |key, scheme: &str, secret: &Secret| {
                let mut value = HeaderValue::try_from(format!("{scheme}{}", secret.expose()))
                    .map_err(|_| SecretsError::NotAHeader {
                        key,
                        origin: source.clone(),
                    })?;
                value.set_sensitive(true);
                Ok(value)
            };
        let devin_authorization = authorization(DEVIN_API_KEY, "Bearer ", &devin_api_key)?;
        let pagerduty_authorization = value(PAGERDUTY_API_TOKEN)?
            .map(|token| authorization(PAGERDUTY_API_TOKEN, "Token token=", &token))
            .transpose()?;
        Ok(Secrets {
            devin_api_key,
            webhook_secrets,
            signing_secrets,
            subscribed: Vec::new(),
            devin_authorization,
            pagerduty_authorization,
        })
    }

    /// The `Authorization` header for the Devin API.
    pub fn devin_authorization(&self) -> &HeaderValue {
        &self.devin_authorization
    }

    /// The `Authorization` header for the PagerDuty REST API, when a token is set.
    pub fn pagerduty_authorization(&self) -> Option<&HeaderValue> {
        self.pagerduty_authorization.as_ref()
    }

    /// `text` (another service's words, about to reach a note, a log or an answer) with every
    /// one of these secrets in it replaced by `REDACTED`: as they are, and as a JSON string
    /// quotes them (a refusal that echoes the request is JSON, and is read as such later).
    /// The one way another service's words are cleaned of secrets.
    pub fn redact(&self, text: &str) -> String {
        let pagerduty_token = self
            .pagerduty_authorization
            .as_ref()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Token token="));
        let secrets = [self.devin_api_key.expose()]
            .into_iter()
            .chain(self.webhook_secrets.iter().map(Secret::expose))
            .chain(self.signing_secrets.iter().map(Secret::expose))
            .chain(pagerduty_token);
        secrets
            .flat_map(|secret| [secret.to_owned(), json_quoted(secret)])
            .fold(text.to_owned(), |text, secret| redact(&text, &secret))
    }
}

/// The values of a comma-separated list (`WEBHOOK_SECRET` and `PAGERDUTY_SIGNING_SECRET` hold
/// the new and the old value during a rotation): trimmed, blanks dropped, in order.
pub fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// What stands in for a secret in text that quoted one.
const REDACTED: &str = "[redacted]";

/// A secret's start this long or longer, at the end of a text cut short, is redacted too.
const MIN_PARTIAL_CHARS: usize = 4;

/// `secret` as it stands inside a JSON string (`"` and `\` escaped, for instance).
fn json_quoted(secret: &str) -> String {
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|quoted| quoted.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

/// `text` with `secret` replaced by [`REDACTED`] wherever it appears, and at its end when the
/// text was cut inside it.
fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    let mut redacted = text.replace(secret, REDACTED);
    let partial = (MIN_PARTIAL_CHARS..secret.len())
        .rev()
        .filter(|&len| secret.is_char_boundary(len))
        .find(|&len| redacted.ends_with(&secret[..len]));
    if let Some(len) = partial {
        redacted.truncate(redacted.len() - len);
        redacted.push_str(REDACTED);
    }
    redacted
}

#[cfg(test)]
mod tests;
