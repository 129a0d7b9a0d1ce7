//! The ledger: the bridge's own record, written with conditional writes so that deliveries on
//! many instances agree on who creates an incident's session, and find it again. DynamoDB
//! (`LEDGER_TABLE`) in AWS; without a table, the same interface in memory, exact for one
//! process (local runs).

mod dynamo;
mod follow_up;
mod memory;

use std::future::Future;
use std::time::Duration;

use thiserror::Error;

use pure::life::members::{Joining, Left};
use pure::life::records::{Claimed, GroupRecord, IncidentRecord, Leader, OpenGroup};
use pure::life::session::Session;
use pure::life::Start;
use pure::policy::spend::Slot;

pub use dynamo::DynamoLedger;
pub use memory::MemoryLedger;

pub enum Ledger {
    Dynamo(DynamoLedger),
    Memory(MemoryLedger),
}

/// How a claim on a group went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupClaim {
    /// This delivery starts the group's session.
    Won,
    /// This delivery starts the group's session, in place of a claim whose lease ran out (at
    /// `lease_until_ms`) while its leader's create may have happened: look that session up
    /// first.
    TookOver { leader: Leader, lease_until_ms: u64 },
    /// The group is open (join it) or being started (wait).
    Held(GroupRecord),
}

/// How a claim on an incident went (`pure::life::on_start` decides it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This start holds the incident: start the session (looked up first when the claim took
    /// over an abandoned one, `Claimed::took_over`).
    Won(Claimed),
    /// The incident's record, which stands: another start's claim, a session, a decision.
    Held(IncidentRecord),
}

/// How counting a session against the limits went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// Counted against every budget, and the claim marked as counted.
    Counted,
    /// The budget at this index is spent: nothing counted.
    Capped(usize),
    /// The claim is no longer this start's (taken over after its lease): nothing counted.
    NotOurs,
}

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("the ledger did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the ledger is unavailable: {0}")]
    Unavailable(String),
    #[error("the ledger's record {key} is unreadable: {detail}")]
    Unreadable { key: String, detail: String },
}

impl Ledger {
    /// For the cold-start line.
    pub fn describe(&self) -> String {
        match self {
            Ledger::Dynamo(ledger) => format!("DynamoDB table {}", ledger.table()),
            Ledger::Memory(_) => "in memory (one process only: set LEDGER_TABLE in AWS)".into(),
        }
    }

    /// Claims `incident_id` for `holder` until `lease_until_ms`, as `start` may
    /// (`pure::life::on_start`): or the record that stands.
    pub async fn claim(
        &self,
        incident_id: &str,
        start: Start,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
        timeout: Duration,
    ) -> Result<Claim, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .claim(incident_id, start, holder, now_ms, lease_until_ms)
                        .await
                }
                Ledger::Memory(ledger) => {
                    Ok(ledger.claim(incident_id, start, holder, now_ms, lease_until_ms))
                }
            }
        })
        .await
    }

    /// Replaces `holder`'s claim with the record its start settled into
    /// (`pure::life::settle`). False when the claim was no longer `holder`'s (its lease ran
    /// out and another start took it over): that one settles it.
    pub async fn settle(
        &self,
        incident_id: &str,
        holder: &str,
        record: &IncidentRecord,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.settle(incident_id, holder, record, now_ms).await,
                Ledger::Memory(ledger) => Ok(ledger.settle(incident_id, holder, record)),
            }
        })
        .await
    }

    /// The incident's record, read consistently.
    pub async fn get(
        &self,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<Option<IncidentRecord>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.get(incident_id).await,
                Ledger::Memory(ledger) => Ok(ledger.get(incident_id)),
            }
        })
        .await
    }

    /// Records `session` as the incident's when the incident has no record yet (a merge moves
    /// a session to the incident it was merged into). False when it had one.
    pub async fn adopt(
        &self,
        incident_id: &str,
        session: &Session,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.adopt(incident_id, session, now_ms).await,
                Ledger::Memory(ledger) => Ok(ledger.adopt(incident_id, session)),
            }
        })
        .await
    }

    /// The group's record, read consistently.
    pub async fn group(
        &self,
        group: &str,
        timeout: Duration,
    ) -> Result<Option<GroupRecord>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.group(group).await,
                Ledger::Memory(ledger) => Ok(ledger.group(group)),
            }
        })
        .await
    }

    /// Claims the group for `holder` (to start its session for incident `leader`), unless it
    /// is open with room in its window, or another delivery's claim on it is live.
    pub async fn claim_group(
        &self,
        group: &str,
        (holder, leader): (&str, &Leader),
        now_ms: u64,
        lease_until_ms: u64,
        max_incidents: u32,
        timeout: Duration,
    ) -> Result<GroupClaim, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .claim_group(group, holder, leader, now_ms, lease_until_ms, max_incidents)
                        .await
                }
                Ledger::Memory(ledger) => Ok(ledger.claim_group(
                    group,
                    holder,
                    leader,
                    now_ms,
                    lease_until_ms,
                    max_incidents,
                )),
            }
        })
        .await
    }

    /// Opens the group `holder` claimed, with its session. False when the claim was no longer
    /// `holder`'s.
    pub async fn open_group(
        &self,
        group: &str,
        holder: &str,
        open: &OpenGroup,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.open_group(group, holder, open, now_ms).await,
                Ledger::Memory(ledger) => Ok(ledger.open_group(group, holder, open)),
            }
        })
        .await
    }

    /// Adds an incident to the open group whose session is `session_id`, atomically: the
    /// group's count of incidents after it, or `None` when the group no longer takes it (its
    /// window passed, it is full, another session replaced it).
    pub async fn join_group(
        &self,
        group: &str,
        session_id: &str,
        now_ms: u64,
        max_incidents: u32,
        timeout: Duration,
    ) -> Result<Option<u32>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .join_group(group, session_id, now_ms, max_incidents)
                        .await
                }
                Ledger::Memory(ledger) => {
                    Ok(ledger.join_group(group, session_id, now_ms, max_incidents))
                }
            }
        })
        .await
    }

    /// Closes the group whose session is `session_id` (it takes no more messages): the next
    /// incident of the group starts a new one.
    pub async fn close_group(
        &self,
        group: &str,
        session_id: &str,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.close_group(group, session_id).await,
                Ledger::Memory(ledger) => {
                    ledger.close_group(group, session_id);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Gives up `holder`'s claim on a group whose session was not started.
    pub async fn release_group(
        &self,
        group: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.release_group(group, holder).await,
                Ledger::Memory(ledger) => {
                    ledger.release_group(group, holder);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Adds `incident_id` to the open members of the session `session_id`, as `joining` says.
    pub async fn add_member(
        &self,
        session_id: &str,
        incident_id: &str,
        joining: Joining<'_>,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .add_member(session_id, incident_id, joining, now_ms)
                        .await
                }
                Ledger::Memory(ledger) => {
                    ledger.add_member(session_id, incident_id, joining);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Takes `incident_id` out of the open members of the group session `session_id`,
    /// atomically: how many are still open after it (of two members leaving at once, exactly
    /// one sees none). `None` when the session is no group's.
    pub async fn leave_group(
        &self,
        session_id: &str,
        incident_id: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<Option<Left>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.leave_group(session_id, incident_id, now_ms).await,
                Ledger::Memory(ledger) => Ok(ledger.leave_group(session_id, incident_id)),
            }
        })
        .await
    }

    /// Counts one session against every slot at once, or against none, and marks `holder`'s
    /// claim on the incident as counted in the same write: a start that takes the claim over
    /// never counts that session again.
    pub async fn spend(
        &self,
        slots: &[Slot],
        incident_id: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<Spent, LedgerError> {
        if slots.is_empty() {
            return Ok(Spent::Counted);
        }
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.spend(slots, incident_id, holder, timeout).await,
                Ledger::Memory(ledger) => Ok(ledger.spend(slots, incident_id, holder)),
            }
        })
        .await
    }

    /// Gives back what [`Ledger::spend`] counted, when no session came of it.
    pub async fn refund(&self, slots: &[Slot], timeout: Duration) -> Result<(), LedgerError> {
        if slots.is_empty() {
            return Ok(());
        }
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.refund(slots, timeout).await,
                Ledger::Memory(ledger) => {
                    ledger.refund(slots);
                    Ok(())
                }
            }
        })
        .await
    }
}

/// A ledger call inside the time the delivery has left.
async fn within<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, LedgerError>>,
) -> Result<T, LedgerError> {
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or(Err(LedgerError::Timeout(timeout)))
}
