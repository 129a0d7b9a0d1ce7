//! Exactly one investigation per incident, through retries, timeouts and rotating secrets: the
//! built `bootstrap` under the Runtime API emulator, with a loopback Devin and a real
//! `moto_server`, one fault at a time.

use std::time::{Duration, Instant};

use crate::support::devin::{FakeDevin, Reply};
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::runtime_api::{http_answer, log_lines, RuntimeApi};
use crate::support::*;
use serde_json::{json, Value};

/// The EMF metric documents among the lines.
fn metrics(output: &str) -> Vec<Value> {
    log_lines(output)
        .into_iter()
        .filter(|line| line.get("_aws").is_some())
        .collect()
}

fn total(metrics: &[Value], name: &str) -> u64 {
    metrics.iter().map(|m| m[name].as_u64().unwrap()).sum()
}

/// The triggered sample with another event id (and, given one, another incident id).
fn another_delivery(event_id: &str, incident_id: Option<&str>) -> String {
    let mut body = delivery_body(&sample_event("incident-triggered.json"))
        .replace("01JDX2Q7M4R8T6V0W9Y3Z5A1B2", event_id);
    if let Some(incident_id) = incident_id {
        body = body.replace("Q3VQH2T8RZK1MN", incident_id);
    }
    function_url_event("POST", "/pagerduty-alert", &body)
}

async fn eventually(mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn devin_slower_than_the_budget_then_the_retry_finds_the_session() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let env = Env::local(&devin.url)
        .set("DELIVERY_BUDGET_MS", "500")
        .set("CLAIM_LEASE_SECONDS", "3");
    let function = runtime.spawn_function(&env.vars());
    let event = sample_event("incident-triggered.json");

    devin.reply([Reply::SlowSession(Duration::from_secs(2))]);
    let asked = Instant::now();
    let (status, _, headers) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &headers["retry-after"]), (503, &json!("5")));
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "answered before Devin did"
    );
    // While the claim holds, a retry neither creates nor calls Devin.
    let (status, _, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!(status, 503);
    assert_eq!(devin.requests(), 1);

    // Devin finished the late call; once the claim's lease ends, PagerDuty's retry finds that
    // session, records it and starts none.
    eventually(|| devin.sessions().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(asked.elapsed())).await;
    let (status, body, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(body["session_id"], devin.sessions()[0].session_id.as_str());
    assert_eq!((devin.sessions().len(), devin.creates()), (1, 1));
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_deadline_bounds_the_budget() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    runtime.set_invocation_timeout(Duration::from_millis(800));
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    devin.reply([Reply::Hang(Duration::from_secs(3))]);
    let asked = Instant::now();
    let (status, _, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!(status, 503);
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "the 4 s default budget was cut to the 0.8 s Lambda deadline"
    );
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_counts_from_when_the_request_reached_the_function_url() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    devin.reply([Reply::Hang(Duration::from_secs(3))]);
    // A cold start kept the request waiting 3.5 s: 0.5 s of the 4 s budget is left.
    let waited = Duration::from_millis(3500);
    let asked = Instant::now();
    let (status, _, _) = http_answer(
        runtime
            .invoke_received(&sample_event("incident-triggered.json"), waited)
            .await,
    );
    assert_eq!(status, 503);
    assert!(
        waited + asked.elapsed() < Duration::from_millis(4800),
        "answered {:?} after PagerDuty sent it",
        waited + asked.elapsed()
    );
    // Waiting past the whole budget: nothing is started, PagerDuty retries.
    let requests = devin.requests();
    let other = another_delivery("01JDX9TOOLATE000000000000", Some("QTOOLATE"));
    let (status, body, headers) = http_answer(
        runtime
            .invoke_received(&other, Duration::from_millis(4200))
            .await,
    );
    assert_eq!(
        (status, &headers["retry-after"]),
        (503, &json!("5")),
        "{body}"
    );
    assert_eq!(devin.requests(), requests, "Devin was not called");
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_that_fits_is_honoured() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    devin.reply([Reply::Status(429, Some("1"))]);
    let asked = Instant::now();
    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert!(
        asked.elapsed() >= Duration::from_secs(1),
        "waited as Devin asked"
    );
    assert_eq!(devin.sessions().len(), 1);

    let output = function.stop().await;
    let retry = log_lines(&output)
        .into_iter()
        .find(|line| line["level"] == "WARN" && line["fields"]["retry_in_ms"].is_number())
        .unwrap_or_else(|| panic!("no retry line in {output}"));
    assert_eq!(retry["fields"]["retry_in_ms"], 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_on_create_is_not_repeated_and_the_retry_after_the_lease_starts_one() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    // A lease of 1 s must outlive the budget (CLAIM_LEASE_SECONDS' floor).
    let env = Env::local(&devin.url)
        .set("CLAIM_LEASE_SECONDS", "1")
        .set("DELIVERY_BUDGET_MS", "900");
    let function = runtime.spawn_function(&env.vars());
    let event = sample_event("incident-triggered.json");
    devin.reply([Reply::Status(502, None)]);
    let (status, _, headers) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &headers["retry-after"]), (503, &json!("5")));
    assert_eq!(
        devin.creates(),
        1,
        "a create that may have happened is not repeated"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    devin.reply_to_lookups([Reply::Status(503, None)]);
    let (status, body, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!((devin.sessions().len(), devin.creates()), (1, 2));

    let output = function.stop().await;
    let metrics = metrics(&output);
    assert_eq!(total(&metrics, "DevinErrors"), 2);
    assert_eq!(total(&metrics, "SessionsStarted"), 1);
    assert!(metrics[0]["DevinLatency"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_delivery_twice_and_three_times_starts_one_session() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    let event = sample_event("incident-triggered.json");

    let (status, first, _) = http_answer(runtime.invoke(&event).await);
    assert_eq!((status, &first["status"]), (202, &json!("session_started")));
    let requests_for_the_first = devin.requests();
    for _ in 0..2 {
        let (status, again, _) = http_answer(runtime.invoke(&event).await);
        assert_eq!((status, &again), (202, &first));
    }
    assert_eq!(
        devin.requests(),
        requests_for_the_first,
        "repeats never reach Devin"
    );
    assert_eq!(devin.sessions().len(), 1);

    let output = function.stop().await;
    let metrics = metrics(&output);
    assert_eq!(metrics.len(), 3, "one metrics line per delivery");
    assert_eq!(total(&metrics, "SessionsStarted"), 1);
    assert_eq!(total(&metrics, "DuplicatesSuppressed"), 2);
    assert_eq!(metrics[0]["FunctionName"], "pagerduty-devin-bridge");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_deliveries_of_one_incident_start_one_session() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    let (_, first, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    let (status, second, _) = http_answer(
        runtime
            .invoke(&another_delivery("01JDX9ANOTHERDELIVERY00000", None))
            .await,
    );
    assert_eq!((status, &second["status"]), (202, &json!("session_exists")));
    assert_eq!(second["session_id"], first["session_id"]);
    // Another incident gets its own.
    let (_, third, _) = http_answer(
        runtime
            .invoke(&another_delivery(
                "01JDX9THIRDDELIVERY0000000",
                Some("QOTHERINCIDENT"),
            ))
            .await,
    );
    assert_eq!(third["status"], "session_started");
    assert_eq!(devin.sessions().len(), 2);
    function.stop().await;
}

const ROTATING: &str = "bridge/rotating";

fn secret_json(api_key: &str, signing: &str) -> String {
    json!({
        "DEVIN_API_KEY": api_key,
        "WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
        "PAGERDUTY_SIGNING_SECRET": signing,
    })
    .to_string()
}

fn moto_env(moto: &Moto, devin_url: &str, arn: &str, ttl: &str) -> Env {
    Env::secrets_manager(devin_url, moto, arn).set("SECRETS_TTL_SECONDS", ttl)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signing_secret_rotated_in_secrets_manager_takes_over_without_a_redeploy() {
    let moto = Moto::start().await;
    let arn = moto
        .create_secret(ROTATING, &secret_json("cog_k1", "old-signing-secret"))
        .await;
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&moto_env(&moto, &devin.url, &arn, "1").vars());
    let ping = delivery_body(&sample_event("pagey-ping.json"));
    let signed_with = |secret| signed_event(&ping, LOCAL_WEBHOOK_SECRET, secret);

    let (status, _, _) = http_answer(runtime.invoke(&signed_with("old-signing-secret")).await);
    assert_eq!(status, 202);
    moto.put_secret(&arn, &secret_json("cog_k1", "new-signing-secret"))
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, _) = http_answer(runtime.invoke(&signed_with("new-signing-secret")).await);
    assert_eq!(
        status, 202,
        "the new secret is accepted once the old copy expired"
    );
    let (status, _, _) = http_answer(runtime.invoke(&signed_with("old-signing-secret")).await);
    assert_eq!(status, 401, "the old secret is refused after the refresh");

    let output = function.stop().await;
    assert!(output.contains("secrets refreshed"), "{output}");
    for secret in ["old-signing-secret", "new-signing-secret", "cog_k1"] {
        assert!(!output.contains(secret), "a secret reached the log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_devin_401_fetches_the_rotated_key_and_tries_again() {
    let moto = Moto::start().await;
    let arn = moto
        .create_secret(ROTATING, &secret_json("cog_old_key", LOCAL_SIGNING_SECRET))
        .await;
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&moto_env(&moto, &devin.url, &arn, "300").vars());
    let (status, _, _) = http_answer(runtime.invoke(&sample_event("pagey-ping.json")).await);
    assert_eq!(status, 202, "the function is up with the old key");

    moto.put_secret(&arn, &secret_json("cog_new_key", LOCAL_SIGNING_SECRET))
        .await;
    devin.accept_only("cog_new_key");
    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(
        devin.received().last().unwrap().authorization.as_deref(),
        Some("Bearer cog_new_key")
    );
    assert_eq!(devin.sessions().len(), 1);
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_manager_down_on_a_refresh_keeps_the_held_secrets_serving() {
    let moto = Moto::start().await;
    let arn = moto
        .create_secret(ROTATING, &secret_json("cog_k1", LOCAL_SIGNING_SECRET))
        .await;
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&moto_env(&moto, &devin.url, &arn, "1").vars());
    let (status, _, _) = http_answer(runtime.invoke(&sample_event("pagey-ping.json")).await);
    assert_eq!(status, 202);

    moto.stop();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body, _) = http_answer(
        runtime
            .invoke(&sample_event("incident-triggered.json"))
            .await,
    );
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    let (status, _, _) = http_answer(runtime.invoke(&sample_event("bad-signature.json")).await);
    assert_eq!(status, 401, "still verifying with the held secrets");

    let output = function.stop().await;
    let warning = log_lines(&output)
        .into_iter()
        .find(|line| {
            line["fields"]["message"] == "secrets not refreshed; the ones held keep serving"
        })
        .unwrap_or_else(|| panic!("no warning in {output}"));
    assert_eq!(warning["level"], "WARN");
}
