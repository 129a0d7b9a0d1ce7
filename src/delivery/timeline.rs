//! The incident's timeline for the postmortem draft, read from PagerDuty inside a small share
//! of the delivery's budget: a failure or a delay leaves the ask without it (and says so in the
//! log), never the delivery.

use std::time::Duration;

use tracing::warn;

use crate::delivery::pagerduty_reads::PagerDutyReads;
use crate::edge::clock;
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::text::postmortem;

/// The most a delivery waits for the timeline, all pages together: a fifth of its budget, at
/// most this.
const TIMELINE_AT_MOST: Duration = Duration::from_millis(800);

impl PagerDutyReads {
    /// The incident's timeline as the session reads it (quoted, capped), or `None` when it
    /// could not be read (no token, a failure, out of its share of the budget).
    pub(crate) async fn timeline(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        budget: Budget,
    ) -> Option<Vec<String>> {
        let pagerduty = self.client()?;
        let authorization = secrets.pagerduty_authorization()?;
        let share = (budget.remaining(clock::now()) / 5).min(TIMELINE_AT_MOST);
        if share < MIN_ATTEMPT {
            return None;
        }
        let share = budget.at_most(clock::now(), share);
        let left = || share.remaining(clock::now());
        match pagerduty
            .log_entries(authorization, incident_id, left)
            .await
        {
            Ok(entries) => Some(postmortem::timeline(&entries)),
            Err(err) => {
                warn!(error = %err, "the incident's timeline was not read: the postmortem is asked for without it");
                None
            }
        }
    }
}
