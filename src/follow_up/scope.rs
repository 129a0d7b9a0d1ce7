//! The sweep's scope: only the incidents the bridge's webhook subscriptions send it
//! (`pure::life::sweep::scope`), listed from PagerDuty per service and per team.

use std::collections::BTreeSet;

use http::HeaderValue;
use tracing::{info, warn};

use crate::edge::pagerduty::{Listing, PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use crate::follow_up::FollowUp;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::Incident;
use pure::life::sweep::{self, Scope};

/// What the cold start says when the sweep has no scope.
const NO_SCOPE: &str = "the sweep is off: nothing says which services or teams the webhook \
subscriptions send (set SWEEP_SERVICE_IDS or SWEEP_TEAM_IDS, or run connect-pagerduty again to \
record its subscription's filter); sweeping the whole account would send other teams' incidents \
to Devin";

impl FollowUp {
    /// The sweep's scope, with the secrets as they are now (`connect-pagerduty` may have
    /// recorded a subscription since the cold start).
    pub(super) fn sweep_scope(&self, secrets: &Secrets) -> Scope {
        sweep::scope(
            &self.options.service_ids,
            &self.options.team_ids,
            &secrets.subscribed,
        )
    }

    /// Says once, at cold start, when the sweep has no scope.
    pub async fn warn_without_scope(&self) {
        let secrets = self.bridge.secrets.current().await;
        match self.sweep_scope(&secrets) {
            Scope::Unknown => warn!("{NO_SCOPE}"),
            Scope::Account => {
                info!("the sweep reads the whole account: a webhook subscription is account-wide")
            }
            Scope::Listed {
                service_ids,
                team_ids,
            } => {
                info!(services = %service_ids.join(","), teams = %team_ids.join(","), "the sweep reads the subscriptions' services and teams")
            }
        }
    }

    /// The open incidents of the window in `scope`, each once; none for an unknown scope.
    pub(super) async fn list_in_scope(
        &self,
        pagerduty: &PagerDutyClient,
        authorization: &HeaderValue,
        scope: &Scope,
        (since, until): (&str, &str),
        budget: Budget,
    ) -> Result<Vec<Incident>, Failure<PagerDutyError>> {
        let listings = match scope {
            Scope::Unknown => return Ok(Vec::new()),
            Scope::Account => vec![Listing::Account],
            Scope::Listed {
                service_ids,
                team_ids,
            } => [
                (!service_ids.is_empty()).then_some(Listing::Services(service_ids)),
                (!team_ids.is_empty()).then_some(Listing::Teams(team_ids)),
            ]
            .into_iter()
            .flatten()
            .collect(),
        };
        let mut seen = BTreeSet::new();
        let mut incidents = Vec::new();
        for listing in listings {
            let mut stats = CallStats::default();
            let listed = within_budget(
                "PagerDuty incidents",
                Self::step(budget),
                &mut stats,
                PagerDutyError::is_retryable,
                |left| pagerduty.open_incidents(authorization, listing, since, until, left),
            )
            .await?;
            incidents.extend(
                listed
                    .into_iter()
                    .filter(|incident| seen.insert(incident.id.clone())),
            );
        }
        Ok(incidents)
    }
}
