//! A triggered incident: the routing policy decides, then the incident's session is started (or
//! found, or shown in a dry run), and the responders get a note with its link.

use std::sync::Arc;

use tracing::Span;

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::{DevinStep, Outcome};
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::retry::Failure;
use crate::pure::brief;
use crate::pure::budget::{Budget, MIN_ATTEMPT};
use crate::pure::messages;
use crate::pure::metrics::Tally;
use crate::pure::policy::Action;
use crate::pure::secret::Secrets;
use crate::pure::session::{incident_tag, Session, SessionRequest};
use crate::pure::template::Facts;
use crate::pure::webhook::{Event, Incident};

impl Bridge {
    /// Starts (or finds) the incident's session as the routing policy decides, and notes it on
    /// the incident.
    pub(super) async fn investigate(
        &self,
        event: &Event,
        incident: &Incident,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let decision = self.policy.decide(&event.event_type, incident);
        Span::current().record("rule", decision.rule);
        let rule = decision.rule.to_owned();
        let incident_id = incident.id.clone();
        if decision.action == Action::Ignore {
            return Outcome::IgnoredByRule { rule, incident_id };
        }
        let facts = Facts {
            incident,
            event_type: &event.event_type,
            occurred_at: event.occurred_at.as_deref(),
        };
        let request = brief::session_request(&facts, &decision);

        if self.options.dry_run {
            let request = self.devin.shown_create(&request);
            return Outcome::DryRunSession {
                rule,
                incident_id,
                request,
            };
        }

        let tag = incident_tag(&incident.id);
        let found = self
            .find_or_create_session(&mut secrets, budget, tally, &tag, &request)
            .await;
        let (session, created) = match found {
            Ok(found) => found,
            Err(failure) => {
                let step = DevinStep::StartSession;
                return Outcome::DevinFailed { step, failure };
            }
        };
        if !created {
            return Outcome::SessionExists {
                rule,
                incident_id,
                session,
            };
        }
        let note = messages::session_started_note(&session, &request, &decision);
        let note = self
            .add_incident_note(&secrets, &incident.id, &note, budget)
            .await;
        Outcome::SessionStarted {
            rule,
            incident_id,
            session,
            note,
        }
    }

    /// The incident's session (found by its `tag`), or a new one from `request`: whether it was
    /// created. Each try looks for the session first, so a create that succeeded late is found
    /// rather than repeated.
    async fn find_or_create_session(
        &self,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
        tag: &str,
        request: &SessionRequest,
    ) -> Result<(Session, bool), Failure<DevinError>> {
        self.call_devin(secrets, budget, tally, |secrets, left| async move {
            let authorization = secrets.devin_authorization();
            if let Some(session) = self.devin.find_session(authorization, tag, left).await? {
                return Ok((session, false));
            }
            let left = budget.remaining(clock::now());
            if left < MIN_ATTEMPT {
                return Err(DevinError::Timeout(left));
            }
            let session = self
                .devin
                .create_session(authorization, request, left)
                .await?;
            Ok((session, true))
        })
        .await
    }
}
