//! Tried as an attacker would, in process: empty and path-bending ids, replays of old
//! deliveries, rotated secrets, and requests from outside the allowed sources. (Raw events that
//! killed the instance, logs at TRACE and the warning of a weak verification run the built
//! binary: `tests/bridge/hostile.rs`.)

use serde_json::{json, Value};

use pure::inbound::timestamp;

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::*;

#[tokio::test]
async fn empty_and_bending_ids_start_nothing() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    for id in ["", "../incidents", "P 1", "P\u{202e}1"] {
        let triggered = json!({"event": {"id": "E1", "event_type": "incident.triggered",
            "data": {"type": "incident", "id": id, "title": "t"}}});
        let note = json!({"event": {"id": "E2", "event_type": "incident.annotated",
            "data": {"type": "incident_note", "id": "N1", "content": "x", "incident": {"id": id}}}});
        for body in [triggered, note] {
            let event = function_url_event("POST", "/pagerduty-alert", &body.to_string());
            let (status, answer, _) = handle(&bridge, &event).await;
            // Verified and well-formed, but no incident the bridge can use: ignored, not 4xx
            // (issue 19: 4xx answers make PagerDuty disable the subscription).
            assert_eq!(
                (status, &answer["status"]),
                (202, &json!("ignored")),
                "{id:?}"
            );
        }
    }
    assert_eq!(devin.requests(), 0);
}

#[tokio::test]
async fn a_replayed_old_delivery_starts_nothing() {
    let devin = FakeDevin::start().await;
    let env = Env::local(&devin.url).set("DELIVERY_MAX_AGE_HOURS", "49");
    let bridge = bridge_with_env(env).await;
    let old = delivery_body(&sample_event("incident-triggered.json"))
        .replace("2026-11-28T09:12:04.512Z", "2020-01-01T00:00:00.000Z");
    assert!(
        old.contains("2020-01-01"),
        "the sample's occurred_at was replaced"
    );
    let (status, body, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", &old),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            202,
            json!({"status": "stale", "occurred_at": "2020-01-01T00:00:00.000Z"})
        )
    );
    // A fresh one is served.
    let now = now_ms();
    let fresh = delivery_body(&sample_event("incident-triggered.json"))
        .replace("2026-11-28T09:12:04.512Z", &timestamp::rfc3339(now));
    let (status, body, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", &fresh),
    )
    .await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(devin.creates(), 1);
}

#[tokio::test]
async fn both_values_of_a_rotated_webhook_secret_are_accepted() {
    let devin = FakeDevin::start().await;
    let env = Env::local(&devin.url)
        .set(
            "WEBHOOK_SECRET",
            "the-new-webhook-secret-of-48-characters-long-xx,local-webhook-secret",
        )
        .unset("PAGERDUTY_SIGNING_SECRET");
    let bridge = bridge_with_env(env).await;
    let ping = delivery_body(&sample_event("pagey-ping.json"));
    for (secret, status) in [
        ("the-new-webhook-secret-of-48-characters-long-xx", 202),
        (LOCAL_WEBHOOK_SECRET, 202),
        ("local-webhook-secreT", 401),
        ("", 401),
    ] {
        let (answered, _, _) = handle(&bridge, &signed_event(&ping, secret, "any")).await;
        assert_eq!(answered, status, "{secret:?}");
    }
}

#[tokio::test]
async fn only_the_allowed_sources_are_heard() {
    let devin = FakeDevin::start().await;
    let env = Env::local(&devin.url).set("ALLOWED_SOURCE_CIDRS", "44.242.69.192/32,10.0.0.0/8");
    let bridge = bridge_with_env(env).await;
    let from = |ip: &str| {
        let mut event: Value = serde_json::from_str(&sample_event("pagey-ping.json")).unwrap();
        event["requestContext"]["http"]["sourceIp"] = json!(ip);
        event.to_string()
    };
    for (ip, status) in [
        ("44.242.69.192", 202),
        ("10.1.2.3", 202),
        ("127.0.0.1", 403),
        ("", 403),
    ] {
        let (answered, body, _) = handle(&bridge, &from(ip)).await;
        assert_eq!(answered, status, "{ip}: {body}");
    }
    // Refused before any other check: a forged delivery from outside is a 403, not a 401.
    let forged = {
        let mut event: Value = serde_json::from_str(&sample_event("bad-signature.json")).unwrap();
        event["requestContext"]["http"]["sourceIp"] = json!("203.0.113.9");
        event.to_string()
    };
    assert_eq!(handle(&bridge, &forged).await.0, 403);
}
