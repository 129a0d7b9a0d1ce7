//! A triggered incident: the routing policy decides; the incident is claimed in the ledger;
//! the holder of the claim creates the session (once: a create that may have happened is never
//! repeated), records it, and notes it on the incident. Whoever finds the session recorded
//! answers at once, without calling Devin.

use std::sync::Arc;

use tracing::{info, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{DevinStep, Outcome};
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::retry::{Failure, Transient};
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
        let (rule, incident_id) = (decision.rule.to_owned(), incident.id.clone());
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
        let held = match self.claim_incident(&incident_id, &rule, budget).await {
            Ok(held) => held,
            Err(outcome) => return outcome,
        };
        let started = self
            .start_session(&held, &incident_id, &request, &mut secrets, budget, tally)
            .await;
        let session = match started {
            Ok(session) => session,
            // The claim was taken over: it holds whatever the lookup's failure, since the
            // earlier holder's session may exist.
            Err(Unstarted::LookupFailed(failure)) => {
                let step = DevinStep::FindSession;
                return Outcome::DevinFailed { step, failure };
            }
            Err(Unstarted::CreateFailed(failure)) => {
                return self
                    .failed_start(&held, &rule, &incident_id, failure, budget)
                    .await
            }
        };
        if let Err(err) = self
            .record_session(&incident_id, &held.holder, &session, budget)
            .await
        {
            info!(session_id = %session.session_id, "the session started but is not recorded: a retry after the lease records it");
            return Outcome::LedgerUnavailable(err);
        }
        let note = messages::session_started_note(&session, &request, &decision);
        let note = self
            .add_incident_note(&secrets, &incident_id, &note, budget)
            .await;
        Outcome::SessionStarted {
            rule,
            incident_id,
            session,
            note,
        }
    }

    /// The session for a claim this delivery holds: looked up first when the claim was taken
    /// over (the earlier holder's create may have happened), else created. A create is retried
    /// only after failures that prove no session was made.
    async fn start_session(
        &self,
        held: &Held,
        incident_id: &str,
        request: &SessionRequest,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Unstarted> {
        if held.took_over {
            let tag = &incident_tag(incident_id);
            let found = self
                .call_devin(
                    secrets,
                    budget,
                    tally,
                    DevinError::is_retryable,
                    |secrets, left| async move {
                        self.devin
                            .find_session(secrets.devin_authorization(), tag, left)
                            .await
                    },
                )
                .await
                .map_err(Unstarted::LookupFailed)?;
            if let Some(session) = found {
                info!(session_id = %session.session_id, "the earlier claim's session exists: recording it");
                return Ok(session);
            }
        }
        self.call_devin(
            secrets,
            budget,
            tally,
            DevinError::may_retry_create,
            |secrets, left| async move {
                let left = left.min(budget.remaining(clock::now()));
                if left < MIN_ATTEMPT {
                    return Err(DevinError::Timeout(left));
                }
                self.devin
                    .create_session(secrets.devin_authorization(), request, left)
                    .await
            },
        )
        .await
        .map_err(Unstarted::CreateFailed)
    }

    /// How a delivery ends whose session was not started. When the failure proves no session
    /// was made, the claim is given up so PagerDuty's retry may create one at once; otherwise
    /// it holds until its lease ends, and the retry after that looks the session up.
    async fn failed_start(
        &self,
        held: &Held,
        rule: &str,
        incident_id: &str,
        failure: Failure<DevinError>,
        budget: Budget,
    ) -> Outcome {
        let nothing_made = match &failure {
            Failure::Final(err) => err.proves_nothing_done(),
            // Every earlier try failed in a way that proves nothing was made.
            Failure::BudgetSpent => true,
            Failure::TimedOut => false,
        };
        if !nothing_made {
            return Outcome::SessionUncertain { failure };
        }
        self.release_claim(incident_id, &held.holder, budget).await;
        match failure {
            Failure::Final(error) if error.is_rejection() => Outcome::DevinRejected {
                rule: rule.to_owned(),
                incident_id: incident_id.to_owned(),
                error,
            },
            failure => Outcome::DevinFailed {
                step: DevinStep::StartSession,
                failure,
            },
        }
    }
}

/// Why a claimed incident got no session in this delivery.
enum Unstarted {
    /// Looking up the session of a claim taken over failed.
    LookupFailed(Failure<DevinError>),
    CreateFailed(Failure<DevinError>),
}
