//! Time for the record (issue 20, items 10 and 13): a session's create that answers at the very
//! end of the delivery's budget still has its session recorded, and its group opened, before
//! the Lambda deadline (answering late costs PagerDuty a retry; not recording would cost a
//! lease, and for a group a second session); and no claim's lease is shorter than a delivery
//! can live. Built `bootstrap` instances under the Runtime API emulator (10 s to their
//! deadline), moto's DynamoDB, the Devin and PagerDuty fakes.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::devin::Reply;
use crate::support::env::Env;
use crate::support::fleet::Fleet;
use crate::support::runtime_api::RuntimeApi;
use crate::support::*;

/// The delivery's budget in these tests.
const BUDGET: (&str, &str) = ("DELIVERY_BUDGET_MS", "1500");
/// How long Devin takes to answer the create: it answers inside the budget, with less of it
/// left than one ledger write takes.
const CREATE_TAKES: Duration = Duration::from_millis(1000);
/// How long every ledger call takes once the create reached Devin.
const LEDGER_TAKES: Duration = Duration::from_millis(500);

/// A triggered delivery of incident `id` (number `number`) on the service `checkout-api`.
fn triggered(id: &str, number: u64) -> String {
    let body = json!({"event": {
        "id": format!("EV{id}"), "event_type": "incident.triggered",
        "resource_type": "incident", "occurred_at": "2026-11-28T09:12:04.512Z", "agent": null,
        "data": {"type": "incident", "id": id, "number": number, "status": "triggered",
                 "title": "Errors on checkout-api", "urgency": "high",
                 "service": {"id": "PSVC001", "summary": "checkout-api"},
                 "teams": [], "assignees": [], "priority": null}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// The same incident's trigger again, as PagerDuty's retry of the delivery (another
/// instance: the first one's answer is not remembered there).
async fn retried(fleet: &Fleet, event: &str) -> (u16, Value) {
    fleet.instance(1).deliver(event).await
}

/// Delivers `event` to the first instance while Devin answers its create [`CREATE_TAKES`]
/// late and, from when the create reached Devin, every ledger call takes [`LEDGER_TAKES`]:
/// the session is recorded after the delivery's budget ended, or not at all.
async fn deliver_with_a_late_create(fleet: &Fleet, event: &str) -> (u16, Value) {
    fleet.devin.reply([Reply::SlowSession(CREATE_TAKES)]);
    let creates = fleet.devin.creates();
    let slow_ledger_once_asked = async {
        while fleet.devin.creates() == creates {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fleet.aws.slow_down(LEDGER_TAKES);
    };
    let (answer, ()) = tokio::join!(fleet.instance(0).deliver(event), slow_ledger_once_asked);
    fleet.aws.slow_down(Duration::ZERO);
    answer
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_answered_at_the_end_of_the_budget_is_still_recorded() {
    let fleet = Fleet::start(2, &[BUDGET]).await;
    let event = triggered("QLATE01", 801);
    let (status, body) = deliver_with_a_late_create(&fleet, &event).await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("session_started")),
        "{body}"
    );
    let (status, again) = retried(&fleet, &event).await;
    assert_eq!((status, &again["status"]), (202, &json!("session_exists")));
    assert_eq!(again["session_id"], body["session_id"]);
    assert_eq!(
        (fleet.devin.creates(), fleet.devin.sessions().len()),
        (1, 1)
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_leaders_late_create_still_opens_the_group() {
    let policy = r#"{"defaults": {"group_by": "{service}"}}"#;
    let fleet = Fleet::start(2, &[BUDGET, ("ROUTING_CONFIG", policy)]).await;
    let (status, led) = deliver_with_a_late_create(&fleet, &triggered("QLEAD01", 811)).await;
    assert_eq!(
        (status, &led["status"]),
        (202, &json!("session_started")),
        "{led}"
    );
    let (status, joined) = retried(&fleet, &triggered("QJOIN02", 812)).await;
    assert_eq!(
        (status, &joined["status"]),
        (202, &json!("grouped")),
        "{joined}"
    );
    assert_eq!(joined["session_id"], led["session_id"]);
    assert_eq!(
        (fleet.devin.creates(), fleet.devin.sessions().len()),
        (1, 1)
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_shorter_than_the_functions_timeout_stops_the_cold_start() {
    let env = Env::local("http://127.0.0.1:9")
        .set("FUNCTION_TIMEOUT_SECONDS", "10")
        .set("CLAIM_LEASE_SECONDS", "8");
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&env.vars());
    let message = runtime.failed_cold_start(function).await;
    assert!(
        message.starts_with(
            "CLAIM_LEASE_SECONDS is \"8\": expected more than the function's timeout \
             (FUNCTION_TIMEOUT_SECONDS, 10 s)"
        ),
        "{message}"
    );
}
