//! Starting a session for a claimed incident: looked up first when the claim was taken over,
//! counted against the budgets, created once; and what a failure leaves behind.

use std::sync::Arc;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{DevinStep, NoteStatus, Outcome};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::ledger::LedgerError;
use crate::edge::retry::Failure;
use crate::pure::budget::Budget;
use crate::pure::metrics::Tally;
use crate::pure::notes;
use crate::pure::refusal;
use crate::pure::secret::Secrets;
use crate::pure::session::Session;
use crate::pure::spend::Slot;

/// Why a claimed incident got no session in this delivery.
pub(super) enum Unstarted {
    /// Looking up the session of a claim taken over failed: the earlier holder's may exist.
    LookupFailed(Failure<DevinError>),
    /// A budget is spent.
    Capped(Slot),
    /// The budgets could not be counted.
    Ledger(LedgerError),
    CreateFailed(Failure<DevinError>),
}

impl Unstarted {
    /// Whether no session can have come of it.
    pub(super) fn nothing_made(&self) -> bool {
        match self {
            Unstarted::LookupFailed(_) => false,
            Unstarted::Capped(_) | Unstarted::Ledger(_) => true,
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
    /// over (the earlier holder's create may have happened), else counted against the budgets
    /// and created. A create is retried only after failures that prove no session was made.
    pub(super) async fn start_session(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Unstarted> {
        if let Some(earlier_lease_until_ms) = held.took_over {
            let found = self
                .find_incident_session(
                    &plan.incident.id,
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
        let left = budget.remaining(clock::now());
        match self.ledger.spend(&plan.slots, left).await {
            Ok(Ok(())) => {}
            Ok(Err(spent)) => return Err(Unstarted::Capped(plan.slots[spent].clone())),
            Err(err) => return Err(Unstarted::Ledger(err)),
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
    /// claim is given up so PagerDuty's retry (or the next incident) may start one at once;
    /// otherwise it holds until its lease ends, and the retry after that looks the session up.
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
                    Outcome::DevinFailed { step, failure }
                }
                Unstarted::CreateFailed(failure) => Outcome::SessionUncertain { failure },
                Unstarted::Capped(_) | Unstarted::Ledger(_) => unreachable!("nothing made"),
            };
        }
        self.release_claim(&incident_id, &held.holder, budget).await;
        match unstarted {
            Unstarted::Capped(slot) => {
                let note = notes::capped_note(&slot);
                let note = self.note_or_log(secrets, &incident_id, &note, budget).await;
                Outcome::Capped {
                    rule,
                    incident_id,
                    slot,
                    note,
                }
            }
            Unstarted::Ledger(err) => Outcome::LedgerUnavailable(err),
            // First, as a tag refusal is a 400 or 422 too: the create without per-incident tags
            // (`create_session` made it) was refused for the policy's own tags. Every incident
            // of the rule would be, until the operator allow-lists them: the configuration.
            Unstarted::CreateFailed(Failure::Final(error)) if error.refused_tags() => {
                Outcome::PolicyTagsRefused {
                    rule,
                    tags: plan.decision.tags.to_vec(),
                    error,
                }
            }
            Unstarted::CreateFailed(Failure::Final(error)) if error.is_rejection() => {
                // PagerDuty does not retry a 2xx: the responders learn of it on the incident.
                let status = error.status().map_or(0, |status| status.as_u16());
                let note = refusal::devin_rejected_note(status, error.said().unwrap_or_default());
                let note = if plan.note_refusal {
                    self.note_or_log(secrets, &incident_id, &note, budget).await
                } else {
                    NoteStatus::Off
                };
                Outcome::DevinRejected {
                    rule,
                    incident_id,
                    error,
                    note,
                }
            }
            Unstarted::CreateFailed(Failure::Final(error)) if error.is_configuration_error() => {
                Outcome::DevinMisconfigured { error }
            }
            Unstarted::CreateFailed(failure) | Unstarted::LookupFailed(failure) => {
                let step = DevinStep::StartSession;
                Outcome::DevinFailed { step, failure }
            }
        }
    }

    /// Gives back a session's count against the budgets: none was made. A failure leaves the
    /// budget one lower until its hour or day ends.
    async fn refund(&self, slots: &[Slot], budget: Budget) {
        let left = budget.remaining(clock::now());
        if let Err(err) = self.ledger.refund(slots, left).await {
            warn!(error = %err, "a budget was not given back after a failed start");
        }
    }
}
