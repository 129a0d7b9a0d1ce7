//! A Devin organization with tag validation (only allow-listed tags accepted, on create and on
//! tag updates), end to end through the built binaries on one ledger (DynamoDB in moto): the
//! per-incident tags are refused, so the bridge creates with the policy's own tags and finds
//! sessions by their titles. An incident's whole life works: trigger, note, the follow-up's
//! findings, resolve, a storm group, an ambiguous create recovered.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::devin::{EpochUnit, Reply};
use crate::support::fleet::Fleet;
use crate::support::runtime_api::log_lines;
use crate::support::*;

/// The only tag the organization allows: the routing policy's own.
const ALLOWED: &str = "pagerduty-bridge";
const POLICY: &str = r#"{"defaults": {"tags": ["pagerduty-bridge"]}}"#;
const GROUPING_POLICY: &str =
    r#"{"defaults": {"tags": ["pagerduty-bridge"], "group_by": "{service}"}}"#;
const WARNING: &str = "Devin refused the session's tags";

/// `count` instances with `policy`, against a Devin with tag validation on.
async fn organization_with_tag_validation(
    count: usize,
    policy: &str,
    extra: &[(&'static str, &str)],
) -> Fleet {
    let mut settings = vec![("ROUTING_CONFIG", policy)];
    settings.extend_from_slice(extra);
    let fleet = Fleet::start(count, &settings).await;
    fleet.devin.validate_tags(&[ALLOWED]);
    fleet
}

/// A triggered delivery of incident `id`, titled `title`, on `service`.
fn triggered(id: &str, number: u64, title: &str, service: &str) -> String {
    let body = json!({"event": {
        "id": format!("EV{id}"), "event_type": "incident.triggered",
        "resource_type": "incident", "occurred_at": "2026-11-28T09:12:04.512Z", "agent": null,
        "data": {"type": "incident", "id": id, "number": number, "status": "triggered",
                 "title": title, "urgency": "high",
                 "service": {"id": "PSVC1", "summary": service},
                 "teams": [], "assignees": [], "priority": null}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// The tag-validation WARN lines in `output`.
fn warnings(output: &str) -> usize {
    log_lines(output)
        .iter()
        .filter(|line| {
            line["level"] == "WARN"
                && line["fields"]["message"]
                    .as_str()
                    .is_some_and(|message| message.starts_with(WARNING))
        })
        .count()
}

fn status_of(answer: &(u16, Value)) -> (u16, &str) {
    (answer.0, answer.1["status"].as_str().unwrap_or("?"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incidents_whole_life_works_where_devin_validates_tags() {
    let fleet = organization_with_tag_validation(1, POLICY, &[]).await;
    let bridge = fleet.instance(0);

    // Trigger: the create with per-incident tags is refused; the one with the policy's passes.
    let started = bridge
        .deliver(&sample_event("incident-triggered.json"))
        .await;
    assert_eq!(
        status_of(&started),
        (202, "session_started"),
        "{}",
        started.1
    );
    let sessions = fleet.devin.sessions();
    assert_eq!(sessions.len(), 1);
    let session = sessions[0].session_id.clone();
    assert_eq!(started.1["session_id"], session.as_str());
    assert_eq!(sessions[0].tags, [ALLOWED]);
    assert!(sessions[0]
        .title
        .as_deref()
        .unwrap()
        .ends_with(" [Q3VQH2T8RZK1MN]"));
    let creates = fleet.devin.received();
    assert_eq!(creates.len(), 2);
    assert!(creates[0].body["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("pagerduty-incident:Q3VQH2T8RZK1MN")));
    assert_eq!(creates[1].body["tags"], json!([ALLOWED]));
    assert_eq!(creates[0].body["prompt"], creates[1].body["prompt"]);

    // The next incident on this instance is created once, without per-incident tags.
    let next = bridge
        .deliver(&triggered("QTAGS2", 4202, "Disk full", "reports"))
        .await;
    assert_eq!(status_of(&next), (202, "session_started"), "{}", next.1);
    let creates = fleet.devin.received();
    assert_eq!(creates.len(), 3);
    assert_eq!(creates[2].body["tags"], json!([ALLOWED]));

    // A responder's note reaches the session.
    let note = bridge
        .deliver(&sample_event("incident-annotated.json"))
        .await;
    assert_eq!(status_of(&note), (202, "forwarded"), "{}", note.1);

    // The follow-up posts Devin's findings on the incident.
    let follow = fleet.follow_up(&[]).await;
    let finding = json!({"state": "investigating", "confidence": "medium",
        "summary": "Checkout 5xx since the 09:05 deploy."});
    fleet.devin.show(
        &session,
        json!({"status": "running", "status_detail": "working", "structured_output": finding}),
    );
    let report = follow.run().await;
    assert_eq!(report["status"], "done", "{report}");
    let notes = fleet.pagerduty.notes_on("Q3VQH2T8RZK1MN");
    assert!(
        notes
            .iter()
            .any(|note| note.contains("Devin's findings: investigating")
                && note.contains("Checkout 5xx since the 09:05 deploy.")),
        "{notes:?}"
    );

    // Resolve reaches the session.
    let resolved = bridge
        .deliver(&sample_event("incident-resolved.json"))
        .await;
    assert_eq!(status_of(&resolved), (202, "forwarded"), "{}", resolved.1);
    let messages: Vec<_> = fleet
        .devin
        .messages()
        .into_iter()
        .filter(|message| message.devin_id == session)
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[1].message.contains("resolved"), "{messages:?}");
    assert_eq!(fleet.devin.sessions().len(), 2, "one session per incident");

    follow.function.stop().await;
    let output = fleet.stop().await;
    assert_eq!(warnings(&output), 1, "one WARN per cold start");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_shares_one_session_where_devin_validates_tags() {
    // Two instances, taking turns: the second learns of tag validation from the tag update
    // Devin refuses when its first incident joins the group.
    let fleet = organization_with_tag_validation(2, GROUPING_POLICY, &[]).await;
    let mut answers = Vec::new();
    for n in 0..5 {
        let id = format!("QTSTORM{n}");
        let event = triggered(&id, 300 + n, "Errors on platform-db", "platform-db");
        answers.push(fleet.instance(n as usize).deliver(&event).await);
    }
    let statuses: Vec<_> = answers.iter().map(status_of).collect();
    assert_eq!(
        statuses,
        [
            (202, "session_started"),
            (202, "grouped"),
            (202, "grouped"),
            (202, "grouped"),
            (202, "grouped"),
        ],
        "{answers:?}"
    );
    let sessions = fleet.devin.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].tags, [ALLOWED], "no per-incident tag was added");
    let messages = fleet.devin.messages();
    assert_eq!(messages.len(), 4, "each member told to the group's session");
    assert!(messages
        .iter()
        .all(|m| m.devin_id == sessions[0].session_id));
    // A note on a member reaches the group's session: the ledger knows it, not a tag.
    let note = json!({"event": {"id": "EVTNOTE1", "event_type": "incident.annotated",
        "agent": {"id": "PUSER1", "summary": "Dana"},
        "data": {"type": "incident_note", "id": "N1", "content": "DB failover done",
                 "incident": {"id": "QTSTORM3"}}}});
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
    let output = fleet.stop().await;
    assert_eq!(warnings(&output), 2, "one WARN per instance");
}

/// Ends the claim's lease on the sample trigger's incident (as if it had run out) and delivers
/// the trigger again: the answer, which recorded the session.
async fn retry_after_the_lease(fleet: &Fleet) -> Value {
    fleet
        .set_ledger_time("Q3VQH2T8RZK1MN", "lease_until", now_ms())
        .await;
    let (status, body) = fleet
        .instance(0)
        .deliver(&sample_event("incident-triggered.json"))
        .await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("session_started")),
        "{body}"
    );
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_stored_behind_a_502_is_found_by_its_title_not_made_again() {
    // A lease of 1 s must outlive the budget (CLAIM_LEASE_SECONDS' floor).
    let short_lease = [("CLAIM_LEASE_SECONDS", "1"), ("DELIVERY_BUDGET_MS", "900")];
    let fleet = organization_with_tag_validation(1, POLICY, &short_lease).await;
    // The refused create (tags) takes no scripted reply; the one after it is stored, then 502.
    fleet.devin.reply([Reply::StoredThen(502)]);
    let (status, body) = fleet
        .instance(0)
        .deliver(&sample_event("incident-triggered.json"))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        (fleet.devin.sessions().len(), fleet.devin.creates()),
        (1, 2)
    );

    let body = retry_after_the_lease(&fleet).await;
    let sessions = fleet.devin.sessions();
    assert_eq!(
        (sessions.len(), fleet.devin.creates()),
        (1, 2),
        "no second session"
    );
    assert_eq!(body["session_id"], sessions[0].session_id.as_str());
    // The lookup asked for the sessions created since the claim, in epoch seconds.
    let queries = fleet.devin.list_queries();
    let created_after: u64 = url::form_urlencoded::parse(queries[0].as_bytes())
        .find(|(key, _)| key == "created_after")
        .map(|(_, value)| value.parse().unwrap())
        .expect("created_after");
    let now_s = now_ms() / 1000;
    assert!(
        (now_s - 1300..now_s).contains(&created_after),
        "{created_after}"
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_create_is_found_among_others_whichever_epoch_unit_devin_means() {
    let fleet = organization_with_tag_validation(
        1,
        POLICY,
        &[("CLAIM_LEASE_SECONDS", "3"), ("DELIVERY_BUDGET_MS", "1500")],
    )
    .await;
    fleet.devin.epoch_unit(EpochUnit::Milliseconds);
    // One session per page: the bridge follows the cursor.
    fleet.devin.list_page_cap(1);
    // Sessions of other incidents: an hour-old one (a Devin that reads the bridge's seconds as
    // milliseconds lists it), one whose id extends this one's, one whose title claims to be
    // this incident's.
    for (id, title) in [
        ("QOLD1", "Yesterday's trouble"),
        ("Q3VQH2T8RZK1MN2", "High 5xx error rate on checkout-api"),
        ("QHOSTILE1", "Fake [Q3VQH2T8RZK1MN]"),
    ] {
        let answer = fleet
            .instance(0)
            .deliver(&triggered(id, 9, title, "checkout-api"))
            .await;
        assert_eq!(status_of(&answer), (202, "session_started"), "{}", answer.1);
    }
    let old = fleet.devin.sessions()[0].session_id.clone();
    fleet.devin.backdate(&old, Duration::from_secs(3600));
    fleet
        .devin
        .reply([Reply::SlowSession(Duration::from_secs(2))]);
    let (status, body) = fleet
        .instance(0)
        .deliver(&sample_event("incident-triggered.json"))
        .await;
    assert_eq!(status, 503, "the create outlasted the budget: {body}");

    // Devin finishes the slow create after the bridge gave up on it.
    let stored = async {
        while fleet.devin.sessions().len() < 4 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), stored)
        .await
        .expect("Devin stores the slow create");
    let body = retry_after_the_lease(&fleet).await;
    let sessions = fleet.devin.sessions();
    assert_eq!(sessions.len(), 4, "no second session for the incident");
    let own = sessions
        .iter()
        .find(|s| s.title.as_deref().unwrap().ends_with(" [Q3VQH2T8RZK1MN]"))
        .unwrap();
    assert_eq!(body["session_id"], own.session_id.as_str());
    // Asked in seconds, Devin listed the hour-old session: asked again in milliseconds, it
    // listed the window's three, one a page.
    let windows: Vec<u64> = fleet
        .devin
        .list_queries()
        .iter()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "created_after")
                .map(|(_, value)| value.parse().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(windows.len(), 4, "{windows:?}");
    assert!(windows[0] < 10_000_000_000, "seconds first: {windows:?}");
    assert!(
        windows[1..].iter().all(|&w| w == windows[0] * 1000),
        "then milliseconds: {windows:?}"
    );
    fleet.stop().await;
}
