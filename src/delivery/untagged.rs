//! The session's create and its lookup, made to work in Devin organizations with tag
//! validation (only allow-listed tags accepted, on create and on tag updates).
//!
//! The ledger is the record of an incident's session; tags are a convenience for people
//! browsing Devin. So: a create refused for its tags is made again at once with the routing
//! policy's own tags (which the operator chose and can allow-list), and this instance creates
//! without per-incident tags from then on, saying so once in a WARN. And a session whose
//! record is missing is found by its title, which ends with the incident's id
//! (`pure::life::lookup`), never by a tag the organization may have refused.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tracing::warn;

use crate::delivery::bridge::Bridge;
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::edge::devin::DevinError;
use crate::edge::retry::{Failure, Transient};
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::life::lookup;
use pure::life::session::{Session, SessionRequest};
use pure::metrics::Tally;
use pure::text::tag_refusal::with_policy_tags_only;

impl Bridge {
    /// Whether sessions still get the bridge's per-incident tags: until Devin refuses them.
    pub(super) fn per_incident_tags(&self) -> bool {
        !self.per_incident_tags_refused.load(Ordering::Relaxed)
    }

    /// Devin refused per-incident tags: none are sent from now on, and the operator hears of
    /// it once per cold start.
    pub(super) fn tags_refused(&self, err: &DevinError) {
        if !self.per_incident_tags_refused.swap(true, Ordering::Relaxed) {
            warn!(
                error = %err,
                "Devin refused the session's tags (tag validation?): sessions are created with the routing policy's own tags only from now on, and found by title; allow-list the policy's tags in Devin"
            );
        }
    }

    /// Creates the incident's session: with the per-incident tags while Devin accepts them;
    /// refused for its tags, at once again with the policy's tags only. Retried only after
    /// failures that prove no session was made.
    pub(super) async fn create_session(
        &self,
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Failure<DevinError>> {
        let policy_tags_only = || with_policy_tags_only(&plan.request, plan.decision.tags);
        if !self.per_incident_tags() {
            return self
                .create(&policy_tags_only(), secrets, budget, tally)
                .await;
        }
        let created = self.create(&plan.request, secrets, budget, tally).await;
        match &created {
            // A 4xx proves nothing was created: a second create cannot make a second session.
            Err(Failure::Final(err)) if err.refused_tags() => {
                self.tags_refused(err);
                self.create(&policy_tags_only(), secrets, budget, tally)
                    .await
            }
            _ => created,
        }
    }

    async fn create(
        &self,
        request: &SessionRequest,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, Failure<DevinError>> {
        // The session it makes is recorded after it, before the Lambda deadline.
        let budget = budget.to_create();
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
                self.devin.create_session(&secrets, request, left).await
            },
        )
        .await
    }

    /// The `generation`-th session an earlier claim on the incident may have created, whose lease ended at
    /// `earlier_lease_until_ms`: the newest live one titled for the incident among those Devin
    /// lists as created since that claim can have begun.
    pub(super) async fn find_incident_session(
        &self,
        incident_id: &str,
        generation: u32,
        earlier_lease_until_ms: u64,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Option<Session>, Failure<DevinError>> {
        let created_after_s = lookup::created_after_s(earlier_lease_until_ms);
        let listed = self
            .call_devin(
                secrets,
                budget,
                tally,
                DevinError::is_retryable,
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
}
