//! Starting a session for a claimed incident: looked up first when the claim was taken over,
//! counted against the limits (once per session, whoever holds the claim), created once; and
//! the record a failure leaves behind (`pure::life::settle`).

use std::sync::Arc;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::ledger::{LedgerError, Spent};
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::session::Session;
use pure::life::{Settled, Start};
use pure::metrics::Tally;
use pure::policy::spend::Slot;
use pure::text::notes;
use pure::text::refusal;

/// Why a claimed incident got no session in this delivery.
pub(super) enum Unstarted {
    /// Looking up the session of a claim taken over failed: the earlier holder's may exist.
    LookupFailed(Failure<DevinError>),
    /// A budget is spent.
    Capped(Slot),
    /// The limits could not be counted.
    Ledger(LedgerError),
    /// The claim was taken over before the limits were counted: its new holder starts it.
    NotOurs,
    CreateFailed(Failure<DevinError>),
}

impl Unstarted {
    /// Whether no session can have come of it.
    pub(super) fn nothing_made(&self) -> bool {
        match self {
            Unstarted::LookupFailed(_) => false,
            Unstarted::Capped(_) | Unstarted::Ledger(_) | Unstarted::NotOurs => true,
            Unstarted::CreateFailed(failure) => match failure {
                Failure::Final(err) => err.proves_nothing_done(),
                // Every earlier try failed in a way that proves nothing was made.
                Failure::BudgetSpent => true,
                Failure::TimedOut => false,
            },
        }
    }
}

impl Bridge {
    /// The session for a claim this delivery holds: looked up first when the claim was taken
    /// over (the earlier holder's create may have happened), else counted against the limits
    /// and created. A create is retried only after failures that prove no session was made.
    pub(super) async fn start_session(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Unstarted> {
        if let Some(earlier_lease_until_ms) = held.took_over() {
            let found = self
                .find_incident_session(
                    &plan.incident.id,
                    held.claimed.generation,
                    earlier_lease_until_ms,
                    secrets,
                    budget,
                    tally,
                )
                .await
                .map_err(Unstarted::LookupFailed)?;
            if let Some(session) = found {
                info!(session_id = %session.session_id, "the earlier claim's session exists: recording it");
                return Ok(session);
            }
        }
        // A claim taken over from one that counted this session already counts it no more.
        if !held.claimed.spent {
            let left = budget.remaining(clock::now());
            let spend = self
                .ledger
                .spend(&plan.slots, &plan.incident.id, &held.holder, left);
            match spend.await {
                Ok(Spent::Counted) => {}
                Ok(Spent::Capped(spent)) => {
                    return Err(Unstarted::Capped(plan.slots[spent].clone()))
                }
                Ok(Spent::NotOurs) => return Err(Unstarted::NotOurs),
                Err(err) => return Err(Unstarted::Ledger(err)),
            }
        }
        let created = self
            .create_session(plan, secrets, budget, tally)
            .await
            .map_err(Unstarted::CreateFailed);
        if let Err(unstarted) = &created {
            if unstarted.nothing_made() {
                self.refund(&plan.slots, budget).await;
            }
        }
        created
    }

    /// How a delivery ends whose session was not started. When nothing can have been made, the
    /// claim settles into what the start decided (pending: PagerDuty's retry or the follow-up
    /// starts it; capped; rejected); otherwise it holds until its lease ends, and whoever takes
    /// it over (the next delivery, the follow-up) looks the session up first.
    pub(super) async fn unstarted(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        unstarted: Unstarted,
        secrets: &Secrets,
        budget: Budget,
    ) -> Outcome {
        let (rule, incident_id) = (plan.rule.clone(), plan.incident.id.clone());
        if !unstarted.nothing_made() {
            return match unstarted {
                Unstarted::LookupFailed(failure) => {
                    let step = DevinStep::FindSession;
                    Retry::DevinFailed { step, failure }.into()
                }
                Unstarted::CreateFailed(failure) => Retry::SessionUncertain { failure }.into(),
                Unstarted::Capped(_) | Unstarted::Ledger(_) | Unstarted::NotOurs => {
                    unreachable!("nothing made")
                }
            };
        }
        let settled = match &unstarted {
            Unstarted::Capped(slot) => Settled::Capped {
                refills_at_ms: slot.refills_at_ms,
            },
            Unstarted::CreateFailed(Failure::Final(error))
                if error.is_rejection() && !error.refused_tags() =>
            {
                Settled::Rejected
            }
            _ => Settled::NothingMade,
        };
        if !matches!(unstarted, Unstarted::NotOurs) {
            self.settle_unstarted(&incident_id, held, settled, budget)
                .await;
        }
        // A start the follow-up retries may meet the decision an earlier start met and noted
        // (capped in the same hour: a person's `devin investigate` that Devin turned away in
        // between left it pending): its note is looked for first, so it stays one.
        let retried = plan.start == Start::Due;
        match unstarted {
            Unstarted::NotOurs => Retry::BeingCreated { incident_id }.into(),
            Unstarted::Capped(slot) => {
                let note = notes::capped_note(&slot, held.claimed.after_cap);
                let note = self
                    .note_once_or_log(secrets, &incident_id, &note, retried, budget)
                    .await;
                Done::Capped {
                    rule,
                    incident_id,
                    slot,
                    note,
                }
                .into()
            }
            Unstarted::Ledger(err) => Retry::LedgerUnavailable(err).into(),
            // First, as a tag refusal is a 400 or 422 too: the create without per-incident tags
            // (`create_session` made it) was refused for the policy's own tags. Every incident
            // of the rule would be, until the operator allow-lists them: the configuration.
            Unstarted::CreateFailed(Failure::Final(error)) if error.refused_tags() => {
                Retry::PolicyTagsRefused {
                    rule,
                    tags: plan.decision.tags.to_vec(),
                    error,
                }
                .into()
            }
            Unstarted::CreateFailed(Failure::Final(error)) if error.is_rejection() => {
                // PagerDuty does not retry a 2xx: the responders learn of it on the incident.
                let status = error.status().map_or(0, |status| status.as_u16());
                let note = refusal::devin_rejected_note(status, error.said().unwrap_or_default());
                // Recorded: no start tries it again unless a person asks, so it is noted once.
                let note = self
                    .note_once_or_log(secrets, &incident_id, &note, retried, budget)
                    .await;
                Done::DevinRejected {
                    rule,
                    incident_id,
                    error,
                    note,
                }
                .into()
            }
            Unstarted::CreateFailed(Failure::Final(error)) if error.is_configuration_error() => {
                Retry::DevinMisconfigured { error }.into()
            }
            Unstarted::CreateFailed(failure) | Unstarted::LookupFailed(failure) => {
                let step = DevinStep::StartSession;
                Retry::DevinFailed { step, failure }.into()
            }
        }
    }

    /// Gives back a session's count against the limits: none was made. A failure leaves the
    /// budget one lower until its hour or day ends.
    async fn refund(&self, slots: &[Slot], budget: Budget) {
        let left = budget.remaining(clock::now());
        if let Err(err) = self.ledger.refund(slots, left).await {
            warn!(error = %err, "a budget was not given back after a failed start");
        }
    }
}
