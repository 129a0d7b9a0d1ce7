//! The postmortem queue as the delivery and the follow-up use it: an ended record whose session
//! was asked for a draft when the incident resolved waits there until the follow-up posted the
//! draft or gave up on it (`pure::life::follow_up::awaited_postmortem`).

use std::time::Duration;

use super::{Ledger, LedgerError};
use pure::life::follow_up::PostmortemPart;
use pure::life::records::AwaitedPostmortem;

impl Ledger {
    /// Queues the ended record of `session_id` for its draft, asked at `now_ms`: once, never
    /// again after the draft was posted or given up on (a retried resolve changes nothing).
    pub async fn await_postmortem(
        &self,
        incident_id: &str,
        session_id: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.await_postmortem(incident_id, session_id, now_ms),
            |ledger| ledger.await_postmortem(incident_id, session_id, now_ms),
        )
        .await
    }

    /// The records of the postmortem queue, with what was posted on each and when it was asked.
    pub async fn awaited_postmortems(
        &self,
        timeout: Duration,
    ) -> Result<Vec<AwaitedPostmortem>, LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.awaited_postmortems(),
            |ledger| ledger.awaited_postmortems(),
        )
        .await
    }

    /// Records a part of the draft posted on the ended record of `session_id` (the last one
    /// takes it out of the queue), or, with `None`, that the draft is given up on (out of the
    /// queue, recorded as none, `0/0`, unless parts were posted). Else nothing: the incident
    /// reopened meanwhile.
    pub async fn postmortem_posted(
        &self,
        incident_id: &str,
        session_id: &str,
        posted: Option<PostmortemPart>,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.postmortem_posted(incident_id, session_id, posted, now_ms),
            |ledger| ledger.postmortem_posted(incident_id, session_id, posted),
        )
        .await
    }
}
