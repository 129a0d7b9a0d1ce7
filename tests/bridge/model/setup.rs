//! What every story starts from: the routing policy, the settings, and the bridges built in
//! process on one ledger (memory, or a fresh table in moto) with the fakes' addresses.

use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::ledger::{DynamoLedger, Ledger};
use pagerduty_devin_bridge::edge::secrets_store::SecretStore;
use pagerduty_devin_bridge::follow_up::{FollowUp, FollowUpOptions};
use pagerduty_devin_bridge::pure::secret::Secrets;
use pagerduty_devin_bridge::startup::assemble::{assemble, http_client};
use pagerduty_devin_bridge::startup::settings::Settings;

use super::ops::{Which, INCIDENTS};
use crate::support::bridge_with_env;
use crate::support::env::Env;
use crate::support::moto::Moto;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    Memory,
    Dynamo,
}

/// The routing policy of every story: the api incidents share one session (the window lasts
/// a day, longer than any story), db's start 5 minutes late, web's at most one an hour, batch's
/// never.
pub const POLICY: &str = r#"{
  "defaults": {"group_window_minutes": 1440},
  "rules": [
    {"name": "grouped", "when": {"services": ["api"]}, "group_by": "{service}"},
    {"name": "later", "when": {"services": ["db"]}, "start_after_minutes": 5},
    {"name": "scarce", "when": {"services": ["web"]}, "limits": {"sessions_per_hour": 1}},
    {"name": "quiet", "when": {"services": ["batch"]}, "action": "ignore"}
  ]
}"#;
/// Which incidents the policy investigates.
pub fn investigated(incident: Which) -> bool {
    INCIDENTS[incident].service != "batch"
}
/// Each delivery's budget: short, so that a story with timeouts (and deliveries waiting for
/// another's claim) stays short; on moto longer, for its slower calls.
fn delivery_budget_ms(kind: LedgerKind) -> u64 {
    match kind {
        LedgerKind::Memory => 300,
        LedgerKind::Dynamo => 600,
    }
}
/// How long a hanging or slow Devin takes past a delivery's budget: inside a run's step (4 s).
const DEVIN_LATE_BY: Duration = Duration::from_millis(300);
/// Past every claim's lease (120 s), a deferral (5 min) and the sweep's grace (2 min).
pub const PAST_LEASES_AND_DEFERRALS_MIN: u64 = 6;

/// Ledger faults: the fault-injecting proxy in front of moto (`support/ledger_faults.rs` on the
/// branch `ledger`) is not merged yet. Until it is, [`Fault::Ledger`] is never generated; once
/// merged, set this to true and fill in `World::fail_ledger`.
pub const LEDGER_FAULTS: bool = false;

/// The bridges of one story.
pub struct Parts {
    pub follow_up: FollowUp,
    /// The webhook instances on the table (DynamoDB); empty in memory, where the follow-up's
    /// bridge takes the deliveries.
    pub instances: Vec<Bridge>,
    /// The ledger's table (DynamoDB).
    pub table: Option<(aws_sdk_dynamodb::Client, String)>,
    /// How long a hanging or slow Devin takes.
    pub devin_late: Duration,
}

impl Parts {
    /// With moto, on a fresh table of it: two webhook instances and the follow-up's bridge.
    pub async fn build(
        kind: LedgerKind,
        moto: Option<&Moto>,
        case: u64,
        devin_url: &str,
        pagerduty_url: &str,
    ) -> Parts {
        let mut env = Env::local(devin_url)
            .set("PAGERDUTY_API_URL", pagerduty_url)
            .set("PAGERDUTY_API_TOKEN", "pd_model_token")
            .set("PAGERDUTY_FROM_EMAIL", "bridge@acme.example")
            .set("DELIVERY_BUDGET_MS", &delivery_budget_ms(kind).to_string())
            .set("ROUTING_CONFIG", POLICY);
        let mut instances = Vec::new();
        let (follow_up, table) = match (kind, moto) {
            (LedgerKind::Dynamo, Some(moto)) => {
                let table = moto.create_ledger_table(&format!("model-{case}")).await;
                env = env.set("LEDGER_TABLE", &table);
                for _ in 0..2 {
                    instances.push(on_table(&env, moto, &table).await);
                }
                let follow_up = on_table(&env, moto, &table).await;
                (follow_up, Some((moto.dynamodb(), table)))
            }
            _ => (bridge_with_env(env).await, None),
        };
        Parts {
            follow_up: FollowUp::new(follow_up, FollowUpOptions::default()),
            instances,
            table,
            devin_late: Duration::from_millis(delivery_budget_ms(kind)) + DEVIN_LATE_BY,
        }
    }
}

/// A bridge on `table` in `moto`, in process: the cold start's own parts, with a DynamoDB client
/// configured as the cold start configures its own (`startup::assemble::aws_config`: 800 ms an
/// attempt, 1.5 s in all, two attempts), but pointed at moto (the cold start's client reads the
/// process's environment, which in-process tests share).
async fn on_table(env: &Env, moto: &Moto, table: &str) -> Bridge {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let settings = Settings::from_lookup(env.lookup()).expect("the model's settings");
    let secrets = SecretStore::fixed(Secrets::from_lookup(env.lookup()).expect("the secrets"));
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(1500))
        .build();
    let config = moto
        .dynamodb()
        .config()
        .to_builder()
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let ledger = Ledger::Dynamo(DynamoLedger::new(client, table));
    let http = http_client().expect("the HTTP client");
    assemble(settings, secrets, ledger, http, "model".into())
        .await
        .expect("the bridge assembles")
}
