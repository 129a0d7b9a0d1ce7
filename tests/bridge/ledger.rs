//! Exactly one investigation per incident, proven with two Lambda instances racing: two built
//! `bootstrap` processes, each under its own Runtime API emulator, sharing one ledger table in
//! a real `moto_server` (DynamoDB) and one Devin fake. Each scenario made two sessions for one
//! incident before the ledger.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::aws_calls::AwsCalls;
use crate::support::devin::{FakeDevin, Reply};
use crate::support::env::Env;
use crate::support::fleet::{Fleet, Instance};
use crate::support::moto::Moto;
use crate::support::runtime_api::{log_lines, RuntimeApi};
use crate::support::*;

/// Two instances of the function on one ledger and one Devin.
struct Pair {
    fleet: Fleet,
}

impl Pair {
    async fn start(extra: &[(&'static str, &str)]) -> Self {
        Pair {
            fleet: Fleet::start(2, extra).await,
        }
    }

    fn a(&self) -> &Instance {
        &self.fleet.instances[0]
    }

    fn b(&self) -> &Instance {
        &self.fleet.instances[1]
    }

    async fn stop(self) -> String {
        self.fleet.stop().await
    }
}

fn triggered() -> String {
    sample_event("incident-triggered.json")
}

/// The triggered sample again, as another delivery (another event id) of the same incident.
fn retriggered(event_id: &str) -> String {
    let body = delivery_body(&triggered()).replace("01JDX2Q7M4R8T6V0W9Y3Z5A1B2", event_id);
    function_url_event("POST", "/pagerduty-alert", &body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_create_and_the_retry_on_the_other_instance_make_one_session() {
    let pair = Pair::start(&[("DELIVERY_BUDGET_MS", "500"), ("CLAIM_LEASE_SECONDS", "3")]).await;
    pair.fleet
        .devin
        .reply([Reply::SlowSession(Duration::from_secs(2))]);
    let claimed = Instant::now();
    let (status, _) = pair.a().deliver(&triggered()).await;
    assert_eq!(status, 503, "A gave up waiting for Devin");
    // PagerDuty's retry lands on B while A's create is still in flight.
    let (status, _) = pair.b().deliver(&triggered()).await;
    assert_eq!(status, 503, "B found A's claim and created nothing");
    assert_eq!(pair.fleet.devin.creates(), 1);

    // After the lease, the next retry finds the session A's create made, and records it.
    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(claimed.elapsed())).await;
    let (status, body) = pair.b().deliver(&triggered()).await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    let (status, body) = pair
        .a()
        .deliver(&retriggered("01JDX9ANOTHERDELIVERY00000"))
        .await;
    assert_eq!((status, &body["status"]), (202, &json!("session_exists")));
    assert_eq!(
        (
            pair.fleet.devin.sessions().len(),
            pair.fleet.devin.creates()
        ),
        (1, 1)
    );
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_deliveries_at_once_on_two_instances_make_one_session() {
    let pair = Pair::start(&[]).await;
    for round in 0..5 {
        let incident = format!("QRACE{round}");
        let event = |event_id: &str| {
            let body = delivery_body(&triggered())
                .replace("01JDX2Q7M4R8T6V0W9Y3Z5A1B2", event_id)
                .replace("Q3VQH2T8RZK1MN", &incident);
            function_url_event("POST", "/pagerduty-alert", &body)
        };
        let (first, second) = (event(&format!("EVA{round}")), event(&format!("EVB{round}")));
        let ((status_a, a), (status_b, b)) =
            tokio::join!(pair.a().deliver(&first), pair.b().deliver(&second));
        assert_eq!((status_a, status_b), (202, 202), "{a} {b}");
        let mut statuses = [a["status"].as_str().unwrap(), b["status"].as_str().unwrap()];
        statuses.sort();
        assert_eq!(statuses, ["session_exists", "session_started"]);
        assert_eq!(a["session_id"], b["session_id"]);
    }
    assert_eq!(pair.fleet.devin.sessions().len(), 5);
    assert_eq!(pair.fleet.devin.creates(), 5);
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_delivery_while_devin_lists_the_session_late_starts_none() {
    let pair = Pair::start(&[]).await;
    pair.fleet.devin.list_lag(Duration::from_secs(5));
    let (_, started) = pair.a().deliver(&triggered()).await;
    assert_eq!(started["status"], "session_started");
    let (status, again) = pair
        .b()
        .deliver(&retriggered("01JDX9LAGGEDDELIVERY00000"))
        .await;
    assert_eq!((status, &again["status"]), (202, &json!("session_exists")));
    assert_eq!(again["session_id"], started["session_id"]);
    assert_eq!(
        pair.fleet.devin.requests(),
        1,
        "B answered from the ledger alone"
    );

    // A responder's note right after the create reaches the session, though the list lags.
    let (status, body) = pair
        .b()
        .deliver(&sample_event("incident-annotated.json"))
        .await;
    assert_eq!((status, &body["status"]), (202, &json!("forwarded")));
    assert_eq!(pair.fleet.devin.messages().len(), 1);
    assert_eq!(pair.fleet.devin.sessions().len(), 1);
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_stored_behind_a_502_is_found_not_made_again() {
    let pair = Pair::start(&[("DELIVERY_BUDGET_MS", "1000"), ("CLAIM_LEASE_SECONDS", "3")]).await;
    pair.fleet.devin.reply([Reply::StoredThen(502)]);
    let claimed = Instant::now();
    let (status, _) = pair.a().deliver(&triggered()).await;
    assert_eq!(status, 503);
    assert_eq!(
        pair.fleet.devin.creates(),
        1,
        "no second create in that delivery"
    );
    let (status, _) = pair.b().deliver(&triggered()).await;
    assert_eq!(status, 503, "the claim holds until its lease ends");

    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(claimed.elapsed())).await;
    let (status, body) = pair.b().deliver(&triggered()).await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(
        body["session_id"],
        pair.fleet.devin.sessions()[0].session_id.as_str()
    );
    assert_eq!(
        (
            pair.fleet.devin.sessions().len(),
            pair.fleet.devin.creates()
        ),
        (1, 1)
    );
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_no_retry_can_fix_are_answered_2xx() {
    let pair = Pair::start(&[]).await;
    pair.fleet.devin.reply([Reply::Status(422, None)]);
    let (status, body) = pair.a().deliver(&triggered()).await;
    assert_eq!((status, &body["status"]), (202, &json!("devin_rejected")));
    assert_eq!(pair.fleet.devin.creates(), 1, "not retried");

    // Recorded: a later delivery of the incident starts nothing (only a person's
    // `devin investigate` tries again), and is acknowledged.
    let (status, body) = pair
        .b()
        .deliver(&retriggered("01JDX9AFTERREJECTION00000"))
        .await;
    assert_eq!(
        (status, &body["status"], &body["decision"]),
        (202, &json!("already_decided"), &json!("devin_rejected"))
    );
    assert_eq!(pair.fleet.devin.creates(), 1, "not tried again");

    let output = pair.stop().await;
    let rejected: u64 = log_lines(&output)
        .iter()
        .filter_map(|line| line["DevinRejected"].as_u64())
        .sum();
    assert_eq!(rejected, 1, "the DevinRejected metric counts it");
    let line = log_lines(&output)
        .into_iter()
        .find(|line| line["fields"]["devin_status"] == 422)
        .unwrap_or_else(|| panic!("no line with Devin's status in {output}"));
    assert_eq!(line["level"], "ERROR");
    assert!(!output.contains(TEST_DEVIN_API_KEY));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_of_zero_makes_a_bounded_number_of_requests() {
    let pair = Pair::start(&[]).await;
    pair.fleet.devin.outage_with_retry_after(429, "0");
    let (status, _) = pair.a().deliver(&triggered()).await;
    assert_eq!(status, 429);
    let requests = pair.fleet.devin.requests();
    assert!(requests <= 5, "{requests} requests for one delivery");
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledger_unavailable_is_a_503_never_a_second_session() {
    let mut pair = Pair::start(&[("DELIVERY_BUDGET_MS", "1500")]).await;
    let (_, started) = pair.a().deliver(&triggered()).await;
    assert_eq!(started["status"], "session_started");

    pair.fleet.moto.take().unwrap().stop();
    for event in [
        retriggered("01JDX9LEDGERDOWN000000001"),
        sample_event("incident-triggered-p1.json"),
        sample_event("incident-annotated.json"),
    ] {
        let (status, body) = pair.b().deliver(&event).await;
        assert_eq!(status, 503, "{body}");
    }
    assert_eq!(
        pair.fleet.devin.creates(),
        1,
        "nothing started without the ledger"
    );
    let output = pair.stop().await;
    assert!(output.contains("the ledger is unavailable"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_common_path_is_one_claim_one_create_one_record() {
    let moto = Moto::start().await;
    let table = moto.create_ledger_table("counted-ledger").await;
    let aws = AwsCalls::start(&moto.endpoint).await;
    let devin = FakeDevin::start().await;
    let env = Env::local(&devin.url)
        .with_ledger(&moto, &table)
        .set("AWS_ENDPOINT_URL", &aws.endpoint);
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&env.vars());
    let instance = Instance { runtime, function };

    let (_, started) = instance.deliver(&triggered()).await;
    assert_eq!(started["status"], "session_started");
    let calls = aws.counts();
    assert_eq!(
        (calls.get("PutItem"), calls.len(), devin.requests()),
        (Some(&2), 1, 1),
        "a conditional claim, a create, a record: {calls:?}"
    );
    aws.reset();
    let (_, again) = instance
        .deliver(&retriggered("01JDX9COUNTEDDELIVERY0000"))
        .await;
    assert_eq!(again["status"], "session_exists");
    assert_eq!(
        aws.counts().get("PutItem"),
        Some(&1),
        "the refused claim carries the record"
    );
    assert_eq!(devin.requests(), 1, "and Devin is not called");
    instance.function.stop().await;
}
