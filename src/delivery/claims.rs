//! The delivery's use of the ledger: claiming an incident before its session is created (as
//! `pure::life` lets each kind of start), waiting briefly for a claim another start holds, and
//! settling the claim into the record its start ended in. Every call stays inside the budget.

use std::time::Duration;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::{Done, NoteStatus, Outcome, Retry};
use crate::edge::clock;
use crate::edge::ledger::{Claim, LedgerError};
use crate::edge::retry::random;
use pure::budget::Budget;
use pure::life::records::{Claimed, IncidentRecord, Standing};
use pure::life::session::Session;
use pure::life::{self, Settled, Start};

/// How often a delivery looks again for the session another delivery is creating.
const WAIT_STEP: Duration = Duration::from_millis(100);
/// Kept for answering after the last look.
const ANSWER_TIME: Duration = Duration::from_millis(50);
/// A record write is tried this often before the delivery gives up on it.
const RECORD_ATTEMPTS: u32 = 3;

/// How waiting on another delivery's claim ended.
enum Waited {
    /// It recorded the session.
    Session(Session),
    /// It gave the claim up, or its lease ran out: the incident may be claimed again.
    ClaimEnded,
    /// The record says no session is to be started yet, or ever.
    NotStarted(NotYet),
    /// The delivery ends so (out of time, or the ledger failed).
    Ends(Outcome),
}

/// A claim this delivery holds on an incident.
pub(super) struct Held {
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

impl Bridge {
    /// Claims the incident for this delivery, or says how the delivery ends when another holds
    /// it: at once when its session exists, after a short wait when it is being created.
    pub(super) async fn claim_incident(
        &self,
        incident_id: &str,
        start: Start,
        rule: &str,
        budget: Budget,
    ) -> Result<Held, Outcome> {
        let holder = format!("{:016x}", random());
        // A second try when the claim found ends while this delivery waits on it.
        for _ in 0..2 {
            let now_ms = clock::epoch_ms();
            let lease_until_ms = now_ms + self.options.claim_lease.as_millis() as u64;
            let left = budget.remaining(clock::now());
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
            match self.wait_for_session(incident_id, record, budget).await {
                Waited::Session(session) => {
                    return Err(Done::SessionExists {
                        rule: rule.to_owned(),
                        incident_id: incident_id.to_owned(),
                        session,
                    }
                    .into())
                }
                Waited::Ends(outcome) => return Err(outcome),
                Waited::NotStarted(not_yet) => return Err(not_yet.outcome(rule, incident_id)),
                Waited::ClaimEnded => {}
            }
        }
        Err(Retry::BeingCreated {
            incident_id: incident_id.to_owned(),
        }
        .into())
    }

    /// The session of an incident whose record is `record`: at once when it exists; when
    /// another delivery is creating it, after waiting inside the budget for it to be recorded.
    pub(super) async fn await_session(
        &self,
        incident_id: &str,
        record: IncidentRecord,
        budget: Budget,
    ) -> Result<Session, Outcome> {
        match self.wait_for_session(incident_id, record, budget).await {
            Waited::Session(session) => Ok(session),
            Waited::Ends(outcome) => Err(outcome),
            Waited::NotStarted(_) => Err(Done::NoSession {
                incident_id: incident_id.to_owned(),
            }
            .into()),
            Waited::ClaimEnded => Err(Retry::BeingCreated {
                incident_id: incident_id.to_owned(),
            }
            .into()),
        }
    }

    /// How a delivery ends on an incident that has a record already: its session (once
    /// recorded, waiting inside the budget), or why there is none.
    pub(super) async fn as_recorded(
        &self,
        rule: &str,
        incident_id: &str,
        record: IncidentRecord,
        budget: Budget,
    ) -> Outcome {
        match self.wait_for_session(incident_id, record, budget).await {
            Waited::Session(session) => Done::SessionExists {
                rule: rule.to_owned(),
                incident_id: incident_id.to_owned(),
                session,
            }
            .into(),
            Waited::NotStarted(not_yet) => not_yet.outcome(rule, incident_id),
            Waited::ClaimEnded => Retry::BeingCreated {
                incident_id: incident_id.to_owned(),
            }
            .into(),
            Waited::Ends(outcome) => outcome,
        }
    }

    async fn wait_for_session(
        &self,
        incident_id: &str,
        mut record: IncidentRecord,
        budget: Budget,
    ) -> Waited {
        loop {
            match record.standing(clock::epoch_ms()) {
                Standing::HasSession(session) => return Waited::Session(session),
                Standing::Abandoned { .. } => return Waited::ClaimEnded,
                Standing::Deferred { until_ms } => {
                    return Waited::NotStarted(NotYet::Deferred { until_ms })
                }
                Standing::SkippedResolved => return Waited::NotStarted(NotYet::SkippedResolved),
                Standing::Pending => return Waited::NotStarted(NotYet::Decided("pending")),
                Standing::Capped { .. } => return Waited::NotStarted(NotYet::Decided("capped")),
                Standing::Rejected => return Waited::NotStarted(NotYet::Decided("devin_rejected")),
                Standing::Ended(_) => return Waited::NotStarted(NotYet::Decided("session_ended")),
                Standing::BeingCreated { .. } => {}
            }
            if budget.remaining(clock::now()) < WAIT_STEP + ANSWER_TIME {
                return Waited::Ends(
                    Retry::BeingCreated {
                        incident_id: incident_id.to_owned(),
                    }
                    .into(),
                );
            }
            tokio::time::sleep(WAIT_STEP).await;
            let left = budget.remaining(clock::now()).saturating_sub(ANSWER_TIME);
            match self.ledger.get(incident_id, left).await {
                Ok(Some(now)) => record = now,
                // The holder gave up: nothing was created.
                Ok(None) => return Waited::ClaimEnded,
                Err(err) => return Waited::Ends(Retry::LedgerUnavailable(err).into()),
            }
        }
    }

    /// Records the session this delivery's claim created, retried a few times until the Lambda
    /// deadline (past the budget: see [`Budget::to_record`]): a session the ledger does not
    /// know would be created again.
    pub(super) async fn record_session(
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
            let left = budget.remaining(clock::now());
            let recorded = self
                .ledger
                .settle(incident_id, &held.holder, &record, clock::epoch_ms(), left)
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
    pub(super) async fn settle_unstarted(
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
        let (left, now_ms) = (budget.remaining(clock::now()), clock::epoch_ms());
        let settle = self
            .ledger
            .settle(incident_id, &held.holder, &record, now_ms, left);
        if let Err(err) = settle.await {
            warn!(error = %err, state = life::state_name(&record), "the claim was not settled; it ends with its lease");
        }
    }
}

/// An incident whose record says no session is to start now.
pub(super) enum NotYet {
    /// The policy waits until then.
    Deferred { until_ms: u64 },
    /// It resolved before its deferral ended.
    SkippedResolved,
    /// An earlier start decided so (`Done::AlreadyDecided`).
    Decided(&'static str),
}

impl NotYet {
    /// How the delivery ends.
    pub(super) fn outcome(self, rule: &str, incident_id: &str) -> Outcome {
        let incident_id = incident_id.to_owned();
        match self {
            NotYet::Deferred { until_ms } => Done::Deferred {
                rule: rule.to_owned(),
                incident_id,
                until_ms,
                note: NoteStatus::Off,
            }
            .into(),
            NotYet::SkippedResolved => Done::SkippedResolved { incident_id }.into(),
            NotYet::Decided(decision) => Done::AlreadyDecided {
                incident_id,
                decision,
            }
            .into(),
        }
    }
}
