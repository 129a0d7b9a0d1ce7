//! Storm grouping: the incidents a rule's `group_by` renders alike share one session while its
//! window is open and it holds fewer than 40. One delivery claims a group and starts its
//! session (a conditional write, so two incidents arriving together start one); the others
//! join it: the session hears of the new incident as quoted data, the ledger records the
//! incident under it, the session gets the incident's tag while it has room, and the incident
//! gets a note.

use std::sync::Arc;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::ledger::GroupClaim;
use crate::edge::retry::{random, Failure};
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::members::Joining;
use pure::life::records::{GroupRecord, Leader, OpenGroup};
use pure::life::session::Session;
use pure::life::Settled;
use pure::metrics::Tally;
use pure::text::brief;
use pure::text::messages;
use pure::text::notes;

/// Devin keeps at most this many tags on a session.
const MAX_SESSION_TAGS: u32 = 50;

/// What an incident does about its group.
enum GroupStep {
    /// Start the group's session: this delivery holds the group's claim (`holder`).
    Lead(String),
    /// Join the open group; the count of its incidents, this one included.
    Join(OpenGroup, u32),
    /// Neither in time: the delivery ends so.
    Ends(Outcome),
}

impl Bridge {
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
                .group_step((group, plan, held), secrets, budget, tally)
                .await;
            let ends = match step {
                GroupStep::Lead(holder) => return Ok(holder),
                GroupStep::Join(open, incidents) => {
                    let joining = (open, incidents);
                    match self
                        .join_session(held, plan, joining, secrets, budget, tally)
                        .await
                    {
                        Some(outcome) => return Err(outcome),
                        None => continue,
                    }
                }
                GroupStep::Ends(outcome) => outcome,
            };
            self.claims
                .settle(incident_id, held, Settled::NothingMade, budget)
                .await;
            return Err(ends);
        }
        self.claims
            .settle(incident_id, held, Settled::NothingMade, budget)
            .await;
        let incident_id = incident_id.clone();
        Err(Retry::BeingCreated { incident_id }.into())
    }

    /// Joins the group's open session, or claims the group to start one; waits inside the
    /// budget while another delivery starts it. A claim taken over from another incident's
    /// abandoned one looks that incident's session up first: found, it becomes the group's,
    /// and this incident joins it (never two sessions for one group).
    async fn group_step(
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
            let record = match self.groups.claim(group, &holder, &leader, budget).await {
                Ok(GroupClaim::TookOver {
                    leader: earlier,
                    lease_until_ms,
                }) if earlier.incident_id != leader.incident_id => {
                    let earlier = (&earlier, lease_until_ms);
                    let opened = self.open_with_earlier(
                        (group, &holder),
                        earlier,
                        plan,
                        secrets,
                        budget,
                        tally,
                    );
                    match opened.await {
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
            let open = match self.groups.wait(group, record, budget).await {
                Ok(Some(open)) => open,
                Ok(None) => continue,
                Err(outcome) => return GroupStep::Ends(outcome),
            };
            let session_id = &open.session.session_id;
            match self.groups.join(group, session_id, budget).await {
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
        let earlier = (incident_id, generation, earlier_lease_until_ms);
        let found = self
            .devin
            .find_incident_session(earlier, secrets, budget, tally)
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
        let leads = match self.groups.claim(group, &holder, &leader, budget).await {
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

    /// The session the abandoned claim's leader may have created (its lease ended at
    /// `lease_until_ms`): when Devin has it, the group opens with it (this delivery holds the
    /// group's claim as `holder`) and true; false when it was never made. The leader's own next
    /// start finds the same session and records it for its incident.
    async fn open_with_earlier(
        &self,
        (group, holder): (&str, &str),
        (earlier, lease_until_ms): (&Leader, u64),
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<bool, Outcome> {
        let (id, generation) = (&earlier.incident_id, earlier.generation);
        let found = self
            .devin
            .find_incident_session((id, generation, lease_until_ms), secrets, budget, tally)
            .await;
        let found = match found {
            Ok(found) => found,
            // Not looked up: the claim names that leader again, for the next to take it over.
            Err(failure) => {
                self.groups
                    .name_leader(group, holder, earlier, budget)
                    .await;
                let step = DevinStep::FindSession;
                return Err(Retry::DevinFailed { step, failure }.into());
            }
        };
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
        self.groups.open(group, holder, &open, budget).await;
        Ok(true)
    }

    /// The incident joins its group's session: told to it, recorded under it, tagged on it
    /// while it has room, and noted on the incident. `None` when the session has ended: the
    /// group is closed, and may be led anew.
    async fn join_session(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        (open, incidents): (OpenGroup, u32),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Option<Outcome> {
        let (incident_id, group) = (&plan.incident.id, plan.group.as_deref().unwrap_or_default());
        let facts = brief::incident_facts(plan.incident, plan.alerts.as_ref());
        let message = messages::grouped_incident_message(group, &facts);
        let session = &open.session;
        let session_id = &session.session_id;
        let told = self
            .devin
            .tell(session_id, &message, secrets, budget, tally);
        if let Err(failure) = told.await {
            return self
                .not_joined(held, plan, session_id, failure, budget)
                .await;
        }
        // An open member: the session ends only when its last one resolves.
        let joining = Joining::Group(group);
        let member = self
            .groups
            .add_member(session_id, incident_id, joining, budget);
        if let Err(err) = member.await {
            return Some(Retry::LedgerUnavailable(err).into());
        }
        let recorded = self
            .claims
            .record_session(incident_id, held, session, budget);
        if let Err(err) = recorded.await {
            return Some(Retry::LedgerUnavailable(err).into());
        }
        // Where Devin refuses per-incident tags, the ledger alone says which incidents the
        // session has; it was never found by them.
        if open.tags + incidents - 1 <= MAX_SESSION_TAGS && self.devin.per_incident_tags() {
            self.devin
                .add_incident_tag(session_id, incident_id, secrets, budget, tally)
                .await;
        }
        let note = notes::grouped_note(open.leader_number, &open.leader_id, session, group);
        let note = self
            .notes
            .add(secrets, incident_id, &note, false, budget)
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

    /// How joining ends when the group's session was not told of the incident: `None` when it
    /// takes no more messages (the group is closed, and may be led anew); else the claim
    /// settles as nothing made, and Devin's failure ends the delivery.
    async fn not_joined(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        session_id: &str,
        failure: Failure<DevinError>,
        budget: Budget,
    ) -> Option<Outcome> {
        let (incident_id, group) = (&plan.incident.id, plan.group.as_deref().unwrap_or_default());
        if matches!(&failure, Failure::Final(err) if err.is_session_closed()) {
            // The group's session takes no more incidents: this one starts anew.
            match self.groups.close(group, session_id, budget).await {
                Ok(()) => return None,
                Err(err) => warn!(error = %err, "the group whose session ended was not closed"),
            }
        }
        self.claims
            .settle(incident_id, held, Settled::NothingMade, budget)
            .await;
        let session_id = session_id.to_owned();
        let step = DevinStep::SendMessage { session_id };
        Some(Retry::DevinFailed { step, failure }.into())
    }
}
