//! Refusals reach people: the built `bootstrap` under the Runtime API emulator, with the Devin
//! and PagerDuty fakes. A create Devin refuses for this incident (400/409/422) is answered 202
//! and noted on the incident, in Devin's words (read whole, cut once readable), never with a
//! secret; a 404 or 403 on create, or the routing policy's own tags refused, is the bridge's
//! configuration, not the incident: answered 5xx so PagerDuty retries, with an ERROR line that
//! says what to fix, counted in `DevinErrors`. A deferred start notes its refusal; the
//! sweep's retries do not.

use serde_json::{json, Value};

use crate::support::devin::Reply;
use crate::support::incident::{incident_json, triggered};
use crate::support::runtime_api::{log_lines, metric_total};
use crate::support::webhook::{Webhook, PD_TOKEN};
use crate::support::*;

const INCIDENT: &str = "Q3VQH2T8RZK1MN";
const NO_PAGERDUTY_TOKEN: [(&str, &str); 2] =
    [("PAGERDUTY_API_TOKEN", ""), ("PAGERDUTY_FROM_EMAIL", "")];

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_create_is_noted_on_the_incident_in_devins_words_without_the_key() {
    let bridge = Webhook::start(&[]).await;
    // Devin quotes the request back, credentials and all.
    let echo =
        format!("Repository not found (request had Authorization: Bearer {TEST_DEVIN_API_KEY})");
    bridge.devin.reply([Reply::Refuse(
        422,
        json!({"detail": [{"loc": ["body", "repos", 0], "msg": echo, "type": "value_error"}]}),
    )]);
    let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!(
        (
            status,
            &body["status"],
            &body["devin_status"],
            &body["note"]
        ),
        (202, &json!("devin_rejected"), &json!(422), &json!("added")),
        "{body}"
    );
    let notes = bridge.pagerduty.notes_on(INCIDENT);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0];
    assert!(
        note.starts_with(
            "[pagerduty-devin-bridge] Devin refused to start a session for this incident (HTTP 422): \
             body.repos.0: Repository not found (request had Authorization: Bearer [redacted])"
        ),
        "{note}"
    );
    assert!(
        note.contains("Write `devin investigate` in a note"),
        "{note}"
    );
    assert!(!note.contains(TEST_DEVIN_API_KEY));

    let output = bridge.function.stop().await;
    assert!(
        !output.contains(TEST_DEVIN_API_KEY),
        "the key reached the log"
    );
    assert!(!output.contains(PD_TOKEN), "the token reached the log");
    assert_eq!(metric_total(&output, "DevinRejected"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_pagerduty_token_the_refusal_is_in_the_log() {
    let bridge = Webhook::start(&NO_PAGERDUTY_TOKEN).await;
    bridge.devin.reply([Reply::Status(400, None)]);
    let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!(
        (status, &body["status"], &body["note"]),
        (202, &json!("devin_rejected"), &json!("off"))
    );
    let output = bridge.function.stop().await;
    let logged = log_lines(&output).into_iter().any(|line| {
        line["fields"]["note"].as_str().is_some_and(|note| {
            note.contains("Devin refused to start a session") && note.contains("devin investigate")
        })
    });
    assert!(logged, "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_404_or_403_on_create_is_the_configuration_answered_5xx_until_fixed() {
    for (code, names) in [(404, "DEVIN_ORG_ID"), (403, "ManageOrgSessions")] {
        let bridge = Webhook::start(&[]).await;
        bridge.devin.reply([Reply::Status(code, None)]);
        let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
        assert!(
            (500..600).contains(&status),
            "Devin {code}: answered {status} {body}"
        );
        assert!(
            bridge.pagerduty.notes_on(INCIDENT).is_empty(),
            "not the incident's fault: no note"
        );

        // Fixed: PagerDuty's retry of the same delivery starts the session; nothing dropped.
        let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
        assert_eq!(
            (status, &body["status"]),
            (202, &json!("session_started")),
            "Devin {code}: {body}"
        );
        assert_eq!(bridge.devin.creates(), 2);

        let output = bridge.function.stop().await;
        let line = log_lines(&output)
            .into_iter()
            .find(|line| line["fields"]["devin_status"] == code)
            .unwrap_or_else(|| panic!("no line with Devin's {code} in {output}"));
        assert_eq!(line["level"], "ERROR");
        let message = line["fields"]["message"].as_str().unwrap();
        assert!(message.contains(names), "Devin {code}: {message}");
        assert_eq!(metric_total(&output, "DevinErrors"), 1, "Devin {code}");
        assert_eq!(metric_total(&output, "DevinRejected"), 0, "Devin {code}");
    }
}

/// Item 7 of issue 20: a refusal the sweep met was not recorded, so every run (every 2 minutes)
/// made the refused create again. Now it is recorded, noted once, and left to a person.
#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_the_sweep_meets_is_recorded_noted_once_and_not_tried_again() {
    let fleet = crate::support::fleet::Fleet::start(1, &[]).await;
    fleet.pagerduty.add_incident(incident_json(
        "QREFUSED1",
        std::time::Duration::from_secs(300),
    ));
    let refusal = Reply::Refuse(422, json!({"detail": "no"}));
    fleet.devin.reply([refusal.clone(), refusal]);
    let follow_up = fleet.follow_up(&[]).await;
    let report = follow_up.run().await;
    assert_eq!(report["actions"][0]["action"], "devin_rejected", "{report}");
    for run in 2..=3 {
        let report = follow_up.run().await;
        assert_eq!(report["actions"], json!([]), "run {run}: {report}");
    }
    assert_eq!(
        fleet.devin.creates(),
        1,
        "one refused create, not one per run"
    );
    let notes = fleet.pagerduty.notes_on("QREFUSED1");
    assert_eq!(notes.len(), 1, "noted once: {notes:?}");
    assert!(notes[0].contains("devin investigate"), "{}", notes[0]);
    follow_up.function.stop().await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_echoing_any_secret_reaches_no_log_note_or_answer() {
    let bridge = Webhook::start(&[]).await;
    // Devin quotes back every secret the bridge holds: the webhook secret, the signing secret,
    // the PagerDuty token and its own key; first in a rate limit retried, then in a refusal.
    let echo = format!(
        "Repository not found (request had X-Webhook-Secret: {LOCAL_WEBHOOK_SECRET}, \
         signing {LOCAL_SIGNING_SECRET}, Token token={PD_TOKEN}, Bearer {TEST_DEVIN_API_KEY})"
    );
    let refusal =
        json!({"detail": [{"loc": ["body", "repos", 0], "msg": echo, "type": "value_error"}]});
    bridge.devin.reply([
        Reply::Refuse(429, json!({"detail": echo})),
        Reply::Refuse(422, refusal),
    ]);
    let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!(
        (status, &body["status"], &body["note"]),
        (202, &json!("devin_rejected"), &json!("added")),
        "{body}"
    );
    assert_eq!(bridge.devin.creates(), 2, "the rate limit was retried");
    let notes = bridge.pagerduty.notes_on(INCIDENT);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains(
            "body.repos.0: Repository not found (request had X-Webhook-Secret: [redacted]"
        ),
        "{}",
        notes[0]
    );
    let output = bridge.function.stop().await;
    assert!(
        output.contains("Devin call failed; trying again"),
        "the retry's WARN line, with the error, is in the log: {output}"
    );
    let secrets = [
        LOCAL_WEBHOOK_SECRET,
        LOCAL_SIGNING_SECRET,
        PD_TOKEN,
        TEST_DEVIN_API_KEY,
    ];
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "{secret} reached the log: {output}"
        );
        assert!(!notes[0].contains(secret), "{secret} reached the note");
        assert!(
            !body.to_string().contains(secret),
            "{secret} reached the answer"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_refusal_is_read_whole_and_its_log_line_stays_short() {
    let bridge = Webhook::start(&[]).await;
    // Devin's validation errors echo the request as `input`, before `loc` and `msg`.
    let echoed = "x".repeat(3000);
    bridge.devin.reply([Reply::Refuse(
        422,
        json!({"detail": [{"input": echoed, "loc": ["body", "repos", 0],
                           "msg": "Repository not found", "type": "value_error"}]}),
    )]);
    let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!((status, &body["status"]), (202, &json!("devin_rejected")));
    let notes = bridge.pagerduty.notes_on(INCIDENT);
    assert!(
        notes[0].contains("(HTTP 422): body.repos.0: Repository not found\n"),
        "parsed, not cut before: {}",
        notes[0]
    );
    let output = bridge.function.stop().await;
    let line = log_lines(&output)
        .into_iter()
        .find(|line| line["fields"]["devin_status"] == 422)
        .unwrap_or_else(|| panic!("no line with Devin's 422 in {output}"));
    let error = line["fields"]["error"].as_str().unwrap();
    assert_eq!(
        error,
        "Devin answered 422 Unprocessable Entity: body.repos.0: Repository not found"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policys_own_tags_refused_are_the_configuration_answered_5xx_until_allowed() {
    let policy = r#"{"defaults": {"tags": ["team:payments"]}}"#;
    let bridge = Webhook::start(&[("ROUTING_CONFIG", policy)]).await;
    bridge.devin.validate_tags(&["pagerduty-bridge"]);
    let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!(status, 502, "{body}");
    let tags: Vec<Value> = bridge
        .devin
        .received()
        .iter()
        .map(|create| create.body["tags"].clone())
        .collect();
    assert_eq!(tags.len(), 2, "with the incident's tags, then without");
    assert_eq!(tags[1], json!(["team:payments"]));
    // PagerDuty's retry: refused again, once (the incident's tags are left out from now on).
    let (status, _) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!(status, 502);
    assert_eq!(bridge.devin.creates(), 3);
    assert!(
        bridge.pagerduty.notes_on(INCIDENT).is_empty(),
        "not the incident's fault: no note"
    );

    // Allow-listed: the next retry starts the session; nothing dropped.
    bridge.devin.validate_tags(&["team:payments"]);
    let (status, body) = bridge.deliver_sample("incident-triggered.json").await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));

    let output = bridge.function.stop().await;
    let lines: Vec<Value> = log_lines(&output)
        .into_iter()
        .filter(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|message| message.contains("allow-list the policy's tags"))
                && line["level"] == "ERROR"
        })
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "one ERROR line per refused delivery: {output}"
    );
    assert_eq!(lines[0]["fields"]["tags"], r#"["team:payments"]"#);
    assert_eq!(metric_total(&output, "DevinErrors"), 3);
    assert_eq!(metric_total(&output, "DevinRejected"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deferred_start_notes_its_refusal() {
    let policy = r#"{"defaults": {"start_after_minutes": 1}}"#;
    let fleet = crate::support::fleet::Fleet::start(1, &[("ROUTING_CONFIG", policy)]).await;
    let incident = incident_json("QDEFREF1", std::time::Duration::ZERO);
    fleet.pagerduty.add_incident(incident.clone());
    let (status, body) = fleet.instance(0).deliver(&triggered(&incident)).await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("deferred")),
        "{body}"
    );

    fleet.devin.reply([Reply::Refuse(
        422,
        json!({"detail": [{"loc": ["body", "repos", 0], "msg": "Repository not found"}]}),
    )]);
    // Its minute passes: PagerDuty's incident and the deferral age by a minute.
    fleet
        .pagerduty
        .backdate("QDEFREF1", std::time::Duration::from_secs(60));
    fleet.set_ledger_time("QDEFREF1", "until", now_ms()).await;
    let follow_up = fleet.follow_up(&[]).await;
    let report = follow_up.run().await;
    assert_eq!(report["actions"][0]["action"], "devin_rejected", "{report}");
    assert_eq!(fleet.devin.creates(), 1);
    let refusals: Vec<String> = fleet
        .pagerduty
        .notes_on("QDEFREF1")
        .into_iter()
        .filter(|note| note.contains("Devin refused to start a session"))
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].contains("(HTTP 422): body.repos.0: Repository not found\n"),
        "{}",
        refusals[0]
    );
    follow_up.function.stop().await;
    fleet.stop().await;
}
