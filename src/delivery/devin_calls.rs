//! The Devin calls part: every call the delivery makes to Devin, inside its budget, retried by
//! the one retry loop, counted for the metrics. A 401 fetches the secrets again once (the key
//! may have been rotated) and tries again with them. It holds the Devin client and the secrets
//! it refreshes, nothing else.
//!
//! The session's create and its lookup work in Devin organizations with tag validation (only
//! allow-listed tags accepted, on create and on tag updates). The ledger is the record of an
//! incident's session; tags are a convenience for people browsing Devin. So: a create refused
//! for its tags is made again at once with the routing policy's own tags (which the operator
//! chose and can allow-list), and this instance creates without per-incident tags from then on,
//! saying so once in a WARN. And a session whose record is missing is found by its title, which
//! ends with the incident's id (`pure::life::lookup`), never by a tag the organization may have
//! refused.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use crate::delivery::outcome::{DevinStep, Done, Outcome, Retry};
use crate::edge::clock;
use crate::edge::devin::{DevinClient, DevinError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use crate::edge::secrets_store::SecretStore;
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::life::lookup;
use pure::life::session::{incident_tag, Session, SessionMessage, SessionRequest, SessionState};
use pure::metrics::Tally;
use pure::text::tag_refusal::with_policy_tags_only;

/// The delivery's calls to Devin.
pub(crate) struct DevinCalls {
    devin: DevinClient,
    /// Fetched again when Devin refuses the key.
    secrets: Arc<SecretStore>,
    /// Devin refused the per-incident tags (tag validation): sessions get the policy's only.
    per_incident_tags_refused: AtomicBool,
}

impl DevinCalls {
    pub(crate) fn new(devin: DevinClient, secrets: Arc<SecretStore>) -> Self {
        DevinCalls {
            devin,
            secrets,
            per_incident_tags_refused: AtomicBool::new(false),
        }
    }

    /// A Devin call inside the budget, retried as [`within_budget`] does after the failures
    /// `retryable` accepts. A 401 fetches the secrets again once (the key may have been
    /// rotated) and tries again with them.
    async fn call<T, F, Fut>(
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
    pub(crate) async fn tell(
        &self,
        session_id: &str,
        message: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(), Failure<DevinError>> {
        let retryable = DevinError::is_retryable;
        self.call(
            secrets,
            budget,
            tally,
            retryable,
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
        self.call(
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
        self.call(secrets, budget, tally, retryable, |secrets, left| async move {
            self.devin.list_messages(&secrets, session_id, left).await
        })
        .await
    }

    /// Ends the session for good and archives it, inside the budget.
    pub(crate) async fn terminate(
        &self,
        session_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(), Failure<DevinError>> {
        let retryable = DevinError::is_retryable;
        self.call(
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

    /// The request a create would send, for a dry run to show.
    pub(crate) fn shown_create(&self, request: &SessionRequest) -> serde_json::Value {
        self.devin.shown_create(request)
    }

    /// Whether sessions still get the bridge's per-incident tags: until Devin refuses them.
    pub(crate) fn per_incident_tags(&self) -> bool {
        !self.per_incident_tags_refused.load(Ordering::Relaxed)
    }

    /// Devin refused per-incident tags: none are sent from now on, and the operator hears of
    /// it once per cold start.
    fn tags_refused(&self, err: &DevinError) {
        if !self.per_incident_tags_refused.swap(true, Ordering::Relaxed) {
            warn!(
                error = %err,
                "Devin refused the session's tags (tag validation?): sessions are created with the routing policy's own tags only from now on, and found by title; allow-list the policy's tags in Devin"
            );
        }
    }

    /// Creates the incident's session: with the per-incident tags while Devin accepts them;
    /// refused for its tags, at once again with the policy's tags (`policy_tags`) only.
    /// Retried only after failures that prove no session was made.
    pub(crate) async fn create(
        &self,
        (request, policy_tags): (&SessionRequest, &[String]),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Failure<DevinError>> {
        let policy_tags_only = || with_policy_tags_only(request, policy_tags);
        if !self.per_incident_tags() {
            return self
                .create_once(&policy_tags_only(), secrets, budget, tally)
                .await;
        }
        let created = self.create_once(request, secrets, budget, tally).await;
        match &created {
            // A 4xx proves nothing was created: a second create cannot make a second session.
            Err(Failure::Final(err)) if err.refused_tags() => {
                self.tags_refused(err);
                self.create_once(&policy_tags_only(), secrets, budget, tally)
                    .await
            }
            _ => created,
        }
    }

    /// One create of the session `request` asks for (retried only as `may_retry_create` says).
    async fn create_once(
        &self,
        request: &SessionRequest,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Failure<DevinError>> {
        // The session it makes is recorded after it, before the Lambda deadline.
        let budget = budget.to_create();
        let retryable = DevinError::may_retry_create;
        self.call(
            secrets,
            budget,
            tally,
            retryable,
            |secrets, left| async move {
                let left = left.min(budget.remaining(clock::now()));
                if left < MIN_ATTEMPT {
                    return Err(DevinError::Timeout(left));
                }
                self.devin.create_session(&secrets, request, left).await
            },
        )
        .await
    }

    /// The `generation`-th session an earlier claim on the incident may have created, whose
    /// lease ended at `earlier_lease_until_ms`: the newest live one titled for the incident
    /// among those Devin lists as created since that claim can have begun.
    pub(crate) async fn find_incident_session(
        &self,
        (incident_id, generation, earlier_lease_until_ms): (&str, u32, u64),
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Option<Session>, Failure<DevinError>> {
        let created_after_s = lookup::created_after_s(earlier_lease_until_ms);
        let retryable = DevinError::is_retryable;
        let listed = self
            .call(
                secrets,
                budget,
                tally,
                retryable,
                |secrets, left| async move {
                    self.devin
                        .list_sessions_since(&secrets, created_after_s, left)
                        .await
                },
            )
            .await?;
        Ok(lookup::incident_session(
            &listed,
            incident_id,
            generation,
            created_after_s,
        ))
    }

    /// Adds the incident's tag to its group's session, so Devin's list finds it by either
    /// incident. Best effort: the ledger already knows.
    pub(crate) async fn add_incident_tag(
        &self,
        session_id: &str,
        incident_id: &str,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) {
        let tags = [incident_tag(incident_id)];
        let retryable = DevinError::is_retryable;
        let tagged = self
            .call(secrets, budget, tally, retryable, |secrets, left| {
                let tags = &tags;
                async move { self.devin.add_tags(&secrets, session_id, tags, left).await }
            })
            .await;
        match tagged {
            Ok(()) => {}
            Err(Failure::Final(err)) if err.refused_tags() => self.tags_refused(&err),
            Err(failure) => {
                warn!(error = %failure, "the incident's tag was not added to its group's session")
            }
        }
    }
}

/// How a delivery ends whose message to its session failed: a session that takes no more
/// messages is `session_closed` (done); any other failure is Devin's, for PagerDuty to retry.
pub(crate) fn not_told(
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
