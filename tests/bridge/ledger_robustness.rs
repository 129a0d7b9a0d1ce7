//! The DynamoDB ledger on DynamoDB's bad moments, which moto never has: conflicts and throttling
//! injected by [`LedgerFaults`] in front of moto; and records that lack an attribute.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use pagerduty_devin_bridge::edge::ledger::{Claim, GroupClaim, Ledger, LedgerError, Spent};
use pure::life::records::{GroupRecord, Leader, OpenGroup};
use pure::life::Start;
use pure::policy::spend::Slot;
use serde_json::{json, Value};

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::fleet::Instance;
use crate::support::ledger_faults::{dynamo_ledger, Fault, LedgerFaults};
use crate::support::moto::Moto;
use crate::support::runtime_api::{log_lines, RuntimeApi};
use crate::support::*;

const SPEND: &str = "TransactWriteItems";

/// A ledger table on moto, and the ledger reaching it through the fault injector.
struct Faulty {
    moto: Moto,
    table: String,
    faults: LedgerFaults,
    ledger: Ledger,
}

impl Faulty {
    async fn start() -> Self {
        let moto = Moto::start().await;
        let table = moto.create_ledger_table("faulty-ledger").await;
        let faults = LedgerFaults::start(&moto.endpoint).await;
        let ledger = dynamo_ledger(&faults.endpoint, &table);
        Faulty {
            moto,
            table,
            faults,
            ledger,
        }
    }

    /// A budget counter's count, read from moto directly.
    async fn used(&self, key: &str) -> Option<String> {
        let item = self
            .moto
            .dynamodb()
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.into()))
            .send()
            .await
            .unwrap();
        item.item()
            .and_then(|item| item.get("used"))
            .map(|used| used.as_n().unwrap().clone())
    }

    /// Counts a session against [`slots`] for a claim on an incident, claimed first (a spend is
    /// always a claim's: the claim is marked as counted in the same transaction).
    async fn spend(&self, slots: &[Slot], timeout: Duration) -> Result<Spent, LedgerError> {
        let claim = self.ledger.claim(
            "QSPEND",
            Start::Trigger,
            "holder",
            now_ms(),
            now_ms() + 60_000,
            Duration::from_secs(2),
        );
        assert!(matches!(claim.await.unwrap(), Claim::Won(_)));
        self.ledger.spend(slots, "QSPEND", "holder", timeout).await
    }

    /// Writes `item` as it is, under key `pk`.
    async fn put(&self, pk: &str, item: &[(&str, AttributeValue)]) {
        let mut put = self
            .moto
            .dynamodb()
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk.into()));
        for (name, value) in item {
            put = put.item(*name, value.clone());
        }
        put.send().await.unwrap();
    }
}

fn slots() -> Vec<Slot> {
    ["budget#bridge#hour#1", "budget#bridge#day#1"]
        .map(|key| Slot {
            key: key.into(),
            cap: 5,
            limit: "sessions_per_hour",
            scope: "bridge".into(),
            refills_at_ms: now_ms() + 3_600_000,
        })
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spend_that_conflicts_is_retried_and_counted_once() {
    let faulty = Faulty::start().await;
    faulty.faults.inject(SPEND, Fault::Conflict, 4);
    let spent = faulty.spend(&slots(), Duration::from_secs(2)).await;
    assert_eq!(spent.unwrap(), Spent::Counted);
    assert_eq!(faulty.faults.injected(SPEND), 4);
    assert_eq!(
        faulty.used("budget#bridge#hour#1").await.as_deref(),
        Some("1")
    );
    assert_eq!(
        faulty.used("budget#bridge#day#1").await.as_deref(),
        Some("1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_past_the_sdks_own_retries_is_retried_within_the_time() {
    let faulty = Faulty::start().await;
    // The SDK makes two attempts (`max_attempts`): both throttled, then the ledger's next one.
    faulty.faults.inject(SPEND, Fault::Throttling, 3);
    let spent = faulty.spend(&slots(), Duration::from_secs(4)).await;
    assert_eq!(spent.unwrap(), Spent::Counted);
    assert_eq!(faulty.faults.injected(SPEND), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_that_conflicts_is_retried() {
    let faulty = Faulty::start().await;
    let slots = slots();
    let spent = faulty.spend(&slots, Duration::from_secs(2)).await;
    assert_eq!(spent.unwrap(), Spent::Counted);
    faulty.faults.inject("UpdateItem", Fault::Conflict, 3);
    let refunded = faulty.ledger.refund(&slots, Duration::from_secs(2)).await;
    refunded.unwrap();
    assert_eq!(faulty.faults.injected("UpdateItem"), 3);
    assert_eq!(
        faulty.used("budget#bridge#hour#1").await.as_deref(),
        Some("0")
    );
    assert_eq!(
        faulty.used("budget#bridge#day#1").await.as_deref(),
        Some("0")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spend_that_conflicts_until_its_time_ends_fails_within_that_time() {
    let faulty = Faulty::start().await;
    faulty.faults.always(SPEND, Fault::Conflict);
    let started = Instant::now();
    // Without its time the retry would go on for good; the margin is for a loaded machine.
    let spent = tokio::time::timeout(
        Duration::from_secs(10),
        faulty.spend(&slots(), Duration::from_millis(400)),
    )
    .await
    .expect("the spend gives up");
    assert!(
        started.elapsed() < Duration::from_millis(2400),
        "{:?}",
        started.elapsed()
    );
    assert!(faulty.faults.injected(SPEND) > 2, "retried meanwhile");
    match spent {
        Err(LedgerError::Unavailable(detail)) => assert!(detail.contains("TransactionConflict")),
        other => panic!("{other:?}"),
    }
    assert_eq!(faulty.used("budget#bridge#hour#1").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_that_lacks_an_attribute_is_unreadable_naming_it() {
    let faulty = Faulty::start().await;
    let s = |value: &str| AttributeValue::S(value.into());
    let n = |value: u64| AttributeValue::N(value.to_string());
    let far = now_ms() + 3_600_000;
    faulty
        .put(
            "incident#QNOHOLDER",
            &[("state", s("creating")), ("lease_until", n(far))],
        )
        .await;
    faulty
        .put(
            "incident#QNOURL",
            &[("state", s("created")), ("session_id", s("devin-1"))],
        )
        .await;
    let open_group = [
        ("state", s("open")),
        ("session_id", s("devin-g")),
        ("url", s("https://app.devin.ai/sessions/g")),
        ("leader_id", s("Q1")),
        ("window_until", n(far)),
        ("tags", n(3)),
    ];
    faulty.put("group#api", &open_group).await;
    let timeout = Duration::from_secs(2);
    assert_eq!(
        unreadable(faulty.ledger.get("QNOHOLDER", timeout).await),
        "incident#QNOHOLDER: no holder attribute"
    );
    assert_eq!(
        unreadable(faulty.ledger.get("QNOURL", timeout).await),
        "incident#QNOURL: no url attribute"
    );
    assert_eq!(
        unreadable(faulty.ledger.group("api", timeout).await),
        "group#api: no incidents attribute"
    );
}

/// The key and detail of an unreadable record.
fn unreadable<T: std::fmt::Debug>(read: Result<T, LedgerError>) -> String {
    match read {
        Err(LedgerError::Unreadable { key, detail }) => format!("{key}: {detail}"),
        other => panic!("read as {other:?}"),
    }
}

/// A triggered delivery of incident `id`, with its own event id.
fn triggered(id: &str, number: u64) -> String {
    let body = json!({"event": {
        "id": format!("EV{id}"), "event_type": "incident.triggered",
        "resource_type": "incident", "occurred_at": "2026-11-28T09:12:04.512Z", "agent": null,
        "data": {"type": "incident", "id": id, "number": number, "status": "triggered",
                 "title": format!("Errors on svc{number}"), "urgency": "high",
                 "service": {"id": "PSVC", "summary": "checkout"},
                 "teams": [], "assignees": [], "priority": null}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// Two built instances of the function with a budget, their ledger behind the fault injector.
async fn budgeted_pair(faulty: &Faulty, devin: &FakeDevin) -> [Instance; 2] {
    let env = Env::local(&devin.url)
        .with_ledger(&faulty.moto, &faulty.table)
        .set("AWS_ENDPOINT_URL", &faulty.faults.endpoint)
        .set(
            "ROUTING_CONFIG",
            r#"{"limits": {"sessions_per_hour": 100}}"#,
        );
    let mut instances = Vec::new();
    for _ in 0..2 {
        let runtime = RuntimeApi::start().await;
        let function = runtime.spawn_function(&env.vars());
        instances.push(Instance { runtime, function });
    }
    instances.try_into().ok().unwrap()
}

/// The sum of a metric over every metrics line of the instances, once stopped.
async fn stopped_metric(instances: [Instance; 2], metric: &str) -> u64 {
    let mut output = String::new();
    for instance in instances {
        output.push_str(&instance.function.stop().await);
    }
    log_lines(&output)
        .iter()
        .filter_map(|line| line[metric].as_u64())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_whose_spends_conflict_starts_every_session_without_a_ledger_error() {
    let faulty = Faulty::start().await;
    let devin = FakeDevin::start().await;
    let instances = budgeted_pair(&faulty, &devin).await;
    faulty.faults.inject(SPEND, Fault::Conflict, 12);
    let events: Vec<String> = (0..8).map(|n| triggered(&format!("QCONF{n}"), n)).collect();
    let answers: Vec<(u16, Value)> = futures_util::future::join_all(
        events
            .iter()
            .enumerate()
            .map(|(n, event)| instances[n % 2].deliver(event)),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(
            (*status, &body["status"]),
            (202, &json!("session_started")),
            "{body}"
        );
    }
    assert_eq!(faulty.faults.injected(SPEND), 12);
    assert_eq!(devin.creates(), 8);
    assert_eq!(stopped_metric(instances, "LedgerErrors").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn spends_that_conflict_until_the_budget_ends_are_answered_503() {
    let faulty = Faulty::start().await;
    let devin = FakeDevin::start().await;
    let instances = budgeted_pair(&faulty, &devin).await;
    faulty.faults.always(SPEND, Fault::Conflict);
    let (status, body) = instances[0].deliver(&triggered("QCONFLICTED", 1)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(devin.creates(), 0);
    assert!(faulty.faults.injected(SPEND) > 2, "retried meanwhile");
    // Once DynamoDB lets the spend through, PagerDuty's retry starts the session.
    faulty.faults.clear();
    let (status, body) = instances[1].deliver(&triggered("QCONFLICTED", 1)).await;
    assert_eq!((status, &body["status"]), (202, &json!("session_started")));
    assert_eq!(stopped_metric(instances, "LedgerErrors").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_injector_fails_a_call_before_moto_or_loses_the_answer_after_it() {
    let faulty = Faulty::start().await;
    let timeout = Duration::from_secs(2);
    // Both of the SDK's attempts answered 500: nothing reached moto.
    faulty.faults.inject("PutItem", Fault::ServerError, 2);
    let adopted = faulty
        .ledger
        .adopt("QLOST", &devin_session(), now_ms(), timeout)
        .await;
    assert!(
        matches!(adopted, Err(LedgerError::Unavailable(_))),
        "{adopted:?}"
    );
    assert_eq!(faulty.ledger.get("QLOST", timeout).await.unwrap(), None);
    // The write lands, its answer is lost; whatever the SDK's retry makes of it, it is there.
    faulty.faults.inject("PutItem", Fault::LandedThenLost, 1);
    let _ = faulty
        .ledger
        .adopt("QLOST", &devin_session(), now_ms(), timeout)
        .await;
    assert_eq!(faulty.faults.injected("PutItem"), 3);
    assert!(faulty.ledger.get("QLOST", timeout).await.unwrap().is_some());
}

/// Found by the model test: the group opened, then its leader's membership was not written
/// (DynamoDB failed in between), and the next member's resolve told the shared session to
/// finish while the leader was still open. Both are one transaction now: both or neither.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_opens_with_its_leader_as_an_open_member_or_not_at_all() {
    let faulty = Faulty::start().await;
    let timeout = Duration::from_secs(2);
    let leader = Leader {
        incident_id: "QLEAD".into(),
        generation: 1,
    };
    let claim = faulty.ledger.claim_group(
        "api",
        ("holder", &leader),
        now_ms(),
        now_ms() + 60_000,
        40,
        timeout,
    );
    assert_eq!(claim.await.unwrap(), GroupClaim::Won);
    let open = OpenGroup {
        session: devin_session(),
        leader_id: "QLEAD".into(),
        leader_number: None,
        incidents: 1,
        window_until_ms: now_ms() + 60_000,
        tags: 1,
    };
    let members = |faulty: &Faulty| {
        let ledger = dynamo_ledger(&faulty.moto.endpoint, &faulty.table);
        async move {
            ledger
                .leave_group("devin-lost", "QLEAD", now_ms(), Duration::from_secs(2))
                .await
                .unwrap()
        }
    };
    faulty.faults.inject(SPEND, Fault::ServerError, 2);
    let opened = faulty
        .ledger
        .open_group("api", "holder", &open, now_ms(), timeout);
    assert!(opened.await.is_err());
    assert_eq!(members(&faulty).await, None, "neither");
    let still = faulty.ledger.group("api", timeout).await.unwrap();
    assert!(
        matches!(still, Some(GroupRecord::Creating { .. })),
        "{still:?}"
    );

    // A conflict is DynamoDB's moment: tried again.
    faulty.faults.inject(SPEND, Fault::Conflict, 1);
    let opened = faulty
        .ledger
        .open_group("api", "holder", &open, now_ms(), timeout);
    assert!(opened.await.unwrap());
    assert_eq!(faulty.faults.injected(SPEND), 3);
    let left = members(&faulty).await.unwrap();
    assert_eq!((left.was_member, left.still_open), (true, 0), "both");
}

fn devin_session() -> pure::life::session::Session {
    pure::life::session::Session {
        session_id: "devin-lost".into(),
        url: "https://app.devin.ai/sessions/lost".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spend_whose_answer_was_lost_counts_once() {
    let faulty = Faulty::start().await;
    faulty.faults.inject(SPEND, Fault::LandedThenLost, 1);
    let spent = faulty.spend(&slots(), Duration::from_secs(2)).await;
    // The SDK's retry carries the transaction's token: DynamoDB (and the injector) answer it
    // with success and count nothing again.
    assert_eq!(spent.unwrap(), Spent::Counted);
    assert_eq!(faulty.faults.injected(SPEND), 1);
    assert_eq!(
        faulty.used("budget#bridge#hour#1").await.as_deref(),
        Some("1")
    );
}

/// Item 12 of issue 20: the claim's write landed, its answer was lost, and the SDK's retry was
/// refused by the claim itself; read back as another's, the delivery waited out its own lease
/// (503). Now the claim read back by its own holder is its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_whose_answer_was_lost_is_read_back_as_its_own() {
    let faulty = Faulty::start().await;
    faulty.faults.inject("PutItem", Fault::LandedThenLost, 1);
    let now = now_ms();
    let claim = faulty.ledger.claim(
        "QLOSTCLAIM",
        Start::Trigger,
        "holder-a",
        now,
        now + 60_000,
        Duration::from_secs(4),
    );
    let Claim::Won(claimed) = claim.await.unwrap() else {
        panic!("the claim is its holder's");
    };
    assert_eq!(
        faulty.faults.injected("PutItem"),
        1,
        "the answer was lost once"
    );
    assert_eq!(
        (claimed.holder.as_str(), claimed.took_over),
        ("holder-a", None)
    );
}
