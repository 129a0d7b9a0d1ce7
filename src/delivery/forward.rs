//! Passing an event on to the incident's session, found in the ledger: a responder's note, the
//! incident's end, or a status change. An incident reopened without a session gets one.

use std::sync::Arc;

use tracing::{info, warn, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::devin_calls::not_told;
use crate::delivery::investigate::Happened;
use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::{
    Event, Incident, IncidentNote, INCIDENT_ANNOTATED, INCIDENT_REOPENED, INCIDENT_RESOLVED,
};
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::commands::Command;
use pure::text::messages;
use pure::text::notes;

impl Bridge {
    /// Passes a verified event on to the incident's session: what it asks (a message, a note's
    /// command), or why nothing is passed on.
    pub(super) async fn forward(
        &self,
        event: &Event,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let to_tell = match what_to_tell(event, self.notes.own_user()) {
            Ok(Heard::Told(to_tell)) => to_tell,
            Ok(Heard::CutNote(note)) => {
                let content = self.pagerduty.whole_note(&note, &secrets, budget).await;
                note_to_tell(note.incident_id, event.agent_name(), &content)
            }
            Err(outcome) => return outcome,
        };
        let (incident_id, message, incident) = match to_tell {
            ToTell::Message(incident_id, message, incident) => (incident_id, message, incident),
            ToTell::Command(incident_id, command) => {
                return self
                    .command(command, &incident_id, event, secrets, budget, tally)
                    .await
            }
        };
        if self.options.dry_run {
            // What a resolve would ask (as the last open member of a group would hear it).
            let asks = incident.as_deref().filter(|incident| {
                let resolved = event.event_type == INCIDENT_RESOLVED;
                resolved && incident.merged_into().is_none() && self.asks_postmortem(incident)
            });
            let message = match asks {
                Some(_) => {
                    self.with_postmortem(message, &incident_id, &secrets, budget)
                        .await
                }
                None => message,
            };
            return Done::DryRunMessage {
                incident_id,
                message,
            }
            .into();
        }
        // A merge is not the end of the problem: the work goes on under the other incident.
        if let Some(incident) = incident
            .as_ref()
            .filter(|_| event.event_type == INCIDENT_RESOLVED)
        {
            if let Some(into) = incident.merged_into() {
                let merged = (incident.id.as_str(), incident.number);
                return self.merge(merged, into, &mut secrets, budget, tally).await;
            }
        }
        let told = (incident_id, message, incident);
        self.tell_session(event, told, secrets, budget, tally).await
    }

    /// Tells the incident's session `message` about `event` (as a group's member hears it);
    /// without a session, a reopen starts one and a resolve drops a start not made yet.
    async fn tell_session(
        &self,
        event: &Event,
        (incident_id, message, incident): (String, String, Option<Box<Incident>>),
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let reopened = event.event_type == INCIDENT_REOPENED;
        if let Some(outcome) = self.superseded(event, &incident_id, &secrets, budget).await {
            return outcome;
        }
        let known = self.claims.session_and_end(&incident_id, reopened, budget);
        let (session, ended) = match known.await {
            Ok(Some(told)) => told,
            Ok(None) => {
                let without = (incident_id, incident);
                return self
                    .without_session(event, without, secrets, budget, tally)
                    .await;
            }
            Err(outcome) => return outcome,
        };
        let told = (incident_id.as_str(), incident.as_deref(), &session);
        let message = self.told(event, told, message, &mut secrets, budget, tally);
        let (message, asks_postmortem) = match message.await {
            Ok(told) => told,
            Err(outcome) => return outcome,
        };
        let session_id = &session.session_id;
        let told = self
            .devin
            .tell(session_id, &message, &mut secrets, budget, tally);
        match told.await {
            Ok(()) => {}
            Err(Failure::Final(err)) if err.is_session_closed() && reopened => {
                if let Some(incident) = incident {
                    return self
                        .next_generation(event, &incident, &session, secrets, budget, tally)
                        .await;
                }
                return not_told(&incident_id, session, Failure::Final(err));
            }
            Err(failure) => return not_told(&incident_id, session, failure),
        }
        let awaits_postmortem = asks_postmortem && ended;
        let forwarded = (incident_id, session, awaits_postmortem);
        self.forwarded(forwarded, budget).await
    }

    /// How an event ends on an incident without a session to tell: a reopened incident
    /// without a live session (none yet, its claim abandoned, or its session ended) gets one,
    /// its next generation; a resolve drops a start not made yet.
    async fn without_session(
        &self,
        event: &Event,
        (incident_id, incident): (String, Option<Box<Incident>>),
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        match incident {
            Some(incident) if event.event_type == INCIDENT_REOPENED => {
                info!("a reopened incident without a live session: starting one");
                self.investigate(Happened::of(event), &incident, secrets, budget, tally)
                    .await
            }
            _ if event.event_type == INCIDENT_RESOLVED => {
                self.claims
                    .resolved_without_session(incident_id, budget)
                    .await
            }
            _ => Done::NoSession { incident_id }.into(),
        }
    }

    /// A resolve or reopen the incident has since moved past, as PagerDuty shows it now (with a
    /// token): PagerDuty retries a failed delivery later, so a resolve may arrive after the
    /// reopen that followed it, and must not stop the session the reopen resumed (nor a late
    /// reopen wake one for a resolved incident). Unread (no token, PagerDuty failing), the event
    /// is passed on as it comes.
    async fn superseded(
        &self,
        event: &Event,
        incident_id: &str,
        secrets: &Secrets,
        budget: Budget,
    ) -> Option<Outcome> {
        let resolved = match event.event_type.as_str() {
            INCIDENT_RESOLVED => true,
            INCIDENT_REOPENED => false,
            _ => return None,
        };
        if !self.pagerduty.readable(secrets) {
            return None;
        }
        let status = match self.pagerduty.incident(incident_id, secrets, budget).await {
            Ok(incident) => incident.status?,
            Err(why) => {
                warn!(%why, "the incident's status was not read: the event is passed on as it comes");
                return None;
            }
        };
        (resolved != (status == "resolved")).then(|| {
            Done::Superseded {
                incident_id: incident_id.to_owned(),
                status,
            }
            .into()
        })
    }

    /// A reopened incident whose session takes no more messages: the session is closed out
    /// (ended), and the incident's next session starts.
    async fn next_generation(
        &self,
        event: &Event,
        incident: &Incident,
        session: &Session,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        info!(session_id = %session.session_id, "the reopened incident's session has ended: starting its next one");
        let closed = self
            .claims
            .close_out(&incident.id, &session.session_id, budget);
        if let Err(err) = closed.await {
            return Retry::LedgerUnavailable(err).into();
        }
        self.investigate(Happened::of(event), incident, secrets, budget, tally)
            .await
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

/// What the event says: what to tell, or a note to read whole first.
enum Heard {
    Told(ToTell),
    /// A responder's note PagerDuty cut short (`data.trimmed`).
    CutNote(IncidentNote),
}

/// What the event asks, or how the delivery ends without telling anything. A note is the
/// bridge's own when it starts with the marker or `own_user` (the PagerDuty user the bridge
/// writes as, once known) wrote it; a responder's note that begins with `devin` is a command.
fn what_to_tell(event: &Event, own_user: Option<&str>) -> Result<Heard, Outcome> {
    let who = event.agent_name();
    if event.event_type == INCIDENT_ANNOTATED {
        let note = event.note().map_err(Done::Unusable)?;
        Span::current().record("incident_id", note.incident_id.as_str());
        if notes::is_bridge_note(&note.content)
            || own_user.is_some_and(|own| event.agent_id() == Some(own))
        {
            let incident_id = note.incident_id;
            return Err(Done::OwnNote { incident_id }.into());
        }
        if note.trimmed {
            return Ok(Heard::CutNote(note));
        }
        return Ok(Heard::Told(note_to_tell(
            note.incident_id,
            who,
            &note.content,
        )));
    }
    let incident = event.incident().map_err(Done::Unusable)?;
    Span::current().record("incident_id", incident.id.as_str());
    let message = messages::session_message(&event.event_type, who, incident.priority_name());
    Ok(Heard::Told(ToTell::Message(
        incident.id.clone(),
        message,
        Some(Box::new(incident)),
    )))
}

/// A responder's note on `incident_id`: its command, or the message that passes it on.
fn note_to_tell(incident_id: String, who: Option<&str>, content: &str) -> ToTell {
    if let Some(command) = Command::of(content) {
        return ToTell::Command(incident_id, command);
    }
    let message = messages::forwarded_note_message(who, content);
    ToTell::Message(incident_id, message, None)
}
