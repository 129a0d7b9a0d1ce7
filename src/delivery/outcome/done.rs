//! The answers that end a delivery for PagerDuty: `202`, with a body that says what was done (or
//! deliberately not done). Each variant is its body: the `status` is the variant's name (a few
//! share one: `ignored`, `dry_run`), its fields the body's other fields, serialized by serde.

use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

use super::fields;
use crate::edge::devin::DevinError;
use pure::inbound::timestamp;
use pure::inbound::webhook::ParseError;
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::policy::spend::Slot;

/// A delivery done: answered `202`, so PagerDuty does not retry it.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Done {
    /// A verified, well-formed delivery whose `data` the bridge cannot use (not the incident or
    /// the note its type should carry): answered 2xx, because three 4xx answers in a row make
    /// PagerDuty disable the subscription for a day.
    #[serde(rename = "ignored")]
    Unusable(#[serde(serialize_with = "fields::unusable")] ParseError),
    /// A delivery of something older than PagerDuty retries anything: a capture replayed.
    Stale { occurred_at: String },
    /// An event type the policy neither starts sessions on nor forwards.
    #[serde(rename = "ignored")]
    EventTypeIgnored { event_type: String },
    /// The routing policy ignores this incident.
    #[serde(rename = "ignored")]
    IgnoredByRule { rule: String, incident_id: String },
    /// A note the bridge wrote itself, reported back by PagerDuty.
    #[serde(rename = "ignored")]
    OwnNote {
        #[serde(flatten, serialize_with = "fields::own_note")]
        incident_id: String,
    },
    /// An event to pass on, for an incident without a session.
    NoSession { incident_id: String },
    /// A resolve or reopen the incident has moved past (PagerDuty shows it `status` now): a
    /// retry delivered after a later event, passed on to no one.
    Superseded {
        incident_id: String,
        #[serde(rename = "now")]
        status: String,
    },
    /// Dry run: the session request that was not sent, its group and the budgets it would
    /// count against.
    #[serde(rename = "dry_run")]
    DryRunSession {
        rule: String,
        incident_id: String,
        request: Value,
        group: Option<String>,
        limits: Value,
        /// When the policy defers the session, until when.
        deferred_until: Option<String>,
    },
    /// Dry run: the message that was not sent.
    #[serde(rename = "dry_run")]
    DryRunMessage {
        incident_id: String,
        message: String,
    },
    SessionStarted {
        rule: String,
        incident_id: String,
        #[serde(flatten)]
        session: Session,
        note: NoteStatus,
    },
    /// The incident already has a session: none started.
    SessionExists {
        rule: String,
        incident_id: String,
        #[serde(flatten)]
        session: Session,
    },
    /// The event was passed on to the incident's session.
    Forwarded {
        incident_id: String,
        #[serde(flatten)]
        session: Session,
    },
    /// Devin refused the session for good (400, 409, 422, not for its tags): answered 2xx, so
    /// one bad incident never blocks the subscription; the log, a metric and an alarm say so,
    /// and, when a PagerDuty token is set, a note on the incident (once: the refusal is
    /// recorded, and only a person's `devin investigate` tries again).
    DevinRejected {
        rule: String,
        incident_id: String,
        #[serde(rename = "devin_status", serialize_with = "fields::devin_status")]
        error: DevinError,
        note: NoteStatus,
    },
    /// The session takes no more messages (it ended): nothing sent, nothing to retry.
    SessionClosed {
        incident_id: String,
        #[serde(flatten)]
        session: Session,
    },
    /// A resolve for a session a person stopped (paused it, or it ended): nothing sent, since
    /// a message resumes a paused session.
    StoppedByPerson {
        incident_id: String,
        #[serde(flatten)]
        session: Session,
    },
    /// The incident joined its group's open session: none started.
    Grouped {
        rule: String,
        incident_id: String,
        #[serde(flatten)]
        session: Session,
        group: String,
        note: NoteStatus,
    },
    /// A session budget is spent: nothing started until it refills.
    Capped {
        rule: String,
        incident_id: String,
        #[serde(flatten, serialize_with = "fields::spent")]
        slot: Slot,
        note: NoteStatus,
    },
    /// Shadow mode: what would have started is on the incident (or in the log).
    Shadow {
        rule: String,
        incident_id: String,
        group: Option<String>,
        note: NoteStatus,
    },
    /// A merged-away incident's session was handed to the incident it went into.
    Merged {
        incident_id: String,
        into: String,
        #[serde(flatten)]
        session: Session,
        /// The session the work goes on in, when the other incident had its own.
        #[serde(rename = "into_session_id", serialize_with = "fields::session_id")]
        theirs: Option<Session>,
    },
    /// The policy waits before starting this incident's session (`start_after_minutes`): the
    /// follow-up starts it then, if the incident is still open.
    Deferred {
        rule: String,
        incident_id: String,
        #[serde(rename = "until", serialize_with = "fields::rfc3339")]
        until_ms: u64,
        note: NoteStatus,
    },
    /// The incident resolved while its session was deferred: none will start.
    SkippedResolved { incident_id: String },
    /// The incident's record holds what an earlier start decided (`capped`, `devin_rejected`,
    /// `session_ended`, `pending`): this event starts nothing, and that record's owner moves it
    /// on (`pure::life::owner`).
    AlreadyDecided {
        incident_id: String,
        decision: &'static str,
    },
    /// A note command (`devin stop`, `devin status`) was carried out on the incident's
    /// session, and noted.
    #[serde(rename = "command")]
    Commanded {
        incident_id: String,
        command: &'static str,
        #[serde(flatten)]
        session: Session,
        note: NoteStatus,
    },
    /// A note command was not carried out: a note says why.
    CommandRefused {
        incident_id: String,
        command: &'static str,
        reason: String,
        note: NoteStatus,
    },
}

/// How the note on the incident went, once its session started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteStatus {
    Added,
    /// Retried inside the budget and still not added; the session stands.
    Failed,
    /// No PagerDuty token: no notes.
    Off,
}

impl Done {
    /// The answer's JSON body, its keys sorted (as `serde_json::Value` keeps them, without
    /// `preserve_order`), as the bridge has always sent them.
    pub fn body(&self) -> String {
        // Every field serializes (strings, numbers, JSON values): the default is never used.
        serde_json::to_value(self).unwrap_or_default().to_string()
    }

    /// Whether the delivery is done for good: a repeat of it is answered from memory. A
    /// repeat of the others (ignored, stale, no session, a dry run) is decided afresh.
    pub fn is_complete(&self) -> bool {
        match self {
            Done::Unusable(_)
            | Done::Stale { .. }
            | Done::EventTypeIgnored { .. }
            | Done::IgnoredByRule { .. }
            | Done::OwnNote { .. }
            | Done::NoSession { .. }
            | Done::DryRunSession { .. }
            | Done::DryRunMessage { .. } => false,
            Done::Superseded { .. }
            | Done::SessionStarted { .. }
            | Done::SessionExists { .. }
            | Done::Forwarded { .. }
            | Done::DevinRejected { .. }
            | Done::SessionClosed { .. }
            | Done::StoppedByPerson { .. }
            | Done::Grouped { .. }
            | Done::Capped { .. }
            | Done::Shadow { .. }
            | Done::Merged { .. }
            | Done::Deferred { .. }
            | Done::SkippedResolved { .. }
            | Done::AlreadyDecided { .. }
            | Done::Commanded { .. }
            | Done::CommandRefused { .. } => true,
        }
    }

    /// What it counts in the delivery's metrics.
    pub fn count(&self, tally: &mut Tally) {
        match self {
            Done::SessionExists { .. } => tally.duplicates_suppressed = 1,
            Done::Stale { .. }
            | Done::EventTypeIgnored { .. }
            | Done::Unusable(_)
            | Done::IgnoredByRule { .. }
            | Done::OwnNote { .. }
            | Done::NoSession { .. }
            | Done::Superseded { .. }
            | Done::SkippedResolved { .. }
            | Done::AlreadyDecided { .. } => tally.deliveries_ignored = 1,
            Done::Deferred { .. } => tally.incidents_deferred = 1,
            Done::SessionStarted { .. } => tally.sessions_started = 1,
            Done::DevinRejected { .. } => tally.devin_rejected = 1,
            Done::Grouped { .. } => tally.incidents_grouped = 1,
            Done::Capped { .. } => tally.sessions_capped = 1,
            Done::DryRunSession { .. }
            | Done::DryRunMessage { .. }
            | Done::Forwarded { .. }
            | Done::SessionClosed { .. }
            | Done::StoppedByPerson { .. }
            | Done::Shadow { .. }
            | Done::Merged { .. }
            | Done::Commanded { .. }
            | Done::CommandRefused { .. } => {}
        }
    }

    /// Logs the line that says how the delivery ended.
    // A table: one log line per answer.
    pub fn log(&self) {
        match self {
            Done::Unusable(err) => {
                warn!(error = %err, "delivery ignored: its data is not what its event type carries");
            }
            Done::Stale { occurred_at } => warn!(
                occurred_at = %occurred_at,
                "delivery refused: it happened longer ago than PagerDuty retries anything (a replay?); nothing started"
            ),
            Done::EventTypeIgnored { .. } => info!(
                "event ignored: the routing policy neither starts an investigation on this event type nor forwards it"
            ),
            Done::IgnoredByRule { .. } => info!("incident ignored by the routing policy"),
            Done::OwnNote { .. } => info!("the bridge's own note: not sent back to Devin"),
            Done::NoSession { .. } => {
                info!("no Devin session for this incident: nothing to tell");
            }
            Done::Superseded { status, .. } => {
                info!(%status, "the incident has moved past this event: nothing told");
            }
            Done::DryRunSession { request, .. } => {
                info!(request = %request, "dry run: this session request was not sent to Devin");
            }
            Done::DryRunMessage { message, .. } => {
                info!(message = %message, "dry run: this message was not sent to Devin");
            }
            Done::SessionStarted { session, .. } => {
                info!(session_id = %session.session_id, url = %session.url, "Devin session started");
            }
            Done::SessionExists { session, .. } => info!(
                session_id = %session.session_id, url = %session.url,
                "the incident already has a Devin session: none started"
            ),
            Done::Forwarded { session, .. } => {
                info!(session_id = %session.session_id, "forwarded to the Devin session");
            }
            Done::DevinRejected { error, .. } => tracing::error!(
                devin_status = error.status().map(|status| status.as_u16()),
                error = %error,
                "Devin refused to start the session; no retry can change that"
            ),
            Done::SessionClosed { session, .. } => warn!(
                session_id = %session.session_id,
                "the Devin session takes no more messages: nothing sent"
            ),
            Done::StoppedByPerson { session, .. } => info!(
                session_id = %session.session_id,
                "a person stopped the Devin session: the resolve is not passed on"
            ),
            Done::Grouped { session, group, .. } => info!(
                session_id = %session.session_id, group = %group,
                "incident grouped into its group's Devin session: none started"
            ),
            Done::Capped { slot, .. } => warn!(
                limit = slot.limit, scope = %slot.scope, cap = slot.cap,
                refills_at = %timestamp::rfc3339(slot.refills_at_ms),
                "a session budget is spent: no session started"
            ),
            Done::Shadow { .. } => info!("shadow mode: no session started"),
            Done::Merged { session, into, theirs, .. } => info!(
                session_id = %session.session_id, into = %into,
                into_session_id = theirs.as_ref().map(|theirs| theirs.session_id.as_str()),
                "a merged incident's session was handed to the incident it went into"
            ),
            Done::Deferred { until_ms, .. } => info!(
                until = %timestamp::rfc3339(*until_ms),
                "the routing policy defers this incident's session: the follow-up starts it then if the incident is still open"
            ),
            Done::SkippedResolved { .. } => {
                info!("the incident resolved while its session was deferred: none started");
            }
            Done::AlreadyDecided { decision, .. } => {
                info!(decision, "an earlier start decided this incident: nothing to start");
            }
            Done::Commanded {
                command, session, ..
            } => info!(command, session_id = %session.session_id, "note command carried out"),
            Done::CommandRefused {
                command, reason, ..
            } => warn!(command, reason = %reason, "note command refused"),
        }
    }
}
