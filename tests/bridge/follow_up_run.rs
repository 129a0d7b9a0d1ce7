//! The follow-up's run as issue 20 left it, end to end (both binaries under the Runtime API
//! emulator, the ledger in moto, the Devin and PagerDuty fakes): the sweep reads only the
//! services and teams the webhook subscriptions send; starts come first and sessions are read
//! oldest-followed first; a note is posted once even when PagerDuty's answer is ambiguous; a
//! session is closed out on 404 only after two runs in a row saw it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::fleet::Fleet;
use crate::support::incident::incident_json;
use crate::support::runtime_api::metric_total;
use crate::support::{LOCAL_WEBHOOK_SECRET, TEST_DEVIN_API_KEY};

/// An open incident created `ago`, on `service` (and `team`, when given).
fn on_service(id: &str, service: &str, team: Option<&str>, ago: Duration) -> Value {
    let mut incident = incident_json(id, ago);
    incident["service"]["id"] = service.into();
    if let Some(team) = team {
        incident["teams"] = json!([{"id": team, "summary": "payments"}]);
    }
    incident
}

/// The incident ids of the sessions Devin was asked to create.
fn started_for(fleet: &Fleet) -> Vec<String> {
    let mut ids: Vec<String> = fleet
        .devin
        .sessions()
        .iter()
        .flat_map(|session| session.tags.clone())
        .filter_map(|tag| tag.strip_prefix("pagerduty-incident:").map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// The bridge's secret as `connect-pagerduty` leaves it: the secrets, and a record of one
/// subscription per filter (`type`, `id`).
fn secret_with_subscriptions(filters: &[Value]) -> String {
    let record: Vec<Value> = filters
        .iter()
        .enumerate()
        .map(|(n, filter)| {
            let mut entry = json!({"id": format!("PSUB{n}"), "url": "https://bridge.example/pagerduty-alert",
                "header_sha256": "0".repeat(64), "signing_sha256": "1".repeat(64)});
            if !filter.is_null() {
                entry["filter"] = filter.clone();
            }
            entry
        })
        .collect();
    json!({"DEVIN_API_KEY": TEST_DEVIN_API_KEY, "WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
        "PAGERDUTY_API_TOKEN": "pd_fleet_token",
        "PAGERDUTY_SUBSCRIPTIONS": serde_json::to_string(&record).unwrap()})
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_starts_sessions_only_for_the_subscribed_services_and_teams() {
    let fleet = Fleet::start(1, &[]).await;
    let ago = Duration::from_secs(300);
    // Five open incidents without a session, four on services never connected.
    fleet
        .pagerduty
        .add_incident(on_service("QSUBSCRIBED1", "PSVCA", None, ago));
    for (n, service) in ["PSVCB", "PSVCC", "PSVCD", "PSVCE"].iter().enumerate() {
        let id = format!("QOTHER{n}");
        fleet
            .pagerduty
            .add_incident(on_service(&id, service, None, ago));
    }
    // One more, on another service but of the subscribed team.
    fleet
        .pagerduty
        .add_incident(on_service("QTEAM1", "PSVCF", Some("PTEAMA"), ago));

    // The scope from the record connect-pagerduty keeps: one service, one team.
    let moto = fleet.moto.as_ref().unwrap();
    let scoped = secret_with_subscriptions(&[
        json!({"type": "service_reference", "id": "PSVCA"}),
        json!({"type": "team_reference", "id": "PTEAMA"}),
    ]);
    let arn = moto.create_secret("bridge/scoped", &scoped).await;
    let from_record = [
        ("SWEEP_SERVICE_IDS", ""),
        ("BRIDGE_SECRET_ID", arn.as_str()),
    ];
    let follow = fleet.follow_up(&from_record).await;
    let report = follow.run().await;
    assert_eq!(started_for(&fleet), ["QSUBSCRIBED1", "QTEAM1"], "{report}");
    follow.function.stop().await;

    // The settings win over the record: one more service.
    let settings = [
        ("SWEEP_SERVICE_IDS", "PSVCB"),
        ("BRIDGE_SECRET_ID", arn.as_str()),
    ];
    let follow = fleet.follow_up(&settings).await;
    follow.run().await;
    assert_eq!(started_for(&fleet), ["QOTHER0", "QSUBSCRIBED1", "QTEAM1"]);
    follow.function.stop().await;

    // A subscription recorded without its filter: nothing says what it sends, no sweep, one
    // warning at the cold start naming the settings.
    let unknown = secret_with_subscriptions(&[Value::Null]);
    let arn = moto.create_secret("bridge/unscoped", &unknown).await;
    let unscoped = [
        ("SWEEP_SERVICE_IDS", ""),
        ("BRIDGE_SECRET_ID", arn.as_str()),
    ];
    let follow = fleet.follow_up(&unscoped).await;
    follow.run().await;
    follow.run().await;
    assert_eq!(started_for(&fleet).len(), 3, "no sweep without a scope");
    let output = follow.function.stop().await;
    assert_eq!(
        output.matches("the sweep is off").count(),
        1,
        "one warning per cold start: {output}"
    );
    assert!(output.contains("SWEEP_SERVICE_IDS or SWEEP_TEAM_IDS"));

    // An account-wide subscription: every incident of the account.
    let account = secret_with_subscriptions(&[json!({"type": "account_reference"})]);
    let arn = moto.create_secret("bridge/account", &account).await;
    let follow = fleet
        .follow_up(&[
            ("SWEEP_SERVICE_IDS", ""),
            ("BRIDGE_SECRET_ID", arn.as_str()),
        ])
        .await;
    follow.run().await;
    assert_eq!(started_for(&fleet).len(), 6);
    let output = follow.function.stop().await;
    assert_eq!(metric_total(&output, "SessionsStartedBySweep"), 3);
    fleet.stop().await;
}

/// The notes the incident shows after the session-started note.
fn later_notes(fleet: &Fleet, id: &str) -> Vec<String> {
    let notes = fleet.pagerduty.stored_notes_on(id);
    assert!(
        notes[0].contains("Devin is investigating this incident"),
        "{notes:?}"
    );
    notes[1..].to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_pagerduty_stored_before_failing_or_answering_late_is_posted_once() {
    let fleet = Fleet::start(1, &[]).await;
    let findings =
        |summary: &str| json!({"status": "running", "structured_output": {"summary": summary}});
    let stored = crate::follow_up::started(&fleet, "QONCE1").await;
    fleet.devin.show(&stored, findings("Pool size 5"));
    // Stored, then 502, five times over: the client used to post it again on each 5xx.
    fleet.pagerduty.stored_then(502, 5);
    let follow = fleet.follow_up(&[]).await;
    let report = follow.run().await;
    follow.run().await;
    follow.run().await;
    let notes = later_notes(&fleet, "QONCE1");
    assert_eq!(notes.len(), 1, "one copy: {notes:?} {report}");
    assert!(notes[0].contains("Summary: Pool size 5"));
    let reference = notes[0]
        .rsplit_once("(ref ")
        .unwrap()
        .1
        .trim_end_matches(')');
    assert_eq!(reference.len(), 6, "{}", notes[0]);
    fleet.pagerduty.clear_replies();

    // Stored at once, answered after the run's step: one copy over several runs.
    let slow = crate::follow_up::started(&fleet, "QONCE2").await;
    fleet.devin.show(&slow, findings("Disk full"));
    fleet.pagerduty.slow_notes(Some(Duration::from_secs(5)));
    follow.run().await;
    fleet.pagerduty.slow_notes(None);
    follow.run().await;
    follow.run().await;
    let notes = later_notes(&fleet, "QONCE2");
    assert_eq!(notes.len(), 1, "one copy: {notes:?}");
    assert!(notes[0].contains("Summary: Disk full"));
    assert_eq!(later_notes(&fleet, "QONCE1").len(), 1);
    follow.function.stop().await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_closed_out_on_404_only_after_two_runs_in_a_row_saw_it() {
    let fleet = Fleet::start(1, &[]).await;
    let gone = crate::follow_up::started(&fleet, "QGONE1").await;
    let back = crate::follow_up::started(&fleet, "QBACK1").await;
    fleet.devin.fail_reads(&gone, Some(404));
    fleet.devin.fail_reads(&back, Some(404));
    let follow = fleet.follow_up(&[]).await;
    follow.run().await;
    for id in ["QGONE1", "QBACK1"] {
        assert!(
            later_notes(&fleet, id).is_empty(),
            "one 404 closes nothing out"
        );
        let item = fleet.ledger_item(id).await;
        assert!(
            item.contains_key("missing_since") && item.contains_key("queue"),
            "{item:?}"
        );
    }
    // A read in between: the count starts again.
    fleet.devin.fail_reads(&back, None);
    follow.run().await;
    assert!(!fleet
        .ledger_item("QBACK1")
        .await
        .contains_key("missing_since"));
    let notes = later_notes(&fleet, "QGONE1");
    assert_eq!(notes.len(), 1, "two 404s in a row: {notes:?}");
    assert!(
        notes[0].contains("Devin's session ended (exit)"),
        "{}",
        notes[0]
    );
    assert!(!fleet.ledger_item("QGONE1").await.contains_key("queue"));
    fleet.devin.fail_reads(&back, Some(404));
    follow.run().await;
    assert!(
        later_notes(&fleet, "QBACK1").is_empty(),
        "one 404 since the read"
    );
    follow.run().await;
    assert_eq!(later_notes(&fleet, "QBACK1").len(), 1);
    let output = follow.function.stop().await;
    assert_eq!(metric_total(&output, "SessionsClosedOut"), 2);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn starts_run_first_and_sessions_are_read_oldest_followed_first() {
    let fleet = Fleet::start(1, &[]).await;
    let ids: Vec<String> = (1..=12).map(|n| format!("QSLOW{n}")).collect();
    for id in &ids {
        crate::follow_up::started(&fleet, id).await;
    }
    // An open incident the webhook never saw, for the sweep.
    fleet
        .pagerduty
        .add_incident(incident_json("QMISSED9", Duration::from_secs(300)));
    // Devin shows a session only after 2 s; a run has 3 s: about four reads a run.
    fleet.devin.slow_reads(Some(Duration::from_secs(2)));
    let follow = fleet.follow_up(&[("FOLLOW_UP_BUDGET_SECONDS", "3")]).await;
    let report = follow.run().await;
    assert_eq!(
        report["started_by_sweep"], 1,
        "the sweep ran first: {report}"
    );
    let mut followed = Vec::new();
    for id in &ids {
        if fleet.ledger_item(id).await.contains_key("followed_at") {
            followed.push(id.clone());
        }
    }
    assert!(
        !followed.is_empty() && followed.len() < ids.len(),
        "a short run reads some: {followed:?} {report}"
    );
    for _ in 0..4 {
        follow.run().await;
    }
    for id in &ids {
        assert!(
            fleet.ledger_item(id).await.contains_key("followed_at"),
            "{id} was never read"
        );
    }
    let output = follow.function.stop().await;
    assert_eq!(metric_total(&output, "SessionsStartedBySweep"), 1);
    assert_eq!(
        metric_total(&output, "SessionsStarted"),
        1,
        "the start's delivery line"
    );
    fleet.stop().await;
}
