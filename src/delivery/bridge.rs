//! What every delivery borrows, built once per cold start (see `startup::assemble`): the
//! delivery's parts (each holding only what it needs: see the code map in `delivery`), the
//! policy and the options.

use std::sync::Arc;
use std::time::Duration;

use crate::delivery::checks::Checks;
use crate::delivery::claims::Claims;
use crate::delivery::devin_calls::DevinCalls;
use crate::delivery::groups::Groups;
use crate::delivery::notes::Notes;
use crate::delivery::pagerduty_reads::PagerDutyReads;
use crate::edge::clock::Clock;
use crate::edge::devin::DevinClient;
use crate::edge::ledger::Ledger;
use crate::edge::pagerduty::PagerDutyClient;
use crate::edge::secrets_store::SecretStore;
use pure::inbound::sources::SourceAllowlist;
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

/// Everything a delivery needs, built once per cold start and borrowed by every invocation:
/// the parts, each holding only what it needs, and what the orchestration reads itself.
pub struct Bridge {
    /// The secrets: the parts that refetch them hold them too.
    pub(crate) secrets: Arc<SecretStore>,
    pub(crate) policy: Policy,
    pub(crate) options: Options,
    /// Who started which incident's session: the follow-up's records are read here; the
    /// delivery's go through its parts.
    pub(crate) ledger: Arc<Ledger>,
    /// The source, the secret, the signature, the age, the repeats.
    pub(super) checks: Checks,
    /// The incident's record: claims, waits, limits, settles.
    pub(super) claims: Claims,
    /// A storm group's records and a group session's open members.
    pub(super) groups: Groups,
    pub(crate) devin: DevinCalls,
    /// Notes on incidents, when a PagerDuty token is configured.
    pub(crate) notes: Notes,
    pub(crate) pagerduty: PagerDutyReads,
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
        let (secrets, ledger) = (Arc::new(secrets), Arc::new(ledger));
        let pagerduty = pagerduty.map(Arc::new);
        let clock = Clock::System;
        let checks = Checks::new(
            secrets.clone(),
            options.allowed_sources.clone(),
            options.refresh_on_refusal,
            options.delivery_max_age,
            clock,
        );
        Bridge {
            checks,
            claims: Claims::new(ledger.clone(), options.claim_lease, clock),
            groups: Groups::new(ledger.clone(), options.claim_lease, clock),
            devin: DevinCalls::new(devin, secrets.clone()),
            notes: Notes::new(pagerduty.clone()),
            pagerduty: PagerDutyReads::new(pagerduty),
            secrets,
            policy,
            ledger,
            options,
        }
    }
}
