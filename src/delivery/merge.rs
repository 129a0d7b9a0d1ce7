//! Merges: when responders merge incidents, each merged-away one arrives as `incident.resolved`
//! with a `merge_resolve_reason`. The problem is not over: its session carries on under the
//! incident it went into, or, when that one has its own session, hands its findings over (and
//! stops, unless other incidents of its group are still open). An incident whose start was
//! deferred takes the merged session as its own: the deferral never starts a second one. A
//! merged session that has ended is nobody's: the other incident's own start stands.

use std::sync::Arc;

use crate::delivery::bridge::Bridge;
use crate::delivery::calls::not_told;
use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::edge::clock;
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::members::{incident_label, Ending, Joining, Left};
use pure::metrics::Tally;
use pure::text::messages;

impl Bridge {
    /// `incident_id` (whose number is `number`) was merged into `into`. A member of a group
    /// leaves its session: the session stops only when no other member is open.
    pub(super) async fn merge(
        &self,
        (incident_id, number): (&str, Option<u64>),
        into: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let incident_id = incident_id.to_owned();
        let session = match self.session_to_tell(&incident_id, false, budget).await {
            Ok(Some(session)) => session,
            Ok(None) => return self.resolved_without_session(incident_id, budget).await,
            Err(outcome) => return outcome,
        };
        let theirs = match self.session_to_tell(into, false, budget).await {
            Ok(theirs) => theirs,
            Err(outcome) => return outcome,
        };
        let theirs = match theirs {
            Some(theirs) if theirs.session_id != session.session_id => theirs,
            // The other incident has no session (this one's carries on there), or shares it.
            _ => {
                // Told first: a session that takes no more messages has ended, and is nobody's
                // to take (the other incident's own start, deferred or to come, stands).
                let message = messages::merged_carry_on(into);
                if let Err(failure) = self
                    .tell(&session.session_id, &message, secrets, budget, tally)
                    .await
                {
                    return not_told(&incident_id, session, failure);
                }
                let left = budget.remaining(clock::now());
                if let Err(err) = self
                    .ledger
                    .adopt(into, &session, clock::epoch_ms(), left)
                    .await
                {
                    return Retry::LedgerUnavailable(err).into();
                }
                // The incident it went into is the group's open member in its place (first, so
                // the group never looks empty meanwhile).
                if let Err(err) = self
                    .add_member(&session.session_id, into, Joining::Merge, budget)
                    .await
                {
                    return Retry::LedgerUnavailable(err).into();
                }
                if let Err(outcome) = self
                    .leave_session(&session.session_id, &incident_id, budget)
                    .await
                {
                    return outcome;
                }
                let into = into.to_owned();
                return Done::Merged {
                    incident_id,
                    into,
                    session,
                    theirs: None,
                }
                .into();
            }
        };
        let ending = match self
            .leave_session(&session.session_id, &incident_id, budget)
            .await
        {
            Ok((
                Ending::Last,
                Some(Left {
                    group: Some(group), ..
                }),
            )) => {
                self.close_group_of(&group, &session.session_id, budget)
                    .await;
                Ending::Last
            }
            Ok((ending, _)) => ending,
            Err(outcome) => return outcome,
        };
        let findings = messages::merged_into_yours(&incident_id, &session.url);
        if let Err(failure) = self
            .told(&theirs.session_id, &findings, secrets, budget, tally)
            .await
        {
            return failure;
        }
        let hand_over = match ending {
            Ending::Last => messages::merged_hand_over(into, &theirs.url),
            Ending::OthersOpen(still_open) => {
                let incident = incident_label(number, &incident_id);
                messages::group_member_merged(&incident, into, &theirs.url, still_open)
            }
        };
        if let Err(failure) = self
            .told(&session.session_id, &hand_over, secrets, budget, tally)
            .await
        {
            return failure;
        }
        Done::Merged {
            incident_id,
            into: into.to_owned(),
            session,
            theirs: Some(theirs),
        }
        .into()
    }

    /// Tells a session of the merge; a session that takes no more messages is passed over.
    async fn told(
        &self,
        session_id: &str,
        message: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(), Outcome> {
        match self.tell(session_id, message, secrets, budget, tally).await {
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
