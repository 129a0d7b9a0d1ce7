//! End to end: the built `bootstrap` run as Lambda runs it, against the Runtime API emulator,
//! a loopback Devin, and secrets from a real `moto_server` through the real AWS SDK.

use std::time::Duration;

use crate::support::devin::{FakeDevin, Reply};
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::runtime_api::{http_answer, log_lines, RuntimeApi};
use crate::support::*;
use serde_json::{json, Value};

const SECRET_JSON: &str = r#"{"DEVIN_API_KEY":"cog_from_secrets_manager","WEBHOOK_SECRET":"local-webhook-secret","PAGERDUTY_SIGNING_SECRET":"an-old-secret,local-signing-secret"}"#;

/// The first log line with this message.
fn line_saying<'a>(lines: &'a [Value], message: &str, output: &str) -> &'a Value {
    lines
        .iter()
        .find(|line| line["fields"]["message"] == message)
        .unwrap_or_else(|| panic!("no line saying {message:?} in {output}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_manager_to_devin_session() {
    let moto = Moto::start().await;
    let arn = moto
        .create_secret("pagerduty-devin-bridge", SECRET_JSON)
        .await;
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let env = Env::secrets_manager(&devin.url, &moto, &arn);
    let function = runtime.spawn_function(&env.vars());

    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "session_started");
    let session_id = body["session_id"].as_str().unwrap().to_owned();
    let received = devin.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].authorization.as_deref(),
        Some("Bearer cog_from_secrets_manager")
    );

    let (status, body, _) = http_answer(runtime.invoke(&sample_event("pagey-ping.json")).await);
    assert_eq!((status, &body["status"]), (202, &json!("ignored")));
    let (status, _, _) = http_answer(runtime.invoke(&sample_event("bad-signature.json")).await);
    assert_eq!(status, 401);
    assert_eq!(devin.received().len(), 1);

    let output = function.stop().await;
    for secret in [
        "cog_from_secrets_manager",
        "local-webhook-secret",
        "local-signing-secret",
        "an-old-secret",
    ] {
        assert!(
            !output.contains(secret),
            "a secret reached the log: {output}"
        );
    }
    let lines = log_lines(&output);
    let started = line_saying(&lines, "Devin session started", &output);
    assert_eq!(started["fields"]["session_id"], session_id.as_str());
    assert_eq!(started["span"]["incident_id"], "Q3VQH2T8RZK1MN");
    assert_eq!(started["span"]["event_id"], "01JDX2Q7M4R8T6V0W9Y3Z5A1B2");
    let refused = line_saying(&lines, "delivery refused", &output);
    assert_eq!(refused["fields"]["check"], "x-pagerduty-signature");
    let bad_signature: Value = serde_json::from_str(&sample_event("bad-signature.json")).unwrap();
    assert_eq!(
        refused["span"]["webhook_id"],
        bad_signature["headers"]["x-webhook-id"]
    );
    let ready = &lines[0];
    assert_eq!(ready["fields"]["message"], "bridge ready", "{output}");
    assert_eq!(ready["fields"]["signing_secrets"], 2);
    let ignored = lines
        .iter()
        .find(|line| line["span"]["event_type"] == "pagey.ping")
        .unwrap_or_else(|| panic!("no line about the ping in {output}"));
    assert_eq!(ignored["span"]["event_id"], "01FKZOXA868SHYEE4DVNWB5P9W");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_devin_failure_is_retryable_and_the_function_lives_on() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let env = Env::local(&devin.url)
        .set("DELIVERY_BUDGET_MS", "300")
        .set("CLAIM_LEASE_SECONDS", "1");
    let function = runtime.spawn_function(&env.vars());
    let event = sample_event("incident-triggered.json");
    let lease = Duration::from_millis(1100);

    devin.reply([
        Reply::Status(429, Some("30")),
        Reply::Status(401, None),
        Reply::Hang(Duration::from_secs(2)),
    ]);
    let (status, _, headers) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &headers["retry-after"]), (429, &json!("30")));
    let (status, _, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!(status, 502);
    let (status, _, headers) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &headers["retry-after"]), (503, &json!("5")));
    // The hung create may have made a session: after the claim's lease, the retry looks first.
    tokio::time::sleep(lease).await;
    devin.outage(Some(500));
    let (status, _, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!(status, 503);
    devin.outage(None);
    tokio::time::sleep(lease).await;
    // The incident is not lost: PagerDuty's retry gets its session.
    let (status, body, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(devin.sessions().len(), 1);

    let output = function.stop().await;
    assert!(!output.contains(TEST_DEVIN_API_KEY), "{output}");
    let errors = log_lines(&output)
        .into_iter()
        .filter(|line| line["level"] == "ERROR")
        .count();
    assert_eq!(errors, 4, "one error line per failed delivery: {output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_a_503_inside_the_budget() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let runtime = RuntimeApi::start().await;
    let env = Env::local(&closed).set("DELIVERY_BUDGET_MS", "300");
    let function = runtime.spawn_function(&env.vars());
    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!(status, 503, "{body}");
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_logs_the_request_it_did_not_send() {
    let runtime = RuntimeApi::start().await;
    let env = Env::local("http://127.0.0.1:9").set("DEVIN_DRY_RUN", "true");
    let function = runtime.spawn_function(&env.vars());
    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!((status, &body["status"]), (202, &json!("dry_run")));
    let output = function.stop().await;
    let shown = log_lines(&output)
        .into_iter()
        .find(|line| line["fields"]["request"].is_string())
        .unwrap_or_else(|| panic!("no dry-run line in {output}"));
    let logged: Value = serde_json::from_str(shown["fields"]["request"].as_str().unwrap()).unwrap();
    assert_eq!(logged, body["request"]);
}

/// Fails the cold start with `env`: the process exits non-zero, logs one ERROR line, and
/// reports the same message to `/runtime/init/error`. Returns that message.
async fn failed_cold_start(env: &Env) -> String {
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&env.vars());
    runtime.failed_cold_start(function).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_org_id_stops_the_cold_start() {
    let env = Env::local("http://127.0.0.1:9").unset("DEVIN_ORG_ID");
    let message = failed_cold_start(&env).await;
    assert_eq!(message, "DEVIN_ORG_ID is not set");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_past_pagerdutys_patience_stops_the_cold_start() {
    let env = Env::local("http://127.0.0.1:9").set("DELIVERY_BUDGET_MS", "4800");
    let message = failed_cold_start(&env).await;
    assert!(
        message.starts_with(r#"DELIVERY_BUDGET_MS is "4800": expected"#),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_secret_stops_the_cold_start() {
    let moto = Moto::start().await;
    let arn = moto
        .create_secret("no-api-key", r#"{"WEBHOOK_SECRET":"w"}"#)
        .await;
    let env = Env::secrets_manager("http://127.0.0.1:9", &moto, &arn);
    let message = failed_cold_start(&env).await;
    assert_eq!(
        message,
        format!("DEVIN_API_KEY is missing from secret {arn:?}")
    );

    // A secret that does not exist at all.
    let env = env.set("BRIDGE_SECRET_ID", "no-such-secret");
    let message = failed_cold_start(&env).await;
    assert!(
        message.starts_with(r#"could not read secret "no-such-secret" from Secrets Manager"#),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_verification_secret_stops_the_cold_start() {
    let env = Env::local("http://127.0.0.1:9")
        .unset("WEBHOOK_SECRET")
        .unset("PAGERDUTY_SIGNING_SECRET");
    let message = failed_cold_start(&env).await;
    assert!(
        message.starts_with(
            "the environment sets neither WEBHOOK_SECRET nor PAGERDUTY_SIGNING_SECRET"
        ),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_routing_policy_from_the_environment_routes_and_logs_its_decisions() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let policy = std::fs::read_to_string(repo_path("config/routing.example.json")).unwrap();
    let env = Env::local(&devin.url).set("ROUTING_CONFIG", &policy);
    let function = runtime.spawn_function(&env.vars());

    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered-low-urgency.json"))
            .await,
    );
    assert_eq!((status, &body["rule"]), (202, &json!("low")));
    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered-p1.json"))
            .await,
    );
    assert_eq!((status, &body["rule"]), (202, &json!("sev1")));
    let received = devin.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body["playbook_id"], "playbook-hotfix");

    let output = function.stop().await;
    let lines = log_lines(&output);
    let ignored = line_saying(&lines, "incident ignored by the routing policy", &output);
    assert_eq!(ignored["span"]["rule"], "low");
    assert_eq!(ignored["span"]["incident_id"], "Q0LWURG3NCY7AB");
    let started = line_saying(&lines, "Devin session started", &output);
    assert_eq!(started["span"]["rule"], "sev1");
    assert_eq!(started["span"]["incident_id"], "Q9P1DBX2K8WZQA");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_routing_policy_stops_the_cold_start() {
    let env = Env::local("http://127.0.0.1:9").set(
        "ROUTING_CONFIG",
        r#"{"rules":[{"name":"a"},{"name":"b"},{"name":"c","when":{"urgency":["urgent"]}}]}"#,
    );
    let message = failed_cold_start(&env).await;
    assert!(
        message.starts_with("ROUTING_CONFIG: rules[2].when.urgency[0]: unknown variant `urgent`, expected `high` or `low`"),
        "{message}"
    );
}

/// A type whose data is not an incident, listed in `forward_events`, stops the cold start in one
/// line naming the setting and the type: the bridge could only ignore its deliveries.
#[tokio::test(flavor = "multi_thread")]
async fn an_event_type_without_an_incident_stops_the_cold_start() {
    let env = Env::local("http://127.0.0.1:9").set(
        "ROUTING_CONFIG",
        r#"{"forward_events": ["incident.resolved", "incident.responder.added"]}"#,
    );
    let message = failed_cold_start(&env).await;
    assert!(
        message.starts_with("ROUTING_CONFIG: forward_events[1]: incident.responder.added is not an event type whose data is an incident"),
        "{message}"
    );
}
