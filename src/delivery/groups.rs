//! The groups part: a storm group's records in the ledger as a delivery uses them. The group's
//! claim (one delivery leads it and starts its session), the wait while another starts it, the
//! count of its incidents, its opening, release and close; and the open members of a group's
//! session, which ends only when its last one leaves. It holds the ledger, the claim's lease and
//! a clock, nothing else.

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use crate::delivery::outcome::{Outcome, Retry};
use crate::edge::clock::Clock;
use crate::edge::ledger::{GroupClaim, Ledger, LedgerError};
use pure::budget::Budget;
use pure::life::members::{Ending, Joining, Left};
use pure::life::records::{GroupRecord, GroupStanding, Leader, OpenGroup};
use pure::policy::MAX_GROUP_INCIDENTS;

/// How often a delivery looks again at a group whose session another delivery is starting.
const WAIT_STEP: Duration = Duration::from_millis(100);
/// Kept for answering after the last look.
const ANSWER_TIME: Duration = Duration::from_millis(50);

/// A storm group's records, and a group session's open members, in the ledger.
pub(crate) struct Groups {
    ledger: Arc<Ledger>,
    /// How long a claim on a group keeps other deliveries from leading it.
    lease: Duration,
    clock: Clock,
}

impl Groups {
    pub(crate) fn new(ledger: Arc<Ledger>, lease: Duration, clock: Clock) -> Self {
        Groups {
            ledger,
            lease,
            clock,
        }
    }

    /// The time left in `budget`, now.
    fn left(&self, budget: Budget) -> Duration {
        budget.remaining(self.clock.now())
    }

    /// Claims the group for `holder`, leading it for `leader`, for a lease from now, inside the
    /// budget.
    pub(crate) async fn claim(
        &self,
        group: &str,
        holder: &str,
        leader: &Leader,
        budget: Budget,
    ) -> Result<GroupClaim, LedgerError> {
        let now_ms = self.clock.epoch_ms();
        let lease_until_ms = now_ms + self.lease.as_millis() as u64;
        let left = self.left(budget);
        let max = MAX_GROUP_INCIDENTS;
        self.ledger
            .claim_group(group, (holder, leader), now_ms, lease_until_ms, max, left)
            .await
    }

    /// The group once it is open: `None` when it may be claimed instead (closed, abandoned).
    pub(crate) async fn wait(
        &self,
        group: &str,
        mut record: GroupRecord,
        budget: Budget,
    ) -> Result<Option<OpenGroup>, Outcome> {
        loop {
            match record.standing(self.clock.epoch_ms(), MAX_GROUP_INCIDENTS) {
                GroupStanding::Joinable(open) => return Ok(Some(open)),
                GroupStanding::Claimable => return Ok(None),
                GroupStanding::BeingCreated => {}
            }
            if self.left(budget) < WAIT_STEP + ANSWER_TIME {
                return Err(Retry::BeingCreated {
                    incident_id: String::new(),
                }
                .into());
            }
            tokio::time::sleep(WAIT_STEP).await;
            let left = self.left(budget).saturating_sub(ANSWER_TIME);
            match self.ledger.group(group, left).await {
                Ok(Some(now)) => record = now,
                Ok(None) => return Ok(None),
                Err(err) => return Err(Retry::LedgerUnavailable(err).into()),
            }
        }
    }

    /// Counts one more incident in the open group whose session is `session_id`: the count of
    /// its incidents, this one included; `None` when it is full or no longer open.
    pub(crate) async fn join(
        &self,
        group: &str,
        session_id: &str,
        budget: Budget,
    ) -> Result<Option<u32>, LedgerError> {
        let left = self.left(budget);
        let now_ms = self.clock.epoch_ms();
        self.ledger
            .join_group(group, session_id, now_ms, MAX_GROUP_INCIDENTS, left)
            .await
    }

    /// Opens the group this delivery led, with the session it started, its leader the first
    /// open member (one write), until the Lambda deadline (past the budget: see
    /// [`Budget::to_record`]). A failure to open leaves the group's claim to its lease: whoever
    /// takes it over looks the leader's session up and opens the group with it.
    pub(crate) async fn open(&self, group: &str, holder: &str, open: &OpenGroup, budget: Budget) {
        let budget = budget.to_record();
        let left = self.left(budget);
        match self
            .ledger
            .open_group(group, holder, open, self.clock.epoch_ms(), left)
            .await
        {
            Ok(true) => {}
            Ok(false) => warn!("the group's claim was taken over before it opened"),
            Err(err) => {
                warn!(error = %err, "the group was not opened: whoever takes its claim over looks its session up")
            }
        }
    }

    /// Names the earlier leader again on the claim `holder` took over from it, when that
    /// leader's session could not be looked up: the next to take the claim over looks it up,
    /// rather than leading anew beside a session that may exist.
    pub(crate) async fn name_leader(
        &self,
        group: &str,
        holder: &str,
        earlier: &Leader,
        budget: Budget,
    ) {
        let budget = budget.to_record();
        let left = self.left(budget);
        let named = self.ledger.name_group_leader(group, holder, earlier, left);
        if let Err(err) = named.await {
            warn!(error = %err, "the group's earlier leader was not named again: the next to take the claim over may lead anew");
        }
    }

    /// Gives up the claim on a group whose session was not started.
    pub(crate) async fn release(&self, group: &str, holder: &str, budget: Budget) {
        let left = self.left(budget);
        if let Err(err) = self.ledger.release_group(group, holder, left).await {
            warn!(error = %err, "the group's claim was not released; it ends with its lease");
        }
    }

    /// Closes the group whose session is `session_id`: it takes no more incidents.
    pub(crate) async fn close(
        &self,
        group: &str,
        session_id: &str,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let left = self.left(budget);
        self.ledger.close_group(group, session_id, left).await
    }

    /// Records `incident_id` as an open member of the session `session_id`, as `joining` says.
    pub(crate) async fn add_member(
        &self,
        session_id: &str,
        incident_id: &str,
        joining: Joining<'_>,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let left = self.left(budget);
        let now_ms = self.clock.epoch_ms();
        self.ledger
            .add_member(session_id, incident_id, joining, now_ms, left)
            .await
    }

    /// `incident_id` leaves the session `session_id`: whether others of its group are still
    /// open, and the ledger's answer (`None`: no group's session).
    pub(crate) async fn leave(
        &self,
        session_id: &str,
        incident_id: &str,
        budget: Budget,
    ) -> Result<(Ending, Option<Left>), Outcome> {
        let time_left = self.left(budget);
        let left = self
            .ledger
            .leave_group(session_id, incident_id, self.clock.epoch_ms(), time_left)
            .await
            .map_err(Retry::LedgerUnavailable)?;
        Ok((Ending::of(left.as_ref()), left))
    }
}
