//! An incident's life end to end (issue 20): both binaries under the Runtime API emulator, on
//! the moto ledger, with the Devin and PagerDuty fakes. Every state a start leaves has an owner
//! that moves it on: the follow-up takes over what a failed start left, a decision is recorded
//! and noted once, and an incident whose session ended gets its next one when it reopens or a
//! responder asks.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};

use crate::support::devin::Reply;
use crate::support::fleet::Fleet;
use crate::support::incident::{incident_json, triggered, triggered_as};
use crate::support::runtime_api::metric_total;
use crate::support::*;

/// A signed delivery of `event_type` on `incident`, as event `event_id`.
fn event(incident: &Value, event_type: &str, event_id: &str) -> String {
    let body = json!({"event": {
        "id": event_id, "event_type": event_type, "resource_type": "incident",
        "occurred_at": incident["created_at"], "agent": null, "data": incident}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// A responder's note on the incident.
fn note(incident_id: &str, content: &str, n: u32) -> String {
    let body = json!({"event": {
        "id": format!("EVNOTE{incident_id}{n}"), "event_type": "incident.annotated",
        "resource_type": "incident", "occurred_at": "2026-11-28T09:20:02.811Z",
        "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
        "data": {"type": "incident_note", "id": format!("PNOTE{n}"), "content": content,
                 "incident": {"id": incident_id, "type": "incident_reference"}}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// Delivers `delivery` on the first instance: answered 202 with `status`; the answer's body.
async fn done_as(fleet: &Fleet, delivery: &str, status: &str) -> Value {
    let (code, body) = fleet.instance(0).deliver(delivery).await;
    assert_eq!((code, &body["status"]), (202, &json!(status)), "{body}");
    body
}

/// `from` resolved by its merge into `into`, as event `event_id`.
fn merge_event(from: &str, into: &str, event_id: &str) -> String {
    let body = json!({"event": {"id": event_id, "event_type": "incident.resolved",
        "resource_type": "incident", "occurred_at": "2026-11-28T09:20:02.811Z",
        "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
        "data": {"type": "incident", "id": from, "status": "resolved",
                 "resolve_reason": {"type": "merge_resolve_reason",
                     "incident": {"id": into, "type": "incident_reference"}}}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

fn text(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    item[name].as_s().unwrap().clone()
}

/// A deferred incident whose time has come: delivered while deferred, then its `until` moved
/// into the past.
async fn due_deferral(fleet: &Fleet, id: &str) -> Value {
    let incident = incident_json(id, Duration::from_secs(30));
    fleet.pagerduty.add_incident(incident.clone());
    let (_, body) = fleet.instance(0).deliver(&triggered(&incident)).await;
    assert_eq!(body["status"], "deferred", "{body}");
    fleet.set_ledger_time(id, "until", now_ms() - 1).await;
    incident
}

const DEFER: &str = r#"{"defaults": {"start_after_minutes": 1}}"#;

/// Item 1 of issue 20, with a 429: the release deleted the deferral, and nothing ever looked at
/// the incident again. Now the failed start is pending, and the next run starts it.
#[tokio::test(flavor = "multi_thread")]
async fn a_due_start_devin_turns_away_is_pending_and_the_next_run_starts_it() {
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", DEFER)]).await;
    due_deferral(&fleet, "QLIFE1").await;
    fleet.devin.reply([Reply::Status(429, Some("3600"))]);
    let follow = fleet.follow_up(&[]).await;
    let report = follow.run().await;
    assert_eq!(
        report["errors"], 1,
        "a start that ended in nothing: {report}"
    );
    assert_eq!(text(&fleet.ledger_item("QLIFE1").await, "state"), "pending");

    let report = follow.run().await;
    assert_eq!(report["starts_retried"], 1, "{report}");
    assert_eq!(fleet.devin.sessions().len(), 1);
    let output = follow.function.stop().await;
    assert_eq!(metric_total(&output, "StartsRetried"), 1);
    assert_eq!(metric_total(&output, "FollowUpErrors"), 1);
    fleet.stop().await;
}

/// Item 1 of issue 20, with a create Devin stored and answered 502: the claim stayed `creating`
/// for ever, no session was recorded, and every note on the incident was answered 503 for
/// PagerDuty's 48 hours. Now the run after the lease takes the claim over, finds the session and
/// records it: one session, and the incident's notes reach it.
#[tokio::test(flavor = "multi_thread")]
async fn a_due_start_left_uncertain_is_taken_over_by_a_later_run_which_finds_its_session() {
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", DEFER)]).await;
    due_deferral(&fleet, "QLIFE2").await;
    fleet.devin.reply([Reply::StoredThen(502)]);
    let follow = fleet.follow_up(&[]).await;
    let report = follow.run().await;
    assert_eq!(report["errors"], 1, "{report}");
    assert_eq!(
        text(&fleet.ledger_item("QLIFE2").await, "state"),
        "creating"
    );
    let (status, _) = fleet
        .instance(0)
        .deliver(&note("QLIFE2", "check the pool", 1))
        .await;
    assert_eq!(status, 503, "the claim holds while its lease lasts");

    fleet
        .set_ledger_time("QLIFE2", "lease_until", now_ms() - 1)
        .await;
    let report = follow.run().await;
    assert_eq!(report["starts_retried"], 1, "{report}");
    let sessions = fleet.devin.sessions();
    assert_eq!(
        (sessions.len(), fleet.devin.creates()),
        (1, 1),
        "found, not made again"
    );
    let item = fleet.ledger_item("QLIFE2").await;
    assert_eq!(
        (text(&item, "state"), text(&item, "session_id")),
        ("created".to_owned(), sessions[0].session_id.clone())
    );
    let (status, body) = fleet
        .instance(0)
        .deliver(&note("QLIFE2", "check the pool", 2))
        .await;
    assert_eq!((status, &body["status"]), (202, &json!("forwarded")));
    follow.function.stop().await;
    fleet.stop().await;
}

/// Item 7 of issue 20: a capped incident left no record, so every follow-up run started it again
/// and noted "budget spent" each time. Now the cap is recorded and noted once; when the budget
/// refills the follow-up tries once more, and capped again it is left to a person, with one
/// more note saying so.
#[tokio::test(flavor = "multi_thread")]
async fn a_capped_incident_is_noted_once_and_tried_once_more_when_the_budget_refills() {
    let policy = r#"{"limits": {"sessions_per_hour": 1}}"#;
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", policy)]).await;
    let first = incident_json("QCAP1", Duration::from_secs(600));
    let capped = incident_json("QCAP2", Duration::from_secs(600));
    for incident in [&first, &capped] {
        fleet.pagerduty.add_incident(incident.clone());
        fleet.instance(0).deliver(&triggered(incident)).await;
    }
    assert_eq!(fleet.devin.creates(), 1);
    let item = fleet.ledger_item("QCAP2").await;
    assert_eq!(text(&item, "state"), "capped");
    let follow = fleet.follow_up(&[]).await;
    for _ in 0..3 {
        follow.run().await;
    }
    assert_eq!(fleet.pagerduty.notes_on("QCAP2").len(), 1, "noted once");
    let (_, again) = fleet
        .instance(0)
        .deliver(&triggered_as(&capped, "EVQCAP2-again"))
        .await;
    assert_eq!(
        (&again["status"], &again["decision"]),
        (&json!("already_decided"), &json!("capped"))
    );

    // The budget's hour is over (as far as the record knows): one more try, capped again.
    fleet.set_ledger_time("QCAP2", "until", now_ms() - 1).await;
    follow.run().await;
    follow.run().await;
    let notes = fleet.pagerduty.notes_on("QCAP2");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[1].contains("tries no more"), "{}", notes[1]);
    let item = fleet.ledger_item("QCAP2").await;
    assert_eq!(text(&item, "state"), "capped");
    assert!(
        !item.contains_key("queue"),
        "nothing but a person moves it now"
    );
    assert_eq!(fleet.devin.creates(), 1);
    follow.function.stop().await;
    fleet.stop().await;
}

/// Item 13 of issue 20: a create that may have happened counted against the budgets, and the
/// start that took the claim over counted it again: with a budget of one, the incident was
/// capped by its own first try. Now the claim remembers the count.
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_taken_over_does_not_count_the_session_against_the_budget_again() {
    let policy = r#"{"limits": {"sessions_per_hour": 1}}"#;
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", policy)]).await;
    let incident = incident_json("QSPENT1", Duration::ZERO);
    fleet.devin.reply([Reply::Hang(Duration::from_secs(10))]);
    let (status, _) = fleet.instance(0).deliver(&triggered(&incident)).await;
    assert!(status >= 500, "the create's outcome is unknown: {status}");
    assert_eq!(fleet.devin.sessions().len(), 0);
    fleet
        .set_ledger_time("QSPENT1", "lease_until", now_ms() - 1)
        .await;
    let (status, body) = fleet.instance(0).deliver(&triggered(&incident)).await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("session_started")),
        "{body}"
    );
    assert_eq!(fleet.devin.sessions().len(), 1);
    fleet.stop().await;
}

/// Item 4 of issue 20: an incident whose session ended could never have another: `devin
/// investigate` answered "already investigating" with the dead link (though the stop note says
/// to write exactly that), and a reopen was answered `session_closed`. Now each starts the
/// incident's next session, titled as its second, and the ledger says which is current.
#[tokio::test(flavor = "multi_thread")]
async fn an_incident_whose_session_ended_gets_its_next_one_on_reopen_or_when_asked() {
    let fleet = Fleet::start(1, &[]).await;
    let bridge = fleet.instance(0);
    let incident = incident_json("QGEN1", Duration::ZERO);
    fleet.pagerduty.add_incident(incident.clone());
    let (_, first) = bridge.deliver(&triggered(&incident)).await;
    let first = first["session_id"].as_str().unwrap().to_owned();

    let (_, stopped) = bridge.deliver(&note("QGEN1", "devin stop", 1)).await;
    assert_eq!(stopped["status"], "command", "{stopped}");
    let (_, asked) = bridge.deliver(&note("QGEN1", "devin investigate", 2)).await;
    assert_eq!(asked["status"], "session_started", "{asked}");
    let second = asked["session_id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let titles: Vec<String> = fleet
        .devin
        .sessions()
        .iter()
        .map(|session| session.title.clone().unwrap())
        .collect();
    assert!(titles[0].ends_with(" [QGEN1]"), "{titles:?}");
    assert!(titles[1].ends_with(" [QGEN1/2]"), "{titles:?}");
    let item = fleet.ledger_item("QGEN1").await;
    assert_eq!(
        (
            text(&item, "session_id"),
            item["generation"].as_n().unwrap().as_str()
        ),
        (second.clone(), "2")
    );

    // Devin ended the second session; the follow-up has not seen it yet: the reopen finds it
    // closed, closes it out, and starts the third; `devin investigate` the fourth.
    fleet.devin.end_session(&second);
    let (status, reopened) = bridge
        .deliver(&event(&incident, "incident.reopened", "EVQGEN1-reopen"))
        .await;
    assert_eq!(
        (status, &reopened["status"]),
        (202, &json!("session_started")),
        "{reopened}"
    );
    let sessions = fleet.devin.sessions();
    assert_eq!(sessions.len(), 3);
    assert!(sessions[2]
        .title
        .as_deref()
        .unwrap()
        .ends_with(" [QGEN1/3]"));
    fleet.stop().await;
}

/// Item 12 of issue 20: an SDK retry of a claim that landed read the claim back as another's,
/// and the delivery waited out its own lease (503). A claim read back by its own holder is its
/// own, on both ledgers; another holder's stands.
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_read_back_by_its_own_holder_is_its_own_on_both_ledgers() {
    use pagerduty_devin_bridge::edge::ledger::{Claim, DynamoLedger, Ledger, MemoryLedger};
    use pure::life::Start;
    let moto = crate::support::moto::Moto::start().await;
    let table = moto.create_ledger_table("life-own-claim").await;
    let ledgers = [
        Ledger::Memory(MemoryLedger::default()),
        Ledger::Dynamo(DynamoLedger::new(moto.dynamodb(), &table)),
    ];
    let second = Duration::from_secs(5);
    for ledger in &ledgers {
        let now = now_ms();
        let claim = |holder: &'static str| {
            ledger.claim("QOWN1", Start::Trigger, holder, now, now + 60_000, second)
        };
        let Claim::Won(first) = claim("holder-a").await.unwrap() else {
            panic!("{}: the first claim wins", ledger.describe());
        };
        assert_eq!(
            claim("holder-a").await.unwrap(),
            Claim::Won(first.clone()),
            "{}",
            ledger.describe()
        );
        assert!(matches!(claim("holder-b").await.unwrap(), Claim::Held(_)));
    }
}

/// Item 8 of issue 20, on the delivery's side (found by the model-based test): PagerDuty stored
/// the "Devin is investigating" note and answered 502, and the delivery's retry posted it again.
/// Now the delivery looks for it among the incident's notes before posting again.
#[tokio::test(flavor = "multi_thread")]
async fn a_deliverys_note_pagerduty_stored_before_failing_is_posted_once() {
    let fleet = Fleet::start(1, &[]).await;
    let incident = incident_json("QNOTE1", Duration::ZERO);
    fleet.pagerduty.stored_then(502, 1);
    let (status, body) = fleet.instance(0).deliver(&triggered(&incident)).await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(body["note"], "added", "found stored: {body}");
    let stored = fleet.pagerduty.stored_notes_on("QNOTE1");
    assert_eq!(stored.len(), 1, "{stored:?}");
    fleet.stop().await;
}

/// A session the follow-up closed out (concluded, or idle) has ended for the ledger, but Devin
/// still takes messages: the close-out note promises that a note on the incident still reaches
/// Devin, and `devin status` still shows its findings.
#[tokio::test(flavor = "multi_thread")]
async fn a_note_on_an_incident_whose_session_was_closed_out_still_reaches_devin() {
    let fleet = Fleet::start(1, &[]).await;
    let incident = incident_json("QCLOSED1", Duration::ZERO);
    let (_, started) = fleet.instance(0).deliver(&triggered(&incident)).await;
    let session = started["session_id"].as_str().unwrap().to_owned();
    // As the follow-up's close-out leaves it.
    fleet
        .moto
        .as_ref()
        .unwrap()
        .dynamodb()
        .update_item()
        .table_name(&fleet.table)
        .key("pk", AttributeValue::S("incident#QCLOSED1".into()))
        .update_expression("SET #state = :ended REMOVE #queue")
        .expression_attribute_names("#state", "state")
        .expression_attribute_names("#queue", "queue")
        .expression_attribute_values(":ended", AttributeValue::S("ended".into()))
        .send()
        .await
        .unwrap();
    let (status, body) = fleet
        .instance(0)
        .deliver(&note("QCLOSED1", "the pool is back to normal", 1))
        .await;
    assert_eq!(
        (status, &body["status"], &body["session_id"]),
        (202, &json!("forwarded"), &json!(session)),
        "{body}"
    );
    assert!(fleet.devin.messages()[0]
        .message
        .contains("the pool is back to normal"));
    fleet.stop().await;
}

/// Found by the model test: an incident whose start Devin turned away (pending) was merged away,
/// then PagerDuty retried its trigger, which started a session for the merged-away incident
/// while the incident it went into started its own: two sessions for one problem. Now a resolve
/// or a merge of an incident whose start was not made yet drops that start: the retry of its
/// trigger and the follow-up start nothing, and a reopen still does.
#[tokio::test(flavor = "multi_thread")]
async fn an_incident_resolved_or_merged_before_its_start_was_made_gets_none_until_it_reopens() {
    let fleet = Fleet::start(1, &[]).await;
    let resolved = incident_json("QGONE1", Duration::ZERO);
    let merged = incident_json("QGONE2", Duration::ZERO);
    fleet.devin.reply([
        Reply::Status(429, Some("30")),
        Reply::Status(429, Some("30")),
    ]);
    for incident in [&resolved, &merged] {
        let (status, _) = fleet.instance(0).deliver(&triggered(incident)).await;
        assert_eq!(status, 429);
        let id = incident["id"].as_str().unwrap();
        assert_eq!(text(&fleet.ledger_item(id).await, "state"), "pending");
    }
    let mut resolve = resolved.clone();
    resolve["status"] = json!("resolved");
    let resolve = event(&resolve, "incident.resolved", "EVGONE1RESOLVED");
    let merge = merge_event("QGONE2", "QGONE3", "EVGONE2MERGED");
    for (delivery, id) in [(resolve, "QGONE1"), (merge, "QGONE2")] {
        done_as(&fleet, &delivery, "no_session").await;
        let state = text(&fleet.ledger_item(id).await, "state");
        assert_eq!(state, "skipped_resolved");
    }
    for incident in [&resolved, &merged] {
        done_as(&fleet, &triggered(incident), "skipped_resolved").await;
    }
    let report = fleet.follow_up(&[]).await.run().await;
    assert_eq!(report["starts_retried"], 0, "{report}");
    assert!(fleet.devin.sessions().is_empty());

    let reopen = event(&resolved, "incident.reopened", "EVGONE1REOPENED");
    done_as(&fleet, &reopen, "session_started").await;
    assert_eq!(fleet.devin.sessions().len(), 1);
    fleet.stop().await;
}

/// Found by the model test: PagerDuty retries a failed delivery later, so a resolve arrived
/// after the reopen that followed it and told the session the reopen had resumed to finish and
/// stop: an open incident with no investigation. With a token the bridge checks the incident's
/// status first: an event the incident has moved past is told to no one.
#[tokio::test(flavor = "multi_thread")]
async fn a_resolve_or_reopen_the_incident_has_moved_past_is_told_to_no_one() {
    let fleet = Fleet::start(1, &[]).await;
    let incident = incident_json("QLATE1", Duration::ZERO);
    fleet.pagerduty.add_incident(incident.clone());
    let (_, started) = fleet.instance(0).deliver(&triggered(&incident)).await;
    assert_eq!(started["status"], "session_started", "{started}");
    let mut resolved = incident.clone();
    resolved["status"] = json!("resolved");
    let resolve = event(&resolved, "incident.resolved", "EVLATE1RESOLVED");
    let reopen = event(&incident, "incident.reopened", "EVLATE1REOPENED");

    // Resolved, then reopened; the reopen arrives first, the resolve after it.
    done_as(&fleet, &reopen, "forwarded").await;
    let (status, body) = fleet.instance(0).deliver(&resolve).await;
    assert_eq!(
        (status, &body["status"], &body["now"]),
        (202, &json!("superseded"), &json!("triggered")),
        "{body}"
    );
    let told: Vec<String> = fleet
        .devin
        .messages()
        .into_iter()
        .map(|m| m.message)
        .collect();
    assert_eq!(told.len(), 1, "only the reopen: {told:?}");
    assert!(!told[0].to_lowercase().contains("then stop"), "{told:?}");

    // Resolved for good; a reopen retried from before that wakes nothing.
    fleet.pagerduty.resolve("QLATE1");
    let reopen = event(&incident, "incident.reopened", "EVLATE1REOPENEDAGAIN");
    done_as(&fleet, &reopen, "superseded").await;
    assert_eq!(fleet.devin.messages().len(), 1);
    fleet.stop().await;
}

/// Found by the model test: a merged incident's session had ended (Devin finished it) before
/// the follow-up closed it out; the incident it was merged into took it as its own, in place
/// of its own start, and was never investigated. A session that takes no more messages is now
/// nobody's to take.
#[tokio::test(flavor = "multi_thread")]
async fn a_merged_incident_whose_session_ended_hands_nothing_over() {
    let fleet = Fleet::start(1, &[]).await;
    let merged = incident_json("QENDED1", Duration::ZERO);
    let (_, started) = fleet.instance(0).deliver(&triggered(&merged)).await;
    let session = started["session_id"].as_str().unwrap().to_owned();
    fleet.devin.end_session(&session);
    let merge = merge_event("QENDED1", "QENDED2", "EVENDED1MERGED");
    done_as(&fleet, &merge, "session_closed").await;
    let into = fleet.ledger_item("QENDED2").await;
    assert!(into.is_empty(), "nothing taken: {into:?}");

    let later = incident_json("QENDED2", Duration::ZERO);
    // Its own start stands.
    done_as(&fleet, &triggered(&later), "session_started").await;
    fleet.stop().await;
}

/// Found by the model test (on DynamoDB): a merge's first try moved the session to the incident
/// it went into (in place of that one's deferred start), then the ledger failed; Devin ended
/// the session before PagerDuty's retry, which was answered `session_closed` as if nothing had
/// been taken. A session the other incident holds already is its own: the retry finishes the
/// merge, and the follow-up brings the session's end to both.
#[tokio::test(flavor = "multi_thread")]
async fn a_merge_retried_after_its_session_was_taken_and_ended_finishes_the_merge() {
    let fleet = Fleet::start(1, &[]).await;
    let merged = incident_json("QTAKEN1", Duration::ZERO);
    let (_, started) = fleet.instance(0).deliver(&triggered(&merged)).await;
    let session = pure::life::session::Session {
        session_id: started["session_id"].as_str().unwrap().to_owned(),
        url: started["url"].as_str().unwrap().to_owned(),
    };
    // What the first try left: the session adopted by QTAKEN2; its end, since.
    let moto = fleet.moto.as_ref().unwrap();
    let ledger = crate::support::ledger_faults::dynamo_ledger(&moto.endpoint, &fleet.table);
    let timeout = Duration::from_secs(2);
    ledger
        .adopt("QTAKEN2", &session, now_ms(), timeout)
        .await
        .unwrap();
    fleet.devin.end_session(&session.session_id);

    let merge = merge_event("QTAKEN1", "QTAKEN2", "EVTAKEN1MERGED");
    let body = done_as(&fleet, &merge, "merged").await;
    assert_eq!(body["into_session_id"], Value::Null, "{body}");
    assert_eq!(
        text(&fleet.ledger_item("QTAKEN2").await, "session_id"),
        session.session_id
    );
    fleet.stop().await;
}

/// Found by the model test: `devin stop` on an incident merged away ended the session that the
/// merge had moved to the incident it went into: that incident's investigation was lost. The
/// merged-away incident now leaves the session, which carries on; `devin stop` on the incident
/// it works for ends it.
#[tokio::test(flavor = "multi_thread")]
async fn devin_stop_on_a_merged_away_incident_leaves_the_session_it_handed_over() {
    let fleet = Fleet::start(1, &[]).await;
    let merged = incident_json("QMOVE1", Duration::ZERO);
    let (_, started) = fleet.instance(0).deliver(&triggered(&merged)).await;
    let session = started["session_id"].as_str().unwrap().to_owned();
    let merge = merge_event("QMOVE1", "QMOVE2", "EVMOVE1MERGED");
    let (_, body) = fleet.instance(0).deliver(&merge).await;
    assert_eq!(body["status"], "merged", "{body}");

    done_as(&fleet, &note("QMOVE1", "devin stop", 1), "command").await;
    let ended = |fleet: &Fleet| {
        fleet
            .devin
            .sessions()
            .iter()
            .any(|stored| stored.session_id == session && stored.ended)
    };
    assert!(!ended(&fleet), "the session works on for QMOVE2");
    let notes = fleet.pagerduty.notes_on("QMOVE1");
    assert!(
        notes
            .last()
            .unwrap()
            .contains("1 other open incident(s) it works for"),
        "{notes:?}"
    );

    done_as(&fleet, &note("QMOVE2", "devin stop", 2), "command").await;
    assert!(ended(&fleet), "stopped by the incident it works for");
    fleet.stop().await;
}

/// Found by the model test: a capped incident, then a person's `devin investigate` that Devin
/// turned away (429: nothing made, the start pending), then the follow-up's retry of that
/// start, capped again in the same hour: the same "budget spent" note was posted twice. A
/// start the follow-up retries now looks for its decision's note first.
#[tokio::test(flavor = "multi_thread")]
async fn a_retried_start_capped_like_the_first_adds_no_second_note() {
    let policy = r#"{"limits": {"sessions_per_hour": 1}}"#;
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", policy)]).await;
    let first = incident_json("QRECAP1", Duration::from_secs(600));
    let capped = incident_json("QRECAP2", Duration::from_secs(600));
    for incident in [&first, &capped] {
        fleet.pagerduty.add_incident(incident.clone());
        fleet.instance(0).deliver(&triggered(incident)).await;
    }
    assert_eq!(fleet.pagerduty.notes_on("QRECAP2").len(), 1);
    fleet.devin.reply([Reply::Status(429, Some("30"))]);
    let (status, _) = fleet
        .instance(0)
        .deliver(&note("QRECAP2", "devin investigate", 1))
        .await;
    assert_eq!(status, 429);
    assert_eq!(
        text(&fleet.ledger_item("QRECAP2").await, "state"),
        "pending"
    );

    let report = fleet.follow_up(&[]).await.run().await;
    assert_eq!(report["starts_retried"], 0, "capped again: {report}");
    assert_eq!(text(&fleet.ledger_item("QRECAP2").await, "state"), "capped");
    let notes = fleet.pagerduty.notes_on("QRECAP2");
    assert_eq!(notes.len(), 1, "the cap's note once: {notes:?}");
    fleet.stop().await;
}
