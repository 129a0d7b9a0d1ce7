//! The ledger as the follow-up uses it: deferred incidents, the queues of incidents to visit,
//! what was posted on each, and the run lease (one run at a time posts notes).

use std::time::Duration;

use super::{Ledger, LedgerError};
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
        self.call(
            timeout,
            |ledger| ledger.defer(incident_id, until_ms, now_ms),
            |ledger| ledger.defer(incident_id, until_ms),
        )
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
        self.call(
            timeout,
            |ledger| ledger.skip_resolved(incident_id, now_ms),
            |ledger| ledger.skip_resolved(incident_id),
        )
        .await
    }

    /// The incidents of sessions not closed out yet, with what was posted on each.
    pub async fn open_incidents(
        &self,
        timeout: Duration,
    ) -> Result<Vec<OpenIncident>, LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.open_incidents(),
            |ledger| ledger.open_incidents(),
        )
        .await
    }

    /// The records whose next step is a start the follow-up makes when due: deferrals, pending
    /// starts, caps, claims (`pure::life::queue`).
    pub async fn starts(&self, timeout: Duration) -> Result<Vec<ToStart>, LedgerError> {
        self.call(timeout, |ledger| ledger.starts(), |ledger| ledger.starts())
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
        self.call(
            timeout,
            |ledger| ledger.mark(incident_id, session_id, mark, now_ms),
            |ledger| ledger.mark(incident_id, session_id, mark),
        )
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
        self.call(
            timeout,
            |ledger| ledger.see(incident_id, session_id, print, now_ms),
            |ledger| ledger.see(incident_id, session_id, print, now_ms),
        )
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
        self.call(
            timeout,
            |ledger| ledger.followed(incident_id, session_id, missing, now_ms),
            |ledger| ledger.followed(incident_id, session_id, missing, now_ms),
        )
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
        self.call(
            timeout,
            |ledger| ledger.unsure(incident_id, session_id, reference, now_ms),
            |ledger| ledger.unsure(incident_id, session_id, reference),
        )
        .await
    }

    /// Records that the findings of hash `fields` are set into the incident's custom fields
    /// (or were refused for good), while its session is `session_id` (else nothing, as for
    /// [`Ledger::mark`]).
    pub async fn fields_set(
        &self,
        incident_id: &str,
        session_id: &str,
        fields: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.fields_set(incident_id, session_id, fields, now_ms),
            |ledger| ledger.fields_set(incident_id, session_id, fields),
        )
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
        self.call(
            timeout,
            |ledger| ledger.take_run_lease(holder, now_ms, until_ms),
            |ledger| ledger.take_run_lease(holder, now_ms, until_ms),
        )
        .await
    }

    pub async fn release_run_lease(
        &self,
        holder: &str,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.release_run_lease(holder),
            |ledger| ledger.release_run_lease(holder),
        )
        .await
    }
}
