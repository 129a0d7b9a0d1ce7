//! A group's shared session and its open members: an incident that resolves, is merged away or
//! is stopped leaves its group's session; the session is told to finish (or stopped) only when
//! its last open member leaves. A stopped session's group closes, so the next incident starts
//! anew; a finished one's stays open for its window (a later incident wakes it).

use std::sync::Arc;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::{Outcome, Retry};
use crate::edge::devin::DevinError;
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::{Event, INCIDENT_REOPENED, INCIDENT_RESOLVED};
use pure::life::members::{incident_label, Ending, Joining};
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::messages;
use pure::text::notes;

impl Bridge {
    /// What the session `session_id` hears of `event` on `incident_id` (whose number is
    /// `number`), instead of `message` when the session is a group's: a resolve while others of
    /// the group are still open says how many, and does not finish it; a reopen makes the
    /// incident an open member again. With it, whether the session's work ends here (the
    /// resolve of its last open member).
    pub(super) async fn as_member(
        &self,
        event: &Event,
        (incident_id, number): (&str, Option<u64>),
        session_id: &str,
        message: String,
        budget: Budget,
    ) -> Result<(String, bool), Outcome> {
        match event.event_type.as_str() {
            INCIDENT_RESOLVED => match self.groups.leave(session_id, incident_id, budget).await? {
                (Ending::OthersOpen(still_open), _) => {
                    let incident = incident_label(number, incident_id);
                    let who = event.agent_name();
                    let told = messages::group_member_resolved(&incident, who, still_open);
                    Ok((told, false))
                }
                // The last: the session finishes. Its group stays open for its window: a reopen
                // or a later incident of the group wakes the same session, never a second
                // beside it (one that has ended by then starts the group anew).
                (Ending::Last, _) => Ok((message, true)),
            },
            INCIDENT_REOPENED => {
                let joining = Joining::IfShared;
                self.groups
                    .add_member(session_id, incident_id, joining, budget)
                    .await
                    .map_err(Retry::LedgerUnavailable)?;
                Ok((message, false))
            }
            _ => Ok((message, false)),
        }
    }

    /// `devin stop` (`all` false) or `devin stop all` on `incident_id`: a member of a group
    /// whose other members are still open leaves its session, which carries on for them; else
    /// the session is stopped (and its group closed). The note to post, or why the delivery
    /// ends.
    pub(super) async fn stop_or_leave(
        &self,
        (incident_id, who, session): (&str, Option<&str>, &Session),
        all: bool,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Result<String, Failure<DevinError>>, Outcome> {
        let session_id = &session.session_id;
        let (ending, left) = self.groups.leave(session_id, incident_id, budget).await?;
        if let (Ending::OthersOpen(still_open), false) = (ending, all) {
            let message =
                messages::group_member_left(&incident_label(None, incident_id), who, still_open);
            match self
                .devin
                .tell(session_id, &message, secrets, budget, tally)
                .await
            {
                Ok(()) => {}
                Err(Failure::Final(err)) if err.is_session_closed() => {}
                Err(failure) => return Ok(Err(failure)),
            }
            info!(
                still_open,
                "the incident left its group's session, which carries on"
            );
            // Its record leaves the follow-up's queue: its session no longer works on it.
            if let Err(err) = self.claims.close_out(incident_id, session_id, budget).await {
                warn!(error = %err, "the incident that left its group was not closed out");
            }
            return Ok(Ok(notes::left_group_note(session, who, still_open)));
        }
        let stopped = self
            .stop(incident_id, session, who, secrets, budget, tally)
            .await;
        if let (Ok(_), Some(group)) = (&stopped, left.and_then(|left| left.group)) {
            self.close_group(&group, session_id, budget).await;
        }
        Ok(stopped)
    }

    /// Closes the group whose session is `session_id`: it takes no more incidents.
    pub(super) async fn close_group(&self, group: &str, session_id: &str, budget: Budget) {
        if let Err(err) = self.groups.close(group, session_id, budget).await {
            warn!(error = %err, "the group was not closed: it closes when its window ends");
        }
    }
}
