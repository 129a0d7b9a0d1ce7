//! The ledger: the bridge's own record, written with conditional writes so that deliveries on
//! many instances agree on who creates an incident's session, and find it again. DynamoDB
//! (`LEDGER_TABLE`) in AWS; without a table, the same interface in memory, exact for one
//! process (local runs). Here the incidents' claims and the session limits; the storm groups
//! in [`groups`], what the follow-up keeps in [`follow_up`].

mod dynamo;
mod follow_up;
mod groups;
mod memory;
mod postmortems;

use std::future::Future;
use std::time::Duration;

use thiserror::Error;

use pure::life::records::{Claimed, GroupRecord, IncidentRecord, Leader};
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
        self.call(
            timeout,
            |ledger| ledger.claim(incident_id, start, holder, now_ms, lease_until_ms),
            |ledger| ledger.claim(incident_id, start, holder, now_ms, lease_until_ms),
        )
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
        self.call(
            timeout,
            |ledger| ledger.settle(incident_id, holder, record, now_ms),
            |ledger| ledger.settle(incident_id, holder, record),
        )
        .await
    }

    /// The incident's record, read consistently.
    pub async fn get(
        &self,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<Option<IncidentRecord>, LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.get(incident_id),
            |ledger| ledger.get(incident_id),
        )
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
        self.call(
            timeout,
            |ledger| ledger.adopt(incident_id, session, now_ms),
            |ledger| ledger.adopt(incident_id, session),
        )
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
        self.call(
            timeout,
            |ledger| ledger.spend(slots, incident_id, holder, timeout),
            |ledger| ledger.spend(slots, incident_id, holder),
        )
        .await
    }

    /// Gives back what [`Ledger::spend`] counted, when no session came of it.
    pub async fn refund(&self, slots: &[Slot], timeout: Duration) -> Result<(), LedgerError> {
        if slots.is_empty() {
            return Ok(());
        }
        self.call(
            timeout,
            |ledger| ledger.refund(slots, timeout),
            |ledger| ledger.refund(slots),
        )
        .await
    }
}

impl Ledger {
    /// A ledger call inside the time the delivery has left: `dynamo` or `memory`, whichever
    /// this ledger is.
    async fn call<'a, T, F>(
        &'a self,
        timeout: Duration,
        dynamo: impl FnOnce(&'a DynamoLedger) -> F,
        memory: impl FnOnce(&'a MemoryLedger) -> T,
    ) -> Result<T, LedgerError>
    where
        F: Future<Output = Result<T, LedgerError>>,
    {
        let call = async move {
            match self {
                Ledger::Dynamo(ledger) => dynamo(ledger).await,
                Ledger::Memory(ledger) => Ok(memory(ledger)),
            }
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or(Err(LedgerError::Timeout(timeout)))
    }
}
