//! The claims part: an incident's record in the ledger as a delivery uses it. It claims the
//! incident before its session is made (as `pure::life` lets each kind of start), waits briefly
//! for a claim another start holds, counts the session against the limits, and settles the
//! claim into the record its start ended in; it also defers, closes out, adopts and skips
//! records. It holds the ledger, the claim's lease and a clock, nothing else, and every call
//! stays inside the delivery's budget (tests: `claims/tests.rs`).

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::edge::clock::Clock;
use crate::edge::ledger::{Claim, Ledger, LedgerError, Spent};
use crate::edge::retry::random;
use pure::budget::Budget;
use pure::life::records::Claimed;
use pure::life::session::Session;
use pure::life::{self, Settled, Start};
use pure::policy::spend::Slot;

mod records;
#[cfg(test)]
mod tests;

use records::{Waited, ANSWER_TIME, WAIT_STEP};

/// A record write is tried this often before the delivery gives up on it.
const RECORD_ATTEMPTS: u32 = 3;

/// An incident's record in the ledger, as a delivery claims, waits on and settles it.
pub(crate) struct Claims {
    ledger: Arc<Ledger>,
    /// How long a claim keeps other starts from making the incident's session.
    lease: Duration,
    clock: Clock,
}

/// A claim this delivery holds on an incident.
pub(crate) struct Held {
    pub holder: String,
    pub claimed: Claimed,
}

impl Held {
    /// When an earlier claim's lease ended, when this one took it over: that claim's create
    /// may have happened.
    pub fn took_over(&self) -> Option<u64> {
        self.claimed.took_over
    }
}

impl Claims {
    pub(crate) fn new(ledger: Arc<Ledger>, lease: Duration, clock: Clock) -> Self {
        Claims {
            ledger,
            lease,
            clock,
        }
    }

    /// The time left in `budget`, now.
    fn left(&self, budget: Budget) -> Duration {
        budget.remaining(self.clock.now())
    }

    /// Claims the incident for this delivery, or says how the delivery ends when another holds
    /// it: at once when its session exists, after a short wait when it is being created.
    pub(crate) async fn claim(
        &self,
        incident_id: &str,
        start: Start,
        rule: &str,
        budget: Budget,
    ) -> Result<Held, Outcome> {
        let holder = format!("{:016x}", random());
        // A second try when the claim found ends while this delivery waits on it.
        for _ in 0..2 {
            let now_ms = self.clock.epoch_ms();
            let lease_until_ms = now_ms + self.lease.as_millis() as u64;
            let left = self.left(budget);
            let claim = self
                .ledger
                .claim(incident_id, start, &holder, now_ms, lease_until_ms, left)
                .await
                .map_err(Retry::LedgerUnavailable)?;
            let record = match claim {
                Claim::Won(claimed) => {
                    if claimed.took_over.is_some() {
                        info!(
                            "took over a claim whose lease ran out: looking the session up first"
                        );
                    }
                    return Ok(Held { holder, claimed });
                }
                Claim::Held(record) => record,
            };
            match self.wait(incident_id, record, budget).await {
                Waited::Session(session) => {
                    return Err(Done::SessionExists {
                        rule: rule.to_owned(),
                        incident_id: incident_id.to_owned(),
                        session,
                    }
                    .into())
                }
                Waited::Ends(outcome) => return Err(outcome),
                Waited::NotYet(not_yet) => return Err(not_yet.outcome(rule, incident_id)),
                Waited::ClaimEnded => {}
            }
        }
        Err(Retry::BeingCreated {
            incident_id: incident_id.to_owned(),
        }
        .into())
    }

    /// Counts the claim's session against the limits `slots` (marking the claim as counted).
    pub(crate) async fn spend(
        &self,
        slots: &[Slot],
        incident_id: &str,
        held: &Held,
        budget: Budget,
    ) -> Result<Spent, LedgerError> {
        let left = self.left(budget);
        self.ledger
            .spend(slots, incident_id, &held.holder, left)
            .await
    }

    /// Gives back a session's count against the limits: none was made. A failure leaves the
    /// budget one lower until its hour or day ends.
    pub(crate) async fn refund(&self, slots: &[Slot], budget: Budget) {
        let left = self.left(budget);
        if let Err(err) = self.ledger.refund(slots, left).await {
            warn!(error = %err, "a budget was not given back after a failed start");
        }
    }

    /// Records the session this delivery's claim created, retried a few times until the Lambda
    /// deadline (past the budget: see [`Budget::to_record`]): a session the ledger does not
    /// know would be created again.
    pub(crate) async fn record_session(
        &self,
        incident_id: &str,
        held: &Held,
        session: &Session,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let budget = budget.to_record();
        let record = life::settle(&held.claimed, Settled::Session(session.clone()));
        let mut attempt = 1;
        loop {
            let left = self.left(budget);
            let recorded = self
                .ledger
                .settle(
                    incident_id,
                    &held.holder,
                    &record,
                    self.clock.epoch_ms(),
                    left,
                )
                .await;
            match recorded {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    // Our lease ran out and another start took the claim over: it looks the
                    // session up and records it.
                    warn!("the claim was taken over before the session was recorded");
                    return Ok(());
                }
                Err(err) if attempt >= RECORD_ATTEMPTS || left < WAIT_STEP + ANSWER_TIME => {
                    return Err(err)
                }
                Err(err) => {
                    warn!(error = %err, "the session was not recorded; trying again");
                    attempt += 1;
                }
            }
        }
    }

    /// Settles the claim into what its start decided, when no session came of it: pending (the
    /// next start makes it), capped, or rejected. A failure leaves the claim to its lease, and
    /// whoever takes it over (the next delivery, the follow-up) looks the session up first.
    pub(crate) async fn settle(
        &self,
        incident_id: &str,
        held: &Held,
        settled: Settled,
        budget: Budget,
    ) {
        let record = life::settle(&held.claimed, settled);
        // Like the session's record, until the Lambda deadline: a late answer costs a retry,
        // an unsettled claim a lease.
        let budget = budget.to_record();
        let (left, now_ms) = (self.left(budget), self.clock.epoch_ms());
        let settle = self
            .ledger
            .settle(incident_id, &held.holder, &record, now_ms, left);
        if let Err(err) = settle.await {
            warn!(error = %err, state = life::state_name(&record), "the claim was not settled; it ends with its lease");
        }
    }
}
