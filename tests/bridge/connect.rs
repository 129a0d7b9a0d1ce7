//! `connect-pagerduty` end to end: the built command against the PagerDuty REST fake and moto
//! (CloudFormation for the stack's outputs and policy, Secrets Manager for the bridge's secret,
//! CloudWatch Logs for the bridge's answer to the ping). It creates the subscription once,
//! finds it on the second run, stores the signing secret, and the bridge then accepts a
//! delivery signed with it.

use std::process::Stdio;

use aws_sdk_cloudformation::types::Parameter;
use serde_json::{json, Value};
use tokio::process::Command;

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::pagerduty::FakePagerDuty;
use crate::support::runtime_api::{http_answer, RuntimeApi};
use crate::support::*;

const STACK: &str = "bridge-test";
const URL: &str = "https://abc123.lambda-url.us-east-1.on.aws/pagerduty-alert";
const LOG_GROUP: &str = "/aws/lambda/bridge-test-pagerduty-devin-bridge";
const WEBHOOK_SECRET: &str = "w-generated-by-the-stack-0123456789abcdef";
const OPERATOR_KEY: &str = "u+operator_key_never_printed";

/// moto with the stack (its outputs, a policy that also forwards acknowledgements), the
/// bridge's secret, and a log group where the bridge answered a ping.
async fn deployed() -> (Moto, String) {
    let moto = Moto::start().await;
    let secret = json!({"DEVIN_API_KEY": TEST_DEVIN_API_KEY, "WEBHOOK_SECRET": WEBHOOK_SECRET});
    let arn = moto
        .create_secret("bridge-secret", &secret.to_string())
        .await;
    let config = aws_config(&moto).await;
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"RoutingConfig": {"Type": "String", "Default": ""}},
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"WebhookUrl": {"Value": URL}, "SecretArn": {"Value": arn},
                    "LogGroup": {"Value": LOG_GROUP}}});
    let policy = json!({"forward_events": ["incident.resolved", "incident.annotated", "incident.acknowledged"]});
    aws_sdk_cloudformation::Client::new(&config)
        .create_stack()
        .stack_name(STACK)
        .template_body(template.to_string())
        .parameters(
            Parameter::builder()
                .parameter_key("RoutingConfig")
                .parameter_value(policy.to_string())
                .build(),
        )
        .send()
        .await
        .expect("moto creates the stack");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.create_log_group()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(LOG_GROUP)
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let answer = r#"{"level":"INFO","fields":{"message":"event ignored: the routing policy neither starts an investigation on this event type nor forwards it"},"span":{"event_type":"pagey.ping","name":"delivery"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    logs.put_log_events()
        .log_group_name(LOG_GROUP)
        .log_stream_name("s")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now.as_millis() as i64 + 60_000)
                .message(answer)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (moto, arn)
}

async fn aws_config(moto: &Moto) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    loader = loader
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ));
    loader.load().await
}

/// Runs the command: its exit code and everything it printed.
async fn connect(moto: &Moto, pagerduty: &FakePagerDuty, args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_connect-pagerduty"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAGERDUTY_API_KEY", OPERATOR_KEY)
        .env("PAGERDUTY_API_URL", &pagerduty.url)
        .envs(moto.aws_env())
        .args(["--stack-name", STACK, "--wait-seconds", "2"])
        .args(args)
        .stdin(Stdio::null());
    let output = command.output().await.expect("the command runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), printed)
}

async fn stored_secret(moto: &Moto, arn: &str) -> Value {
    let value = moto
        .client()
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .unwrap();
    serde_json::from_str(value.secret_string().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_creates_once_finds_it_again_and_the_bridge_accepts_what_it_signs() {
    let (moto, arn) = deployed().await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("services", "PCHKOUT", "checkout-api");
    pagerduty.add_to_directory("services", "PCHKOU2", "checkout-api-canary");

    let (code, printed) = connect(
        &moto,
        &pagerduty,
        &["--scope", "service:checkout-api", "--dry-run"],
    )
    .await;
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains("dry run: would create the subscription"),
        "{printed}"
    );
    assert!(
        pagerduty.subscription_requests().is_empty(),
        "a dry run changes nothing"
    );
    assert!(stored_secret(&moto, &arn)
        .await
        .get("PAGERDUTY_SIGNING_SECRET")
        .is_none());

    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");
    let requests = pagerduty.subscription_requests();
    assert_eq!(requests.len(), 2, "create, then ping: {requests:?}");
    let created = &requests[0].2["webhook_subscription"];
    assert_eq!(
        created["events"],
        json!([
            "incident.acknowledged",
            "incident.annotated",
            "incident.resolved",
            "incident.triggered"
        ])
    );
    assert_eq!(
        created["filter"],
        json!({"type": "service_reference", "id": "PCHKOUT"})
    );
    assert_eq!(created["delivery_method"]["url"], URL);
    assert_eq!(
        created["delivery_method"]["custom_headers"],
        json!([{"name": "X-Webhook-Secret", "value": WEBHOOK_SECRET}])
    );
    assert_eq!(requests[1].0, "PING");
    let signing = "pd-signing-secret-PSUB1";
    assert_eq!(
        stored_secret(&moto, &arn).await["PAGERDUTY_SIGNING_SECRET"],
        signing
    );
    assert!(
        printed.contains("the bridge answered the ping: {\"level\":\"INFO\""),
        "{printed}"
    );
    for secret in [WEBHOOK_SECRET, signing, OPERATOR_KEY] {
        assert!(!printed.contains(secret), "printed a secret: {printed}");
    }

    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:PCHKOUT"]).await;
    assert_eq!(code, 0, "{printed}");
    let requests = pagerduty.subscription_requests();
    assert_eq!(requests[2].0, "PUT", "found, updated: {requests:?}");
    assert_eq!(requests[2].1.as_deref(), Some("PSUB1"));
    assert_eq!(pagerduty.subscriptions().len(), 1, "safe to run twice");
    assert_eq!(
        stored_secret(&moto, &arn).await["PAGERDUTY_SIGNING_SECRET"],
        signing
    );
    assert!(
        printed.contains("updated the subscription PSUB1"),
        "{printed}"
    );

    // The bridge, reading that secret, accepts what PagerDuty signs with it, and nothing else.
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::secrets_manager(&devin.url, &moto, &arn).vars());
    let body = delivery_body(&sample_event("pagey-ping.json"));
    for (signed_with, wanted) in [(signing, 202), ("another", 401)] {
        let event = signed_event(&body, WEBHOOK_SECRET, signed_with);
        let (status, _, _) = http_answer(runtime.invoke(&event).await);
        assert_eq!(status, wanted, "signed with {signed_with}");
    }
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_says_what_is_wrong_in_one_line() {
    let (moto, _) = deployed().await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("teams", "PTEAM01", "Payments");
    pagerduty.add_to_directory("teams", "PTEAM02", "payments");
    for (args, code, says) in [
        (
            &["--scope", "service:nowhere"][..],
            1,
            "connect-pagerduty: PagerDuty, services \"nowhere\": none has that name or id",
        ),
        (
            &["--scope", "team:payments"][..],
            1,
            "connect-pagerduty: PagerDuty, teams \"payments\": several have that name: give the id",
        ),
        (
            &["--scope", "galaxy:far"][..],
            2,
            "--scope \"galaxy:far\" is not a scope",
        ),
    ] {
        let (exit, printed) = connect(&moto, &pagerduty, args).await;
        assert_eq!(exit, code, "{printed}");
        assert!(printed.contains(says), "{printed}");
    }
    let (exit, printed) = connect(
        &moto,
        &pagerduty,
        &["--scope", "account", "--stack-name", "missing"],
    )
    .await;
    assert_eq!(exit, 1);
    assert!(
        printed.starts_with("connect-pagerduty: the stack missing:"),
        "{printed}"
    );
    assert!(pagerduty.subscription_requests().is_empty());
}
