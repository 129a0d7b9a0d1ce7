//! The follow-up: the second function of the stack, run on a schedule. A run is not a delivery
//! (no request, many incidents, its own time budget), so it has a room of its own, between the
//! delivery (whose path it reuses to start sessions) and startup (which builds it):
//!
//! - [`sessions`]: Devin's findings, questions, turn ends and quota states noted on the incidents
//!   of every session not closed out yet; ended, concluded and idle sessions closed out;
//! - [`sweep`]: the starts the ledger leaves to the follow-up made when due (deferrals, caps,
//!   pending starts, abandoned claims; skipped once resolved), and open incidents the webhook
//!   never saw given their session;
//! - [`postmortems`]: the postmortem drafts of incidents closed out before they resolved,
//!   posted when their sessions write them;
//! - [`report`]: what the run did, as its answer.
//!
//! A run starts first (the starts the ledger leaves to it, then the sweep), each start kind
//! within its share of the run, then reads the sessions, oldest-followed first: neither can
//! starve the other, and no session starves.
//!
//! One run at a time posts notes: a run takes a lease in the ledger first, and a run that finds
//! it held does nothing. A note is posted, then recorded; a run that stops between the two posts
//! that note again next run: at most one duplicate, never a lost note. The follow-up imports
//! the core, the edges and the delivery, never startup (`tests/layers.sh`).

mod notes;
mod postmortems;
mod report;
mod scope;
mod sessions;
mod sweep;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::delivery::Bridge;
use crate::edge::clock;
use crate::edge::retry::random;
use pure::budget::Budget;
use pure::metrics::{RunTally, Tally};
pub use report::{Action, RunReport};

/// A run's budget when the settings name none: well under the function's timeout (60 s in
/// `template.yaml`), so the run ends in its own time and releases its lease.
pub const DEFAULT_RUN_BUDGET: Duration = Duration::from_secs(45);
/// How far back the sweep looks for open incidents, by default.
pub const DEFAULT_LOOKBACK: Duration = Duration::from_secs(60 * 60);
/// How old an incident must be before the sweep starts its session: the webhook goes first.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2 * 60);
/// How long a session may show no change (asleep, or waiting with nobody answering) before it is
/// closed out, by default.
pub const DEFAULT_IDLE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// The longest one step of a run (a note, a start) may take: a stuck service costs one step,
/// not the run.
const STEP: Duration = Duration::from_secs(4);
/// The deferred starts and the sweep may each take up to this part of the run (a quarter):
/// reading the sessions has at least half of it.
const START_SHARE: u32 = 4;
/// Kept past the run's budget in the lease, for the answer and the lease's release.
const LEASE_MARGIN: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct FollowUpOptions {
    pub run_budget: Duration,
    pub lookback: Duration,
    pub grace: Duration,
    pub idle_after: Duration,
    /// `SWEEP_SERVICE_IDS` and `SWEEP_TEAM_IDS`: the sweep's scope, when set (`pure::life::sweep::scope`).
    pub service_ids: Vec<String>,
    pub team_ids: Vec<String>,
}

impl Default for FollowUpOptions {
    fn default() -> Self {
        FollowUpOptions {
            run_budget: DEFAULT_RUN_BUDGET,
            lookback: DEFAULT_LOOKBACK,
            grace: DEFAULT_GRACE,
            idle_after: DEFAULT_IDLE_AFTER,
            service_ids: Vec::new(),
            team_ids: Vec::new(),
        }
    }
}

pub struct FollowUp {
    bridge: Bridge,
    options: FollowUpOptions,
    /// The custom fields the policy maps and an incident lacked, each logged once per process.
    fields_absent: Mutex<BTreeSet<String>>,
}

impl FollowUp {
    pub fn new(bridge: Bridge, options: FollowUpOptions) -> Self {
        FollowUp {
            bridge,
            options,
            fields_absent: Mutex::default(),
        }
    }

    /// The bridge the run starts sessions with: in-process tests deliver through it too, so
    /// that deliveries and runs share an in-memory ledger as they share a table in AWS.
    pub fn bridge(&self) -> &Bridge {
        &self.bridge
    }

    /// Whether the sweep runs: it reads PagerDuty's incidents, with the PagerDuty token.
    pub async fn sweeps(&self) -> bool {
        let secrets = self.bridge.secrets.current().await;
        self.bridge.pagerduty.readable(&secrets)
    }

    /// One run, inside its budget and before `lambda_deadline`.
    pub async fn run(&self, lambda_deadline: Option<Instant>) -> RunReport {
        let budget = Budget::new(clock::now(), self.options.run_budget, lambda_deadline);
        let dry_run = self.bridge.options.dry_run;
        let mut report = RunReport::new(dry_run);
        let mut tally = RunTally::default();
        let holder = format!("{:016x}", random());
        if !dry_run {
            match self.take_lease(&holder, budget).await {
                Ok(true) => {}
                Ok(false) => {
                    info!("another follow-up run holds the lease: nothing to do");
                    report.status = "skipped";
                    return report;
                }
                Err(()) => {
                    tally.follow_up_errors += 1;
                    self.emit(&tally);
                    return report.counted(&tally);
                }
            }
        }
        // Starts first, each within its share, so that reading many (or slow) sessions never
        // keeps an incident from its session; then the sessions, with the rest of the run.
        let whole = budget.remaining(clock::now());
        let share = |budget: Budget| budget.at_most(clock::now(), whole / START_SHARE);
        self.start_due(share(budget), &mut report, &mut tally).await;
        self.sweep(share(budget), &mut report, &mut tally).await;
        self.follow_sessions(budget, &mut report, &mut tally).await;
        self.follow_postmortems(budget, &mut report, &mut tally)
            .await;
        if !dry_run {
            let left = budget
                .remaining(clock::now())
                .max(Duration::from_millis(500));
            if let Err(err) = self.bridge.ledger.release_run_lease(&holder, left).await {
                warn!(error = %err, "the run lease was not released; it ends by itself");
            }
        }
        self.emit(&tally);
        info!(
            sessions_checked = report.sessions_checked,
            actions = report.actions.len(),
            errors = tally.follow_up_errors,
            "follow-up run done"
        );
        report.counted(&tally)
    }

    /// The run lease, until the run's budget ends (and a margin).
    async fn take_lease(&self, holder: &str, budget: Budget) -> Result<bool, ()> {
        let now_ms = clock::epoch_ms();
        let lasts = budget.remaining(clock::now()) + LEASE_MARGIN;
        let until_ms = now_ms + lasts.as_millis() as u64;
        let left = budget.remaining(clock::now());
        let ledger = &self.bridge.ledger;
        ledger
            .take_run_lease(holder, now_ms, until_ms, left)
            .await
            .map_err(|err| warn!(error = %err, "the ledger is unavailable: no follow-up this run"))
    }

    /// One step of the run: [`STEP`] at most, inside the run's budget.
    fn step(budget: Budget) -> Budget {
        budget.at_most(clock::now(), STEP)
    }

    /// A start's metrics, one EMF line on stdout as a delivery writes it (`SessionsStarted`,
    /// `SessionsCapped`, `DevinRejected`, `DevinErrors`, ... under the follow-up's name).
    fn emit_start(&self, calls: &Tally) {
        println!(
            "{}",
            calls.to_emf(&self.bridge.options.function_name, clock::epoch_ms())
        );
    }

    /// The run's metrics, one EMF line on stdout.
    fn emit(&self, tally: &RunTally) {
        println!(
            "{}",
            tally.to_emf(&self.bridge.options.function_name, clock::epoch_ms())
        );
    }
}
