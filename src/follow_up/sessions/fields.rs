//! Devin's findings into the incident's custom fields, where the routing policy maps them
//! (`custom_fields`) and the account defines them (`pure::text::custom_fields`).
//!
//! The ledger does not keep the rule that started a session, so the incident's rule is decided
//! again from the incident as PagerDuty shows it now, as if it triggered: the policy in force
//! and the incident as it stands (a priority raised since) choose the fields. That costs one
//! read, only when the findings changed.
//!
//! Each incident's record keeps the hash of the findings last set (`Progress::fields`), written
//! after PagerDuty took them: a failure is tried again next run, a success is not repeated, and
//! a refusal no retry can change (a 4xx) is logged and recorded as done. Without a PagerDuty
//! token, or with no `custom_fields` in the policy, nothing is read or written.

use tracing::{info, warn};

use super::Followed;
use crate::edge::clock;
use crate::edge::lock::lock;
use crate::edge::pagerduty::{PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient as _};
use crate::follow_up::FollowUp;
use http::HeaderValue;
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::INCIDENT_TRIGGERED;
use pure::life::records::OpenIncident;
use pure::life::session::SessionState;
use pure::text::custom_fields::{plan, FieldPlan, FieldValues};

/// How a step of setting the fields ended, when it did not go on.
enum Stop {
    /// Nothing more to do for these findings: recorded, not tried again.
    Done,
    /// Tried again next run.
    Later,
}

/// One incident's calls: the client, the token, the incident.
struct Target<'a> {
    pagerduty: &'a PagerDutyClient,
    authorization: &'a HeaderValue,
    incident_id: &'a str,
}

impl FollowUp {
    /// Sets the incident's mapped custom fields when the session's findings changed since they
    /// were last set.
    pub(super) async fn set_fields(
        &self,
        incident: &OpenIncident,
        state: &SessionState,
        secrets: &Secrets,
        budget: Budget,
        followed: &mut Followed,
    ) {
        let (Some(pagerduty), Some(authorization)) = (
            self.bridge.pagerduty.client(),
            secrets.pagerduty_authorization(),
        ) else {
            return;
        };
        if !self.bridge.policy.sets_fields() || self.bridge.options.dry_run {
            return;
        }
        let values = FieldValues::of(state, &incident.session.url);
        let hash = values.hash();
        if incident.progress.fields.as_ref() == Some(&hash)
            || budget.remaining(clock::now()) < MIN_ATTEMPT
        {
            return;
        }
        let target = Target {
            pagerduty,
            authorization,
            incident_id: &incident.incident_id,
        };
        match self.set(&target, &values, budget).await {
            Ok(()) | Err(Stop::Done) => self.record_fields(incident, &hash, budget, followed).await,
            Err(Stop::Later) => followed.tally.follow_up_errors += 1,
        }
    }

    /// Decides the incident's fields, reads which it has, and sets those that fit.
    async fn set(
        &self,
        target: &Target<'_>,
        values: &FieldValues,
        budget: Budget,
    ) -> Result<(), Stop> {
        let incident = call("PagerDuty incident", budget, |left| {
            target
                .pagerduty
                .incident(target.authorization, target.incident_id, left)
        })
        .await?;
        let decision = self.bridge.policy.decide(INCIDENT_TRIGGERED, &incident);
        let Some(map) = decision.custom_fields else {
            return Ok(());
        };
        let wanted = values.mapped(map);
        if wanted.is_empty() {
            return Ok(());
        }
        let defined = call("PagerDuty custom fields", budget, |left| {
            target
                .pagerduty
                .custom_fields(target.authorization, target.incident_id, left)
        })
        .await?;
        let plan = plan(&defined, &wanted);
        self.log_skipped(&plan, decision.rule);
        // The free fields in one request; each field of fixed options alone, so that a value
        // outside its options, refused, takes no other field with it.
        let requests = (!plan.free.is_empty())
            .then_some(plan.free.as_slice())
            .into_iter()
            .chain(plan.fixed.chunks(1));
        for entries in requests {
            let set = call("PagerDuty custom field values", budget, |left| {
                target.pagerduty.set_custom_fields(
                    target.authorization,
                    target.incident_id,
                    entries,
                    left,
                )
            })
            .await;
            match set {
                Ok(()) | Err(Stop::Done) => {}
                Err(Stop::Later) => return Err(Stop::Later),
            }
        }
        info!(
            fields = plan.free.len() + plan.fixed.len(),
            "the findings are sent into the incident's custom fields"
        );
        Ok(())
    }

    /// Logs the mapped fields left out: one the incident lacks once per process, one that
    /// cannot take its value each time.
    fn log_skipped(&self, plan: &FieldPlan, rule: &str) {
        for name in &plan.absent {
            if lock(&self.fields_absent).insert(name.clone()) {
                warn!(field = %name, rule, "the policy maps findings into a custom field the incident does not have: skipped (logged once)");
            }
        }
        for (name, why) in &plan.unfit {
            warn!(field = %name, why = %why, "a custom field cannot take the finding: skipped");
        }
    }

    /// Records the findings' hash as set. A failure only costs setting them once more.
    async fn record_fields(
        &self,
        incident: &OpenIncident,
        hash: &str,
        budget: Budget,
        followed: &mut Followed,
    ) {
        let left = Self::step(budget).remaining(clock::now());
        let (id, session_id) = (&incident.incident_id, &incident.session.session_id);
        let recorded = self
            .bridge
            .ledger
            .fields_set(id, session_id, hash, clock::epoch_ms(), left)
            .await;
        if let Err(err) = recorded {
            warn!(incident_id = %id, error = %err, "the custom fields set are not recorded: set again next run");
            followed.tally.follow_up_errors += 1;
        }
    }
}

/// One PagerDuty call inside a step of the run, retried by the one retry loop: a refusal no
/// retry can change (a 4xx but 429) is logged and done with; anything else waits for the next
/// run.
async fn call<T, F, Fut>(what: &str, budget: Budget, attempt: F) -> Result<T, Stop>
where
    F: FnMut(std::time::Duration) -> Fut,
    Fut: std::future::Future<Output = Result<T, PagerDutyError>>,
{
    let mut stats = CallStats::default();
    let step = FollowUp::step(budget);
    let answer = within_budget(
        what,
        step,
        &mut stats,
        PagerDutyError::is_retryable,
        attempt,
    )
    .await;
    answer.map_err(|failure| match failure {
        Failure::Final(err @ PagerDutyError::Status { status, .. })
            if status.is_client_error() && status.as_u16() != 429 =>
        {
            warn!(call = what, error = %err, "PagerDuty refused the custom fields' call: not tried again for these findings");
            Stop::Done
        }
        failure => {
            warn!(call = what, error = %failure, "the custom fields' call failed: tried again next run");
            Stop::Later
        }
    })
}
