//! What a resolve tells the incident's session: nothing when a person stopped the session (a
//! message resumes a paused one); else the resolve (as the group's member hears it), and, when
//! the session's work ends with it and the routing rule asks for one, the postmortem draft in
//! its structured output, with the incident's timeline from PagerDuty as data. A merge is not a
//! resolve: it goes to `merge.rs`, and asks nothing.

use std::sync::Arc;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::edge::clock;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::{Event, Incident, INCIDENT_RESOLVED, INCIDENT_TRIGGERED};
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::postmortem;

impl Bridge {
    /// What the session hears of `event` on the incident: `message` as its group's member
    /// hears it; for a resolve, nothing when a person stopped the session (the outcome), and
    /// the postmortem ask when the session's work ends here and the rule asks for one (then
    /// true).
    pub(super) async fn told(
        &self,
        event: &Event,
        (incident_id, incident, session): (&str, Option<&Incident>, &Session),
        message: String,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(String, bool), Outcome> {
        let number = incident.and_then(|incident| incident.number);
        let session_id = &session.session_id;
        let member = self.as_member(event, (incident_id, number), session_id, message, budget);
        let (message, finishes) = member.await?;
        if event.event_type != INCIDENT_RESOLVED {
            return Ok((message, false));
        }
        if self
            .stopped_by_person(session_id, secrets, budget, tally)
            .await
        {
            return Err(Done::StoppedByPerson {
                incident_id: incident_id.to_owned(),
                session: session.clone(),
            }
            .into());
        }
        match incident {
            Some(incident) if finishes && self.asks_postmortem(incident) => {
                let asked = self.with_postmortem(message, incident_id, secrets, budget);
                Ok((asked.await, true))
            }
            _ => Ok((message, false)),
        }
    }

    /// The event told the incident's session. A resolve that asked for the draft a session whose
    /// record was closed out (`awaits_postmortem`; the follow-up reads that session no more)
    /// queues the record for it: unrecorded, PagerDuty's retry asks again.
    pub(super) async fn forwarded(
        &self,
        (incident_id, session, awaits_postmortem): (String, Session, bool),
        budget: Budget,
    ) -> Outcome {
        if awaits_postmortem {
            let session_id = &session.session_id;
            let awaited = self
                .claims
                .await_postmortem(&incident_id, session_id, budget);
            if let Err(err) = awaited.await {
                warn!(error = %err, "the postmortem ask is not recorded: PagerDuty's retry asks again");
                return Retry::LedgerUnavailable(err).into();
            }
        }
        Done::Forwarded {
            incident_id,
            session,
        }
        .into()
    }

    /// Whether the resolve of `incident` asks for a postmortem: the rule that decides its
    /// trigger turns it on, and keeps the structured output Devin writes it in.
    pub(super) fn asks_postmortem(&self, incident: &Incident) -> bool {
        let decision = self.policy.decide(INCIDENT_TRIGGERED, incident);
        decision.postmortem && decision.structured_output
    }

    /// `message`, with the postmortem ask and the incident's timeline (or a line saying it
    /// could not be read).
    pub(super) async fn with_postmortem(
        &self,
        message: String,
        incident_id: &str,
        secrets: &Secrets,
        budget: Budget,
    ) -> String {
        let timeline = self.pagerduty.timeline(secrets, incident_id, budget).await;
        format!("{message}\n\n{}", postmortem::ask(timeline.as_deref()))
    }

    /// Whether a person stopped the session (paused it, or it ended), as Devin shows it now,
    /// read inside a third of the budget. Unread, it is not known to be: the resolve is told,
    /// as before the bridge read it.
    async fn stopped_by_person(
        &self,
        session_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> bool {
        let now = clock::now();
        let share = budget.at_most(now, budget.remaining(now) / 3);
        match self
            .devin
            .session_state(session_id, secrets, share, tally)
            .await
        {
            Ok(state) if state.stopped_by_person() => {
                info!(status = ?state.status, detail = ?state.status_detail, "a person stopped the session: the resolve is not told");
                true
            }
            Ok(_) => false,
            Err(failure) => {
                warn!(error = %failure, "the session's state was not read: the resolve is told as it comes");
                false
            }
        }
    }
}
