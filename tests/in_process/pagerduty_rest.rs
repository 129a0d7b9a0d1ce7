//! The PagerDuty REST fake (`support/pagerduty.rs`) holds the bridge to PagerDuty's published
//! contract. (The bridge against it, end to end through the built binaries, is in
//! `tests/bridge/pagerduty_rest.rs`.)

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::incident::full_incident;
use crate::support::pagerduty::FakePagerDuty;

/// The fake's rules, from the OpenAPI: a note needs `From` (`createIncidentNote`), incidents
/// come in REST's shape (`getIncident`), the list's `statuses[]` is an enum (`listIncidents`),
/// and the notes are listed whole (`listIncidentNotes`).
#[tokio::test]
async fn the_pagerduty_fake_holds_notes_and_incidents_to_the_openapi() {
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_incident(full_incident("QFAKE1", Duration::from_secs(60)));
    let http = reqwest::Client::new();
    let notes = format!("{}/incidents/QFAKE1/notes", pagerduty.url);
    let body = json!({"note": {"content": "hello"}});
    let without_from = http.post(&notes).json(&body).send().await.unwrap();
    assert_eq!(without_from.status(), 400);
    let with_from = http
        .post(&notes)
        .header("From", "bridge@acme.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(with_from.status(), 201);
    assert_eq!(pagerduty.notes_on("QFAKE1"), ["hello"]);
    let listed: Value = http.get(&notes).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["notes"][0]["content"], "hello");

    let one: Value = http
        .get(format!("{}/incidents/QFAKE1", pagerduty.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let incident = &one["incident"];
    assert_eq!(incident["incident_number"], 4242);
    assert_eq!(
        incident["assignments"][0]["assignee"]["summary"],
        "Dana Ops"
    );
    assert!(incident.get("number").is_none() && incident.get("assignees").is_none());
    assert_eq!(incident["summary"], "[#4242] Checkout 5xx above 2%");

    let listed = http
        .get(format!(
            "{}/incidents?statuses[]=open&since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z&limit=100",
            pagerduty.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 400);
}
