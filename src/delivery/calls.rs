//! The delivery's calls to Devin and PagerDuty: inside its budget, retried by the one retry
//! loop, counted for the metrics. A Devin 401 fetches the secrets again once (the key may have
//! been rotated) and tries again with them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use crate::delivery::bridge::Bridge;
use crate::delivery::notes::{Note, Posted};
use crate::delivery::outcome::{DevinStep, Done, NoteStatus, Outcome, Retry};
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::life::session::{Session, SessionMessage, SessionState};
use pure::metrics::Tally;
use pure::text::alerts::{Evidence, MAX_ALERTS};

/// The most a delivery waits for the incident's alerts: a fifth of its budget, at most this.
const ALERTS_AT_MOST: Duration = Duration::from_millis(800);

impl Bridge {
    /// A Devin call inside the budget, retried as [`within_budget`] does after the failures
    /// `retryable` accepts. A 401 fetches the secrets again once (the key may have been
    /// rotated) and tries again with them.
    pub(crate) async fn call_devin<T, F, Fut>(
        &self,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
        retryable: fn(&DevinError) -> bool,
        call: F,
    ) -> Result<T, Failure<DevinError>>
    where
        F: Fn(Arc<Secrets>, Duration) -> Fut,
        Fut: Future<Output = Result<T, DevinError>>,
    {
        let mut stats = CallStats::default();
        let mut result = within_budget("Devin call", budget, &mut stats, retryable, |left| {
            call(secrets.clone(), left)
        })
        .await;
        if let Err(Failure::Final(err)) = &result {
            if err.is_unauthorized() {
                if let Some(fresh) = self.secrets.refresh_now().await {
                    warn!(error = %err, "Devin refused the API key; trying again with freshly fetched secrets");
                    *secrets = fresh;
                    result = within_budget("Devin call", budget, &mut stats, retryable, |left| {
                        call(secrets.clone(), left)
                    })
                    .await;
                }
            }
        }
        tally.devin_errors += stats.errors;
        if stats.calls > 0 {
            tally.devin_latency = Some(tally.devin_latency.unwrap_or_default() + stats.latency);
        }
        result
    }

    /// Sends `message` to a session, inside the budget (a paused session resumes).
    pub(super) async fn tell(
        &self,
        session_id: &str,
        message: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(), Failure<DevinError>> {
        self.call_devin(
            secrets,
            budget,
            tally,
            DevinError::is_retryable,
            |secrets, left| async move {
                self.devin
                    .send_message(&secrets, session_id, message, left)
                    .await
            },
        )
        .await
    }

    /// The session as Devin shows it now (status, findings, pull requests), inside the budget.
    pub(crate) async fn session_state(
        &self,
        session_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<SessionState, Failure<DevinError>> {
        let retryable = DevinError::is_retryable;
        self.call_devin(
            secrets,
            budget,
            tally,
            retryable,
            |secrets, left| async move { self.devin.get_session(&secrets, session_id, left).await },
        )
        .await
    }

    /// The session's messages, oldest first, inside the budget.
    pub(crate) async fn session_messages(
        &self,
        session_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Vec<SessionMessage>, Failure<DevinError>> {
        let retryable = DevinError::is_retryable;
        self.call_devin(
            secrets,
            budget,
            tally,
            retryable,
            |secrets, left| async move {
                self.devin
                    .list_messages(&secrets, session_id, left)
                    .await
            },
        )
        .await
    }

    /// Ends the session for good and archives it, inside the budget.
    pub(super) async fn terminate(
        &self,
        session_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(), Failure<DevinError>> {
        let retryable = DevinError::is_retryable;
        self.call_devin(
            secrets,
            budget,
            tally,
            retryable,
            |secrets, left| async move {
                self.devin
                    .terminate_session(&secrets, session_id, left)
                    .await
            },
        )
        .await
    }

    /// The incident's alerts, read once inside a small share of the budget: a failure or a
    /// delay leaves the brief without them (and says so in the log), never the delivery.
    pub(super) async fn alert_evidence(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        budget: Budget,
    ) -> Option<Evidence> {
        let (Some(pagerduty), Some(authorization)) =
            (&self.pagerduty, secrets.pagerduty_authorization())
        else {
            return None;
        };
        let share = (budget.remaining(clock::now()) / 5).min(ALERTS_AT_MOST);
        if share < MIN_ATTEMPT {
            return None;
        }
        match pagerduty
            .alerts(authorization, incident_id, MAX_ALERTS, share)
            .await
        {
            Ok(alerts) => Some(Evidence::of(&alerts)),
            Err(err) => {
                warn!(error = %err, "the incident's alerts were not read: the brief goes without them");
                None
            }
        }
    }

    /// Adds `content` as a note on the incident, inside the budget. A failure is logged and
    /// never fails the delivery: the session exists.
    pub(crate) async fn add_incident_note(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        content: &str,
        budget: Budget,
    ) -> NoteStatus {
        self.add_incident_note_once(secrets, incident_id, content, false, budget)
            .await
    }

    /// [`Bridge::add_incident_note`], looking for the note on the incident first when
    /// `look_first` (an earlier start may have posted it).
    pub(crate) async fn add_incident_note_once(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        content: &str,
        look_first: bool,
        budget: Budget,
    ) -> NoteStatus {
        // Each of the delivery's notes is the only one of its kind on its incident: its text is
        // how it is found again after an ambiguous answer.
        let is_this = |text: &str| text.trim() == content.trim();
        let note = Note {
            incident_id,
            content,
            is_this: &is_this,
        };
        match self
            .post_note_once(secrets, &note, look_first, budget)
            .await
        {
            Posted::Added => NoteStatus::Added,
            Posted::Off => NoteStatus::Off,
            Posted::Unsure | Posted::Failed => {
                warn!("note not added to the PagerDuty incident; the session stands");
                NoteStatus::Failed
            }
        }
    }
}

/// How a delivery ends whose message to its session failed: a session that takes no more
/// messages is `session_closed` (done); any other failure is Devin's, for PagerDuty to retry.
pub(super) fn not_told(
    incident_id: &str,
    session: Session,
    failure: Failure<DevinError>,
) -> Outcome {
    match failure {
        Failure::Final(err) if err.is_session_closed() => Done::SessionClosed {
            incident_id: incident_id.to_owned(),
            session,
        }
        .into(),
        failure => {
            let session_id = session.session_id;
            let step = DevinStep::SendMessage { session_id };
            Retry::DevinFailed { step, failure }.into()
        }
    }
}
