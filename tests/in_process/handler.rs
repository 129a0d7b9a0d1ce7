//! The handler in process, fed Function URL events (the `events/` samples and variations of
//! them), with a real Devin API fake on loopback.

use std::time::Duration;

use crate::support::devin::{FakeDevin, Reply};
use crate::support::*;
use pagerduty_devin_bridge::delivery::function_url::FunctionUrlRequest;
use pure::inbound::secret::Secret;
use pure::inbound::verify::{sign, Verifier};
use pure::inbound::webhook;
use serde_json::{json, Value};

/// Every sample event is a valid Function URL event whose signature is right (or, for
/// `bad-signature.json`, wrong) under the local development secrets CONTRIBUTING.md gives.
#[test]
fn sample_events_are_signed_with_the_local_secrets() {
    let events = sample_events();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    for required in [
        "bad-signature.json",
        "incident-acknowledged.json",
        "incident-triggered.json",
        "pagey-ping.json",
    ] {
        assert!(names.contains(&required), "events/{required} is missing");
    }
    let webhook_secret = Secret::new(LOCAL_WEBHOOK_SECRET);
    let signing_secrets = [Secret::new(LOCAL_SIGNING_SECRET)];
    let verifier = Verifier::new(std::slice::from_ref(&webhook_secret), &signing_secrets);
    for (name, json) in &events {
        serde_json::from_str::<FunctionUrlRequest>(json).expect("a Function URL event");
        let event: Value = serde_json::from_str(json).unwrap();
        assert_eq!(event["version"], "2.0", "{name}");
        assert_eq!(event["rawPath"], "/pagerduty-alert", "{name}");
        let body = event["body"].as_str().unwrap();
        webhook::parse(body.as_bytes()).expect("a PagerDuty delivery");
        let header = event["headers"]["x-pagerduty-signature"].as_str().unwrap();
        let verified = verifier.verify(
            event["headers"]["x-webhook-secret"]
                .as_str()
                .map(str::as_bytes),
            Some(header.as_bytes()),
            body.as_bytes(),
        );
        if name.starts_with("bad-signature") {
            assert!(verified.is_err(), "{name} must not verify");
        } else {
            assert_eq!(
                verified,
                Ok(()),
                "{name}: after editing its body, set x-pagerduty-signature to {}",
                sign(LOCAL_SIGNING_SECRET, body.as_bytes())
            );
        }
    }
}

/// Each sample event, run through the handler in order of file name (so the forwarded events
/// come before any session exists): the answer each must get, written out.
#[tokio::test]
async fn every_sample_event_gets_its_answer() {
    let expected = [
        ("bad-signature.json", 401, "unauthorized"),
        ("incident-acknowledged.json", 202, "ignored"),
        ("incident-annotated.json", 202, "no_session"),
        ("incident-resolved.json", 202, "no_session"),
        (
            "incident-triggered-low-urgency.json",
            202,
            "session_started",
        ),
        ("incident-triggered-p1.json", 202, "session_started"),
        ("incident-triggered.json", 202, "session_started"),
        ("pagey-ping.json", 202, "ignored"),
    ];
    let events = sample_events();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let listed: Vec<&str> = expected.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(
        names, listed,
        "every sample event has its expected answer here"
    );

    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    for ((name, json), (_, status_wanted, outcome_wanted)) in events.iter().zip(expected) {
        let (status, body, _) = handle(&bridge, json).await;
        let outcome = body["status"].as_str().or(body["error"].as_str()).unwrap();
        assert_eq!(
            (status, outcome),
            (status_wanted, outcome_wanted),
            "{name}: {body}"
        );
    }
    assert_eq!(devin.sessions().len(), 3, "one per triggered sample");
}

#[tokio::test]
async fn a_triggered_incident_starts_one_session() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    let (status, body, _) = handle(&bridge, &sample_event("incident-triggered.json")).await;

    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "session_started");
    assert_eq!(body["incident_id"], "Q3VQH2T8RZK1MN");
    assert_eq!(body["session_id"], format!("devin-{:032x}", 1));
    assert_eq!(
        body["url"],
        format!("https://app.devin.ai/sessions/{:032x}", 1)
    );

    let received = devin.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.org_id, "org-test");
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TEST_DEVIN_API_KEY}").as_str())
    );
    assert_eq!(
        request.body["tags"],
        json!([
            "pagerduty-triage",
            "service:checkout-api",
            "pagerduty-incident:Q3VQH2T8RZK1MN"
        ])
    );
    assert_eq!(
        request.body["title"],
        "PagerDuty #1423 · checkout-api: High 5xx error rate on checkout-api (12.4% over 5 min) [Q3VQH2T8RZK1MN]"
    );
    let prompt = request.body["prompt"].as_str().unwrap();
    for fact in [
        r#""title": "High 5xx error rate on checkout-api (12.4% over 5 min)""#,
        r#""priority": "P1""#,
        r#""urgency": "high""#,
        r#""number": 1423"#,
        r#""url": "https://acme.pagerduty.com/incidents/Q3VQH2T8RZK1MN""#,
    ] {
        assert!(prompt.contains(fact), "the prompt lacks {fact}");
    }
}

#[tokio::test]
async fn other_event_types_start_nothing() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    for (name, event_type) in [
        ("pagey-ping.json", "pagey.ping"),
        ("incident-acknowledged.json", "incident.acknowledged"),
    ] {
        let (status, body, _) = handle(&bridge, &sample_event(name)).await;
        assert_eq!(status, 202, "{name}");
        assert_eq!(body, json!({"status": "ignored", "event_type": event_type}));
    }
    // A type that does not exist yet is ignored the same way.
    let future = r#"{"event":{"id":"E9","event_type":"incident.telepathy_requested","resource_type":"incident","data":{"type":"mystery"}}}"#;
    let (status, body, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", future),
    )
    .await;
    assert_eq!((status, &body["status"]), (202, &json!("ignored")));
    assert!(devin.received().is_empty());
}

#[tokio::test]
async fn forged_deliveries_get_a_bare_401() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    let body = delivery_body(&sample_event("incident-triggered.json"));
    let signature = sign(LOCAL_SIGNING_SECRET, body.as_bytes());
    let forgeries = [
        sample_event("bad-signature.json"),
        function_url_event_with_headers("POST", "/pagerduty-alert", &body, json!({})),
        function_url_event_with_headers(
            "POST",
            "/pagerduty-alert",
            &body,
            json!({"x-pagerduty-signature": signature}),
        ),
        function_url_event_with_headers(
            "POST",
            "/pagerduty-alert",
            &body,
            json!({"x-pagerduty-signature": signature, "x-webhook-secret": "local-webhook-secreT"}),
        ),
        function_url_event_with_headers(
            "POST",
            "/pagerduty-alert",
            &format!("{body} "),
            json!({"x-pagerduty-signature": signature, "x-webhook-secret": LOCAL_WEBHOOK_SECRET}),
        ),
    ];
    for forgery in &forgeries {
        let (status, answer, _) = handle(&bridge, forgery).await;
        assert_eq!((status, answer), (401, json!({"error": "unauthorized"})));
    }
    assert!(devin.received().is_empty());
}

#[tokio::test]
async fn routing_answers_404_and_405() {
    let bridge = bridge("http://127.0.0.1:9", false).await;
    let body = delivery_body(&sample_event("incident-triggered.json"));
    for path in ["/", "/pagerduty-alert/", "/other", "/PAGERDUTY-ALERT"] {
        let (status, _, _) = handle(&bridge, &function_url_event("POST", path, &body)).await;
        assert_eq!(status, 404, "{path}");
    }
    for method in ["GET", "PUT", "DELETE"] {
        let (status, _, headers) = handle(
            &bridge,
            &function_url_event(method, "/pagerduty-alert", &body),
        )
        .await;
        assert_eq!(status, 405, "{method}");
        assert_eq!(headers["allow"], "POST");
    }
}

#[tokio::test]
async fn bad_input_starts_nothing_and_only_a_broken_envelope_is_a_4xx() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    let huge = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1 << 20));
    let (status, _, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", &huge),
    )
    .await;
    assert_eq!(status, 413);

    // Not PagerDuty's envelope at all: 400.
    for bad in [
        "",
        "{not json",
        r#"{"event":{"event_type":"incident.triggered"}}"#,
    ] {
        let (status, body, _) = handle(
            &bridge,
            &function_url_event("POST", "/pagerduty-alert", bad),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad request");
    }
    // A verified envelope whose data is not the incident its type carries: 202 ignored, since
    // three 4xx answers in a row make PagerDuty disable the subscription (issue 19; this was
    // 400 before).
    for unusable in [
        r#"{"event":{"id":"E1","event_type":"incident.triggered","data":{"type":"incident"}}}"#,
        r#"{"event":{"id":"E1","event_type":"incident.triggered","data":{"type":"incident","id":"P1","title":42}}}"#,
        r#"{"event":{"id":"E1","event_type":"incident.triggered"}}"#,
    ] {
        let (status, body, _) = handle(
            &bridge,
            &function_url_event("POST", "/pagerduty-alert", unusable),
        )
        .await;
        assert_eq!(
            (status, &body["status"], &body["event_type"]),
            (202, &json!("ignored"), &json!("incident.triggered")),
            "{unusable}: {body}"
        );
    }
    assert!(devin.received().is_empty());
}

#[tokio::test]
async fn a_minimal_triggered_incident_still_starts_a_session() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    let minimal = r#"{"event":{"id":"E1","event_type":"incident.triggered","data":{"type":"incident","id":"PMIN","teams":null}}}"#;
    let (status, body, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", minimal),
    )
    .await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(
        devin.received()[0].body["tags"],
        json!(["pagerduty-triage", "pagerduty-incident:PMIN"])
    );
}

#[tokio::test]
async fn dry_run_shows_the_exact_request_and_sends_nothing() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, true).await;
    let (status, body, _) = handle(&bridge, &sample_event("incident-triggered.json")).await;
    assert_eq!(status, 202);
    assert_eq!(body["status"], "dry_run");
    assert_eq!(body["request"]["method"], "POST");
    assert_eq!(
        body["request"]["url"],
        format!("{}/v3/organizations/org-test/sessions", devin.url)
    );
    assert!(body["request"]["body"]["prompt"]
        .as_str()
        .unwrap()
        .contains("checkout-api"));
    assert!(devin.received().is_empty());
    assert!(!body.to_string().contains(TEST_DEVIN_API_KEY));
}

/// One triggered incident through a fresh bridge whose Devin first answers `replies`; and how
/// many creates Devin received.
async fn first_delivery(replies: Vec<Reply>) -> (u16, Value, lambda_http::http::HeaderMap, usize) {
    let devin = FakeDevin::start().await;
    devin.reply(replies);
    let bridge = bridge(&devin.url, false).await;
    let (status, body, headers) = handle(&bridge, &sample_event("incident-triggered.json")).await;
    (status, body, headers, devin.creates())
}

#[tokio::test]
async fn devin_failures_become_answers_pagerduty_can_live_with() {
    // Devin's rate limit, when it asks for more time than the budget has: passed on.
    let (status, _, headers, _) = first_delivery(vec![Reply::Status(429, Some("7"))]).await;
    assert_eq!(
        (status, &headers["retry-after"]),
        (429, &"7".parse().unwrap())
    );
    // A refusal no retry can fix for this incident: 202, so it never blocks the subscription.
    for code in [400, 409, 422] {
        let (status, body, _, creates) = first_delivery(vec![Reply::Status(code, None)]).await;
        assert_eq!(
            (status, &body["status"]),
            (202, &json!("devin_rejected")),
            "Devin {code}"
        );
        assert_eq!(
            (&body["devin_status"], creates),
            (&json!(code), 1),
            "no retry"
        );
    }
    // Credentials, permissions, and a 404 (no such organization: `DEVIN_ORG_ID`, not this
    // incident): 5xx, so the backlog arrives once the operator fixes them.
    for code in [401, 403, 404] {
        let (status, body, _, _) = first_delivery(vec![Reply::Status(code, None)]).await;
        assert_eq!(status, 502, "Devin {code}");
        assert!(!body.to_string().contains(TEST_DEVIN_API_KEY));
    }
    // A 2xx that is not a session, and Devin slower than the budget: the session may exist,
    // so 503 and never a second create in this delivery.
    for reply in [Reply::Garbage, Reply::Hang(Duration::from_secs(3))] {
        let (status, _, headers, creates) = first_delivery(vec![reply.clone()]).await;
        assert_eq!(
            (status, &headers["retry-after"], creates),
            (503, &"5".parse().unwrap(), 1),
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn only_failures_that_prove_no_session_are_retried_inside_the_budget() {
    let (status, body, _, creates) =
        first_delivery(vec![Reply::Status(429, None), Reply::Status(429, None)]).await;
    assert_eq!(
        (status, &body["status"], creates),
        (202, &json!("session_started"), 3)
    );
    for server_error in [500, 503] {
        let (status, _, _, creates) = first_delivery(vec![Reply::Status(server_error, None)]).await;
        assert_eq!((status, creates), (503, 1), "Devin {server_error}");
    }
}

#[tokio::test]
async fn a_lasting_outage_spends_the_budget_then_answers_503() {
    let devin = FakeDevin::start().await;
    devin.outage(Some(500));
    let bridge = bridge(&devin.url, false).await;
    let (status, _, headers) = handle(&bridge, &sample_event("incident-triggered.json")).await;
    assert_eq!(
        (status, &headers["retry-after"]),
        (503, &"5".parse().unwrap())
    );
    assert_eq!(
        devin.creates(),
        1,
        "a create that may have happened is never repeated"
    );

    // Nothing listening at all.
    let closed = bridge_to_a_closed_port().await;
    let (status, _, _) = handle(&closed, &sample_event("incident-triggered.json")).await;
    assert_eq!(status, 503);
}

async fn bridge_to_a_closed_port() -> pagerduty_devin_bridge::delivery::Bridge {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    bridge(&url, false).await
}
