//! Tried as an attacker would, through the built binary: raw Function URL events that made
//! `lambda_http` panic (the instance died), logs at TRACE, and a weak verification warned
//! about at cold start. (Empty and path-bending ids, replays of old deliveries, rotated secrets
//! and requests from outside the allowed sources are tried in process:
//! `tests/in_process/hostile.rs`.)

use serde_json::{json, Value};

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::runtime_api::{http_answer, log_lines, Outcome, RuntimeApi};
use crate::support::*;

/// The triggered sample as a raw event, with `change` applied to its JSON.
fn raw_event(change: impl FnOnce(&mut Value)) -> String {
    let mut event: Value = serde_json::from_str(&sample_event("incident-triggered.json")).unwrap();
    change(&mut event);
    event.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_raw_event_kills_the_instance() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let mut function = runtime.spawn_function(&Env::local(&devin.url).vars());
    let hostile = [
        // Each of these made lambda_http panic while it built the request's URI.
        raw_event(|e| e["rawQueryString"] = json!("a b")),
        raw_event(|e| e["rawQueryString"] = json!("a\"b<c>")),
        raw_event(|e| e["rawQueryString"] = json!("q=a+b&x=\u{7f}")),
        raw_event(|e| e["headers"]["x-forwarded-proto"] = json!("1 not a scheme")),
        raw_event(|e| e["headers"]["host"] = json!("exa mple.com:99999")),
        // A body marked base64 that is not.
        raw_event(|e| {
            e["isBase64Encoded"] = json!(true);
            e["body"] = json!("%%% not base64 %%%");
        }),
        // Bytes above ASCII in header values, which HTTP can carry.
        raw_event(|e| e["headers"]["x-webhook-secret"] = json!("café ☕")),
    ];
    for (n, event) in hostile.iter().enumerate() {
        let Outcome::Response(answer) = runtime.invoke(event).await else {
            panic!("event {n} failed the invocation");
        };
        let status = answer["statusCode"].as_u64().unwrap();
        assert!(
            (400..500).contains(&status) || status == 202,
            "event {n}: {status}"
        );
        assert!(function.is_alive(), "event {n} killed the instance");
    }
    // A base64 body that is a real delivery is read as one.
    let encoded = raw_event(|e| {
        use base64::Engine;
        let body = e["body"].as_str().unwrap().to_owned();
        e["isBase64Encoded"] = json!(true);
        e["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    });
    // The next delivery is served by the same instance.
    let (status, body, _) = http_answer(runtime.invoke(&encoded).await);
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert!(function.is_alive());
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn at_trace_no_secret_reaches_the_log() {
    let moto = Moto::start().await;
    let secret = json!({"DEVIN_API_KEY": "cog_trace_secret_key", "WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
                        "PAGERDUTY_SIGNING_SECRET": LOCAL_SIGNING_SECRET,
                        "PAGERDUTY_API_TOKEN": "pd_trace_secret_token"});
    let arn = moto.create_secret("trace", &secret.to_string()).await;
    let table = moto.create_ledger_table("trace-ledger").await;
    let devin = FakeDevin::start().await;
    let pagerduty = crate::support::pagerduty::FakePagerDuty::start().await;
    let runtime = RuntimeApi::start().await;
    let env = Env::secrets_manager(&devin.url, &moto, &arn)
        .set("LEDGER_TABLE", &table)
        .set("PAGERDUTY_API_URL", &pagerduty.url)
        .set("PAGERDUTY_FROM_EMAIL", "bridge@acme.example")
        .set("AWS_LAMBDA_LOG_LEVEL", "TRACE");
    let function = runtime.spawn_function(&env.vars());
    for name in [
        "incident-triggered.json",
        "incident-annotated.json",
        "bad-signature.json",
    ] {
        runtime.invoke(&sample_event(name)).await;
    }
    let output = function.stop().await;
    assert!(
        output.contains("\"level\":\"TRACE\"") || output.contains("\"level\":\"DEBUG\""),
        "the log is verbose: {}",
        &output[..output.len().min(2000)]
    );
    for secret in [
        "cog_trace_secret_key",
        LOCAL_WEBHOOK_SECRET,
        LOCAL_SIGNING_SECRET,
        "pd_trace_secret_token",
    ] {
        assert!(!output.contains(secret), "{secret} reached the log");
    }
    assert!(
        !output.contains("raw JSON event received"),
        "the runtime's raw event stays out"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn weak_verification_is_warned_about_at_cold_start() {
    let runtime = RuntimeApi::start().await;
    let env = Env::local("http://127.0.0.1:9").unset("PAGERDUTY_SIGNING_SECRET");
    let function = runtime.spawn_function(&env.vars());
    let (status, _, _) = http_answer(runtime.invoke(&sample_event("pagey-ping.json")).await);
    assert_eq!(status, 202);
    let output = function.stop().await;
    let warnings: Vec<String> = log_lines(&output)
        .into_iter()
        .filter(|line| line["level"] == "WARN")
        .map(|line| {
            line["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("PAGERDUTY_SIGNING_SECRET is not set")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("fewer than 32 characters")),
        "{warnings:?}"
    );
}
