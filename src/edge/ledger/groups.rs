//! The ledger's storm groups: a group's record, the claim that starts its session, joining
//! and closing it, and the open members of a group session.

use std::time::Duration;

use super::{GroupClaim, Ledger, LedgerError};
use pure::life::members::{Joining, Left};
use pure::life::records::{GroupRecord, Leader, OpenGroup};

impl Ledger {
    /// The group's record, read consistently.
    pub async fn group(
        &self,
        group: &str,
        timeout: Duration,
    ) -> Result<Option<GroupRecord>, LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.group(group),
            |ledger| ledger.group(group),
        )
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
        self.call(
            timeout,
            |ledger| {
                ledger.claim_group(group, holder, leader, now_ms, lease_until_ms, max_incidents)
            },
            |ledger| {
                ledger.claim_group(group, holder, leader, now_ms, lease_until_ms, max_incidents)
            },
        )
        .await
    }

    /// Names `leader` as the incident whose session `holder`'s claim on the group may have
    /// started (while the claim is still `holder`'s): whoever takes the claim over looks that
    /// incident's session up first.
    pub async fn name_group_leader(
        &self,
        group: &str,
        holder: &str,
        leader: &Leader,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.name_group_leader(group, holder, leader),
            |ledger| ledger.name_group_leader(group, holder, leader),
        )
        .await
    }

    /// Opens the group `holder` claimed, with its session, and makes its leader the session's
    /// first open member, both or neither (tried again while DynamoDB is busy). False when the
    /// claim was no longer `holder`'s.
    pub async fn open_group(
        &self,
        group: &str,
        holder: &str,
        open: &OpenGroup,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.open_group(group, holder, open, now_ms, timeout),
            |ledger| ledger.open_group(group, holder, open),
        )
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
        self.call(
            timeout,
            |ledger| ledger.join_group(group, session_id, now_ms, max_incidents),
            |ledger| ledger.join_group(group, session_id, now_ms, max_incidents),
        )
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
        self.call(
            timeout,
            |ledger| ledger.close_group(group, session_id),
            |ledger| ledger.close_group(group, session_id),
        )
        .await
    }

    /// Gives up `holder`'s claim on a group whose session was not started.
    pub async fn release_group(
        &self,
        group: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<(), LedgerError> {
        self.call(
            timeout,
            |ledger| ledger.release_group(group, holder),
            |ledger| ledger.release_group(group, holder),
        )
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
        self.call(
            timeout,
            |ledger| ledger.add_member(session_id, incident_id, joining, now_ms),
            |ledger| ledger.add_member(session_id, incident_id, joining),
        )
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
        self.call(
            timeout,
            |ledger| ledger.leave_group(session_id, incident_id, now_ms),
            |ledger| ledger.leave_group(session_id, incident_id),
        )
        .await
    }
}
