//! Storm grouping: the incidents a rule's `group_by` renders alike share one session while its
//! window is open and it holds fewer than 40. One delivery claims a group and starts its
//! session (a conditional write, so two incidents arriving together start one); the others
//! join it: the session hears of the new incident as quoted data, the ledger records the
//! incident under it, the session gets the incident's tag while it has room, and the incident
//! gets a note.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::ledger::{GroupClaim, LedgerError};
use crate::edge::retry::{random, Failure, Transient};
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::members::Joining;
use pure::life::records::{GroupRecord, GroupStanding, Leader, OpenGroup};
use pure::life::session::{incident_tag, Session};
use pure::life::Settled;
use pure::metrics::Tally;
use pure::policy::MAX_GROUP_INCIDENTS;
use pure::text::brief;
use pure::text::messages;
use pure::text::notes;

/// Devin keeps at most this many tags on a session.
const MAX_SESSION_TAGS: u32 = 50;
/// How often a delivery looks again at a group whose session another delivery is starting.
const WAIT_STEP: Duration = Duration::from_millis(100);
/// Kept for answering after the last look.
const ANSWER_TIME: Duration = Duration::from_millis(50);

/// What an incident does about its group.
pub(super) enum GroupStep {
    /// Start the group's session: this delivery holds the group's claim (`holder`).
    Lead(String),
    /// Join the open group; the count of its incidents, this one included.
    Join(OpenGroup, u32),
    /// Neither in time: the delivery ends so.
    Ends(Outcome),
}

impl Bridge {
    /// Joins the group's open session, or claims the group to start one; waits inside the
    /// budget while another delivery starts it. A claim taken over from another incident's
    /// abandoned one looks that incident's session up first: found, it becomes the group's,
    /// and this incident joins it (never two sessions for one group).
    pub(super) async fn join_or_lead(
        &self,
        (group, plan, held): (&str, &Plan<'_>, &Held),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> GroupStep {
        let holder = format!("{:016x}", random());
        let leader = Leader {
            incident_id: plan.incident.id.clone(),
            generation: held.claimed.generation,
        };
        // Another try when the group closed or its claim ended while this delivery looked.
        for _ in 0..3 {
            let record = match self.claim_group(group, &holder, &leader, budget).await {
                Ok(GroupClaim::TookOver {
                    leader: earlier,
                    lease_until_ms,
                }) if earlier.incident_id != leader.incident_id => {
                    let earlier = (&earlier, lease_until_ms);
                    match self
                        .open_with_earlier(group, &holder, earlier, plan, secrets, budget, tally)
                        .await
                    {
                        // Open with it now: joined on the next pass.
                        Ok(true) => continue,
                        Ok(false) => return GroupStep::Lead(holder),
                        Err(outcome) => return GroupStep::Ends(outcome),
                    }
                }
                Ok(GroupClaim::Won | GroupClaim::TookOver { .. }) => {
                    return GroupStep::Lead(holder)
                }
                Ok(GroupClaim::Held(record)) => record,
                Err(err) => return GroupStep::Ends(Retry::LedgerUnavailable(err).into()),
            };
            let open = match self.wait_for_group(group, record, budget).await {
                Ok(Some(open)) => open,
                Ok(None) => continue,
                Err(outcome) => return GroupStep::Ends(outcome),
            };
            let left = budget.remaining(clock::now());
            let joined = self
                .ledger
                .join_group(
                    group,
                    &open.session.session_id,
                    clock::epoch_ms(),
                    MAX_GROUP_INCIDENTS,
                    left,
                )
                .await;
            match joined {
                Ok(Some(incidents)) => return GroupStep::Join(open, incidents),
                Ok(None) => continue,
                Err(err) => return GroupStep::Ends(Retry::LedgerUnavailable(err).into()),
            }
        }
        GroupStep::Ends(
            Retry::BeingCreated {
                incident_id: String::new(),
            }
            .into(),
        )
    }

    /// The session of a group's incident that took over its own abandoned claim: its earlier
    /// delivery may have led the group and created it, while another incident of the group led
    /// (after the group's lease) and started one of its own. Looked up first; when it exists it
    /// is this incident's, and the group's too when the group may be claimed (with this claim's
    /// holder, to open it); a group open meanwhile with another session keeps that one, and
    /// this incident keeps its own, recorded and followed: nothing is lost.
    pub(super) async fn own_session_first(
        &self,
        (incident_id, generation, earlier_lease_until_ms): (&str, u32, u64),
        group: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Option<(Session, Option<String>)>, Failure<DevinError>> {
        let found = self
            .find_incident_session(
                incident_id,
                generation,
                earlier_lease_until_ms,
                secrets,
                budget,
                tally,
            )
            .await?;
        let Some(session) = found else {
            return Ok(None);
        };
        info!(session_id = %session.session_id, "the earlier claim's session exists: recording it before the group is looked at");
        let holder = format!("{:016x}", random());
        let leader = Leader {
            incident_id: incident_id.to_owned(),
            generation,
        };
        let leads = match self.claim_group(group, &holder, &leader, budget).await {
            Ok(GroupClaim::Won | GroupClaim::TookOver { .. }) => Some(holder),
            Ok(GroupClaim::Held(GroupRecord::Open(open)))
                if open.session.session_id == session.session_id =>
            {
                None
            }
            Ok(GroupClaim::Held(_)) => {
                info!(session_id = %session.session_id, "the group has another session (or one is being started): this incident keeps its own, recorded and followed");
                None
            }
            Err(err) => {
                warn!(error = %err, session_id = %session.session_id, "the group was not claimed: this incident keeps its own session, recorded and followed");
                None
            }
        };
        Ok(Some((session, leads)))
    }

    /// Claims the group for `holder`, leading it for `leader`, for a lease from now, inside the
    /// budget.
    async fn claim_group(
        &self,
        group: &str,
        holder: &str,
        leader: &Leader,
        budget: Budget,
    ) -> Result<GroupClaim, LedgerError> {
        let now_ms = clock::epoch_ms();
        let lease_until_ms = now_ms + self.options.claim_lease.as_millis() as u64;
        let left = budget.remaining(clock::now());
        let max = MAX_GROUP_INCIDENTS;
        self.ledger
            .claim_group(group, (holder, leader), now_ms, lease_until_ms, max, left)
            .await
    }

    /// The session the abandoned claim's leader may have created (its lease ended at
    /// `lease_until_ms`): when Devin has it, the group opens with it (this delivery holds the
    /// group's claim) and true; false when it was never made. The leader's own next start finds
    /// the same session and records it for its incident.
    #[allow(clippy::too_many_arguments)]
    async fn open_with_earlier(
        &self,
        group: &str,
        holder: &str,
        (earlier, lease_until_ms): (&Leader, u64),
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<bool, Outcome> {
        let (id, generation) = (&earlier.incident_id, earlier.generation);
        let found = self
            .find_incident_session(id, generation, lease_until_ms, secrets, budget, tally)
            .await
            .map_err(|failure| Retry::DevinFailed {
                step: DevinStep::FindSession,
                failure,
            })?;
        let Some(session) = found else {
            return Ok(false);
        };
        info!(session_id = %session.session_id, leader = %id, "the group's earlier leader made its session: it is the group's");
        let open = OpenGroup {
            session,
            leader_id: id.clone(),
            leader_number: None,
            incidents: 1,
            window_until_ms: clock::epoch_ms() + plan.decision.group_window.as_millis() as u64,
            tags: plan.request.tags.len() as u32,
        };
        self.open_group(group, holder, &open, budget).await;
        Ok(true)
    }

    /// The group once it is open: `None` when it may be claimed instead (closed, abandoned).
    async fn wait_for_group(
        &self,
        group: &str,
        mut record: GroupRecord,
        budget: Budget,
    ) -> Result<Option<OpenGroup>, Outcome> {
        loop {
            match record.standing(clock::epoch_ms(), MAX_GROUP_INCIDENTS) {
                GroupStanding::Joinable(open) => return Ok(Some(open)),
                GroupStanding::Claimable => return Ok(None),
                GroupStanding::BeingCreated => {}
            }
            if budget.remaining(clock::now()) < WAIT_STEP + ANSWER_TIME {
                return Err(Retry::BeingCreated {
                    incident_id: String::new(),
                }
                .into());
            }
            tokio::time::sleep(WAIT_STEP).await;
            let left = budget.remaining(clock::now()).saturating_sub(ANSWER_TIME);
            match self.ledger.group(group, left).await {
                Ok(Some(now)) => record = now,
                Ok(None) => return Ok(None),
                Err(err) => return Err(Retry::LedgerUnavailable(err).into()),
            }
        }
    }

    /// Leads the group (`Ok`: the group's claim's holder) or joins its open session (`Err`: how
    /// the delivery ends). A group whose session has ended is closed and led anew at once: a
    /// start that found it so leaves nothing to retry.
    pub(super) async fn lead_or_join(
        &self,
        (group, plan, held): (&str, &Plan<'_>, &Held),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<String, Outcome> {
        let incident_id = &plan.incident.id;
        for _ in 0..2 {
            let step = self
                .join_or_lead((group, plan, held), secrets, budget, tally)
                .await;
            let ends = match step {
                GroupStep::Lead(holder) => return Ok(holder),
                GroupStep::Join(open, incidents) => {
                    let joining = (open, incidents);
                    match self.join(held, plan, joining, secrets, budget, tally).await {
                        Some(outcome) => return Err(outcome),
                        None => continue,
                    }
                }
                GroupStep::Ends(outcome) => outcome,
            };
            self.settle_unstarted(incident_id, held, Settled::NothingMade, budget)
                .await;
            return Err(ends);
        }
        self.settle_unstarted(incident_id, held, Settled::NothingMade, budget)
            .await;
        let incident_id = incident_id.clone();
        Err(Retry::BeingCreated { incident_id }.into())
    }

    /// The incident joins its group's session: told to it, recorded under it, tagged on it
    /// while it has room, and noted on the incident. `None` when the session has ended: the
    /// group is closed, and may be led anew.
    async fn join(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        (open, incidents): (OpenGroup, u32),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Option<Outcome> {
        let (incident_id, group) = (&plan.incident.id, plan.group.as_deref().unwrap_or_default());
        let message = messages::grouped_incident_message(
            group,
            &brief::incident_facts(plan.incident, plan.alerts.as_ref()),
        );
        let session = &open.session;
        let sent = self
            .call_devin(
                secrets,
                budget,
                tally,
                DevinError::is_retryable,
                |secrets, left| {
                    let (session_id, message) = (&session.session_id, &message);
                    async move {
                        self.devin
                            .send_message(&secrets, session_id, message, left)
                            .await
                    }
                },
            )
            .await;
        if let Err(failure) = sent {
            if matches!(&failure, Failure::Final(err) if err.is_session_closed()) {
                // The group's session takes no more incidents: this one starts anew.
                let left = budget.remaining(clock::now());
                match self
                    .ledger
                    .close_group(group, &session.session_id, left)
                    .await
                {
                    Ok(()) => return None,
                    Err(err) => warn!(error = %err, "the group whose session ended was not closed"),
                }
            }
            self.settle_unstarted(incident_id, held, Settled::NothingMade, budget)
                .await;
            let session_id = session.session_id.clone();
            let step = DevinStep::SendMessage { session_id };
            return Some(Retry::DevinFailed { step, failure }.into());
        }
        // An open member: the session ends only when its last one resolves.
        if let Err(err) = self
            .add_member(
                &session.session_id,
                incident_id,
                Joining::Group(group),
                budget,
            )
            .await
        {
            return Some(Retry::LedgerUnavailable(err).into());
        }
        if let Err(err) = self
            .record_session(incident_id, held, session, budget)
            .await
        {
            return Some(Retry::LedgerUnavailable(err).into());
        }
        // Where Devin refuses per-incident tags, the ledger alone says which incidents the
        // session has; it was never found by them.
        if open.tags + incidents - 1 <= MAX_SESSION_TAGS && self.per_incident_tags() {
            self.tag_session(&session.session_id, incident_id, secrets, budget, tally)
                .await;
        }
        let note = notes::grouped_note(open.leader_number, &open.leader_id, session, group);
        let note = self
            .add_incident_note(secrets, incident_id, &note, budget)
            .await;
        Some(
            Done::Grouped {
                rule: plan.rule.clone(),
                incident_id: incident_id.clone(),
                session: open.session,
                group: group.to_owned(),
                note,
            }
            .into(),
        )
    }

    /// Adds the incident's tag to its group's session, so Devin's list finds it by either
    /// incident. Best effort: the ledger already knows.
    async fn tag_session(
        &self,
        session_id: &str,
        incident_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) {
        let tags = [incident_tag(incident_id)];
        let tagged = self
            .call_devin(
                secrets,
                budget,
                tally,
                DevinError::is_retryable,
                |secrets, left| {
                    let tags = &tags;
                    async move { self.devin.add_tags(&secrets, session_id, tags, left).await }
                },
            )
            .await;
        match tagged {
            Ok(()) => {}
            Err(Failure::Final(err)) if err.refused_tags() => self.tags_refused(&err),
            Err(failure) => {
                warn!(error = %failure, "the incident's tag was not added to its group's session")
            }
        }
    }

    /// Opens the group this delivery led, with the session it started (its leader its first
    /// open member), until the Lambda deadline (past the budget: see [`Budget::to_record`]). A
    /// failure to open leaves the group's claim to its lease: whoever takes it over looks the
    /// leader's session up and opens the group with it.
    pub(super) async fn open_group(
        &self,
        group: &str,
        holder: &str,
        open: &OpenGroup,
        budget: Budget,
    ) {
        let budget = budget.to_record();
        let left = budget.remaining(clock::now());
        match self
            .ledger
            .open_group(group, holder, open, clock::epoch_ms(), left)
            .await
        {
            Ok(true) => {}
            Ok(false) => return warn!("the group's claim was taken over before it opened"),
            Err(err) => {
                return warn!(error = %err, "the group was not opened: whoever takes its claim over looks its session up")
            }
        }
        // Open first: a group not opened would let its next incident start a second session,
        // while a leader missing from the open members only lets the session hear "finish" one
        // resolve early (and a reopen or a later incident wakes it).
        let (session_id, leader_id) = (&open.session.session_id, &open.leader_id);
        if let Err(err) = self
            .add_member(session_id, leader_id, Joining::Group(group), budget)
            .await
        {
            warn!(error = %err, "the group's leader was not recorded as an open member");
        }
    }

    /// Gives up the claim on a group whose session was not started.
    pub(super) async fn release_group(&self, group: &str, holder: &str, budget: Budget) {
        let left = budget.remaining(clock::now());
        if let Err(err) = self.ledger.release_group(group, holder, left).await {
            warn!(error = %err, "the group's claim was not released; it ends with its lease");
        }
    }
}
