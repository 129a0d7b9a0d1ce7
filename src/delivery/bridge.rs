//! What every delivery borrows: the secrets, the clients, the policy and the options, built
//! once per cold start (see `startup::assemble`).

use std::sync::Mutex;
use std::time::Duration;

use crate::edge::devin::DevinClient;
use crate::edge::ledger::Ledger;
use crate::edge::pagerduty::PagerDutyClient;
use crate::edge::secrets_store::SecretStore;
use crate::pure::policy::Policy;
use crate::pure::recent::{RecentDeliveries, DEFAULT_CAPACITY};

/// PagerDuty gives up on a delivery after 5 s: the answer must come well inside that.
pub const DEFAULT_DELIVERY_BUDGET: Duration = Duration::from_millis(4000);
/// How long a delivery's claim on an incident keeps others from creating its session: long
/// enough for a create still in flight when the delivery answered to finish, and for Devin's
/// list to show it.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(120);
/// A refused signature fetches the secrets again when they are older than this: PagerDuty may
/// have a new secret we have not seen, but forged requests must not hammer Secrets Manager.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(60);

/// How the bridge behaves, beside what it talks to.
#[derive(Debug, Clone)]
pub struct Options {
    /// Show the session request instead of sending it.
    pub dry_run: bool,
    /// The time one delivery may take, Devin calls and retries included.
    pub delivery_budget: Duration,
    /// The `FunctionName` dimension of the metrics.
    pub function_name: String,
    /// How old the secrets must be before a refused secret or signature fetches them again.
    pub stale_after: Duration,
    /// How long a claim on an incident holds.
    pub claim_lease: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            delivery_budget: DEFAULT_DELIVERY_BUDGET,
            function_name: "pagerduty-devin-bridge".into(),
            stale_after: DEFAULT_STALE_AFTER,
            claim_lease: DEFAULT_CLAIM_LEASE,
        }
    }
}

/// Everything a delivery needs, built once per cold start and borrowed by every invocation.
pub struct Bridge {
    pub(super) secrets: SecretStore,
    pub(super) devin: DevinClient,
    /// Notes on incidents, when a PagerDuty token is configured.
    pub(super) pagerduty: Option<PagerDutyClient>,
    pub(super) policy: Policy,
    /// Who started which incident's session.
    pub(super) ledger: Ledger,
    pub(super) options: Options,
    pub(super) recent: Mutex<RecentDeliveries>,
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
            options,
            recent: Mutex::new(RecentDeliveries::new(DEFAULT_CAPACITY)),
        }
    }
}
