//! The follow-up end to end: both binaries under the Runtime API emulator, on one ledger
//! (DynamoDB in moto), with a Devin fake whose sessions change between runs and a PagerDuty fake
//! that lists incidents and takes notes. Findings, questions, quota states and the end of a
//! session reach the incident once each; no open incident stays without its session; deferred
//! incidents start only when their time comes, and never once resolved.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use pure::inbound::timestamp;
use serde_json::json;

use crate::support::env::Env;
use crate::support::fleet::{Fleet, Instance};
use crate::support::incident::{incident_json, triggered, triggered_as};
use crate::support::runtime_api::{metric_total, RuntimeApi};
use crate::support::*;

/// Delivers the incident's trigger to the webhook function: its session id.
pub(crate) async fn started(fleet: &Fleet, id: &str) -> String {
    let (status, body) = fleet
        .instance(0)
        .deliver(&triggered(&incident_json(id, Duration::ZERO)))
        .await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("session_started")),
        "{body}"
    );
    body["session_id"].as_str().unwrap().to_owned()
}

/// The notes on the incident after the session-started note, each without the reference line
/// every follow-up note ends with (`(ref 3fa9c1)`, checked here).
fn follow_up_notes(fleet: &Fleet, id: &str) -> Vec<String> {
    let notes = fleet.pagerduty.notes_on(id);
    assert!(
        notes[0].contains("Devin is investigating this incident"),
        "{notes:?}"
    );
    notes[1..]
        .iter()
        .map(|note| {
            let (text, reference) = note.rsplit_once("\n(ref ").expect("a reference");
            assert!(reference.len() == 7 && reference.ends_with(')'), "{note}");
            text.to_owned()
        })
        .collect()
}

async fn stop(instance: Instance) -> String {
    instance.function.stop().await
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_questions_quota_and_the_end_reach_the_incident_once_each() {
    let fleet = Fleet::start(1, &[]).await;
    let session = started(&fleet, "QFOLLOW1").await;
    let created = &fleet.devin.received()[0].body;
    assert_eq!(
        created["structured_output_schema"]["properties"]["state"]["enum"],
        json!(["investigating", "concluded", "blocked"])
    );
    let follow = fleet.follow_up(&[]).await;

    let report = follow.run().await;
    assert_eq!(
        (
            report["status"].as_str(),
            report["sessions_checked"].as_u64()
        ),
        (Some("done"), Some(1))
    );
    assert!(
        follow_up_notes(&fleet, "QFOLLOW1").is_empty(),
        "nothing found yet"
    );

    let finding = json!({"state": "investigating", "confidence": "medium",
        "summary": "Checkout 5xx since the 09:05 deploy.",
        "evidence": [{"claim": "Pool waits up 40x", "link": "https://grafana.acme.example/d/pool"}]});
    fleet.devin.show(
        &session,
        json!({"status": "running", "status_detail": "working", "structured_output": finding}),
    );
    follow.run().await;
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QFOLLOW1");
    assert_eq!(notes.len(), 1, "a finding appears once: {notes:?}");
    assert!(notes[0].starts_with(
        "[pagerduty-devin-bridge] Devin's findings: investigating, medium confidence\nSummary: Checkout 5xx since the 09:05 deploy."
    ), "{}", notes[0]);
    assert!(notes[0].contains("- Pool waits up 40x (https://grafana.acme.example/d/pool)"));
    assert!(notes[0].ends_with(&format!(
        "Session: https://app.devin.ai/sessions/{}",
        session.trim_start_matches("devin-")
    )));

    // Still investigating: findings that say `concluded` would close the session out once its
    // turn is over (see the tests below).
    let changed = json!({"state": "investigating", "confidence": "high",
        "summary": "The 09:05 deploy cut the pool from 50 to 5.", "root_cause": "Pool size 5",
        "pull_request_url": "https://github.com/acme/checkout/pull/812"});
    fleet.devin.show(&session, json!({"structured_output": changed,
        "pull_requests": [{"pr_url": "https://github.com/acme/checkout/pull/812", "pr_state": "open"}]}));
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QFOLLOW1");
    assert_eq!(notes.len(), 2, "a changed finding posts again");
    assert!(notes[1].contains("Root cause: Pool size 5\n"));
    assert!(notes[1].contains("Pull requests: https://github.com/acme/checkout/pull/812 (open)\n"));

    // Three messages: the client follows the list's cursor to the last one.
    fleet.devin.say(&session, "ev-1", "Looking at the pool.");
    fleet.devin.say(&session, "ev-2", "Found the deploy.");
    fleet
        .devin
        .say(&session, "ev-3", "May I roll back checkout-api to v41?");
    fleet
        .devin
        .show(&session, json!({"status_detail": "waiting_for_user"}));
    follow.run().await;
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QFOLLOW1");
    assert_eq!(notes.len(), 3, "a question posts once: {notes:?}");
    assert_eq!(
        notes[2],
        format!("[pagerduty-devin-bridge] Devin asks: May I roll back checkout-api to v41?\nReply with a note on this incident. (Session: https://app.devin.ai/sessions/{})", session.trim_start_matches("devin-"))
    );

    fleet.devin.show(
        &session,
        json!({"status": "suspended", "status_detail": "out_of_credits"}),
    );
    follow.run().await;
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QFOLLOW1");
    assert_eq!(notes.len(), 4, "a quota state is noted once");
    assert!(notes[3].contains(
        "Devin stopped investigating this incident because it is out of credits (out_of_credits)"
    ));

    fleet.devin.show(
        &session,
        json!({"status": "exit", "status_detail": "finished"}),
    );
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QFOLLOW1");
    assert_eq!(notes.len(), 5);
    assert!(notes[4].starts_with("[pagerduty-devin-bridge] Devin's session ended (exit); its findings are the last ones noted here."), "{}", notes[4]);
    let item = fleet.ledger_item("QFOLLOW1").await;
    assert!(!item.contains_key("queue"), "closed out: {item:?}");
    let reads = fleet.devin.reads().len();
    let report = follow.run().await;
    assert_eq!(report["sessions_checked"], 0);
    assert_eq!(
        fleet.devin.reads().len(),
        reads,
        "a closed-out session is not read again"
    );
    assert_eq!(follow_up_notes(&fleet, "QFOLLOW1").len(), 5);

    let output = stop(follow).await;
    assert_eq!(metric_total(&output, "FindingsPosted"), 2);
    assert_eq!(metric_total(&output, "QuestionsPosted"), 1);
    assert_eq!(
        metric_total(&output, "DevinQuotaHits"),
        1,
        "the alarm's metric"
    );
    assert_eq!(metric_total(&output, "SessionsClosedOut"), 1);
    assert!(!output.contains(TEST_DEVIN_API_KEY) && !output.contains("pd_fleet_token"));
    fleet.stop().await;
}

/// The session's URL, as Devin (the fake) shows it.
fn session_url(session: &str) -> String {
    format!(
        "https://app.devin.ai/sessions/{}",
        session.trim_start_matches("devin-")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concluded_session_waiting_for_a_reply_gets_one_final_note_and_is_not_read_again() {
    let fleet = Fleet::start(1, &[]).await;
    let session = started(&fleet, "QDONE1").await;
    // How a session that has answered sits (reported from real runs): running, waiting for a
    // reply, its findings concluded, its last message an offer.
    fleet.devin.say(
        &session,
        "ev-1",
        "The 09:05 deploy cut the pool from 50 to 5. Shall I open a revert?",
    );
    fleet.devin.show(
        &session,
        json!({"status": "running", "status_detail": "waiting_for_user",
        "structured_output": {"state": "concluded", "confidence": "high",
            "summary": "The 09:05 deploy cut the pool from 50 to 5.", "root_cause": "Pool size 5"}}),
    );
    let follow = fleet.follow_up(&[]).await;
    let report = follow.run().await;
    let notes = follow_up_notes(&fleet, "QDONE1");
    assert_eq!(notes.len(), 1, "one final note: {report} {notes:?}");
    assert!(
        notes[0].starts_with(
            "[pagerduty-devin-bridge] Devin concluded. Final findings: concluded, high \
             confidence\nSummary: The 09:05 deploy cut the pool from 50 to 5.\nRoot cause: Pool \
             size 5\n"
        ),
        "{}",
        notes[0]
    );
    assert!(notes[0].ends_with(&format!("Session: {}", session_url(&session))));
    let item = fleet.ledger_item("QDONE1").await;
    assert!(!item.contains_key("queue"), "closed out: {item:?}");

    let reads = fleet.devin.reads().len();
    for _ in 0..2 {
        let report = follow.run().await;
        assert_eq!(report["sessions_checked"], 0, "{report}");
    }
    assert_eq!(fleet.devin.reads().len(), reads, "never read again");
    assert_eq!(follow_up_notes(&fleet, "QDONE1").len(), 1);
    let output = stop(follow).await;
    assert_eq!(metric_total(&output, "SessionsClosedOut"), 1);
    assert_eq!(metric_total(&output, "FindingsPosted"), 1);
    assert_eq!(metric_total(&output, "QuestionsPosted"), 0);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_turn_that_ends_is_a_question_only_when_the_findings_or_devins_last_message_say_so() {
    let fleet = Fleet::start(1, &[]).await;
    let blocked = started(&fleet, "QBLOCKED1").await;
    let asks = started(&fleet, "QASKS1").await;
    let waits = started(&fleet, "QWAITS1").await;
    let turn_ended = json!({"status": "running", "status_detail": "waiting_for_user"});
    fleet.devin.say(
        &blocked,
        "ev-b",
        "I need read access to the orders database to go on.",
    );
    fleet.devin.show(&blocked, turn_ended.clone());
    fleet.devin.show(
        &blocked,
        json!({"structured_output": {"state": "blocked", "confidence": "low",
        "summary": "The errors come from the orders database; I cannot read it."}}),
    );
    fleet
        .devin
        .say(&asks, "ev-a", "May I roll back checkout-api to v41?");
    fleet.devin.show(&asks, turn_ended.clone());
    fleet.devin.say(&waits, "ev-w1", "Looking at the deploys.");
    fleet.devin.say(
        &waits,
        "ev-w2",
        "I rolled back checkout-api to v41 (why? the pool was cut to 5); errors are back to normal.",
    );
    fleet.devin.show(&waits, turn_ended);
    let follow = fleet.follow_up(&[]).await;
    follow.run().await;
    follow.run().await;

    let notes = follow_up_notes(&fleet, "QBLOCKED1");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0]
        .starts_with("[pagerduty-devin-bridge] Devin's findings: blocked, low confidence\n"));
    assert_eq!(
        notes[1],
        format!(
            "[pagerduty-devin-bridge] Devin asks: I need read access to the orders database to go \
             on.\nReply with a note on this incident. (Session: {})",
            session_url(&blocked)
        )
    );
    assert_eq!(
        follow_up_notes(&fleet, "QASKS1"),
        [format!(
            "[pagerduty-devin-bridge] Devin asks: May I roll back checkout-api to v41?\nReply \
             with a note on this incident. (Session: {})",
            session_url(&asks)
        )]
    );
    assert_eq!(
        follow_up_notes(&fleet, "QWAITS1"),
        [format!(
            "[pagerduty-devin-bridge] Devin is waiting for a reply. Its last message: I rolled \
             back checkout-api to v41 (why? the pool was cut to 5); errors are back to \
             normal.\nA note on this incident reaches the session. (Session: {})",
            session_url(&waits)
        )],
        "once, and not as a question"
    );
    for id in ["QBLOCKED1", "QASKS1", "QWAITS1"] {
        let item = fleet.ledger_item(id).await;
        assert!(item.contains_key("queue"), "still followed: {id}");
    }
    let output = stop(follow).await;
    assert_eq!(metric_total(&output, "QuestionsPosted"), 2);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_asleep_gets_its_turn_end_note_and_the_question_once_its_findings_are_blocked() {
    let fleet = Fleet::start(1, &[]).await;
    let session = started(&fleet, "QASLEEP1").await;
    let need = "I need read access to the orders database to go on.";
    fleet.devin.say(&session, "ev-s", need);
    // Asleep before any run saw it wait: its turn is over all the same.
    fleet.devin.show(
        &session,
        json!({"status": "suspended", "status_detail": "inactivity",
        "structured_output": {"state": "investigating", "confidence": "low",
            "summary": "The errors come from the orders database."}}),
    );
    let follow = fleet.follow_up(&[]).await;
    follow.run().await;
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QASLEEP1");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].starts_with("[pagerduty-devin-bridge] Devin's findings: investigating"));
    assert_eq!(
        notes[1],
        format!(
            "[pagerduty-devin-bridge] Devin is waiting for a reply. Its last message: {need}\nA \
             note on this incident reaches the session. (Session: {})",
            session_url(&session)
        ),
        "at once, not at the idle close-out"
    );

    // The same last message, and now the findings say Devin is blocked: it asks.
    fleet.devin.show(
        &session,
        json!({"structured_output": {"state": "blocked", "confidence": "low",
            "summary": "The errors come from the orders database; I cannot read it."}}),
    );
    follow.run().await;
    follow.run().await;
    let notes = follow_up_notes(&fleet, "QASLEEP1");
    assert_eq!(notes.len(), 4, "{notes:?}");
    assert!(notes[2].starts_with("[pagerduty-devin-bridge] Devin's findings: blocked"));
    assert_eq!(
        notes[3],
        format!(
            "[pagerduty-devin-bridge] Devin asks: {need}\nReply with a note on this incident. \
             (Session: {})",
            session_url(&session)
        )
    );
    let item = fleet.ledger_item("QASLEEP1").await;
    let noted = |name: &str| item.get(name).and_then(|value| value.as_s().ok()).cloned();
    assert_eq!(
        (noted("waiting"), noted("asked")),
        (Some("ev-s".into()), Some("ev-s".into())),
        "{item:?}"
    );
    assert!(item.contains_key("queue"), "still followed");
    let output = stop(follow).await;
    assert_eq!(metric_total(&output, "QuestionsPosted"), 1);
    fleet.stop().await;
}

/// Moves back the time the follow-up last saw the incident's session change, as if `by` had
/// passed since.
async fn backdate_last_change(fleet: &Fleet, id: &str, by: Duration) {
    let at = now_ms() - by.as_millis() as u64;
    fleet.set_ledger_time(id, "seen_at", at).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_asleep_past_the_idle_time_is_closed_out_and_not_read_again() {
    let fleet = Fleet::start(1, &[]).await;
    let asleep = started(&fleet, "QIDLE1").await;
    let awake = started(&fleet, "QAWAKE1").await;
    fleet.devin.show(
        &asleep,
        json!({"status": "suspended", "status_detail": "inactivity"}),
    );
    fleet.devin.show(
        &awake,
        json!({"status": "running", "status_detail": "working"}),
    );
    let follow = fleet.follow_up(&[("FOLLOW_UP_IDLE_HOURS", "30")]).await;
    let before = now_ms();
    follow.run().await;
    let item = fleet.ledger_item("QIDLE1").await;
    let seen_at: u64 = item["seen_at"].as_n().unwrap().parse().unwrap();
    assert!(seen_at >= before && seen_at <= now_ms(), "{item:?}");
    // Asleep, its turn is over: Devin said nothing, so the note says where to look.
    let waiting = format!(
        "[pagerduty-devin-bridge] Devin is waiting for a reply: the session shows where it \
         stopped. A note on this incident reaches the session. (Session: {})",
        session_url(&asleep)
    );
    assert_eq!(
        follow_up_notes(&fleet, "QIDLE1"),
        std::slice::from_ref(&waiting)
    );

    // A day and more without a change: not yet the 30 hours this deployment waits.
    backdate_last_change(&fleet, "QIDLE1", Duration::from_secs(25 * 3600)).await;
    follow.run().await;
    assert_eq!(
        follow_up_notes(&fleet, "QIDLE1"),
        std::slice::from_ref(&waiting)
    );

    // The awake one changes meanwhile: its clock starts again.
    backdate_last_change(&fleet, "QIDLE1", Duration::from_secs(31 * 3600)).await;
    backdate_last_change(&fleet, "QAWAKE1", Duration::from_secs(31 * 3600)).await;
    fleet.devin.show(&awake, json!({"acus_consumed": 3}));
    follow.run().await;
    assert_eq!(
        follow_up_notes(&fleet, "QIDLE1"),
        [
            waiting,
            format!(
                "[pagerduty-devin-bridge] Devin's session has shown no change for 30 hours \
             (suspended, inactivity) without findings: the session shows what it did. The bridge \
             no longer follows the session: a note on this incident still reaches Devin, and \
             `devin status` shows its latest findings. Session: {}",
                session_url(&asleep)
            )
        ]
    );
    assert!(!fleet.ledger_item("QIDLE1").await.contains_key("queue"));
    assert!(follow_up_notes(&fleet, "QAWAKE1").is_empty());
    assert!(fleet.ledger_item("QAWAKE1").await.contains_key("queue"));

    follow.run().await;
    let reads = fleet.devin.reads();
    follow.run().await;
    let later = fleet.devin.reads();
    assert!(
        !later[reads.len()..].contains(&asleep) && later[reads.len()..].contains(&awake),
        "the idle one is not read again: {later:?}"
    );
    assert_eq!(follow_up_notes(&fleet, "QIDLE1").len(), 2);
    let output = stop(follow).await;
    assert_eq!(metric_total(&output, "SessionsClosedOut"), 1);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_incident_the_webhook_never_saw_gets_one_session() {
    let fleet = Fleet::start(1, &[]).await;
    fleet
        .pagerduty
        .add_incident(incident_json("QMISSED1", Duration::from_secs(300)));
    // Too young: the webhook goes first.
    fleet
        .pagerduty
        .add_incident(incident_json("QYOUNG1", Duration::from_secs(30)));
    // Older than the look-back.
    fleet
        .pagerduty
        .add_incident(incident_json("QOLD1", Duration::from_secs(2 * 3600)));

    let dry = fleet.follow_up(&[("DEVIN_DRY_RUN", "true")]).await;
    let report = dry.run().await;
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["actions"][0]["incident_id"], "QMISSED1");
    assert_eq!(report["actions"][0]["action"], "dry_run");
    assert!(report["actions"][0]["detail"]["request"]["body"]["prompt"]
        .as_str()
        .unwrap()
        .contains("QMISSED1"));
    assert_eq!(fleet.devin.creates(), 0, "a dry run starts nothing");
    stop(dry).await;

    // Two runs at once, on two instances: one session.
    let (first, second) = (fleet.follow_up(&[]).await, fleet.follow_up(&[]).await);
    let reports = join_all([first.run(), second.run()]).await;
    assert_eq!(fleet.devin.creates(), 1, "{reports:?}");
    let tags = &fleet.devin.sessions()[0].tags;
    assert!(
        tags.contains(&"pagerduty-incident:QMISSED1".to_owned()),
        "{tags:?}"
    );
    assert!(
        fleet.pagerduty.notes_on("QMISSED1")[0].contains("Devin is investigating this incident")
    );
    assert!(
        fleet.pagerduty.notes_on("QYOUNG1").is_empty()
            && fleet.pagerduty.notes_on("QOLD1").is_empty()
    );

    // The next run finds its record: none started.
    first.run().await;
    second.run().await;
    assert_eq!(fleet.devin.creates(), 1);
    let output = format!("{}{}", stop(first).await, stop(second).await);
    assert_eq!(metric_total(&output, "SessionsStartedBySweep"), 1);
    assert!(output.contains("an open incident without a session"));
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deferred_incident_starts_only_after_its_time_and_never_once_resolved() {
    let policy = r#"{"defaults": {"start_after_minutes": 1}}"#;
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", policy)]).await;
    // Created 55 s ago: a minute after creation is 5 s from now.
    let age = Duration::from_secs(55);
    let (stays, resolves) = (incident_json("QDEFER1", age), incident_json("QDEFER2", age));
    fleet.pagerduty.add_incident(stays.clone());
    fleet.pagerduty.add_incident(resolves.clone());
    for incident in [&stays, &resolves] {
        let (status, body) = fleet.instance(0).deliver(&triggered(incident)).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (202, Some("deferred")),
            "{body}"
        );
        let until = timestamp::epoch_ms(body["until"].as_str().unwrap()).unwrap();
        let created = timestamp::epoch_ms(incident["created_at"].as_str().unwrap()).unwrap();
        assert_eq!(until, created + 60_000);
    }
    assert!(fleet.pagerduty.notes_on("QDEFER1")[0]
        .contains("Devin will start investigating this incident at"));
    let follow = fleet.follow_up(&[]).await;
    follow.run().await;
    assert_eq!(fleet.devin.creates(), 0, "not before its time");

    fleet.pagerduty.resolve("QDEFER2");
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let report = follow.run().await;
    assert_eq!(fleet.devin.creates(), 1, "{report}");
    assert!(fleet.devin.sessions()[0]
        .tags
        .contains(&"pagerduty-incident:QDEFER1".to_owned()));
    let skipped = fleet.ledger_item("QDEFER2").await;
    assert_eq!(
        skipped["state"],
        AttributeValue::S("skipped_resolved".into())
    );
    assert!(!skipped.contains_key("queue"));

    follow.run().await;
    assert_eq!(fleet.devin.creates(), 1, "started once, skipped for good");
    // Another delivery of its trigger: the session exists.
    let (_, again) = fleet
        .instance(0)
        .deliver(&triggered_as(&stays, "EVQDEFER1-again"))
        .await;
    assert_eq!(again["status"], "session_exists");
    let output = stop(follow).await;
    assert_eq!(
        (
            metric_total(&output, "DeferredStarted"),
            metric_total(&output, "DeferredSkipped")
        ),
        (1, 1)
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pagerduty_outage_mid_run_posts_the_rest_next_run_without_duplicates() {
    let fleet = Fleet::start(1, &[]).await;
    let ids = ["QOUT1", "QOUT2", "QOUT3"];
    for id in ids {
        let session = started(&fleet, id).await;
        fleet.devin.show(
            &session,
            json!({"status": "running",
            "structured_output": {"summary": format!("Findings for {id}")}}),
        );
    }
    // One note goes through, then PagerDuty fails every request.
    fleet.pagerduty.reply([(201, None)]);
    fleet.pagerduty.reply([(503, None); 40]);
    let follow = fleet.follow_up(&[]).await;
    let report = follow.run().await;
    let posted: usize = ids.iter().map(|id| follow_up_notes(&fleet, id).len()).sum();
    assert_eq!(posted, 1, "{report}");
    assert!(report["errors"].as_u64().unwrap() >= 2, "{report}");

    fleet.pagerduty.clear_replies();
    follow.run().await;
    follow.run().await;
    for id in ids {
        let notes = follow_up_notes(&fleet, id);
        assert_eq!(notes.len(), 1, "{id}: {notes:?}");
        assert!(notes[0].contains(&format!("Findings for {id}")));
    }
    stop(follow).await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_devin_cannot_show_does_not_stop_the_others() {
    let fleet = Fleet::start(1, &[]).await;
    let (broken, fine) = (
        started(&fleet, "QDEVIN1").await,
        started(&fleet, "QDEVIN2").await,
    );
    for session in [&broken, &fine] {
        fleet.devin.show(
            session,
            json!({"structured_output": {"summary": "Found it"}}),
        );
    }
    fleet.devin.fail_reads(&broken, Some(500));
    let follow = fleet.follow_up(&[]).await;
    let report = follow.run().await;
    assert_eq!(follow_up_notes(&fleet, "QDEVIN2").len(), 1, "{report}");
    assert!(follow_up_notes(&fleet, "QDEVIN1").is_empty());
    assert_eq!(report["errors"], 1);

    fleet.devin.fail_reads(&broken, None);
    follow.run().await;
    assert_eq!(
        follow_up_notes(&fleet, "QDEVIN1").len(),
        1,
        "tried again next run"
    );
    assert_eq!(follow_up_notes(&fleet, "QDEVIN2").len(), 1);
    stop(follow).await;
    fleet.stop().await;
}

/// What a follow-up cold start that stops says, in its one line.
async fn failed_follow_up_cold_start(env: &Env) -> String {
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_follow_up(&env.vars());
    runtime.failed_cold_start(function).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_follow_up_stops_without_the_shared_ledger_and_deferrals_without_the_token() {
    let env = Env::local("http://127.0.0.1:9");
    assert_eq!(
        failed_follow_up_cold_start(&env).await,
        "LEDGER_TABLE is not set: the follow-up reads the sessions the webhook function recorded there"
    );
    let defers = env
        .set(
            "ROUTING_CONFIG",
            r#"{"rules": [{"name": "flaky", "start_after_minutes": 10}]}"#,
        )
        .set("DEVIN_DRY_RUN", "true");
    let message = failed_follow_up_cold_start(&defers).await;
    assert!(
        message.starts_with("PAGERDUTY_API_TOKEN is not set: ROUTING_CONFIG defers sessions"),
        "{message}"
    );
}
