//! `connect-pagerduty` end to end: the built command against the PagerDuty REST fake, the
//! Devin fake (for `--check`) and moto (CloudFormation for the stack's outputs and parameters,
//! Secrets Manager for the bridge's secret, CloudWatch Logs for the bridge's answer to the
//! ping). It creates the subscription once and changes nothing on a rerun; a new header value
//! goes to a new subscription before the old one is deleted; `--rotate-webhook-secret` rotates
//! `WEBHOOK_SECRET` end to end; a subscription PagerDuty disabled is enabled again; `--check`
//! names each problem. After each change, the real bridge accepts what PagerDuty then sends.

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
/// `DevinApiUrl` for the tests that never call Devin.
const NO_DEVIN: &str = "http://127.0.0.1:9";

const POLICY: &str =
    r#"{"forward_events": ["incident.resolved", "incident.annotated", "incident.acknowledged"]}"#;

/// moto with the stack (its outputs, a policy that also forwards acknowledgements, Devin's
/// organization and URL), the bridge's secret, and a log group where the bridge answered a ping.
async fn deployed(devin_url: &str) -> (Moto, String) {
    let moto = Moto::start().await;
    let secret = json!({"DEVIN_API_KEY": TEST_DEVIN_API_KEY, "WEBHOOK_SECRET": WEBHOOK_SECRET});
    let arn = moto
        .create_secret("bridge-secret", &secret.to_string())
        .await;
    create_stack(&moto, STACK, URL, &arn, POLICY, devin_url).await;
    let config = aws_config(&moto).await;
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

/// A stack named `name` in moto: its outputs (`url`, `secret_arn`, the log group) and its
/// parameters (`policy`, `DevinOrgId` org-test, `DevinApiUrl` `devin_url`).
async fn create_stack(
    moto: &Moto,
    name: &str,
    url: &str,
    secret_arn: &str,
    policy: &str,
    devin_url: &str,
) {
    let config = aws_config(moto).await;
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"RoutingConfig": {"Type": "String", "Default": ""},
                       "DevinOrgId": {"Type": "String"},
                       "DevinApiUrl": {"Type": "String"}},
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"WebhookUrl": {"Value": url}, "SecretArn": {"Value": secret_arn},
                    "LogGroup": {"Value": LOG_GROUP}}});
    let parameter = |key: &str, value: &str| {
        Parameter::builder()
            .parameter_key(key)
            .parameter_value(value)
            .build()
    };
    aws_sdk_cloudformation::Client::new(&config)
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .parameters(parameter("RoutingConfig", policy))
        .parameters(parameter("DevinOrgId", "org-test"))
        .parameters(parameter("DevinApiUrl", devin_url))
        .send()
        .await
        .expect("moto creates the stack");
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
    let (moto, arn) = deployed(NO_DEVIN).await;
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
    // A rerun with nothing changed changes nothing (it used to PUT the whole subscription,
    // delivery_method included, which PagerDuty does not update): only the test ping.
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(requests[2].0, "PING");
    assert_eq!(requests[2].1.as_deref(), Some("PSUB1"));
    assert_eq!(pagerduty.subscriptions().len(), 1, "safe to run twice");
    let stored = stored_secret(&moto, &arn).await;
    assert_eq!(stored["PAGERDUTY_SIGNING_SECRET"], signing);
    assert_eq!(stored["WEBHOOK_SECRET"], WEBHOOK_SECRET);
    assert!(
        !stored["PAGERDUTY_SUBSCRIPTIONS"]
            .as_str()
            .unwrap()
            .contains(WEBHOOK_SECRET),
        "the record holds digests, not values"
    );
    assert!(
        printed.contains("the subscription PSUB1 already delivers these events"),
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
    let (moto, _) = deployed(NO_DEVIN).await;
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

/// Replaces the bridge's SecretString, as an operator editing it by hand would.
async fn put_secret(moto: &Moto, arn: &str, secret: &Value) {
    moto.client()
        .put_secret_value()
        .secret_id(arn)
        .secret_string(secret.to_string())
        .send()
        .await
        .unwrap();
}

/// What PagerDuty really sends for the subscription `id` (the fake keeps the values it
/// redacts): its `X-Webhook-Secret` value and its signing secret.
fn sent_by(pagerduty: &FakePagerDuty, id: &str) -> (String, String) {
    let subscription = pagerduty
        .subscriptions()
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("PagerDuty has no subscription {id}"));
    let method = &subscription["delivery_method"];
    let header = method["custom_headers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["name"] == "X-Webhook-Secret")
        .map(|h| h["value"].as_str().unwrap().to_owned())
        .unwrap_or_default();
    (header, method["secret"].as_str().unwrap().to_owned())
}

/// The status a freshly started bridge (reading the secret now) answers to a ping delivered
/// with this header value and signed with this signing secret.
async fn bridge_answers(moto: &Moto, arn: &str, header: &str, signing: &str) -> u16 {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::secrets_manager(&devin.url, moto, arn).vars());
    let body = delivery_body(&sample_event("pagey-ping.json"));
    let (status, _, _) = http_answer(runtime.invoke(&signed_event(&body, header, signing)).await);
    function.stop().await;
    status
}

fn methods(pagerduty: &FakePagerDuty) -> Vec<(String, Option<String>)> {
    pagerduty
        .subscription_requests()
        .into_iter()
        .map(|(method, id, _)| (method, id))
        .collect()
}

fn call(method: &str, id: &str) -> (String, Option<String>) {
    (method.to_owned(), Some(id.to_owned()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_webhook_secret_goes_to_a_new_subscription_before_the_old_one_is_deleted() {
    let (moto, arn) = deployed(NO_DEVIN).await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("services", "PCHKOUT", "checkout-api");
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");

    // The operator puts another WEBHOOK_SECRET in the secret by hand, and runs it again.
    // PagerDuty ignores a delivery_method in a PUT, and shows header values redacted: only a
    // new subscription sends the new value, and only the tool's record says one is needed.
    let edited = "w-edited-by-hand-abcdefghijklmnopqrstuvwxyz0123";
    let mut secret = stored_secret(&moto, &arn).await;
    secret["WEBHOOK_SECRET"] = edited.into();
    put_secret(&moto, &arn, &secret).await;
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");
    assert_eq!(
        methods(&pagerduty)[2..],
        [
            ("POST".to_owned(), None),
            call("DELETE", "PSUB1"),
            call("PING", "PSUB2")
        ],
        "the new one first, then the old one deleted"
    );
    let (header, signing) = sent_by(&pagerduty, "PSUB2");
    assert_eq!(header, edited);
    assert_eq!(pagerduty.subscriptions().len(), 1);
    let stored = stored_secret(&moto, &arn).await;
    assert_eq!(
        stored["PAGERDUTY_SIGNING_SECRET"], signing,
        "the deleted subscription's signing secret is no longer accepted"
    );
    for secret in [edited, signing.as_str(), OPERATOR_KEY] {
        assert!(!printed.contains(secret), "printed a secret: {printed}");
    }

    // What PagerDuty now sends, the bridge accepts; what the old subscription sent, it refuses.
    assert_eq!(bridge_answers(&moto, &arn, &header, &signing).await, 202);
    let old = "pd-signing-secret-PSUB1";
    assert_eq!(bridge_answers(&moto, &arn, WEBHOOK_SECRET, old).await, 401);

    // A third run: nothing to change.
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");
    assert_eq!(methods(&pagerduty)[5..], [call("PING", "PSUB2")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_webhook_secret_rotates_end_to_end_and_a_rerun_finishes_a_rotation_cut_short() {
    let (moto, arn) = deployed(NO_DEVIN).await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("teams", "PTEAM01", "Payments");
    let scope = ["--scope", "team:Payments"];
    let (code, printed) = connect(&moto, &pagerduty, &scope).await;
    assert_eq!(code, 0, "{printed}");

    let rotate = ["--scope", "team:Payments", "--rotate-webhook-secret"];
    let (code, printed) = connect(&moto, &pagerduty, &rotate).await;
    assert_eq!(code, 0, "{printed}");
    let stored = stored_secret(&moto, &arn).await;
    let new = stored["WEBHOOK_SECRET"].as_str().unwrap().to_owned();
    assert!(
        new.len() == 48 && new.chars().all(|c| c.is_ascii_alphanumeric()),
        "one new random value, the old one dropped: {new:?}"
    );
    assert_eq!(
        methods(&pagerduty)[2..],
        [
            ("POST".to_owned(), None),
            call("DELETE", "PSUB1"),
            call("PING", "PSUB2")
        ]
    );
    let (header, signing) = sent_by(&pagerduty, "PSUB2");
    assert_eq!(header, new);
    assert_eq!(stored["PAGERDUTY_SIGNING_SECRET"], signing);
    assert!(printed.contains("the rotation is done"), "{printed}");
    for secret in [new.as_str(), WEBHOOK_SECRET, signing.as_str()] {
        assert!(!printed.contains(secret), "printed a secret: {printed}");
    }
    assert_eq!(bridge_answers(&moto, &arn, &new, &signing).await, 202);
    assert_eq!(
        bridge_answers(&moto, &arn, WEBHOOK_SECRET, &signing).await,
        401
    );

    // A rotation that died after its first step (the new value first in the secret, nothing
    // else done): the rerun finishes it with that value instead of drawing another.
    let mut secret = stored.clone();
    let cut_short = "w-rotation-cut-short-0123456789abcdefghijklmnop";
    secret["WEBHOOK_SECRET"] = format!("{cut_short},{new}").into();
    put_secret(&moto, &arn, &secret).await;
    let (code, printed) = connect(&moto, &pagerduty, &rotate).await;
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains("finishing the rotation under way"),
        "{printed}"
    );
    assert_eq!(
        stored_secret(&moto, &arn).await["WEBHOOK_SECRET"],
        cut_short
    );
    let (header, signing) = sent_by(&pagerduty, "PSUB3");
    assert_eq!(header, cut_short);
    assert_eq!(pagerduty.subscriptions().len(), 1, "PSUB2 deleted");
    assert_eq!(bridge_answers(&moto, &arn, cut_short, &signing).await, 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_pagerduty_disabled_is_shown_and_enabled_again() {
    let (moto, _) = deployed(NO_DEVIN).await;
    let pagerduty = FakePagerDuty::start().await;
    // The whole account: listed with filter_type=account, kept with "id": null.
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "account"]).await;
    assert_eq!(code, 0, "{printed}");
    assert_eq!(
        pagerduty.subscriptions()[0]["filter"],
        json!({"type": "account_reference", "id": null})
    );
    pagerduty.disable_temporarily("PSUB1");

    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "account"]).await;
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains("PagerDuty disabled the subscription PSUB1"),
        "{printed}"
    );
    assert!(
        printed.contains("re-enabled the subscription PSUB1"),
        "{printed}"
    );
    assert_eq!(
        methods(&pagerduty)[2..],
        [call("ENABLE", "PSUB1"), call("PING", "PSUB1")]
    );
    assert_eq!(
        pagerduty.subscriptions()[0]["delivery_method"]["temporarily_disabled"],
        false
    );
}
