//! The claims part's records outside a start's claim: waiting on another start's claim, the
//! session to tell, a deferral, a skip, a close-out, an adoption.

use std::time::Duration;

use crate::delivery::claims::Claims;
use crate::delivery::outcome::{Done, NoteStatus, Outcome, Retry};
use crate::edge::ledger::LedgerError;
use pure::budget::Budget;
use pure::life::follow_up::{Mark, PostmortemPart};
use pure::life::records::{IncidentRecord, Standing};
use pure::life::session::Session;

/// How often a delivery looks again for the session another delivery is creating.
pub(super) const WAIT_STEP: Duration = Duration::from_millis(100);
/// Kept for answering after the last look.
pub(super) const ANSWER_TIME: Duration = Duration::from_millis(50);

/// How waiting on another delivery's claim ended.
pub(super) enum Waited {
    /// It recorded the session.
    Session(Session),
    /// It gave the claim up, or its lease ran out: the incident may be claimed again.
    ClaimEnded,
    /// The record says no session is to be started yet, or ever.
    NotYet(NotYet),
    /// The delivery ends so (out of time, or the ledger failed).
    Ends(Outcome),
}

impl Claims {
    /// The session of an incident whose record is `record`: at once when it exists; when
    /// another delivery is creating it, after waiting inside the budget for it to be recorded.
    pub(crate) async fn recorded_session(
        &self,
        incident_id: &str,
        record: IncidentRecord,
        budget: Budget,
    ) -> Result<Session, Outcome> {
        match self.wait(incident_id, record, budget).await {
            Waited::Session(session) => Ok(session),
            Waited::Ends(outcome) => Err(outcome),
            Waited::NotYet(_) => Err(Done::NoSession {
                incident_id: incident_id.to_owned(),
            }
            .into()),
            Waited::ClaimEnded => Err(Retry::BeingCreated {
                incident_id: incident_id.to_owned(),
            }
            .into()),
        }
    }

    /// How a delivery ends on an incident that has a record already: its session (once
    /// recorded, waiting inside the budget), or why there is none.
    pub(crate) async fn as_recorded(
        &self,
        rule: &str,
        incident_id: &str,
        record: IncidentRecord,
        budget: Budget,
    ) -> Outcome {
        match self.wait(incident_id, record, budget).await {
            Waited::Session(session) => Done::SessionExists {
                rule: rule.to_owned(),
                incident_id: incident_id.to_owned(),
                session,
            }
            .into(),
            Waited::NotYet(not_yet) => not_yet.outcome(rule, incident_id),
            Waited::ClaimEnded => Retry::BeingCreated {
                incident_id: incident_id.to_owned(),
            }
            .into(),
            Waited::Ends(outcome) => outcome,
        }
    }

    /// Waits, inside the budget, while another start creates the incident's session.
    pub(super) async fn wait(
        &self,
        incident_id: &str,
        mut record: IncidentRecord,
        budget: Budget,
    ) -> Waited {
        loop {
            match record.standing(self.clock.epoch_ms()) {
                Standing::HasSession(session) => return Waited::Session(session),
                Standing::Abandoned { .. } => return Waited::ClaimEnded,
                Standing::Deferred { until_ms } => {
                    return Waited::NotYet(NotYet::Deferred { until_ms })
                }
                Standing::SkippedResolved => return Waited::NotYet(NotYet::SkippedResolved),
                Standing::Pending => return Waited::NotYet(NotYet::Decided("pending")),
                Standing::Capped { .. } => return Waited::NotYet(NotYet::Decided("capped")),
                Standing::Rejected => return Waited::NotYet(NotYet::Decided("devin_rejected")),
                Standing::Ended(_) => return Waited::NotYet(NotYet::Decided("session_ended")),
                Standing::BeingCreated { .. } => {}
            }
            if self.left(budget) < WAIT_STEP + ANSWER_TIME {
                return Waited::Ends(
                    Retry::BeingCreated {
                        incident_id: incident_id.to_owned(),
                    }
                    .into(),
                );
            }
            tokio::time::sleep(WAIT_STEP).await;
            let left = self.left(budget).saturating_sub(ANSWER_TIME);
            match self.ledger.get(incident_id, left).await {
                Ok(Some(now)) => record = now,
                // The holder gave up: nothing was created.
                Ok(None) => return Waited::ClaimEnded,
                Err(err) => return Waited::Ends(Retry::LedgerUnavailable(err).into()),
            }
        }
    }

    /// Records that the incident's session waits until `until_ms`: `None`, or the incident's
    /// record when it has one already.
    pub(crate) async fn defer(
        &self,
        incident_id: &str,
        until_ms: u64,
        budget: Budget,
    ) -> Result<Option<IncidentRecord>, LedgerError> {
        let (left, now_ms) = (self.left(budget), self.clock.epoch_ms());
        self.ledger.defer(incident_id, until_ms, now_ms, left).await
    }

    /// The incident's session, as the ledger knows it: `None` when it has none to tell; waits a
    /// moment for a session being started. For a delivery that may start one (`may_start`: a
    /// reopen), a claim abandoned (its create may have happened) and a session that ended count
    /// as none (the reopen starts the next generation); any other event waits for PagerDuty's
    /// retry on an abandoned claim, and reaches an ended session all the same (one the
    /// follow-up closed out as concluded or idle still takes a responder's note).
    pub(crate) async fn session_to_tell(
        &self,
        incident_id: &str,
        may_start: bool,
        budget: Budget,
    ) -> Result<Option<Session>, Outcome> {
        let told = self.session_and_end(incident_id, may_start, budget).await?;
        Ok(told.map(|(session, _)| session))
    }

    /// [`Claims::session_to_tell`], and whether its record was closed out (ended): a resolve
    /// that asks that session for a postmortem queues the record for it.
    pub(crate) async fn session_and_end(
        &self,
        incident_id: &str,
        may_start: bool,
        budget: Budget,
    ) -> Result<Option<(Session, bool)>, Outcome> {
        let left = self.left(budget);
        let record = self
            .ledger
            .get(incident_id, left)
            .await
            .map_err(Retry::LedgerUnavailable)?;
        let Some(record) = record else {
            return Ok(None);
        };
        match record.standing(self.clock.epoch_ms()) {
            Standing::HasSession(session) => Ok(Some((session, false))),
            Standing::BeingCreated { .. } => self
                .recorded_session(incident_id, record, budget)
                .await
                .map(|session| Some((session, false))),
            Standing::Abandoned { .. } if !may_start => Err(Retry::BeingCreated {
                incident_id: incident_id.to_owned(),
            }
            .into()),
            Standing::Ended(session) if !may_start => Ok(Some((session, true))),
            _ => Ok(None),
        }
    }

    /// An incident resolved (or merged away) before its session: a start not made yet (pending,
    /// deferred, capped) is dropped, so that PagerDuty's retry of its trigger or the follow-up
    /// starts nothing for it (`pure::life::skippable`); a reopen or a person starts it again.
    pub(crate) async fn resolved_without_session(
        &self,
        incident_id: String,
        budget: Budget,
    ) -> Outcome {
        let left = self.left(budget);
        match self
            .ledger
            .skip_resolved(&incident_id, self.clock.epoch_ms(), left)
            .await
        {
            Ok(()) => Done::NoSession { incident_id }.into(),
            Err(err) => Retry::LedgerUnavailable(err).into(),
        }
    }

    /// Queues the ended record of `session_id` for the postmortem draft its session was just
    /// asked for (once: a retried resolve changes nothing).
    pub(crate) async fn await_postmortem(
        &self,
        incident_id: &str,
        session_id: &str,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let (now_ms, left) = (self.clock.epoch_ms(), self.left(budget));
        self.ledger
            .await_postmortem(incident_id, session_id, now_ms, left)
            .await
    }

    /// Closes the incident's record out: it leaves the follow-up's queue, its session
    /// `session_id` no longer working on it (ended, stopped, or left).
    pub(crate) async fn close_out(
        &self,
        incident_id: &str,
        session_id: &str,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let (now_ms, left) = (self.clock.epoch_ms(), self.left(budget));
        let closed = Mark::ClosedOut(None);
        self.ledger
            .mark(incident_id, session_id, &closed, now_ms, left)
            .await
    }

    /// Records that the incident gets no postmortem from its session `session_id` (it was
    /// merged away: the session's postmortem is the other incident's).
    pub(crate) async fn no_postmortem(
        &self,
        incident_id: &str,
        session_id: &str,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let (now_ms, left) = (self.clock.epoch_ms(), self.left(budget));
        let none = Mark::Postmortem(PostmortemPart::NONE);
        self.ledger
            .mark(incident_id, session_id, &none, now_ms, left)
            .await
    }

    /// Records `session` as the incident's when it has no record yet (a merge moves a session
    /// to the incident it went into).
    pub(crate) async fn adopt(
        &self,
        incident_id: &str,
        session: &Session,
        budget: Budget,
    ) -> Result<(), LedgerError> {
        let left = self.left(budget);
        let adopted = self
            .ledger
            .adopt(incident_id, session, self.clock.epoch_ms(), left);
        adopted.await.map(|_| ())
    }
}

/// An incident whose record says no session is to start now.
pub(super) enum NotYet {
    /// The policy waits until then.
    Deferred { until_ms: u64 },
    /// It resolved before its deferral ended.
    SkippedResolved,
    /// An earlier start decided so (`Done::AlreadyDecided.into()`).
    Decided(&'static str),
}

impl NotYet {
    /// How the delivery ends.
    pub(super) fn outcome(self, rule: &str, incident_id: &str) -> Outcome {
        let incident_id = incident_id.to_owned();
        match self {
            NotYet::Deferred { until_ms } => Done::Deferred {
                rule: rule.to_owned(),
                incident_id,
                until_ms,
                note: NoteStatus::Off,
            }
            .into(),
            NotYet::SkippedResolved => Done::SkippedResolved { incident_id }.into(),
            NotYet::Decided(decision) => Done::AlreadyDecided {
                incident_id,
                decision,
            }
            .into(),
        }
    }
}
