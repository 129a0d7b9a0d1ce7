//! Passing an event on to the incident's session: a responder's note, the incident's end, or a
//! status change. An incident reopened without a session gets one.

use std::sync::Arc;

use tracing::{info, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::{DevinStep, Outcome};
use crate::pure::budget::Budget;
use crate::pure::messages::{self, BRIDGE_NOTE_MARKER};
use crate::pure::metrics::Tally;
use crate::pure::secret::Secrets;
use crate::pure::session::incident_tag;
use crate::pure::webhook::{Event, Incident, INCIDENT_ANNOTATED, INCIDENT_REOPENED};

impl Bridge {
    pub(super) async fn forward(
        &self,
        event: &Event,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let (incident_id, message, incident) = match what_to_tell(event) {
            Ok(told) => told,
            Err(outcome) => return outcome,
        };
        if self.options.dry_run {
            return Outcome::DryRunMessage {
                incident_id,
                message,
            };
        }
        let tag = &incident_tag(&incident_id);
        let found = self
            .call_devin(&mut secrets, budget, tally, |secrets, left| async move {
                let authorization = secrets.devin_authorization();
                self.devin.find_session(authorization, tag, left).await
            })
            .await;
        let session = match found {
            Ok(Some(session)) => session,
            Ok(None) => match incident {
                Some(incident) if event.event_type == INCIDENT_REOPENED => {
                    info!("a reopened incident without a session: starting one");
                    return self
                        .investigate(event, &incident, secrets, budget, tally)
                        .await;
                }
                _ => return Outcome::NoSession { incident_id },
            },
            Err(failure) => {
                let step = DevinStep::FindSession;
                return Outcome::DevinFailed { step, failure };
            }
        };
        let sent = self
            .call_devin(&mut secrets, budget, tally, |secrets, left| {
                let (session_id, message) = (&session.session_id, &message);
                async move {
                    let authorization = secrets.devin_authorization();
                    self.devin
                        .send_message(authorization, session_id, message, left)
                        .await
                }
            })
            .await;
        if let Err(failure) = sent {
            let session_id = session.session_id;
            let step = DevinStep::SendMessage { session_id };
            return Outcome::DevinFailed { step, failure };
        }
        Outcome::Forwarded {
            incident_id,
            session,
        }
    }
}

/// The incident the event concerns, what its session is to be told, and the incident itself
/// when the event carries one; or how the delivery ends without telling anything.
fn what_to_tell(event: &Event) -> Result<(String, String, Option<Incident>), Outcome> {
    let who = event.agent_name();
    if event.event_type == INCIDENT_ANNOTATED {
        let note = event.note().map_err(Outcome::BadRequest)?;
        Span::current().record("incident_id", note.incident_id.as_str());
        if note.content.contains(BRIDGE_NOTE_MARKER) {
            let incident_id = note.incident_id;
            return Err(Outcome::OwnNote { incident_id });
        }
        let message = messages::forwarded_note_message(who, &note.content);
        return Ok((note.incident_id, message, None));
    }
    let incident = event.incident().map_err(Outcome::BadRequest)?;
    Span::current().record("incident_id", incident.id.as_str());
    let message = messages::session_message(&event.event_type, who, incident.priority_name());
    Ok((incident.id.clone(), message, Some(incident)))
}
