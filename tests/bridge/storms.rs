//! Alert storms and spend, end to end: several `bootstrap` instances on one ledger (DynamoDB in
//! moto), one Devin fake and one PagerDuty fake. Related incidents share one investigation,
//! budgets hold under concurrency, merges hand the work over, shadow mode starts nothing.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::support::fleet::Fleet;
use crate::support::*;

/// A triggered delivery of incident `id` (number `number`) on `service`.
pub(crate) fn incident(id: &str, number: u64, service: &str) -> String {
    let body = json!({"event": {
        "id": format!("EV{id}"), "event_type": "incident.triggered",
        "resource_type": "incident", "occurred_at": "2026-11-28T09:12:04.512Z", "agent": null,
        "data": {"type": "incident", "id": id, "number": number, "status": "triggered",
                 "title": format!("Errors on {service}"), "urgency": "high",
                 "service": {"id": format!("P{}", service.len()), "summary": service},
                 "teams": [], "assignees": [], "priority": null}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// Delivers every event at once, spread over the fleet: their answers, in order. Prints what
/// the storm cost: Devin and ledger calls per incident, and the answer times.
async fn storm(fleet: &Fleet, events: &[String]) -> Vec<(u16, Value)> {
    let started = Instant::now();
    let (devin_before, aws_before) = (fleet.devin.requests(), aws_calls(fleet));
    let answered = join_all(events.iter().enumerate().map(|(n, event)| async move {
        let asked = Instant::now();
        let answer = fleet.instance(n).deliver(event).await;
        (answer, asked.elapsed())
    }))
    .await;
    let took = started.elapsed();
    let mut times: Vec<Duration> = answered.iter().map(|(_, took)| *took).collect();
    times.sort();
    let per_incident = |calls: usize| calls as f64 / events.len() as f64;
    println!(
        "storm: {} incidents on {} instances in {:.2} s; {:.2} Devin calls and {:.2} ledger calls \
         per incident; answer p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        events.len(),
        fleet.instances.len(),
        took.as_secs_f64(),
        per_incident(fleet.devin.requests() - devin_before),
        per_incident(aws_calls(fleet) - aws_before),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[(times.len() * 99).div_ceil(100) - 1].as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );
    answered.into_iter().map(|(answer, _)| answer).collect()
}

/// DynamoDB calls so far.
fn aws_calls(fleet: &Fleet) -> usize {
    fleet
        .aws
        .counts()
        .iter()
        .filter(|(operation, _)| *operation != "GetSecretValue")
        .map(|(_, calls)| calls)
        .sum()
}

fn statuses(answers: &[(u16, Value)]) -> Vec<String> {
    answers
        .iter()
        .map(|(status, body)| {
            let outcome = body["status"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("?");
            format!("{status} {outcome}")
        })
        .collect()
}

fn count(answers: &[(u16, Value)], wanted: &str) -> usize {
    statuses(answers).iter().filter(|s| *s == wanted).count()
}

pub(crate) const GROUP_BY_SERVICE: &str = r#"{"defaults": {"group_by": "{service}"}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_on_one_service_is_one_investigation() {
    let fleet = Fleet::start(2, &[("ROUTING_CONFIG", GROUP_BY_SERVICE)]).await;
    let events: Vec<String> = (0..30)
        .map(|n| incident(&format!("QSTORM{n:02}"), 100 + n, "platform-db"))
        .collect();
    let answers = storm(&fleet, &events).await;
    assert_eq!(
        count(&answers, "202 session_started"),
        1,
        "{:?}",
        statuses(&answers)
    );
    assert_eq!(
        count(&answers, "202 grouped"),
        29,
        "{:?}",
        statuses(&answers)
    );
    let sessions = fleet.devin.sessions();
    assert_eq!(sessions.len(), 1);
    let messages = fleet.devin.messages();
    assert_eq!(
        messages.len(),
        29,
        "each grouped incident told to the session"
    );
    assert!(messages
        .iter()
        .all(|m| m.devin_id == sessions[0].session_id));
    assert!(messages[0].message.contains("part of the same problem"));
    // The session carries every incident's tag (3 built-in + 29 added, under Devin's 50).
    assert_eq!(
        fleet.devin.sessions()[0]
            .tags
            .iter()
            .filter(|tag| tag.starts_with("pagerduty-incident:"))
            .count(),
        30
    );
    // Every incident got its note; a grouped one says with which.
    let notes = fleet.pagerduty.requests();
    assert_eq!(notes.len(), 30);
    let grouped_note = notes
        .iter()
        .find(|note| {
            note.body["note"]["content"]
                .as_str()
                .unwrap()
                .contains("Grouped with #")
        })
        .expect("a grouped note");
    assert!(grouped_note.body["note"]["content"]
        .as_str()
        .unwrap()
        .contains(&sessions[0].session_id));
    // A responder's note on a grouped incident reaches the group's session.
    let note = json!({"event": {"id": "EVNOTE1", "event_type": "incident.annotated",
        "agent": {"id": "PUSER1", "summary": "Dana"},
        "data": {"type": "incident_note", "id": "N1", "content": "DB failover done",
                 "incident": {"id": "QSTORM17"}}}});
    let (status, body) = fleet
        .instance(0)
        .deliver(&function_url_event(
            "POST",
            "/pagerduty-alert",
            &note.to_string(),
        ))
        .await;
    assert_eq!(
        (status, &body["session_id"]),
        (202, &json!(sessions[0].session_id))
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_over_three_services_is_three_investigations() {
    let fleet = Fleet::start(2, &[("ROUTING_CONFIG", GROUP_BY_SERVICE)]).await;
    let events: Vec<String> = (0..30)
        .map(|n| {
            incident(
                &format!("QTHREE{n:02}"),
                n,
                ["api", "db", "queue"][n as usize % 3],
            )
        })
        .collect();
    let answers = storm(&fleet, &events).await;
    assert_eq!(
        count(&answers, "202 session_started"),
        3,
        "{:?}",
        statuses(&answers)
    );
    assert_eq!(count(&answers, "202 grouped"), 27);
    assert_eq!(fleet.devin.sessions().len(), 3);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_of_five_an_hour_starts_five_sessions_whatever_arrives() {
    let policy = r#"{"limits": {"sessions_per_hour": 5}}"#;
    let fleet = Fleet::start(3, &[("ROUTING_CONFIG", policy)]).await;
    let events: Vec<String> = (0..30)
        .map(|n| incident(&format!("QCAP{n:02}"), n, &format!("svc{n}")))
        .collect();
    let answers = storm(&fleet, &events).await;
    assert_eq!(
        count(&answers, "202 session_started"),
        5,
        "{:?}",
        statuses(&answers)
    );
    assert_eq!(count(&answers, "202 capped"), 25);
    assert_eq!(fleet.devin.creates(), 5);
    let capped = answers
        .iter()
        .find(|(_, body)| body["status"] == "capped")
        .unwrap();
    assert_eq!(
        (&capped.1["limit"], &capped.1["scope"], &capped.1["cap"]),
        (&json!("sessions_per_hour"), &json!("bridge"), &json!(5))
    );
    let capped_notes = fleet
        .pagerduty
        .requests()
        .iter()
        .filter(|note| {
            note.body["note"]["content"]
                .as_str()
                .unwrap()
                .contains("budget")
        })
        .count();
    assert_eq!(
        capped_notes, 25,
        "each capped incident says which budget, and when it refills"
    );
    let output = fleet.stop().await;
    let capped_metric: u64 = crate::support::runtime_api::log_lines(&output)
        .iter()
        .filter_map(|line| line["SessionsCapped"].as_u64())
        .sum();
    assert_eq!(capped_metric, 25);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_closes_when_its_window_ends_or_it_is_full() {
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", GROUP_BY_SERVICE)]).await;
    let instance = fleet.instance(0);
    let (_, first) = instance.deliver(&incident("QWIN1", 1, "api")).await;
    let (_, second) = instance.deliver(&incident("QWIN2", 2, "api")).await;
    assert_eq!(
        (&first["status"], &second["status"]),
        (&json!("session_started"), &json!("grouped"))
    );

    // Time passes: the group's window ends (the ledger's record says so).
    let ledger = fleet.moto.as_ref().unwrap().dynamodb();
    let set = |attribute: &'static str, value: u64| {
        ledger
            .update_item()
            .table_name(&fleet.table)
            .key("pk", AttributeValue::S("group#api".into()))
            .update_expression(format!("SET {attribute} = :value"))
            .expression_attribute_values(":value", AttributeValue::N(value.to_string()))
            .send()
    };
    set("window_until", 1).await.unwrap();
    let (_, third) = instance.deliver(&incident("QWIN3", 3, "api")).await;
    assert_eq!(third["status"], "session_started", "a new group");
    assert_ne!(third["session_id"], first["session_id"]);

    // A group with 40 incidents takes no more.
    set("incidents", 40).await.unwrap();
    let (_, fourth) = instance.deliver(&incident("QWIN4", 4, "api")).await;
    assert_eq!(
        fourth["status"], "session_started",
        "the full group starts a new one"
    );
    assert_eq!(fleet.devin.sessions().len(), 3);
    fleet.stop().await;
}

/// `incident.resolved` for `id`, merged into `into`.
pub(crate) fn merged(id: &str, into: &str) -> String {
    let body = json!({"event": {"id": format!("EVMERGE{id}"), "event_type": "incident.resolved",
        "agent": {"id": "PUSER1", "summary": "Dana"},
        "data": {"type": "incident", "id": id, "status": "resolved",
                 "resolve_reason": {"type": "merge_resolve_reason",
                                    "incident": {"id": into, "type": "incident_reference"}}}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn merges_hand_the_work_over_and_never_stop_it() {
    let fleet = Fleet::start(1, &[]).await;
    let instance = fleet.instance(0);
    // Two incidents with sessions: the merged one hands over to the other.
    let (_, a) = instance.deliver(&incident("QMERGEA", 1, "api")).await;
    let (_, b) = instance.deliver(&incident("QMERGEB", 2, "db")).await;
    let (status, body) = instance.deliver(&merged("QMERGEA", "QMERGEB")).await;
    assert_eq!((status, &body["status"]), (202, &json!("merged")));
    assert_eq!(body["into_session_id"], b["session_id"]);
    // What each session has been told so far.
    let to = |session: &Value| {
        fleet
            .devin
            .messages()
            .into_iter()
            .filter(|m| m.devin_id == session.as_str().unwrap())
            .map(|m| m.message)
            .collect::<Vec<_>>()
    };
    assert!(
        to(&b["session_id"])[0].contains(a["url"].as_str().unwrap()),
        "B reads A's findings"
    );
    assert!(to(&a["session_id"])[0].contains("hand-over"));
    assert!(
        fleet
            .devin
            .messages()
            .iter()
            .all(|m| !m.message.contains("resolved")),
        "never told to stop as resolved"
    );

    // A merged incident whose target has no session: its session carries on under the target.
    let (_, c) = instance.deliver(&incident("QMERGEC", 3, "queue")).await;
    let (status, body) = instance.deliver(&merged("QMERGEC", "QMERGED")).await;
    assert_eq!(
        (status, &body["status"], &body["into_session_id"]),
        (202, &json!("merged"), &Value::Null)
    );
    assert!(to(&c["session_id"]).iter().any(|m| m.contains("Carry on")));
    // The target's notes now reach that session.
    let note = json!({"event": {"id": "EVNOTEMERGED", "event_type": "incident.annotated",
        "agent": {"id": "PUSER1", "summary": "Dana"},
        "data": {"type": "incident_note", "id": "N2", "content": "still failing",
                 "incident": {"id": "QMERGED"}}}});
    let (_, body) = instance
        .deliver(&function_url_event(
            "POST",
            "/pagerduty-alert",
            &note.to_string(),
        ))
        .await;
    assert_eq!(
        (&body["status"], &body["session_id"]),
        (&json!("forwarded"), &c["session_id"])
    );
    assert_eq!(fleet.devin.sessions().len(), 3);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shadow_mode_starts_nothing_and_shows_what_it_would() {
    let policy = r#"{"rules": [{"name": "trial", "when": {"services": ["api"]}, "action": "shadow", "group_by": "{service}"}]}"#;
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", policy)]).await;
    let (status, body) = fleet
        .instance(0)
        .deliver(&incident("QSHADOW", 1, "api"))
        .await;
    assert_eq!(
        (status, body),
        (
            202,
            json!({"status": "shadow", "rule": "trial", "incident_id": "QSHADOW", "group": "api", "note": "added"})
        )
    );
    assert_eq!(fleet.devin.requests(), 0);
    let note = fleet.pagerduty.requests()[0].body["note"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(note.starts_with("[pagerduty-devin-bridge] Shadow mode (routing rule trial)"));
    assert!(note.contains("Errors on api"), "the brief: {note}");
    fleet.stop().await;
}
