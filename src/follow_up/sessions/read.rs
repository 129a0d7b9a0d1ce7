//! Reading a session from Devin, and recording in the ledger what was read: when, whether
//! Devin still knew it, and when it last changed.

use std::sync::Arc;

use tracing::warn;

use super::Followed;
use crate::edge::clock;
use crate::edge::retry::Failure;
use crate::follow_up::FollowUp;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::follow_up::{self, Observed};
use pure::life::records::OpenIncident;
use pure::life::session::{Session, SessionMessage, SessionState};
use pure::metrics::Tally;

impl FollowUp {
    /// The session as Devin shows it now, or that Devin no longer knows it (404), or that it
    /// could not be read (next run).
    pub(super) async fn read_session(
        &self,
        session: &Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        followed: &mut Followed,
    ) -> Read {
        let (step, mut calls) = (Self::step(budget), Tally::default());
        let read = self
            .bridge
            .devin
            .session_state(&session.session_id, secrets, step, &mut calls)
            .await;
        match read {
            Ok(state) => Read::Shown(state),
            Err(Failure::Final(err)) if err.status().is_some_and(|s| s.as_u16() == 404) => {
                Read::Missing
            }
            Err(failure) => {
                warn!(error = %failure, "the session was not read: tried again next run");
                followed.tally.follow_up_errors += 1;
                Read::Failed
            }
        }
    }

    /// Records, on each incident of the session, that it was read now (and whether Devin
    /// answered 404): the next runs read the others first. A failure only costs the order.
    pub(super) async fn record_followed(
        &self,
        incidents: &[OpenIncident],
        session: &Session,
        missing: bool,
        budget: Budget,
        followed: &mut Followed,
    ) {
        if self.bridge.options.dry_run {
            return;
        }
        for incident in incidents {
            let left = Self::step(budget).remaining(clock::now());
            let id = &incident.incident_id;
            let recorded = self
                .bridge
                .ledger
                .followed(id, &session.session_id, missing, clock::epoch_ms(), left)
                .await;
            if let Err(err) = recorded {
                warn!(incident_id = %id, error = %err, "when the session was read is not recorded: it is read early next run");
                followed.tally.follow_up_errors += 1;
            }
        }
    }

    /// The session's messages, to find Devin's last word; `None` when they could not be read
    /// (the turn's note waits for the next run).
    pub(super) async fn read_messages(
        &self,
        session: &Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        followed: &mut Followed,
    ) -> Option<Vec<SessionMessage>> {
        let (step, mut calls) = (Self::step(budget), Tally::default());
        let read = self
            .bridge
            .devin
            .session_messages(&session.session_id, secrets, step, &mut calls)
            .await;
        read.map_err(|failure| {
            warn!(error = %failure, "the session's messages were not read: its turn's note waits for the next run");
            followed.tally.follow_up_errors += 1;
        })
        .ok()
    }

    /// Records that the incident's session shows something new, and since when: a session that
    /// shows the same for the idle time is closed out. A failure only delays that.
    pub(super) async fn see(
        &self,
        incident: &OpenIncident,
        session: &Session,
        observed: &Observed<'_>,
        budget: Budget,
        followed: &mut Followed,
    ) {
        let Some(print) = follow_up::seen_mark(&incident.progress, observed) else {
            return;
        };
        let left = Self::step(budget).remaining(clock::now());
        let (id, now_ms) = (&incident.incident_id, observed.now_ms);
        let ledger = &self.bridge.ledger;
        if let Err(err) = ledger
            .see(id, &session.session_id, &print, now_ms, left)
            .await
        {
            warn!(incident_id = %id, error = %err, "the session's change was not recorded: its idle time counts from the next run");
            followed.tally.follow_up_errors += 1;
        }
    }
}

/// How reading a session went.
pub(super) enum Read {
    Shown(SessionState),
    /// Devin answered 404.
    Missing,
    Failed,
}
