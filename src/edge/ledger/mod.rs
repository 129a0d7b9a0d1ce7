//! The ledger: the bridge's own record, written with conditional writes so that deliveries on
//! many instances agree on who creates an incident's session, and find it again. DynamoDB
//! (`LEDGER_TABLE`) in AWS; without a table, the same interface in memory, exact for one
//! process (local runs).

mod dynamo;
mod memory;

use std::future::Future;
use std::time::Duration;

use thiserror::Error;

use crate::pure::ledger::IncidentRecord;
use crate::pure::session::Session;

pub use dynamo::DynamoLedger;
pub use memory::MemoryLedger;

pub enum Ledger {
    Dynamo(DynamoLedger),
    Memory(MemoryLedger),
}

/// How a claim on an incident went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had claimed it: create the session.
    New,
    /// An earlier claim's lease had run out, and this one replaced it: that claim's create may
    /// have happened, so look the session up before creating one.
    TakenOver,
    /// Another delivery's record, which stands.
    Held(IncidentRecord),
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

    /// Claims `incident_id` for `holder` until `lease_until_ms`, unless another delivery's
    /// claim is live or the session exists.
    pub async fn claim(
        &self,
        incident_id: &str,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
        timeout: Duration,
    ) -> Result<Claim, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .claim(incident_id, holder, now_ms, lease_until_ms)
                        .await
                }
                Ledger::Memory(ledger) => {
                    Ok(ledger.claim(incident_id, holder, now_ms, lease_until_ms))
                }
            }
        })
        .await
    }

    /// Records the session `holder` created. False when the claim was no longer `holder`'s
    /// (its lease ran out and another delivery took it over): that one records its own.
    pub async fn record_created(
        &self,
        incident_id: &str,
        holder: &str,
        session: &Session,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .record_created(incident_id, holder, session, now_ms)
                        .await
                }
                Ledger::Memory(ledger) => Ok(ledger.record_created(incident_id, holder, session)),
            }
        })
        .await
    }

    /// Gives up `holder`'s claim, when no session can have come of it: the next delivery
    /// claims the incident afresh.
    pub async fn release(
        &self,
        incident_id: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.release(incident_id, holder).await,
                Ledger::Memory(ledger) => {
                    ledger.release(incident_id, holder);
                    Ok(())
                }
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
