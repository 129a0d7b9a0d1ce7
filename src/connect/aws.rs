//! The deployed stack as `connect-pagerduty` needs it: its outputs (the webhook URL, the
//! secret, the log group), routing policy and Devin parameters from CloudFormation, the
//! bridge's secret (and a new random `WEBHOOK_SECRET`) from Secrets Manager, and the bridge's
//! answer to the ping from CloudWatch Logs.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::DisplayErrorContext;

use crate::connect::ConnectError;

pub struct Stack {
    pub webhook_url: String,
    pub secret_arn: String,
    pub log_group: String,
    /// The `RoutingConfig` parameter, when it holds a policy.
    pub routing_config: Option<String>,
    /// The `DevinOrgId` parameter (the bridge's `DEVIN_ORG_ID`).
    pub devin_org_id: Option<String>,
    /// The `DevinApiUrl` parameter (the bridge's `DEVIN_API_URL`), when set.
    pub devin_api_url: Option<String>,
    secrets: aws_sdk_secretsmanager::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl Stack {
    pub async fn read(config: &SdkConfig, name: &str) -> Result<Stack, ConnectError> {
        let failed = |detail: String| ConnectError::Stack {
            stack: name.to_owned(),
            detail,
        };
        let described = aws_sdk_cloudformation::Client::new(config)
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|err| failed(DisplayErrorContext(err).to_string()))?;
        let stack = described
            .stacks()
            .first()
            .ok_or_else(|| failed("not found".into()))?;
        let output = |key: &str| {
            stack
                .outputs()
                .iter()
                .find(|output| output.output_key() == Some(key))
                .and_then(|output| output.output_value())
                .map(str::to_owned)
                .ok_or_else(|| {
                    failed(format!(
                        "it has no {key} output (is it this project's stack?)"
                    ))
                })
        };
        let parameter = |key: &str| {
            stack
                .parameters()
                .iter()
                .find(|parameter| parameter.parameter_key() == Some(key))
                .and_then(|parameter| parameter.parameter_value())
                .filter(|value| !value.trim().is_empty())
                .map(str::to_owned)
        };
        Ok(Stack {
            webhook_url: output("WebhookUrl")?,
            secret_arn: output("SecretArn")?,
            log_group: output("LogGroup")?,
            routing_config: parameter("RoutingConfig"),
            devin_org_id: parameter("DevinOrgId"),
            devin_api_url: parameter("DevinApiUrl"),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
        })
    }

    /// The bridge's SecretString.
    pub async fn secret_string(&self) -> Result<String, ConnectError> {
        let value = self
            .secrets
            .get_secret_value()
            .secret_id(&self.secret_arn)
            .send()
            .await
            .map_err(|err| ConnectError::Secret(DisplayErrorContext(err).to_string()))?;
        value
            .secret_string()
            .map(str::to_owned)
            .ok_or_else(|| ConnectError::Secret("it has no SecretString".into()))
    }

    /// Makes `secret_string` the bridge's current secret (the bridge picks it up at its next
    /// refresh, or at once when a delivery signed with it is refused).
    pub async fn store_secret(&self, secret_string: &str) -> Result<(), ConnectError> {
        self.secrets
            .put_secret_value()
            .secret_id(&self.secret_arn)
            .secret_string(secret_string)
            .send()
            .await
            .map_err(|err| ConnectError::Secret(DisplayErrorContext(err).to_string()))?;
        Ok(())
    }

    /// A new random `WEBHOOK_SECRET`: 48 letters and digits from Secrets Manager's
    /// `GetRandomPassword` (no punctuation, so that it travels in a header as it is).
    pub async fn random_webhook_secret(&self) -> Result<String, ConnectError> {
        let generated = self
            .secrets
            .get_random_password()
            .password_length(48)
            .exclude_punctuation(true)
            .include_space(false)
            .send()
            .await
            .map_err(|err| ConnectError::Secret(DisplayErrorContext(err).to_string()))?;
        generated
            .random_password()
            .map(str::to_owned)
            .ok_or_else(|| ConnectError::Secret("GetRandomPassword answered no password".into()))
    }

    /// The bridge's log line about a ping delivered since `since_ms`, waiting up to `wait`.
    pub async fn ping_answer(&self, since_ms: u64, wait: Duration) -> Option<String> {
        let until = Instant::now() + wait;
        loop {
            let found = self
                .logs
                .filter_log_events()
                .log_group_name(&self.log_group)
                .start_time(since_ms as i64)
                .filter_pattern("\"pagey.ping\"")
                .send()
                .await;
            if let Some(line) = found.ok().and_then(|found| {
                found
                    .events()
                    .iter()
                    .rev()
                    .find_map(|event| event.message().map(str::to_owned))
            }) {
                return Some(line.trim().to_owned());
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(2).min(wait)).await;
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
