//! Passing an event on to the incident's session, found in the ledger: a responder's note, the
//! incident's end, or a status change. An incident reopened without a session gets one.

use std::sync::Arc;

use tracing::{info, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::investigate::Happened;
use crate::delivery::outcome::{DevinStep, Outcome};
use crate::edge::clock;
use crate::edge::retry::Failure;
use crate::pure::budget::Budget;
use crate::pure::commands::Command;
use crate::pure::ledger::Standing;
use crate::pure::messages;
use crate::pure::metrics::Tally;
use crate::pure::notes;
use crate::pure::secret::Secrets;
use crate::pure::session::Session;
use crate::pure::webhook::{
    Event, Incident, INCIDENT_ANNOTATED, INCIDENT_REOPENED, INCIDENT_RESOLVED,
};

impl Bridge {
    pub(super) async fn forward(
        &self,
        event: &Event,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let own_user = self.own_user_id.get().map(String::as_str);
        let (incident_id, message, incident) = match what_to_tell(event, own_user) {
            Ok(ToTell::Message(incident_id, message, incident)) => (incident_id, message, incident),
            Ok(ToTell::Command(incident_id, command)) => {
                return self
                    .command(command, &incident_id, event, secrets, budget, tally)
                    .await
            }
            Err(outcome) => return outcome,
        };
        if self.options.dry_run {
            return Outcome::DryRunMessage {
                incident_id,
                message,
            };
        }
        // A merge is not the end of the problem: the work goes on under the other incident.
        if let Some(incident) = incident
            .as_ref()
            .filter(|_| event.event_type == INCIDENT_RESOLVED)
        {
            if let Some(into) = incident.merged_into() {
                return self
                    .merge(&incident.id, into, &mut secrets, budget, tally)
                    .await;
            }
        }
        let reopened = event.event_type == INCIDENT_REOPENED;
        let session = match self.session_to_tell(&incident_id, reopened, budget).await {
            Ok(Some(session)) => session,
            Ok(None) => match incident {
                // A reopened incident without a session (or whose claim was abandoned) gets one.
                Some(incident) if reopened => {
                    info!("a reopened incident without a session: starting one");
                    return self
                        .investigate(Happened::of(event), &incident, secrets, budget, tally)
                        .await;
                }
                _ => return Outcome::NoSession { incident_id },
            },
            Err(outcome) => return outcome,
        };
        match self
            .tell(&session.session_id, &message, &mut secrets, budget, tally)
            .await
        {
            Ok(()) => {}
            Err(Failure::Final(err)) if err.is_session_closed() => {
                return Outcome::SessionClosed {
                    incident_id,
                    session,
                }
            }
            Err(failure) => {
                let session_id = session.session_id;
                let step = DevinStep::SendMessage { session_id };
                return Outcome::DevinFailed { step, failure };
            }
        }
        Outcome::Forwarded {
            incident_id,
            session,
        }
    }
}

impl Bridge {
    /// The incident's session, as the ledger knows it: `None` when nobody started one; waits a
    /// moment for a session being started. A claim abandoned (its create may have happened)
    /// counts as no session only for a delivery that will start one (`may_start`); any other
    /// waits for PagerDuty's retry, after the triggered one's.
    pub(super) async fn session_to_tell(
        &self,
        incident_id: &str,
        may_start: bool,
        budget: Budget,
    ) -> Result<Option<Session>, Outcome> {
        let left = budget.remaining(clock::now());
        let record = self
            .ledger
            .get(incident_id, left)
            .await
            .map_err(Outcome::LedgerUnavailable)?;
        let standing = record
            .as_ref()
            .map(|record| record.standing(clock::epoch_ms()));
        match record {
            None => Ok(None),
            Some(_) if may_start && standing == Some(Standing::Abandoned) => Ok(None),
            Some(_)
                if matches!(
                    standing,
                    Some(Standing::Deferred { .. } | Standing::SkippedResolved)
                ) =>
            {
                Ok(None)
            }
            Some(record) => self
                .await_session(incident_id, record, budget)
                .await
                .map(Some),
        }
    }
}

/// What an event asks of the incident's session.
enum ToTell {
    /// The incident, what its session is to be told, and the incident itself when the event
    /// carries one.
    Message(String, String, Option<Box<Incident>>),
    /// A responder's note command, on the incident.
    Command(String, Command),
}

/// What the event asks, or how the delivery ends without telling anything. A note is the
/// bridge's own when it starts with the marker or `own_user` (the PagerDuty user the bridge
/// writes as, once known) wrote it; a responder's note that begins with `devin` is a command.
fn what_to_tell(event: &Event, own_user: Option<&str>) -> Result<ToTell, Outcome> {
    let who = event.agent_name();
    if event.event_type == INCIDENT_ANNOTATED {
        let note = event.note().map_err(Outcome::BadRequest)?;
        Span::current().record("incident_id", note.incident_id.as_str());
        if notes::is_bridge_note(&note.content)
            || own_user.is_some_and(|own| event.agent_id() == Some(own))
        {
            let incident_id = note.incident_id;
            return Err(Outcome::OwnNote { incident_id });
        }
        if let Some(command) = Command::of(&note.content) {
            return Ok(ToTell::Command(note.incident_id, command));
        }
        let message = messages::forwarded_note_message(who, &note.content);
        return Ok(ToTell::Message(note.incident_id, message, None));
    }
    let incident = event.incident().map_err(Outcome::BadRequest)?;
    Span::current().record("incident_id", incident.id.as_str());
    let message = messages::session_message(&event.event_type, who, incident.priority_name());
    Ok(ToTell::Message(
        incident.id.clone(),
        message,
        Some(Box::new(incident)),
    ))
}
