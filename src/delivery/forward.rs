//! Passing an event on to the incident's session, found in the ledger: a responder's note, the
//! incident's end, or a status change. An incident reopened without a session gets one.

use std::sync::Arc;

use tracing::{info, warn, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::calls::not_told;
use crate::delivery::investigate::Happened;
use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::edge::clock;
use crate::edge::pagerduty::PagerDutyError;
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::{
    Event, Incident, IncidentNote, INCIDENT_ANNOTATED, INCIDENT_REOPENED, INCIDENT_RESOLVED,
};
use pure::life::follow_up::Mark;
use pure::life::records::Standing;
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::commands::Command;
use pure::text::messages;
use pure::text::notes;

impl Bridge {
    pub(super) async fn forward(
        &self,
        event: &Event,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let own_user = self.own_user_id.get().map(String::as_str);
        let to_tell = match what_to_tell(event, own_user) {
            Ok(Heard::Told(to_tell)) => to_tell,
            Ok(Heard::CutNote(note)) => {
                let content = self.whole_note(&note, &secrets, budget).await;
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
        let reopened = event.event_type == INCIDENT_REOPENED;
        if let Some(outcome) = self.superseded(event, &incident_id, &secrets, budget).await {
            return outcome;
        }
        let session = match self.session_to_tell(&incident_id, reopened, budget).await {
            Ok(Some(session)) => session,
            Ok(None) => match incident {
                // A reopened incident without a live session (none yet, its claim abandoned, or
                // its session ended) gets one: its next generation.
                Some(incident) if reopened => {
                    info!("a reopened incident without a live session: starting one");
                    return self
                        .investigate(Happened::of(event), &incident, secrets, budget, tally)
                        .await;
                }
                _ if event.event_type == INCIDENT_RESOLVED => {
                    return self.resolved_without_session(incident_id, budget).await
                }
                _ => return Done::NoSession { incident_id }.into(),
            },
            Err(outcome) => return outcome,
        };
        let number = incident.as_ref().and_then(|incident| incident.number);
        let member = (incident_id.as_str(), number);
        let message = match self
            .as_member(event, member, &session.session_id, message, budget)
            .await
        {
            Ok(message) => message,
            Err(outcome) => return outcome,
        };
        match self
            .tell(&session.session_id, &message, &mut secrets, budget, tally)
            .await
        {
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
        Done::Forwarded {
            incident_id,
            session,
        }
        .into()
    }
}

impl Bridge {
    /// The text of a note PagerDuty cut short, read whole from `GET /incidents/{id}/notes`;
    /// without a token, or when it cannot be read, the cut text marked as cut, so that nobody
    /// takes the beginning of a note for all of it.
    async fn whole_note(&self, note: &IncidentNote, secrets: &Secrets, budget: Budget) -> String {
        let cut = || messages::cut_by_pagerduty(&note.content);
        let (Some(pagerduty), Some(authorization), Some(note_id)) = (
            &self.pagerduty,
            secrets.pagerduty_authorization(),
            note.id.as_deref(),
        ) else {
            info!("a note PagerDuty cut short, and no PagerDuty token to read it whole: passed on as cut");
            return cut();
        };
        let mut stats = CallStats::default();
        let read = within_budget(
            "PagerDuty notes",
            budget,
            &mut stats,
            PagerDutyError::is_retryable,
            |left| pagerduty.note_content(authorization, &note.incident_id, note_id, left),
        )
        .await;
        match read {
            Ok(Some(content)) => content,
            Ok(None) => {
                warn!("a note PagerDuty cut short is not among the incident's notes: passed on as cut");
                cut()
            }
            Err(failure) => {
                warn!(error = %failure, "a note PagerDuty cut short was not read whole: passed on as cut");
                cut()
            }
        }
    }

    /// The incident's session, as the ledger knows it: `None` when it has none to tell; waits a
    /// moment for a session being started. For a delivery that may start one (`may_start`: a
    /// reopen), a claim abandoned (its create may have happened) and a session that ended count
    /// as none (the reopen starts the next generation); any other event waits for PagerDuty's
    /// retry on an abandoned claim, and reaches an ended session all the same (one the
    /// follow-up closed out as concluded or idle still takes a responder's note).
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
            .map_err(Retry::LedgerUnavailable)?;
        let Some(record) = record else {
            return Ok(None);
        };
        match record.standing(clock::epoch_ms()) {
            Standing::HasSession(session) => Ok(Some(session)),
            Standing::BeingCreated { .. } => self
                .await_session(incident_id, record, budget)
                .await
                .map(Some),
            Standing::Abandoned { .. } if !may_start => Err(Retry::BeingCreated {
                incident_id: incident_id.to_owned(),
            }
            .into()),
            Standing::Ended(session) if !may_start => Ok(Some(session)),
            _ => Ok(None),
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
        if self.pagerduty.is_none() || secrets.pagerduty_authorization().is_none() {
            return None;
        }
        let status = match self.read_incident(incident_id, secrets, budget).await {
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

    /// An incident resolved (or merged away) before its session: a start not made yet (pending,
    /// deferred, capped) is dropped, so that PagerDuty's retry of its trigger or the follow-up
    /// starts nothing for it (`pure::life::skippable`); a reopen or a person starts it again.
    pub(super) async fn resolved_without_session(
        &self,
        incident_id: String,
        budget: Budget,
    ) -> Outcome {
        let left = budget.remaining(clock::now());
        match self
            .ledger
            .skip_resolved(&incident_id, clock::epoch_ms(), left)
            .await
        {
            Ok(()) => Done::NoSession { incident_id }.into(),
            Err(err) => Retry::LedgerUnavailable(err).into(),
        }
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
        let (now_ms, left) = (clock::epoch_ms(), budget.remaining(clock::now()));
        let closed = Mark::ClosedOut(None);
        let mark = self
            .ledger
            .mark(&incident.id, &session.session_id, &closed, now_ms, left);
        if let Err(err) = mark.await {
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
