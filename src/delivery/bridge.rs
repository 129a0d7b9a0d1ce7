//! What every delivery borrows: the secrets, the clients, the policy and the options, built
//! once per cold start (see `startup::assemble`).

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::edge::devin::DevinClient;
use crate::edge::ledger::Ledger;
use crate::edge::pagerduty::PagerDutyClient;
use crate::edge::secrets_store::SecretStore;
use pure::inbound::recent::{RecentDeliveries, DEFAULT_CAPACITY};
use pure::inbound::sources::SourceAllowlist;
use pure::inbound::throttle::Throttle;
use pure::policy::Policy;
use pure::text::commands::Commanders;

/// PagerDuty gives up on a delivery after 5 s: the answer must come well inside that.
pub const DEFAULT_DELIVERY_BUDGET: Duration = Duration::from_millis(4000);
/// How long a delivery's claim on an incident keeps others from creating its session: long
/// enough for a create still in flight when the delivery answered to finish, and for Devin's
/// list to show it.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(120);
/// A refused secret or signature fetches the secrets again at most this often per instance:
/// PagerDuty may already send a rotated secret we have not seen, but forged requests must not
/// hammer Secrets Manager.
pub const DEFAULT_REFRESH_ON_REFUSAL: Duration = Duration::from_secs(5);

/// How the bridge behaves, beside what it talks to.
#[derive(Debug, Clone)]
pub struct Options {
    /// Show the session request instead of sending it.
    pub dry_run: bool,
    /// The time one delivery may take, Devin calls and retries included.
    pub delivery_budget: Duration,
    /// The `FunctionName` dimension of the metrics.
    pub function_name: String,
    /// How often, at most, a refused secret or signature fetches the secrets again.
    pub refresh_on_refusal: Duration,
    /// How long a claim on an incident holds.
    pub claim_lease: Duration,
    /// When set, only these addresses may send deliveries.
    pub allowed_sources: Option<SourceAllowlist>,
    /// Deliveries that happened longer ago are answered `stale`.
    pub delivery_max_age: Option<Duration>,
    /// When set, only these PagerDuty users may give note commands.
    pub allowed_commanders: Option<Commanders>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            delivery_budget: DEFAULT_DELIVERY_BUDGET,
            function_name: "pagerduty-devin-bridge".into(),
            refresh_on_refusal: DEFAULT_REFRESH_ON_REFUSAL,
            claim_lease: DEFAULT_CLAIM_LEASE,
            allowed_sources: None,
            delivery_max_age: None,
            allowed_commanders: None,
        }
    }
}

/// Everything a delivery needs, built once per cold start and borrowed by every invocation.
pub struct Bridge {
    pub(crate) secrets: SecretStore,
    pub(crate) devin: DevinClient,
    /// Notes on incidents, when a PagerDuty token is configured.
    pub(crate) pagerduty: Option<PagerDutyClient>,
    pub(crate) policy: Policy,
    /// Who started which incident's session.
    pub(crate) ledger: Ledger,
    pub(crate) options: Options,
    pub(super) recent: Mutex<RecentDeliveries>,
    /// When a refused delivery may next fetch the secrets again.
    pub(super) refresh_on_refusal: Mutex<Throttle>,
    /// The PagerDuty user the bridge's notes are written as, once a note's answer said.
    pub(super) own_user_id: OnceLock<String>,
    /// Devin refused the per-incident tags (tag validation): sessions get the policy's only.
    pub(super) per_incident_tags_refused: AtomicBool,
}

impl Bridge {
    pub fn new(
        secrets: SecretStore,
        devin: DevinClient,
        pagerduty: Option<PagerDutyClient>,
        policy: Policy,
        ledger: Ledger,
        options: Options,
    ) -> Self {
        Bridge {
            secrets,
            devin,
            pagerduty,
            policy,
            ledger,
            refresh_on_refusal: Mutex::new(Throttle::new(options.refresh_on_refusal)),
            options,
            recent: Mutex::new(RecentDeliveries::new(DEFAULT_CAPACITY)),
            own_user_id: OnceLock::new(),
            per_incident_tags_refused: AtomicBool::new(false),
        }
    }
}
