//! PagerDuty as its published contract describes it, end to end through the built binaries:
//! REST incidents read in REST's shape give the same brief as their delivery, a note PagerDuty
//! cut short reaches Devin whole, and a verified delivery the bridge cannot use is ignored with
//! a 2xx, never refused with a 4xx that would make PagerDuty disable the subscription.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::fleet::Fleet;
use crate::support::incident::{full_incident, triggered_as};
use crate::support::runtime_api::{http_answer, RuntimeApi};
use crate::support::*;

/// A signed delivery of `event_type` with `data`.
fn delivery(event_id: &str, event_type: &str, data: Value) -> String {
    let body = json!({"event": {"id": event_id, "event_type": event_type,
        "resource_type": "incident", "occurred_at": "2026-11-28T09:20:02.811Z",
        "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana Ops"},
        "client": null, "data": data}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// A responder's note on `incident`, as `incident.annotated` carries it.
fn note(event_id: &str, incident: &str, note_id: &str, content: &str, trimmed: bool) -> String {
    delivery(
        event_id,
        "incident.annotated",
        json!({"type": "incident_note", "id": note_id, "content": content, "trimmed": trimmed,
               "incident": {"id": incident, "type": "incident_reference"}}),
    )
}

/// The session creates Devin received: title and prompt.
fn creates(devin: &FakeDevin) -> Vec<(String, String)> {
    devin
        .received()
        .iter()
        .filter_map(|received| {
            let title = received.body["title"].as_str()?;
            let prompt = received.body["prompt"].as_str()?;
            Some((title.to_owned(), prompt.to_owned()))
        })
        .collect()
}

/// Drops the incident's ledger record: a later path starts its session again.
async fn forget(fleet: &Fleet, id: &str) {
    fleet
        .moto
        .as_ref()
        .unwrap()
        .dynamodb()
        .delete_item()
        .table_name(&fleet.table)
        .key("pk", AttributeValue::S(format!("incident#{id}")))
        .send()
        .await
        .unwrap();
}

/// The same incident, started three ways: by its delivery, by the follow-up's sweep (which
/// reads `GET /incidents`) and by `devin investigate` (which reads `GET /incidents/{id}`). The
/// fake serves REST's shape (`incident_number`, `assignments[].assignee`), so the title and the
/// brief are the same only when REST is read with its own names. What only a delivery knows
/// (its event type and when it occurred) is not in the built-in title or brief; the status is
/// the same here, though REST gives it as it is now and a delivery as it was then.
#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_and_devin_investigate_give_the_title_and_brief_of_the_delivery() {
    let fleet = Fleet::start(1, &[]).await;
    let incident = full_incident("QSAME1", Duration::from_secs(300));
    fleet.pagerduty.add_incident(incident.clone());

    let (_, body) = fleet
        .instance(0)
        .deliver(&triggered_as(&incident, "EVSAME1"))
        .await;
    assert_eq!(body["status"], "session_started", "{body}");

    forget(&fleet, "QSAME1").await;
    // The sweep reads the incident's service (`full_incident`'s).
    let follow = fleet.follow_up(&[("SWEEP_SERVICE_IDS", "PSVC1")]).await;
    let report = follow.run().await;
    assert_eq!(
        report["actions"][0]["action"], "session_started",
        "{report}"
    );

    forget(&fleet, "QSAME1").await;
    let asked = delivery(
        "EVSAME2",
        "incident.annotated",
        json!({"type": "incident_note", "id": "PNOTEASK", "content": "devin investigate",
               "trimmed": false, "incident": {"id": "QSAME1", "type": "incident_reference"}}),
    );
    let (_, body) = fleet.instance(0).deliver(&asked).await;
    assert_eq!(body["status"], "session_started", "{body}");

    let creates = creates(&fleet.devin);
    assert_eq!(creates.len(), 3, "{creates:?}");
    let (title, prompt) = &creates[0];
    assert_eq!(
        title,
        "PagerDuty #4242 · checkout-api: Checkout 5xx above 2% [QSAME1]"
    );
    assert!(prompt.contains(r#""assignees": ["#) && prompt.contains(r#""Dana Ops""#));
    for (path, (other_title, other_prompt)) in
        ["the sweep", "devin investigate"].iter().zip(&creates[1..])
    {
        assert_eq!(other_title, title, "{path}");
        assert_eq!(other_prompt, prompt, "{path}");
    }
    follow.function.stop().await;
    fleet.stop().await;
}

/// A note PagerDuty cut short (`trimmed: true`) is read whole from `GET /incidents/{id}/notes`
/// and found by its id, for a plain note and for a note command alike.
#[tokio::test(flavor = "multi_thread")]
async fn a_note_pagerduty_cut_short_reaches_devin_whole() {
    let fleet = Fleet::start(1, &[]).await;
    let incident = full_incident("QCUT1", Duration::ZERO);
    let triggered = delivery("EVCUT0", "incident.triggered", incident);
    let (_, body) = fleet.instance(0).deliver(&triggered).await;
    assert_eq!(body["status"], "session_started", "{body}");

    let whole = format!(
        "Rolled back 4.2.1 at 09:18. {}The end.",
        "Details. ".repeat(40)
    );
    let ask = format!(
        "devin compare the pool metrics. {}Last line.",
        "More. ".repeat(40)
    );
    for (id, content) in [("PNOTEWHOLE", &whole), ("PNOTEASK", &ask)] {
        fleet.pagerduty.add_note_on(
            "QCUT1",
            json!({"id": id, "content": content, "created_at": "2026-11-28T09:20:02Z",
                   "user": {"id": "PDANA", "type": "user_reference", "summary": "Dana Ops"}}),
        );
    }
    let (_, body) = fleet
        .instance(0)
        .deliver(&note("EVCUT1", "QCUT1", "PNOTEWHOLE", &whole[..40], true))
        .await;
    assert_eq!(body["status"], "forwarded", "{body}");
    let (_, body) = fleet
        .instance(0)
        .deliver(&note("EVCUT2", "QCUT1", "PNOTEASK", &ask[..40], true))
        .await;
    assert_eq!(body["status"], "forwarded", "{body}");

    let messages = fleet.devin.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].message.contains("The end."),
        "{}",
        messages[0].message
    );
    assert!(
        messages[1].message.starts_with("A responder wrote to you")
            && messages[1].message.contains("Last line."),
        "{}",
        messages[1].message
    );
    assert!(messages.iter().all(|m| !m.message.contains("cut short")));
    fleet.stop().await;
}

/// Without a PagerDuty token the whole note cannot be read: what came is passed on, marked as
/// cut, so that the session does not take the beginning of a note for all of it.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_a_cut_note_is_passed_on_as_cut() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    let triggered = delivery(
        "EVNOTOKEN0",
        "incident.triggered",
        full_incident("QNOTOKEN1", Duration::ZERO),
    );
    let (_, body, _) = http_answer(runtime.invoke(&triggered).await);
    assert_eq!(body["status"], "session_started", "{body}");
    let cut = note(
        "EVNOTOKEN1",
        "QNOTOKEN1",
        "PNOTE9",
        "Rolled back 4.2.1 at",
        true,
    );
    let (status, body, _) = http_answer(runtime.invoke(&cut).await);
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("forwarded")),
        "{body}"
    );
    let message = &devin.messages()[0].message;
    assert!(
        message.contains(
            "Rolled back 4.2.1 at [… cut short by PagerDuty; the rest could not be read]"
        ),
        "{message}"
    );
    function.stop().await;
}

/// Verified, well-formed deliveries whose `data` the bridge cannot use: types whose data is not
/// an incident (shapes from PagerDuty's webhook overview, "Event Data Types"), and types that
/// should carry an incident or a note but carry something else. All are ignored with a 202; only
/// a body that is not PagerDuty's envelope at all is refused.
#[tokio::test(flavor = "multi_thread")]
async fn deliveries_the_bridge_cannot_use_are_ignored_never_refused() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&Env::local(&devin.url).vars());
    let on_incident = json!({"id": "PGR0VU2", "type": "incident_reference",
        "summary": "A little bump in the road",
        "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2"});
    let status_update = json!({"incident": on_incident, "id": "P2LA89X",
        "message": "A fix for this incident is being developed", "trimmed": false,
        "type": "incident_status_update"});
    let responder = json!({"incident": on_incident,
        "user": {"id": "PVMGSML", "type": "user_reference", "summary": "Maeve"},
        "escalation_policy": {"id": "PJFWPEP", "type": "escalation_policy_reference",
                              "summary": "The Policy"},
        "message": "Please help me make the tests pass", "state": "pending",
        "type": "incident_responder"});
    let unusable = [
        ("incident.status_update_published", status_update.clone()),
        ("incident.responder.added", responder.clone()),
        // Forwarded types (the default forward_events) carrying something else.
        ("incident.resolved", responder),
        ("incident.annotated", status_update),
        // A type that starts sessions, without an incident id.
        (
            "incident.triggered",
            json!({"type": "incident", "title": "no id"}),
        ),
    ];
    for (n, (event_type, data)) in unusable.into_iter().enumerate() {
        let event = delivery(&format!("EVUNUSABLE{n}"), event_type, data);
        let (status, body, _) = http_answer(runtime.invoke(&event).await);
        assert_eq!(
            (status, &body["status"], &body["event_type"]),
            (202, &json!("ignored"), &json!(event_type)),
            "{body}"
        );
    }
    let broken = function_url_event("POST", "/pagerduty-alert", r#"{"event": {"id": 7}}"#);
    let (status, body, _) = http_answer(runtime.invoke(&broken).await);
    assert_eq!((status, &body["error"]), (400, &json!("bad request")));
    assert_eq!(devin.requests(), 0);
    function.stop().await;
}
