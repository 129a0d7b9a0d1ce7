//! What every story starts from: the routing policy, the settings, and the bridges built in
//! process on one ledger (memory, or a fresh table in moto) with the fakes' addresses.

use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::ledger::Ledger;
use pagerduty_devin_bridge::edge::secrets_store::SecretStore;
use pagerduty_devin_bridge::follow_up::FollowUp;
use pagerduty_devin_bridge::startup::assemble::{assemble, http_client};
use pagerduty_devin_bridge::startup::settings::{follow_up_options, Settings};
use pure::inbound::secret::Secrets;

use super::ops::{Which, INCIDENTS};
use crate::support::bridge_with_env;
use crate::support::env::Env;
use crate::support::ledger_faults::{dynamo_ledger, LedgerFaults};
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
/// another's claim) stays short; on moto longer, for its slower calls. `MODEL_BUDGET_MS`
/// overrides it: shorter, more deliveries run out of time between two writes, as on a slow
/// day (or a faster machine's timing, seen from a slower one).
fn delivery_budget_ms(kind: LedgerKind) -> u64 {
    let budget = std::env::var("MODEL_BUDGET_MS")
        .ok()
        .and_then(|ms| ms.trim().parse().ok());
    budget.unwrap_or(match kind {
        LedgerKind::Memory => 300,
        LedgerKind::Dynamo => 600,
    })
}
/// How long a hanging or slow Devin takes past a delivery's budget: inside a run's step (4 s).
const DEVIN_LATE_BY: Duration = Duration::from_millis(300);
/// Past every claim's lease (120 s), a deferral (5 min) and the sweep's grace (2 min).
pub const PAST_LEASES_AND_DEFERRALS_MIN: u64 = 6;

/// The bridges of one story.
pub struct Parts {
    pub follow_up: FollowUp,
    /// The webhook instances on the table (DynamoDB); empty in memory, where the follow-up's
    /// bridge takes the deliveries.
    pub instances: Vec<Bridge>,
    /// DynamoDB's bad moments, in front of moto for every bridge of the story.
    pub faults: Option<LedgerFaults>,
    /// The table, read at the end straight from moto: the items (`scan`), and the records as
    /// the ledger reads them.
    pub table: Option<Table>,
    /// How long a hanging or slow Devin takes.
    pub devin_late: Duration,
}

pub struct Table {
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
    pub ledger: Ledger,
}

impl Parts {
    /// With moto, on a fresh table of it: two webhook instances and the follow-up's bridge,
    /// each through the fault injector.
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
            .set("ROUTING_CONFIG", POLICY)
            // The sweep reads the services the bridge is subscribed to: all of the stories'.
            .set("SWEEP_SERVICE_IDS", "PSAPI,PSDB,PSWEB,PSBATCH");
        let options = follow_up_options(env.lookup()).expect("the follow-up's settings");
        let devin_late = Duration::from_millis(delivery_budget_ms(kind)) + DEVIN_LATE_BY;
        let (LedgerKind::Dynamo, Some(moto)) = (kind, moto) else {
            return Parts {
                follow_up: FollowUp::new(bridge_with_env(env).await, options),
                instances: Vec::new(),
                faults: None,
                table: None,
                devin_late,
            };
        };
        let name = moto.create_ledger_table(&format!("model-{case}")).await;
        env = env.set("LEDGER_TABLE", &name);
        let faults = LedgerFaults::start(&moto.endpoint).await;
        let mut instances = Vec::new();
        for _ in 0..2 {
            instances.push(on_ledger(&env, dynamo_ledger(&faults.endpoint, &name)).await);
        }
        let follow_up = on_ledger(&env, dynamo_ledger(&faults.endpoint, &name)).await;
        Parts {
            follow_up: FollowUp::new(follow_up, options),
            instances,
            faults: Some(faults),
            table: Some(Table {
                client: moto.dynamodb(),
                ledger: dynamo_ledger(&moto.endpoint, &name),
                name,
            }),
            devin_late,
        }
    }
}

/// A bridge on `ledger`, in process: the cold start's own parts (the cold start's DynamoDB
/// client reads the process's environment, which in-process tests share; `dynamo_ledger`
/// configures its client as the cold start does).
async fn on_ledger(env: &Env, ledger: Ledger) -> Bridge {
    let settings = Settings::from_lookup(env.lookup()).expect("the model's settings");
    let secrets = SecretStore::fixed(Secrets::from_lookup(env.lookup()).expect("the secrets"));
    let http = http_client().expect("the HTTP client");
    assemble(settings, secrets, ledger, http, "model".into())
        .await
        .expect("the bridge assembles")
}
