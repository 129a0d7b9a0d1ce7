//! Refusals reach people: the built `bootstrap` under the Runtime API emulator, with the Devin
//! and PagerDuty fakes. A create Devin refuses for this incident (400/409/422) is answered 202
//! and noted on the incident, in Devin's words, never with a secret; a 404 or 403 on create is
//! the bridge's configuration, not the incident: answered 5xx so PagerDuty retries, with an
//! ERROR line that says what to fix, counted in `DevinErrors`.

use serde_json::{json, Value};

use crate::support::devin::{FakeDevin, Reply};
use crate::support::env::Env;
use crate::support::pagerduty::FakePagerDuty;
use crate::support::runtime_api::{http_answer, log_lines, Function, RuntimeApi};
use crate::support::*;

const INCIDENT: &str = "Q3VQH2T8RZK1MN";
const PD_TOKEN: &str = "u+pd_refusals_token";

struct Refusing {
    devin: FakeDevin,
    pagerduty: FakePagerDuty,
    runtime: RuntimeApi,
    function: Function,
}

impl Refusing {
    async fn start(pagerduty_token: bool) -> Self {
        let devin = FakeDevin::start().await;
        let pagerduty = FakePagerDuty::start().await;
        let runtime = RuntimeApi::start().await;
        let mut env = Env::local(&devin.url).set("PAGERDUTY_API_URL", &pagerduty.url);
        if pagerduty_token {
            env = env
                .set("PAGERDUTY_API_TOKEN", PD_TOKEN)
                .set("PAGERDUTY_FROM_EMAIL", "bridge@acme.example");
        }
        let function = runtime.spawn_function(&env.vars());
        Refusing {
            devin,
            pagerduty,
            runtime,
            function,
        }
    }

    async fn trigger(&self) -> (u16, Value) {
        let event = sample_event("incident-triggered.json");
        let (status, body, _) = http_answer(self.runtime.invoke(&event).await);
        (status, body)
    }
}

fn metric_total(output: &str, name: &str) -> u64 {
    log_lines(output)
        .iter()
        .filter_map(|line| line[name].as_u64())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_create_is_noted_on_the_incident_in_devins_words_without_the_key() {
    let bridge = Refusing::start(true).await;
    // Devin quotes the request back, credentials and all.
    let echo =
        format!("Repository not found (request had Authorization: Bearer {TEST_DEVIN_API_KEY})");
    bridge.devin.reply([Reply::Refuse(
        422,
        json!({"detail": [{"loc": ["body", "repos", 0], "msg": echo, "type": "value_error"}]}),
    )]);
    let (status, body) = bridge.trigger().await;
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
    let bridge = Refusing::start(false).await;
    bridge.devin.reply([Reply::Status(400, None)]);
    let (status, body) = bridge.trigger().await;
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
        let bridge = Refusing::start(true).await;
        bridge.devin.reply([Reply::Status(code, None)]);
        let (status, body) = bridge.trigger().await;
        assert!(
            (500..600).contains(&status),
            "Devin {code}: answered {status} {body}"
        );
        assert!(
            bridge.pagerduty.notes_on(INCIDENT).is_empty(),
            "not the incident's fault: no note"
        );

        // Fixed: PagerDuty's retry of the same delivery starts the session; nothing dropped.
        let (status, body) = bridge.trigger().await;
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

#[tokio::test(flavor = "multi_thread")]
async fn the_sweeps_retries_of_a_refused_incident_add_no_note_each_run() {
    let fleet = crate::support::fleet::Fleet::start(1, &[]).await;
    let created_at = pagerduty_devin_bridge::pure::timestamp::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            - 300_000,
    );
    fleet.pagerduty.add_incident(json!({
        "id": "QREFUSED1", "type": "incident", "number": 4200, "status": "triggered",
        "title": "Errors on QREFUSED1", "urgency": "high", "created_at": created_at,
        "html_url": "https://acme.pagerduty.com/incidents/QREFUSED1",
        "service": {"id": "PSVC", "summary": "checkout-api"}, "teams": [], "assignees": []}));
    let refusal = Reply::Refuse(422, json!({"detail": "no"}));
    fleet.devin.reply([refusal.clone(), refusal]);
    let follow_up = fleet.follow_up(&[]).await;
    for run in 1..=2 {
        let report = follow_up.run().await;
        assert_eq!(
            report["actions"][0]["action"], "devin_rejected",
            "run {run}: {report}"
        );
    }
    assert_eq!(fleet.devin.creates(), 2, "the sweep tries again each run");
    assert!(
        fleet.pagerduty.notes_on("QREFUSED1").is_empty(),
        "no note per run: {:?}",
        fleet.pagerduty.notes_on("QREFUSED1")
    );
    follow_up.function.stop().await;
    fleet.stop().await;
}
