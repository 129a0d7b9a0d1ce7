//! An incident's life in the ledger, written down once: its states ([`IncidentRecord`]), what
//! may start its session ([`Start`]), what each start does to each state ([`on_start`]), what a
//! start leaves behind ([`Settled`]), and who moves each state on, and when ([`owner`]). Both
//! ledgers decide claims with [`on_start`]; the delivery, the follow-up and the commands all claim
//! through the ledger. Nothing here reads a clock: the time is an argument.
//!
//! The one rule: **no state without an owner**. A start either ends in a state someone moves on
//! (a session the follow-up follows, a recorded decision a person or a reopen undoes, a pending
//! start the follow-up retries) or leaves its claim, which the next delivery or the next
//! follow-up run takes over once its lease ends.
//!
//! Beside the state machine: [`records`] (the ledger's records as data), [`session`] (Devin's
//! sessions and their phases), [`lookup`] (finding a session again without tags), [`members`]
//! (the open incidents of a shared session), [`follow_up`] (the follow-up's decision for one
//! incident), [`sweep`] (which open incidents may have been missed).

pub mod follow_up;
pub mod lookup;
pub mod members;
pub mod records;
pub mod session;
pub mod sweep;

use crate::life::records::{Claimed, IncidentRecord};
use crate::life::records::{OPEN_QUEUE, STARTS_QUEUE};
use crate::life::session::Session;

/// What may start an incident's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A delivery of its trigger, or PagerDuty's retry of one.
    Trigger,
    /// The follow-up's sweep found it open and unknown.
    Sweep,
    /// The follow-up found its record due: a deferral or a cap whose time came, a pending start,
    /// a claim whose lease ran out.
    Due,
    /// PagerDuty reopened it.
    Reopen,
    /// A responder wrote `devin investigate`.
    Asked,
}

/// What a start does, given the incident's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Write this claim in the record's place, and start the session.
    Claim(Claimed),
    /// The record is this start's own claim already (a write that landed, then was retried):
    /// carry on with it.
    Ours(Claimed),
    /// Another start holds the incident until then.
    Wait { lease_until_ms: u64 },
    /// Nothing to start: the record stands (a session, a decision, a deferral not due).
    Stands,
}

/// What `start` (by `holder`, its lease ending at `lease_until_ms`) does to `record` at `now_ms`.
pub fn on_start(
    record: Option<&IncidentRecord>,
    start: Start,
    holder: &str,
    now_ms: u64,
    lease_until_ms: u64,
) -> Move {
    use IncidentRecord as R;
    use Start as S;
    let claim = |generation: u32| Claimed {
        holder: holder.to_owned(),
        lease_until_ms,
        generation,
        took_over: None,
        spent: false,
        after_cap: false,
    };
    let Some(record) = record else {
        return Move::Claim(claim(1));
    };
    match (record, start) {
        (R::Creating(held), _) if held.holder == holder => Move::Ours(held.clone()),
        (R::Creating(held), _) if held.lease_until_ms > now_ms => Move::Wait {
            lease_until_ms: held.lease_until_ms,
        },
        // Abandoned: its create may have happened; the limits it counted stay counted.
        (R::Creating(held), _) => Move::Claim(Claimed {
            took_over: Some(held.lease_until_ms),
            spent: held.spent,
            after_cap: held.after_cap,
            ..claim(held.generation)
        }),
        (R::Pending { generation }, S::Trigger | S::Due | S::Reopen | S::Asked) => {
            Move::Claim(claim(*generation))
        }
        (R::Deferred { until_ms }, S::Trigger | S::Due) if *until_ms <= now_ms => {
            Move::Claim(claim(1))
        }
        (R::Deferred { .. }, S::Asked) => Move::Claim(claim(1)),
        (
            R::Capped {
                until_ms: Some(until_ms),
                generation,
            },
            S::Due,
        ) if *until_ms <= now_ms => Move::Claim(Claimed {
            after_cap: true,
            ..claim(*generation)
        }),
        (R::Capped { generation, .. }, S::Reopen | S::Asked) => Move::Claim(claim(*generation)),
        (R::Rejected { generation }, S::Asked) => Move::Claim(claim(*generation)),
        (R::Ended { generation, .. }, S::Reopen | S::Asked) => Move::Claim(claim(generation + 1)),
        (R::SkippedResolved { generation }, S::Reopen | S::Asked) => {
            Move::Claim(claim(*generation))
        }
        _ => Move::Stands,
    }
}

/// How a start that held a claim ended: the record it leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The session exists (created, found, or joined).
    Session(Session),
    /// Nothing was made and a retry may make it.
    NothingMade,
    /// A budget is spent until `refills_at_ms`.
    Capped { refills_at_ms: u64 },
    /// Devin refused the session.
    Rejected,
}

/// The record a claim leaves when its start settles so.
pub fn settle(claim: &Claimed, settled: Settled) -> IncidentRecord {
    let generation = claim.generation;
    match settled {
        Settled::Session(session) => IncidentRecord::Created {
            session,
            generation,
        },
        Settled::NothingMade => IncidentRecord::Pending { generation },
        Settled::Capped { refills_at_ms } => IncidentRecord::Capped {
            until_ms: (!claim.after_cap).then_some(refills_at_ms),
            generation,
        },
        Settled::Rejected => IncidentRecord::Rejected { generation },
    }
}

/// Whether the follow-up's run starts the record now (a [`Start::Due`] that would claim).
pub fn due(record: &IncidentRecord, now_ms: u64) -> bool {
    matches!(
        on_start(Some(record), Start::Due, "", now_ms, now_ms),
        Move::Claim(_)
    )
}

/// Whether a start the follow-up found due is dropped when the incident resolved meanwhile
/// (it becomes [`IncidentRecord::SkippedResolved`]): nothing was made of it. A claim abandoned
/// is not: its create may have happened.
pub fn skippable(record: &IncidentRecord) -> bool {
    matches!(
        record,
        IncidentRecord::Deferred { .. }
            | IncidentRecord::Pending { .. }
            | IncidentRecord::Capped { .. }
    )
}

/// Whether a merge may record the merged incident's session as this incident's over `record`:
/// it has no live session and no start in progress (a deferral, a decision, an ended session).
pub fn adoptable(record: &IncidentRecord) -> bool {
    !matches!(
        record,
        IncidentRecord::Creating(_) | IncidentRecord::Created { .. }
    )
}

/// The follow-up's queue a record is in: the sessions it follows, the starts it makes when
/// due; none for a record only a person or PagerDuty moves on.
pub fn queue(record: &IncidentRecord) -> Option<&'static str> {
    match record {
        IncidentRecord::Created { .. } => Some(OPEN_QUEUE),
        IncidentRecord::Creating(_)
        | IncidentRecord::Pending { .. }
        | IncidentRecord::Deferred { .. }
        | IncidentRecord::Capped {
            until_ms: Some(_), ..
        } => Some(STARTS_QUEUE),
        IncidentRecord::Capped { until_ms: None, .. }
        | IncidentRecord::Rejected { .. }
        | IncidentRecord::Ended { .. }
        | IncidentRecord::SkippedResolved { .. } => None,
    }
}

/// Who moves a state on, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The start that holds the claim, until its lease ends; then the next delivery or the
    /// follow-up's next run, which looks the session up first.
    Holder,
    /// PagerDuty's retry of the delivery (it was answered 5xx), or the follow-up's next run.
    NextStart,
    /// The follow-up: it follows the session until it ends, then closes it out.
    FollowUp,
    /// The follow-up, once the time comes (the deferral's, the budget's refill).
    FollowUpWhenDue,
    /// A person (`devin investigate`) or PagerDuty's reopen.
    PersonOrReopen,
    /// A person (`devin investigate`) only.
    Person,
}

/// Who moves `record` on. Every state has one: [`queue`] puts the follow-up's in its queues.
pub fn owner(record: &IncidentRecord) -> Owner {
    match record {
        IncidentRecord::Creating(_) => Owner::Holder,
        IncidentRecord::Pending { .. } => Owner::NextStart,
        IncidentRecord::Created { .. } => Owner::FollowUp,
        IncidentRecord::Deferred { .. }
        | IncidentRecord::Capped {
            until_ms: Some(_), ..
        } => Owner::FollowUpWhenDue,
        IncidentRecord::Capped { until_ms: None, .. }
        | IncidentRecord::Ended { .. }
        | IncidentRecord::SkippedResolved { .. } => Owner::PersonOrReopen,
        IncidentRecord::Rejected { .. } => Owner::Person,
    }
}

/// The state's name, as the ledger stores it and the table of docs/design.md shows it.
pub fn state_name(record: &IncidentRecord) -> &'static str {
    match record {
        IncidentRecord::Creating(_) => "creating",
        IncidentRecord::Pending { .. } => "pending",
        IncidentRecord::Created { .. } => "created",
        IncidentRecord::Deferred { .. } => "deferred",
        IncidentRecord::Capped { .. } => "capped",
        IncidentRecord::Rejected { .. } => "rejected",
        IncidentRecord::Ended { .. } => "ended",
        IncidentRecord::SkippedResolved { .. } => "skipped_resolved",
    }
}

#[cfg(test)]
mod tests;
