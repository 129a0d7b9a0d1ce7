//! Merges: when responders merge incidents, each merged-away one arrives as `incident.resolved`
//! with a `merge_resolve_reason`. The problem is not over: its session carries on under the
//! incident it went into, or, when that one has its own session, hands its findings over (and
//! stops, unless other incidents of its group are still open). An incident whose start was
//! deferred takes the merged session as its own: the deferral never starts a second one. A
//! merged session that has ended is nobody's: the other incident's own start stands (unless an
//! earlier try of the same merge had given it that session already: the retry finishes it).

use std::sync::Arc;

use tracing::warn;

use crate::delivery::bridge::Bridge;
use crate::delivery::devin_calls::not_told;
use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::members::{incident_label, Ending, Joining, Left};
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::messages;

impl Bridge {
    /// `incident_id` (whose number is `number`) was merged into `into`. A member of a group
    /// leaves its session: the session stops only when no other member is open.
    pub(super) async fn merge(
        &self,
        merged: (&str, Option<u64>),
        into: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let incident_id = merged.0.to_owned();
        let session = match self
            .claims
            .session_to_tell(&incident_id, false, budget)
            .await
        {
            Ok(Some(session)) => session,
            Ok(None) => {
                return self
                    .claims
                    .resolved_without_session(incident_id, budget)
                    .await;
            }
            Err(outcome) => return outcome,
        };
        let theirs = match self.claims.session_to_tell(into, false, budget).await {
            Ok(theirs) => theirs,
            Err(outcome) => return outcome,
        };
        match theirs {
            Some(theirs) if theirs.session_id != session.session_id => {
                let sessions = (session, theirs);
                self.hand_over(merged, into, sessions, secrets, budget, tally)
                    .await
            }
            // The other incident has no session (this one's carries on there), or has it
            // already: shares it, or took it on an earlier try of this delivery.
            theirs => {
                let taken = theirs.is_some();
                let merge = (incident_id, into, taken);
                self.carry_on(merge, session, secrets, budget, tally).await
            }
        }
    }

    /// The merged incident's session carries on under `into`, which has none of its own (or
    /// has it already: `taken`): told, adopted by `into` (unless taken), and `into` its group's
    /// open member in its place.
    async fn carry_on(
        &self,
        (incident_id, into, taken): (String, &str, bool),
        session: Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        // Told first: a session that takes no more messages has ended, and is nobody's to take
        // (the other incident's own start, deferred or to come, stands). A session `into`
        // holds already is its own all the same: the merge's bookkeeping is finished (an
        // earlier try adopted it, then the ledger failed, and Devin ended it since).
        let message = messages::merged_carry_on(into);
        let session_id = &session.session_id;
        let told = self
            .devin
            .tell(session_id, &message, secrets, budget, tally);
        match told.await {
            Ok(()) => {}
            Err(Failure::Final(err)) if taken && err.is_session_closed() => {}
            Err(failure) => return not_told(&incident_id, session, failure),
        }
        // Held already, its record stands (one the follow-up closed out stays so).
        if !taken {
            if let Err(err) = self.claims.adopt(into, &session, budget).await {
                return Retry::LedgerUnavailable(err).into();
            }
        }
        // The incident it went into is the group's open member in its place (first, so the
        // group never looks empty meanwhile).
        let member = self
            .groups
            .add_member(session_id, into, Joining::Merge, budget);
        if let Err(err) = member.await {
            return Retry::LedgerUnavailable(err).into();
        }
        if let Err(outcome) = self.groups.leave(session_id, &incident_id, budget).await {
            return outcome;
        }
        // The work, and its postmortem, go on under `into`: not posted on this one too.
        let none = self.claims.no_postmortem(&incident_id, session_id, budget);
        if let Err(err) = none.await {
            warn!(error = %err, "the merged incident may get the postmortem of the incident it went into");
        }
        Done::Merged {
            incident_id,
            into: into.to_owned(),
            session,
            theirs: None,
        }
        .into()
    }

    /// `into` has a session of its own (`theirs`): the merged incident leaves its session (the
    /// group closes with its last member), `theirs` hears of the findings, and the merged
    /// session hands over (or carries on for the group's other open members).
    async fn hand_over(
        &self,
        (incident_id, number): (&str, Option<u64>),
        into: &str,
        (session, theirs): (Session, Session),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let session_id = &session.session_id;
        let ending = match self.groups.leave(session_id, incident_id, budget).await {
            Ok((
                Ending::Last,
                Some(Left {
                    group: Some(group), ..
                }),
            )) => {
                self.close_group(&group, session_id, budget).await;
                Ending::Last
            }
            Ok((ending, _)) => ending,
            Err(outcome) => return outcome,
        };
        let findings = messages::merged_into_yours(incident_id, &session.url);
        let told = self.tell_if_open(&theirs.session_id, &findings, secrets, budget, tally);
        if let Err(failure) = told.await {
            return failure;
        }
        let hand_over = match ending {
            Ending::Last => messages::merged_hand_over(into, &theirs.url),
            Ending::OthersOpen(still_open) => {
                let incident = incident_label(number, incident_id);
                messages::group_member_merged(&incident, into, &theirs.url, still_open)
            }
        };
        let told = self.tell_if_open(session_id, &hand_over, secrets, budget, tally);
        if let Err(failure) = told.await {
            return failure;
        }
        Done::Merged {
            incident_id: incident_id.to_owned(),
            into: into.to_owned(),
            session,
            theirs: Some(theirs),
        }
        .into()
    }

    /// Tells a session of the merge; a session that takes no more messages is passed over.
    async fn tell_if_open(
        &self,
        session_id: &str,
        message: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(), Outcome> {
        let told = self.devin.tell(session_id, message, secrets, budget, tally);
        match told.await {
            Ok(()) => Ok(()),
            Err(Failure::Final(err)) if err.is_session_closed() => Ok(()),
            Err(failure) => {
                let session_id = session_id.to_owned();
                let step = DevinStep::SendMessage { session_id };
                Err(Retry::DevinFailed { step, failure }.into())
            }
        }
    }
}
