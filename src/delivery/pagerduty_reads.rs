//! The PagerDuty reads part: what the delivery reads of PagerDuty, each inside its budget: the
//! incident as it stands (a note carries only its id), a note PagerDuty cut short (read whole)
//! and a command author's email, retried by the one retry loop; and, read once, the incident's
//! alerts and what PagerDuty correlated with it (for the brief).
//! It holds the PagerDuty client (when a token is configured), nothing else; the token comes
//! with each call's secrets.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use tracing::{info, warn};

use crate::edge::clock;
use crate::edge::pagerduty::{CorrelatedError, PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::{Incident, IncidentNote};
use pure::text::alerts::{Evidence, MAX_ALERTS};
use pure::text::correlated::{Correlated, MAX_CHANGES, MAX_PAST_INCIDENTS};
use pure::text::messages;

/// The most a delivery waits for the incident's alerts and what PagerDuty correlated with it
/// (read at once): a fifth of its budget, at most this.
const EVIDENCE_AT_MOST: Duration = Duration::from_millis(800);

/// What the delivery reads of PagerDuty.
pub(crate) struct PagerDutyReads {
    /// When a PagerDuty token is configured.
    pagerduty: Option<Arc<PagerDutyClient>>,
}

impl PagerDutyReads {
    pub(crate) fn new(pagerduty: Option<Arc<PagerDutyClient>>) -> Self {
        PagerDutyReads { pagerduty }
    }

    /// The client, when a token is configured (the follow-up lists incidents with it).
    pub(crate) fn client(&self) -> Option<&PagerDutyClient> {
        self.pagerduty.as_deref()
    }

    /// The client and the token to read with, when both are there.
    fn with<'a>(&'a self, secrets: &'a Secrets) -> Option<(&'a PagerDutyClient, &'a HeaderValue)> {
        Some((self.client()?, secrets.pagerduty_authorization()?))
    }

    /// Whether PagerDuty can be read: a client and a token.
    pub(crate) fn readable(&self, secrets: &Secrets) -> bool {
        self.with(secrets).is_some()
    }

    /// What PagerDuty knows of the incident, for the brief: its alerts, the changes it
    /// correlated, similar past incidents and related incidents, read at once, each once,
    /// inside one small share of the budget. A read that fails, is late or asks for a feature
    /// the account lacks leaves the brief without it (one log line), never the delivery.
    pub(crate) async fn known(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        budget: Budget,
    ) -> Option<Evidence> {
        let (pagerduty, authorization) = self.with(secrets)?;
        let share = (budget.remaining(clock::now()) / 5).min(EVIDENCE_AT_MOST);
        if share < MIN_ATTEMPT {
            return None;
        }
        let (alerts, changes, past, related) = tokio::join!(
            pagerduty.alerts(authorization, incident_id, MAX_ALERTS, share),
            pagerduty.related_changes(authorization, incident_id, MAX_CHANGES, share),
            pagerduty.past_incidents(authorization, incident_id, MAX_PAST_INCIDENTS, share),
            pagerduty.related_incidents(authorization, incident_id, share),
        );
        let alerts = alerts
            .inspect_err(|err| {
                warn!(error = %err, "the incident's alerts were not read: the brief goes without them");
            })
            .ok();
        let correlated = Correlated {
            changes: kept(changes, "related change events"),
            past_incidents: kept(past, "past incidents"),
            related_incidents: kept(related, "related incidents"),
        };
        Evidence::gathered(alerts.as_deref(), &correlated)
    }

    /// The incident as PagerDuty shows it now (a note carries only its id), or why not.
    pub(crate) async fn incident(
        &self,
        incident_id: &str,
        secrets: &Secrets,
        budget: Budget,
    ) -> Result<Incident, String> {
        let Some((pagerduty, authorization)) = self.with(secrets) else {
            return Err("the bridge has no PagerDuty token to read the incident with.".into());
        };
        let mut stats = CallStats::default();
        within_budget(
            "PagerDuty incident",
            budget,
            &mut stats,
            PagerDutyError::is_retryable,
            |left| pagerduty.incident(authorization, incident_id, left),
        )
        .await
        .map_err(|failure| format!("the incident could not be read from PagerDuty ({failure})."))
    }

    /// The text of a note PagerDuty cut short, read whole from `GET /incidents/{id}/notes`;
    /// without a token, or when it cannot be read, the cut text marked as cut, so that nobody
    /// takes the beginning of a note for all of it.
    pub(crate) async fn whole_note(
        &self,
        note: &IncidentNote,
        secrets: &Secrets,
        budget: Budget,
    ) -> String {
        let cut = || messages::cut_by_pagerduty(&note.content);
        let (Some((pagerduty, authorization)), Some(note_id)) =
            (self.with(secrets), note.id.as_deref())
        else {
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

    /// The email of the PagerDuty user `user_id`: `None` when PagerDuty shows none, or there is
    /// no client or token to ask with.
    pub(crate) async fn user_email(
        &self,
        user_id: &str,
        secrets: &Secrets,
        budget: Budget,
    ) -> Result<Option<String>, Failure<PagerDutyError>> {
        let Some((pagerduty, authorization)) = self.with(secrets) else {
            return Ok(None);
        };
        let mut stats = CallStats::default();
        within_budget(
            "PagerDuty user",
            budget,
            &mut stats,
            PagerDutyError::is_retryable,
            |left| pagerduty.user_email(authorization, user_id, left),
        )
        .await
    }
}

/// A correlated read's answer, or `None`: one log line when it failed, none when the account
/// lacks the feature (said once, when it was found).
fn kept<T>(read: Result<Vec<T>, CorrelatedError>, what: &str) -> Option<Vec<T>> {
    match read {
        Ok(values) => Some(values),
        Err(CorrelatedError::Absent(_)) => None,
        Err(err) => {
            warn!(error = %err, "the incident's {what} were not read: the brief goes without them");
            None
        }
    }
}
