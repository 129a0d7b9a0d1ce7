//! `connect-pagerduty` end to end: the built command against the PagerDuty REST fake, the
//! Devin fake (for `--check`) and moto (CloudFormation for the stack's outputs and parameters,
//! Secrets Manager for the bridge's secret, CloudWatch Logs for the bridge's answer to the
//! ping). It creates the subscription once and changes nothing on a rerun; a new header value
//! goes to a new subscription before the old one is deleted; `--rotate-webhook-secret` rotates
//! `WEBHOOK_SECRET` end to end, and keeps the old value while a subscription it did not make
//! may still send it; a subscription PagerDuty disabled is enabled again; a team given by id
//! works, as `--check` names it; `--check` names each problem. After each change, the real
//! bridge accepts what PagerDuty then sends.

use std::process::Stdio;

use aws_sdk_cloudformation::types::Parameter;
use serde_json::{json, Value};
use tokio::process::Command;

use crate::support::devin::{FakeDevin, Reply};
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
    // The record says what the subscription sends: the follow-up's sweep reads only that.
    let record = |stored: &Value| -> Value {
        serde_json::from_str(stored["PAGERDUTY_SUBSCRIPTIONS"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        record(&stored)[0]["filter"],
        json!({"type": "service_reference", "id": "PCHKOUT"})
    );
    // An entry written before filters were recorded gets its filter from a rerun.
    let mut old = stored.clone();
    let mut entries = record(&stored);
    entries[0].as_object_mut().unwrap().remove("filter");
    old["PAGERDUTY_SUBSCRIPTIONS"] = entries.to_string().into();
    moto.put_secret(&arn, &old.to_string()).await;
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:PCHKOUT"]).await;
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains("recorded the filter of the subscription PSUB1"),
        "{printed}"
    );
    let stored = stored_secret(&moto, &arn).await;
    assert_eq!(record(&stored)[0]["filter"]["id"], "PCHKOUT");
    assert_eq!(stored["PAGERDUTY_SIGNING_SECRET"], signing);

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
    moto.put_secret(&arn, &secret.to_string()).await;
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");
    // What PagerDuty sends from now on, the bridge accepts. (A PUT of the delivery_method, as
    // the tool did before, leaves the old header: refused 401 once the secret moved on.)
    let kept = pagerduty.subscriptions();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let (header, signing) = sent_by(&pagerduty, kept[0]["id"].as_str().unwrap());
    assert_eq!(bridge_answers(&moto, &arn, &header, &signing).await, 202);
    assert_eq!(header, edited);
    assert_eq!(
        methods(&pagerduty)[2..],
        [
            ("POST".to_owned(), None),
            call("DELETE", "PSUB1"),
            call("PING", "PSUB2")
        ],
        "the new one first, then the old one deleted"
    );
    let stored = stored_secret(&moto, &arn).await;
    assert_eq!(
        stored["PAGERDUTY_SIGNING_SECRET"], signing,
        "the deleted subscription's signing secret is no longer accepted"
    );
    for secret in [edited, signing.as_str(), OPERATOR_KEY] {
        assert!(!printed.contains(secret), "printed a secret: {printed}");
    }
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
    moto.put_secret(&arn, &secret.to_string()).await;
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

/// `--check` against `stack`: its exit code and what it printed.
async fn check(moto: &Moto, pagerduty: &FakePagerDuty, stack: &str) -> (i32, String) {
    connect(moto, pagerduty, &["--check", "--stack-name", stack]).await
}

/// The line `--check` printed for `check`.
fn line<'a>(printed: &'a str, check: &str) -> &'a str {
    printed
        .lines()
        .find(|line| {
            line.get(5..)
                .is_some_and(|rest| rest.starts_with(&format!("{check}:")))
        })
        .unwrap_or_else(|| panic!("no line for {check}: {printed}"))
}

/// Asserts that `check` failed, saying `says`, and that the run failed.
fn failed(code: i32, printed: &str, check: &str, says: &str) {
    assert_eq!(code, 1, "{printed}");
    let line = line(printed, check);
    assert!(line.starts_with("FAIL ") && line.contains(says), "{line}");
    assert!(
        line.contains("; fix: "),
        "each failure says its fix: {line}"
    );
}

/// A connected stack: the bridge's subscription for service checkout-api made by the tool.
async fn connected(devin: &FakeDevin) -> (Moto, String, FakePagerDuty) {
    let (moto, arn) = deployed(&devin.url).await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("services", "PCHKOUT", "checkout-api");
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");
    (moto, arn, pagerduty)
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_every_check_of_a_connected_stack_and_changes_nothing() {
    let devin = FakeDevin::start().await;
    let (moto, arn, pagerduty) = connected(&devin).await;
    let (requests, secret) = (methods(&pagerduty), stored_secret(&moto, &arn).await);

    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    assert_eq!(code, 0, "{printed}");
    for check in [
        "routing policy",
        "bridge's secret",
        "Devin token",
        "Devin sessions",
        "PagerDuty subscription",
        "subscription active",
        "subscription enabled",
        "subscription URL",
        "subscription events",
        "subscription header",
        "header value",
        "signing secret",
    ] {
        assert!(line(&printed, check).starts_with("ok   "), "{printed}");
    }
    assert_eq!(
        methods(&pagerduty),
        requests,
        "nothing changed in PagerDuty"
    );
    assert_eq!(
        stored_secret(&moto, &arn).await,
        secret,
        "nor in the secret"
    );
    assert!(devin.sessions().is_empty() && devin.requests() == 2);
    for secret in [
        WEBHOOK_SECRET,
        TEST_DEVIN_API_KEY,
        OPERATOR_KEY,
        "pd-signing-secret",
    ] {
        assert!(!printed.contains(secret), "printed a secret: {printed}");
    }
    // An enterprise service user has no organization of its own: the sessions check decides.
    devin.token_of_organization(Value::Null);
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    assert_eq!(code, 0, "{printed}");
    assert!(line(&printed, "Devin token").contains("of the enterprise"));

    // A key pasted with its newline works in the bridge (it trims the secret's values): so here.
    devin.accept_only(TEST_DEVIN_API_KEY);
    let mut pasted = stored_secret(&moto, &arn).await;
    pasted["DEVIN_API_KEY"] = json!(format!("{TEST_DEVIN_API_KEY}\n"));
    moto.put_secret(&arn, &pasted.to_string()).await;
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    assert_eq!(code, 0, "{printed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_each_problem_with_its_fix() {
    let devin = FakeDevin::start().await;
    let (moto, arn, pagerduty) = connected(&devin).await;

    // Devin: a token it refuses, a token of another organization, no permission to list.
    devin.accept_only("cog_another_key");
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "Devin token",
        "Devin refuses it (GET /v3/self: 401)",
    );
    devin.accept_only(TEST_DEVIN_API_KEY);
    devin.token_of_organization(json!("org-elsewhere"));
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "Devin token",
        "of the organization org-elsewhere, and the stack's DevinOrgId is org-test",
    );
    devin.token_of_organization(json!("org-test"));
    devin.reply_to_lookups([Reply::Status(403, None)]);
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "Devin sessions",
        "may not list the sessions of org-test (403)",
    );
    assert!(line(&printed, "Devin token").starts_with("ok   "));

    // The secret edited by hand: a WEBHOOK_SECRET the subscription does not send, then no
    // signing secret of the subscription.
    let connected_secret = stored_secret(&moto, &arn).await;
    let mut secret = connected_secret.clone();
    secret["WEBHOOK_SECRET"] = "w-edited-by-hand-abcdefghijklmnopqrstuvwxyz0123".into();
    moto.put_secret(&arn, &secret.to_string()).await;
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "header value",
        "PSUB1 sends a value WEBHOOK_SECRET no longer lists",
    );
    let mut secret = connected_secret.clone();
    secret["PAGERDUTY_SIGNING_SECRET"] = "something-else".into();
    moto.put_secret(&arn, &secret.to_string()).await;
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "signing secret",
        "PSUB1's is not in PAGERDUTY_SIGNING_SECRET",
    );
    moto.put_secret(&arn, &connected_secret.to_string()).await;

    // Stacks beside it: the URL moved, a policy that needs more events, an invalid policy, a
    // secret that is not there.
    let moved = "https://moved.lambda-url.us-east-1.on.aws/pagerduty-alert";
    create_stack(&moto, "moved", moved, &arn, POLICY, &devin.url).await;
    let (code, printed) = check(&moto, &pagerduty, "moved").await;
    failed(
        code,
        &printed,
        "subscription URL",
        &format!("PSUB1 delivers to {URL}, the stack's URL is {moved}"),
    );
    let more = r#"{"forward_events": ["incident.resolved", "incident.annotated", "incident.acknowledged", "incident.escalated"]}"#;
    create_stack(&moto, "more-events", URL, &arn, more, &devin.url).await;
    let (code, printed) = check(&moto, &pagerduty, "more-events").await;
    failed(
        code,
        &printed,
        "subscription events",
        "the policy acts on incident.escalated, which PSUB1 does not send",
    );
    create_stack(
        &moto,
        "bad-policy",
        URL,
        &arn,
        r#"{"forward_events": 3}"#,
        &devin.url,
    )
    .await;
    let (code, printed) = check(&moto, &pagerduty, "bad-policy").await;
    failed(code, &printed, "routing policy", "RoutingConfig is invalid");
    let missing = arn.replace("bridge-secret", "nowhere");
    create_stack(&moto, "no-secret", URL, &missing, POLICY, &devin.url).await;
    let (code, printed) = check(&moto, &pagerduty, "no-secret").await;
    failed(code, &printed, "bridge's secret", "");
    failed(
        code,
        &printed,
        "Devin token",
        "DEVIN_API_KEY is not in the bridge's secret",
    );

    // PagerDuty disabled the subscription.
    pagerduty.disable_temporarily("PSUB1");
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "subscription enabled",
        "PagerDuty disabled PSUB1",
    );

    // No subscription at all; then one made by hand: inactive, without the header, and
    // unknown to the tool's record (a stack whose secret has none).
    let bare = json!({"DEVIN_API_KEY": TEST_DEVIN_API_KEY, "WEBHOOK_SECRET": WEBHOOK_SECRET});
    let bare = moto.create_secret("bare", &bare.to_string()).await;
    create_stack(&moto, "by-hand", URL, &bare, POLICY, &devin.url).await;
    let empty = FakePagerDuty::start().await;
    let (code, printed) = check(&moto, &empty, "by-hand").await;
    failed(
        code,
        &printed,
        "PagerDuty subscription",
        &format!("no subscription delivers to {URL}"),
    );
    let by_hand = json!({"type": "webhook_subscription",
        "events": ["incident.triggered"], "active": false,
        "filter": {"type": "account_reference"},
        "delivery_method": {"type": "http_delivery_method", "url": URL}});
    made_by_hand(&empty, by_hand).await;
    let (code, printed) = check(&moto, &empty, "by-hand").await;
    failed(code, &printed, "subscription active", "PSUB1 is inactive");
    failed(
        code,
        &printed,
        "subscription header",
        "PSUB1 sends no X-Webhook-Secret",
    );
    failed(
        code,
        &printed,
        "header value",
        "connect-pagerduty has no record of this subscription",
    );
    assert!(methods(&empty).len() == 1, "--check changed nothing");
}

/// A subscription made by hand in PagerDuty (not by the tool): its id and signing secret.
async fn made_by_hand(pagerduty: &FakePagerDuty, subscription: Value) -> (String, String) {
    let made = reqwest::Client::new()
        .post(format!("{}/webhook_subscriptions", pagerduty.url))
        .json(&json!({ "webhook_subscription": subscription }))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success());
    let made: Value = made.json().await.unwrap();
    let made = &made["webhook_subscription"];
    let id = made["id"].as_str().unwrap().to_owned();
    (
        id,
        made["delivery_method"]["secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_scope_given_by_id_connects_and_check_says_it_back() {
    let devin = FakeDevin::start().await;
    let (moto, _) = deployed(&devin.url).await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("teams", "PTEAM01", "Payments");
    // A team whose name reads like an id: PagerDuty answers 404 to it as an id.
    pagerduty.add_to_directory("teams", "PTEAM02", "PLATFRM");

    let by_id = ["--scope", "team:PTEAM01"];
    let (code, printed) = connect(&moto, &pagerduty, &by_id).await;
    assert_eq!(code, 0, "{printed}");
    assert_eq!(
        pagerduty.subscription_requests()[0].2["webhook_subscription"]["filter"],
        json!({"type": "team_reference", "id": "PTEAM01"})
    );
    let (code, printed) = connect(&moto, &pagerduty, &["--check", "--scope", "team:PTEAM01"]).await;
    assert_eq!(code, 0, "{printed}");
    assert!(line(&printed, "PagerDuty subscription").contains("PSUB1 (team_reference PTEAM01)"));

    // Without --scope, --check names the scope by the team's id; that command works.
    pagerduty.disable_temporarily("PSUB1");
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    failed(
        code,
        &printed,
        "subscription enabled",
        "run `cargo connect-pagerduty --scope team:PTEAM01`",
    );
    let (code, printed) = connect(&moto, &pagerduty, &by_id).await;
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains("re-enabled the subscription PSUB1"),
        "{printed}"
    );
    let (code, printed) = check(&moto, &pagerduty, STACK).await;
    assert_eq!(code, 0, "{printed}");

    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "team:PLATFRM"]).await;
    assert_eq!(code, 0, "{printed}");
    assert_eq!(
        pagerduty.subscriptions()[1]["filter"],
        json!({"type": "team_reference", "id": "PTEAM02"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_keeps_the_old_value_while_a_subscription_it_did_not_make_may_send_it() {
    let (moto, arn) = deployed(NO_DEVIN).await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_to_directory("services", "PCHKOUT", "checkout-api");
    pagerduty.add_to_directory("teams", "PTEAM01", "Payments");
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "service:checkout-api"]).await;
    assert_eq!(code, 0, "{printed}");

    // An operator made one by hand for a team, sending WEBHOOK_SECRET, and put its signing
    // secret in the bridge's secret; and one for the account without the header.
    let delivery = json!({"type": "http_delivery_method", "url": URL,
        "custom_headers": [{"name": "X-Webhook-Secret", "value": WEBHOOK_SECRET}]});
    let (by_hand, by_hand_signing) = made_by_hand(
        &pagerduty,
        json!({"type": "webhook_subscription", "events": ["incident.triggered"],
            "filter": {"type": "team_reference", "id": "PTEAM01"}, "delivery_method": delivery}),
    )
    .await;
    let (headerless, _) = made_by_hand(
        &pagerduty,
        json!({"type": "webhook_subscription", "events": ["incident.triggered"],
            "filter": {"type": "account_reference"},
            "delivery_method": {"type": "http_delivery_method", "url": URL}}),
    )
    .await;
    let mut secret = stored_secret(&moto, &arn).await;
    secret["PAGERDUTY_SIGNING_SECRET"] =
        format!("pd-signing-secret-PSUB1,{by_hand_signing}").into();
    moto.put_secret(&arn, &secret.to_string()).await;

    let rotate = ["--scope", "service:checkout-api", "--rotate-webhook-secret"];
    let (code, printed) = connect(&moto, &pagerduty, &rotate).await;
    assert_eq!(code, 0, "{printed}");
    let listed = stored_secret(&moto, &arn).await["WEBHOOK_SECRET"]
        .as_str()
        .unwrap()
        .to_owned();
    let (new, old) = listed.split_once(',').expect("two values kept");
    assert_eq!(old, WEBHOOK_SECRET, "the old value is kept");
    // What the hand-made subscription sends is still accepted (dropped, it would be 401).
    assert_eq!(
        bridge_answers(&moto, &arn, WEBHOOK_SECRET, &by_hand_signing).await,
        202
    );
    for says in [
        format!("the subscription {by_hand} (team:PTEAM01) delivers to the stack's URL"),
        "run `cargo connect-pagerduty --scope team:PTEAM01`".to_owned(),
        "then run this command again (--rotate-webhook-secret)".to_owned(),
    ] {
        assert!(printed.contains(&says), "{says}: {printed}");
    }
    assert!(!printed.contains(&headerless), "sends no header: {printed}");
    assert!(!printed.contains("the rotation is done"), "{printed}");
    for secret in [new, old, by_hand_signing.as_str()] {
        assert!(!printed.contains(secret), "printed a secret: {printed}");
    }

    // What it said to do: connect that scope (the hand-made one replaced), rotate again.
    let (code, printed) = connect(&moto, &pagerduty, &["--scope", "team:PTEAM01"]).await;
    assert_eq!(code, 0, "{printed}");
    let replacement = pagerduty
        .subscriptions()
        .into_iter()
        .find(|s| s["filter"]["id"] == "PTEAM01")
        .unwrap();
    let (header, signing) = sent_by(&pagerduty, replacement["id"].as_str().unwrap());
    assert_eq!(header, new);
    let (code, printed) = connect(&moto, &pagerduty, &rotate).await;
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("the rotation is done"), "{printed}");
    assert_eq!(stored_secret(&moto, &arn).await["WEBHOOK_SECRET"], new);
    assert_eq!(bridge_answers(&moto, &arn, new, &signing).await, 202);
    assert_eq!(bridge_answers(&moto, &arn, old, &signing).await, 401);
}
