//! A claimed incident that got no session in this delivery: why, the record its claim settles
//! into (`pure::life::settle`), and how the delivery ends, noted on the incident when the
//! responders must hear of it.

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::edge::devin::DevinError;
use crate::edge::ledger::LedgerError;
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::{Settled, Start};
use pure::policy::spend::Slot;
use pure::text::notes;
use pure::text::refusal;

/// Why a claimed incident got no session in this delivery.
pub(super) enum NotStarted {
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

impl NotStarted {
    /// Whether no session can have come of it.
    pub(super) fn nothing_made(&self) -> bool {
        match self {
            NotStarted::LookupFailed(_) => false,
            NotStarted::Capped(_) | NotStarted::Ledger(_) | NotStarted::NotOurs => true,
            NotStarted::CreateFailed(failure) => match failure {
                Failure::Final(err) => err.proves_nothing_done(),
                // Every earlier try failed in a way that proves nothing was made.
                Failure::BudgetSpent => true,
                Failure::TimedOut => false,
            },
        }
    }

    /// The record the claim settles into, when nothing can have been made.
    fn settled(&self) -> Settled {
        match self {
            NotStarted::Capped(slot) => Settled::Capped {
                refills_at_ms: slot.refills_at_ms,
            },
            NotStarted::CreateFailed(Failure::Final(error))
                if error.is_rejection() && !error.refused_tags() =>
            {
                Settled::Rejected
            }
            _ => Settled::NothingMade,
        }
    }
}

impl Bridge {
    /// How a delivery ends whose session was not started. When nothing can have been made, the
    /// claim settles into what the start decided (pending: PagerDuty's retry or the follow-up
    /// starts it; capped; rejected); otherwise it holds until its lease ends, and whoever takes
    /// it over (the next delivery, the follow-up) looks the session up first.
    pub(super) async fn not_started(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        not_started: NotStarted,
        secrets: &Secrets,
        budget: Budget,
    ) -> Outcome {
        if !not_started.nothing_made() {
            return match not_started {
                NotStarted::LookupFailed(failure) => {
                    let step = DevinStep::FindSession;
                    Retry::DevinFailed { step, failure }.into()
                }
                NotStarted::CreateFailed(failure) => Retry::SessionUncertain { failure }.into(),
                NotStarted::Capped(_) | NotStarted::Ledger(_) | NotStarted::NotOurs => {
                    unreachable!("nothing made")
                }
            };
        }
        let incident_id = &plan.incident.id;
        if matches!(not_started, NotStarted::NotOurs) {
            let incident_id = incident_id.clone();
            return Retry::BeingCreated { incident_id }.into();
        }
        let settled = not_started.settled();
        self.claims.settle(incident_id, held, settled, budget).await;
        self.not_started_outcome(held, plan, not_started, secrets, budget)
            .await
    }

    /// How a delivery ends whose start made nothing, its claim settled: noted on the incident
    /// when its responders must hear of it. A start the follow-up retries may meet the decision
    /// an earlier start met and noted (capped in the same hour: a person's `devin investigate`
    /// that Devin turned away in between left it pending): its note is looked for first, so it
    /// stays one.
    async fn not_started_outcome(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        not_started: NotStarted,
        secrets: &Secrets,
        budget: Budget,
    ) -> Outcome {
        let (rule, incident_id) = (plan.rule.clone(), plan.incident.id.clone());
        let retried = plan.start == Start::Due;
        match not_started {
            NotStarted::Capped(slot) => {
                let note = notes::capped_note(&slot, held.claimed.after_cap);
                let note = self
                    .notes
                    .add_or_log(secrets, &incident_id, &note, retried, budget)
                    .await;
                Done::Capped {
                    rule,
                    incident_id,
                    slot,
                    note,
                }
                .into()
            }
            NotStarted::Ledger(err) => Retry::LedgerUnavailable(err).into(),
            // First, as a tag refusal is a 400 or 422 too: the create without per-incident tags
            // (`DevinCalls::create` made it) was refused for the policy's own tags. Every incident
            // of the rule would be, until the operator allow-lists them: the configuration.
            NotStarted::CreateFailed(Failure::Final(error)) if error.refused_tags() => {
                let tags = plan.decision.tags.to_vec();
                Retry::PolicyTagsRefused { rule, tags, error }.into()
            }
            NotStarted::CreateFailed(Failure::Final(error)) if error.is_rejection() => {
                // PagerDuty does not retry a 2xx: the responders learn of it on the incident,
                // once (recorded: no start tries it again unless a person asks).
                let status = error.status().map_or(0, |status| status.as_u16());
                let note = refusal::devin_rejected_note(status, error.said().unwrap_or_default());
                let note = self
                    .notes
                    .add_or_log(secrets, &incident_id, &note, retried, budget)
                    .await;
                Done::DevinRejected {
                    rule,
                    incident_id,
                    error,
                    note,
                }
                .into()
            }
            NotStarted::CreateFailed(Failure::Final(error)) if error.is_configuration_error() => {
                Retry::DevinMisconfigured { error }.into()
            }
            NotStarted::CreateFailed(failure) | NotStarted::LookupFailed(failure) => {
                let step = DevinStep::StartSession;
                Retry::DevinFailed { step, failure }.into()
            }
            NotStarted::NotOurs => unreachable!("settled by its new holder"),
        }
    }
}
