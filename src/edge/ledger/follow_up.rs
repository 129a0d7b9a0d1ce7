//! The ledger as the follow-up uses it: deferred incidents, the queues of incidents to visit,
//! what was posted on each, and the run lease (one run at a time posts notes).

use std::time::Duration;

use super::{within, Ledger, LedgerError};
use pure::life::follow_up::Mark;
use pure::life::records::{IncidentRecord, OpenIncident, ToStart};

impl Ledger {
    /// Records that the incident's session waits until `until_ms`, unless the incident has a
    /// record already: then that record.
    pub async fn defer(
        &self,
        incident_id: &str,
        until_ms: u64,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<Option<IncidentRecord>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.defer(incident_id, until_ms, now_ms).await,
                Ledger::Memory(ledger) => Ok(ledger.defer(incident_id, until_ms)),
            }
        })
        .await
    }

    /// A start found due (`pure::life::skippable`) on an incident that resolved meanwhile: no
    /// session unless it reopens.
    pub async fn skip_resolved(
        &self,
        incident_id: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.skip_resolved(incident_id, now_ms).await,
                Ledger::Memory(ledger) => {
                    ledger.skip_resolved(incident_id);
                    Ok(())
                }
            }
        })
        .await
    }

    /// The incidents of sessions not closed out yet, with what was posted on each.
    pub async fn open_incidents(
        &self,
        timeout: Duration,
    ) -> Result<Vec<OpenIncident>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.open_incidents().await,
                Ledger::Memory(ledger) => Ok(ledger.open_incidents()),
            }
        })
        .await
    }

    /// The records whose next step is a start the follow-up makes when due: deferrals, pending
    /// starts, caps, claims (`pure::life::queue`).
    pub async fn starts(&self, timeout: Duration) -> Result<Vec<ToStart>, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.starts().await,
                Ledger::Memory(ledger) => Ok(ledger.starts()),
            }
        })
        .await
    }

    /// Records what was posted on the incident while its session is `session_id` (else
    /// nothing: the incident moved on to another session).
    pub async fn mark(
        &self,
        incident_id: &str,
        session_id: &str,
        mark: &Mark,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.mark(incident_id, session_id, mark, now_ms).await,
                Ledger::Memory(ledger) => {
                    ledger.mark(incident_id, session_id, mark);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Records that the incident's session showed activity `print`, first seen at `now_ms`,
    /// while its session is `session_id` (else nothing, as for [`Ledger::mark`]).
    pub async fn see(
        &self,
        incident_id: &str,
        session_id: &str,
        print: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.see(incident_id, session_id, print, now_ms).await,
                Ledger::Memory(ledger) => {
                    ledger.see(incident_id, session_id, print, now_ms);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Records that the follow-up read the incident's session at `now_ms` while its session is
    /// `session_id` (else nothing, as for [`Ledger::mark`]): Devin showed it, or, when
    /// `missing`, answered 404 (the first 404 in a row is kept; a read clears it).
    pub async fn followed(
        &self,
        incident_id: &str,
        session_id: &str,
        missing: bool,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .followed(incident_id, session_id, missing, now_ms)
                        .await
                }
                Ledger::Memory(ledger) => {
                    ledger.followed(incident_id, session_id, missing, now_ms);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Records that the post of the note `reference` got an ambiguous answer, while its session
    /// is `session_id` (else nothing, as for [`Ledger::mark`]): the next run looks for it first.
    pub async fn unsure(
        &self,
        incident_id: &str,
        session_id: &str,
        reference: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => {
                    ledger
                        .unsure(incident_id, session_id, reference, now_ms)
                        .await
                }
                Ledger::Memory(ledger) => {
                    ledger.unsure(incident_id, session_id, reference);
                    Ok(())
                }
            }
        })
        .await
    }

    /// Takes the follow-up's run lease until `until_ms`: false while another run holds it.
    pub async fn take_run_lease(
        &self,
        holder: &str,
        now_ms: u64,
        until_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.take_run_lease(holder, now_ms, until_ms).await,
                Ledger::Memory(ledger) => Ok(ledger.take_run_lease(holder, now_ms, until_ms)),
            }
        })
        .await
    }

    pub async fn release_run_lease(
        &self,
        holder: &str,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        within(timeout, async {
            match self {
                Ledger::Dynamo(ledger) => ledger.release_run_lease(holder).await,
                Ledger::Memory(ledger) => {
                    ledger.release_run_lease(holder);
                    Ok(())
                }
            }
        })
        .await
    }
}
