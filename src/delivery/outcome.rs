//! Every answer the function gives, in one place: its HTTP status and body, the line it logs and
//! what it counts in the delivery's metrics. The status follows PagerDuty's retry rules: 2xx when
//! done or deliberately not done, 4xx for what a retry cannot fix, 429/5xx for what it can, so no
//! incident is lost and none is investigated twice.

use http::{HeaderValue, StatusCode};
use serde_json::{json, Value};
use tracing::{error, info, warn};

use crate::delivery::function_url::Answer;
use crate::edge::devin::DevinError;
use crate::edge::ledger::LedgerError;
use crate::edge::retry::Failure;
use pure::inbound::timestamp;
use pure::inbound::verify::Rejection;
use pure::inbound::webhook::ParseError;
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::policy::spend::Slot;

/// Sent with a 503 when the budget ran out, for PagerDuty's next try.
const RETRY_AFTER_SECONDS: &str = "5";

/// How a delivery ended.
#[derive(Debug)]
pub enum Outcome {
    /// `ALLOWED_SOURCE_CIDRS` is set and the request came from elsewhere.
    Forbidden { source: String },
    /// Another path than the webhook's.
    NotFound,
    /// Another method than POST.
    MethodNotAllowed,
    /// A body larger than PagerDuty ever sends.
    TooLarge { bytes: usize },
    /// A body the event says is base64 and is not.
    UndecodableBody,
    /// A check failed: the same bare answer whichever it was, so a forger learns nothing.
    Unauthorized(Rejection),
    /// Not PagerDuty's envelope at all: no retry can change it.
    BadRequest(ParseError),
    /// A verified, well-formed delivery whose `data` the bridge cannot use (not the incident or
    /// the note its type should carry): answered 2xx, because three 4xx answers in a row make
    /// PagerDuty disable the subscription for a day.
    Unusable(ParseError),
    /// A repeat of a delivery this instance completed: its first answer again.
    Repeat { body: String },
    /// A delivery of something older than PagerDuty retries anything: a capture replayed.
    Stale { occurred_at: String },
    /// An event type the policy neither starts sessions on nor forwards.
    EventTypeIgnored { event_type: String },
    /// The routing policy ignores this incident.
    IgnoredByRule { rule: String, incident_id: String },
    /// A note the bridge wrote itself, reported back by PagerDuty.
    OwnNote { incident_id: String },
    /// An event to pass on, for an incident without a session.
    NoSession { incident_id: String },
    /// A resolve or reopen the incident has moved past (PagerDuty shows it `status` now): a
    /// retry delivered after a later event, passed on to no one.
    Superseded { incident_id: String, status: String },
    /// Dry run: the session request that was not sent, its group and the limits it would
    /// count against.
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
    DryRunMessage {
        incident_id: String,
        message: String,
    },
    SessionStarted {
        rule: String,
        incident_id: String,
        session: Session,
        note: NoteStatus,
    },
    /// The incident already has a session: none started.
    SessionExists {
        rule: String,
        incident_id: String,
        session: Session,
    },
    /// The event was passed on to the incident's session.
    Forwarded {
        incident_id: String,
        session: Session,
    },
    /// Devin failed or refused: PagerDuty retries.
    DevinFailed {
        step: DevinStep,
        failure: Failure<DevinError>,
    },
    /// Devin may have created the session (a 5xx, a timeout, a broken connection after the
    /// request went out): the claim holds until its lease ends, and PagerDuty's retry after
    /// that looks the session up before creating one.
    SessionUncertain { failure: Failure<DevinError> },
    /// Another delivery holds the claim on this incident and has not recorded its session yet.
    BeingCreated { incident_id: String },
    /// Devin refused the session for good (400, 409, 422, not for its tags): answered 2xx, so
    /// one bad incident never blocks the subscription; the log, a metric and an alarm say so,
    /// and, when a PagerDuty token is set, a note on the incident (once: the refusal is
    /// recorded, and only a person's `devin investigate` tries again).
    DevinRejected {
        rule: String,
        incident_id: String,
        error: DevinError,
        note: NoteStatus,
    },
    /// Devin refused the create for what no incident causes (404: `DEVIN_ORG_ID` or the path;
    /// 403: the service user's permission): answered 5xx, so PagerDuty retries and nothing is
    /// dropped while the operator fixes it; counted in `DevinErrors`.
    DevinMisconfigured { error: DevinError },
    /// Devin refused the create for its tags even with the routing policy's own `tags` alone
    /// (an organization with tag validation that has not allow-listed them): the same for
    /// every incident of the rule, so answered 5xx like a 404, so PagerDuty retries and nothing
    /// is dropped while the operator allow-lists them; counted in `DevinErrors`.
    PolicyTagsRefused {
        rule: String,
        tags: Vec<String>,
        error: DevinError,
    },
    /// The session takes no more messages (it ended): nothing sent, nothing to retry.
    SessionClosed {
        incident_id: String,
        session: Session,
    },
    /// The ledger could not be read or written: nothing was started, PagerDuty retries.
    LedgerUnavailable(LedgerError),
    /// The incident joined its group's open session: none started.
    Grouped {
        rule: String,
        incident_id: String,
        session: Session,
        group: String,
        note: NoteStatus,
    },
    /// A session budget is spent: nothing started until it refills.
    Capped {
        rule: String,
        incident_id: String,
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
        session: Session,
        /// The session the work goes on in, when the other incident had its own.
        theirs: Option<Session>,
    },
    /// The request waited past the delivery budget before the function got it (a slow cold
    /// start): nothing started, PagerDuty retries.
    TooLate,
    /// The policy waits before starting this incident's session (`start_after_minutes`): the
    /// follow-up starts it then, if the incident is still open.
    Deferred {
        rule: String,
        incident_id: String,
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
    Commanded {
        incident_id: String,
        command: &'static str,
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

/// What the bridge was doing with Devin when it failed, for the log.
#[derive(Debug)]
pub enum DevinStep {
    StartSession,
    FindSession,
    SendMessage { session_id: String },
}

/// How the note on the incident went, once its session started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteStatus {
    Added,
    /// Retried inside the budget and still not added; the session stands.
    Failed,
    /// No PagerDuty token: no notes.
    Off,
}

impl NoteStatus {
    fn as_str(self) -> &'static str {
        match self {
            NoteStatus::Added => "added",
            NoteStatus::Failed => "failed",
            NoteStatus::Off => "off",
        }
    }
}

impl Outcome {
    /// Whether the delivery is done for good: a repeat of it is answered from memory.
    pub fn is_complete(&self) -> bool {
        matches!(
            self,
            Outcome::SessionStarted { .. }
                | Outcome::SessionExists { .. }
                | Outcome::Forwarded { .. }
                | Outcome::DevinRejected { .. }
                | Outcome::SessionClosed { .. }
                | Outcome::Grouped { .. }
                | Outcome::Capped { .. }
                | Outcome::Shadow { .. }
                | Outcome::Merged { .. }
                | Outcome::Deferred { .. }
                | Outcome::SkippedResolved { .. }
                | Outcome::Superseded { .. }
                | Outcome::AlreadyDecided { .. }
                | Outcome::Commanded { .. }
                | Outcome::CommandRefused { .. }
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Outcome::Forbidden { .. } => StatusCode::FORBIDDEN,
            Outcome::NotFound => StatusCode::NOT_FOUND,
            Outcome::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Outcome::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Outcome::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Outcome::BadRequest(_) | Outcome::UndecodableBody => StatusCode::BAD_REQUEST,
            Outcome::DevinFailed { failure, .. } => match failure {
                Failure::Final(err) if err.is_rate_limit() => StatusCode::TOO_MANY_REQUESTS,
                Failure::Final(_) => StatusCode::BAD_GATEWAY,
                Failure::TimedOut | Failure::BudgetSpent => StatusCode::SERVICE_UNAVAILABLE,
            },
            Outcome::DevinMisconfigured { .. } | Outcome::PolicyTagsRefused { .. } => {
                StatusCode::BAD_GATEWAY
            }
            Outcome::SessionUncertain { .. }
            | Outcome::BeingCreated { .. }
            | Outcome::LedgerUnavailable(_)
            | Outcome::TooLate => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::ACCEPTED,
        }
    }

    /// The answer's JSON body, as sent.
    pub fn body(&self) -> String {
        let body = match self {
            Outcome::Repeat { body } => return body.clone(),
            Outcome::Forbidden { .. } => json!({"error": "forbidden"}),
            Outcome::NotFound => json!({"error": "not found"}),
            Outcome::MethodNotAllowed => json!({"error": "method not allowed"}),
            Outcome::TooLarge { .. } => json!({"error": "payload too large"}),
            Outcome::Unauthorized(_) => json!({"error": "unauthorized"}),
            Outcome::BadRequest(err) => json!({"error": "bad request", "detail": err.to_string()}),
            Outcome::Unusable(err) => json!({
                "status": "ignored", "event_type": err.event_type(),
                "reason": "its data is not an incident or a note the bridge can use",
            }),
            Outcome::UndecodableBody => {
                json!({"error": "bad request", "detail": "the body is marked base64 and is not"})
            }
            Outcome::Stale { occurred_at } => {
                json!({"status": "stale", "occurred_at": occurred_at})
            }
            Outcome::EventTypeIgnored { event_type } => {
                json!({"status": "ignored", "event_type": event_type})
            }
            Outcome::IgnoredByRule { rule, incident_id } => {
                json!({"status": "ignored", "rule": rule, "incident_id": incident_id})
            }
            Outcome::OwnNote { incident_id } => json!({
                "status": "ignored", "reason": "the bridge's own note", "incident_id": incident_id,
            }),
            Outcome::NoSession { incident_id } => {
                json!({"status": "no_session", "incident_id": incident_id})
            }
            Outcome::Superseded {
                incident_id,
                status,
            } => json!({"status": "superseded", "incident_id": incident_id, "now": status}),
            Outcome::DryRunSession {
                rule,
                incident_id,
                request,
                group,
                limits,
                deferred_until,
            } => json!({
                "status": "dry_run", "rule": rule, "incident_id": incident_id, "request": request,
                "group": group, "limits": limits, "deferred_until": deferred_until,
            }),
            Outcome::Grouped {
                rule,
                incident_id,
                session: joined,
                group,
                note,
            } => {
                let mut body = session_body("grouped", Some(rule), incident_id, joined);
                body["group"] = group.as_str().into();
                body["note"] = note.as_str().into();
                body
            }
            Outcome::Capped {
                rule,
                incident_id,
                slot,
                note,
            } => json!({
                "status": "capped", "rule": rule, "incident_id": incident_id,
                "limit": slot.limit, "scope": slot.scope, "cap": slot.cap,
                "refills_at": timestamp::rfc3339(slot.refills_at_ms), "note": note.as_str(),
            }),
            Outcome::Shadow {
                rule,
                incident_id,
                group,
                note,
            } => json!({
                "status": "shadow", "rule": rule, "incident_id": incident_id, "group": group,
                "note": note.as_str(),
            }),
            Outcome::Merged {
                incident_id,
                into,
                session: merged,
                theirs,
            } => {
                let mut body = session_body("merged", None, incident_id, merged);
                body["into"] = into.as_str().into();
                body["into_session_id"] = theirs
                    .as_ref()
                    .map(|theirs| theirs.session_id.as_str())
                    .into();
                body
            }
            Outcome::DryRunMessage {
                incident_id,
                message,
            } => json!({"status": "dry_run", "incident_id": incident_id, "message": message}),
            Outcome::SessionStarted {
                rule,
                incident_id,
                session: started,
                note,
            } => {
                let mut body = session_body("session_started", Some(rule), incident_id, started);
                body["note"] = note.as_str().into();
                body
            }
            Outcome::SessionExists {
                rule,
                incident_id,
                session: existing,
            } => session_body("session_exists", Some(rule), incident_id, existing),
            Outcome::Forwarded {
                incident_id,
                session: told,
            } => session_body("forwarded", None, incident_id, told),
            Outcome::DevinFailed { .. } | Outcome::SessionUncertain { .. } => {
                json!({"error": "Devin session not confirmed, retry later"})
            }
            Outcome::BeingCreated { .. } => {
                json!({"error": "the incident's session is being started, retry later"})
            }
            Outcome::DevinRejected {
                rule,
                incident_id,
                error,
                note,
            } => json!({
                "status": "devin_rejected", "rule": rule, "incident_id": incident_id,
                "devin_status": error.status().map(|status| status.as_u16()),
                "note": note.as_str(),
            }),
            Outcome::DevinMisconfigured { .. } | Outcome::PolicyTagsRefused { .. } => {
                json!({"error": "Devin refused the bridge's configuration, retry later"})
            }
            Outcome::SessionClosed {
                incident_id,
                session: closed,
            } => session_body("session_closed", None, incident_id, closed),
            Outcome::LedgerUnavailable(_) => {
                json!({"error": "the bridge's ledger is unavailable, retry later"})
            }
            Outcome::TooLate => json!({"error": "too late to answer in time, retry later"}),
            Outcome::Deferred {
                rule,
                incident_id,
                until_ms,
                note,
            } => json!({
                "status": "deferred", "rule": rule, "incident_id": incident_id,
                "until": timestamp::rfc3339(*until_ms), "note": note.as_str(),
            }),
            Outcome::SkippedResolved { incident_id } => {
                json!({"status": "skipped_resolved", "incident_id": incident_id})
            }
            Outcome::AlreadyDecided {
                incident_id,
                decision,
            } => json!({
                "status": "already_decided", "incident_id": incident_id, "decision": decision,
            }),
            Outcome::Commanded {
                incident_id,
                command,
                session,
                note,
            } => {
                let mut body = session_body("command", None, incident_id, session);
                body["command"] = (*command).into();
                body["note"] = note.as_str().into();
                body
            }
            Outcome::CommandRefused {
                incident_id,
                command,
                reason,
                note,
            } => json!({
                "status": "command_refused", "command": command, "incident_id": incident_id,
                "reason": reason, "note": note.as_str(),
            }),
        };
        body.to_string()
    }

    /// Logs the line that says how the delivery ended (inside its span).
    pub fn log(&self) {
        match self {
            Outcome::NotFound | Outcome::MethodNotAllowed => {}
            Outcome::Forbidden { source } => {
                warn!(source = %source, "delivery refused: the source is not in ALLOWED_SOURCE_CIDRS");
            }
            Outcome::UndecodableBody => {
                warn!("delivery refused: the body is marked base64 and is not");
            }
            Outcome::Stale { occurred_at } => warn!(
                occurred_at = %occurred_at,
                "delivery refused: it happened longer ago than PagerDuty retries anything (a replay?); nothing started"
            ),
            Outcome::TooLarge { bytes } => {
                warn!(bytes, "delivery refused: body too large");
            }
            Outcome::Unauthorized(rejection) => {
                warn!(check = rejection.check(), reason = %rejection, "delivery refused");
            }
            Outcome::BadRequest(err) => {
                warn!(error = %err, "delivery refused: not what a webhook v3 delivery carries");
            }
            Outcome::Unusable(err) => {
                warn!(error = %err, "delivery ignored: its data is not what its event type carries");
            }
            Outcome::Repeat { .. } => {
                info!("repeat of a completed delivery: answered from memory, Devin not called");
            }
            Outcome::EventTypeIgnored { .. } => info!(
                "event ignored: the routing policy neither starts an investigation on this event type nor forwards it"
            ),
            Outcome::IgnoredByRule { .. } => info!("incident ignored by the routing policy"),
            Outcome::OwnNote { .. } => info!("the bridge's own note: not sent back to Devin"),
            Outcome::NoSession { .. } => {
                info!("no Devin session for this incident: nothing to tell");
            }
            Outcome::Superseded { status, .. } => {
                info!(%status, "the incident has moved past this event: nothing told");
            }
            Outcome::DryRunSession { request, .. } => {
                info!(request = %request, "dry run: this session request was not sent to Devin");
            }
            Outcome::DryRunMessage { message, .. } => {
                info!(message = %message, "dry run: this message was not sent to Devin");
            }
            Outcome::SessionStarted { session, .. } => {
                info!(session_id = %session.session_id, url = %session.url, "Devin session started");
            }
            Outcome::SessionExists { session, .. } => info!(
                session_id = %session.session_id, url = %session.url,
                "the incident already has a Devin session: none started"
            ),
            Outcome::Forwarded { session, .. } => {
                info!(session_id = %session.session_id, "forwarded to the Devin session");
            }
            Outcome::DevinFailed { step, failure } => match step {
                DevinStep::StartSession => error!(
                    error = %failure,
                    "Devin session not started; PagerDuty will retry the delivery"
                ),
                DevinStep::FindSession => error!(
                    error = %failure,
                    "Devin session not found; PagerDuty will retry the delivery"
                ),
                DevinStep::SendMessage { session_id } => error!(
                    error = %failure, session_id = %session_id,
                    "message not delivered to the Devin session; PagerDuty will retry"
                ),
            },
            Outcome::SessionUncertain { failure } => error!(
                error = %failure,
                "Devin may have started the session: the claim holds until its lease ends, then a retry looks the session up"
            ),
            Outcome::BeingCreated { .. } => info!(
                "another delivery is starting this incident's session; PagerDuty will come back"
            ),
            Outcome::DevinRejected { error, .. } => error!(
                devin_status = error.status().map(|status| status.as_u16()),
                error = %error,
                "Devin refused to start the session; no retry can change that"
            ),
            Outcome::DevinMisconfigured { error } => {
                let status = error.status().map(|status| status.as_u16());
                if status == Some(403) {
                    error!(
                        devin_status = status, error = %error,
                        "Devin answered 403 to a session create: the service user lacks ManageOrgSessions in the organization DEVIN_ORG_ID; no session starts until it has it; PagerDuty will retry the delivery"
                    );
                } else {
                    error!(
                        devin_status = status, error = %error,
                        "Devin answered 404 to a session create: DEVIN_ORG_ID names no organization of this API key (or the API path moved); no session starts until it is fixed; PagerDuty will retry the delivery"
                    );
                }
            }
            Outcome::PolicyTagsRefused { rule, tags, error } => error!(
                devin_status = error.status().map(|status| status.as_u16()),
                error = %error, rule = %rule, tags = ?tags,
                "Devin refused a session create for the routing policy's own tags (the incident's were already left out): allow-list the policy's tags in the Devin organization's tag settings (or change the rule's tags); no session starts until then; PagerDuty will retry the delivery"
            ),
            Outcome::SessionClosed { session, .. } => warn!(
                session_id = %session.session_id,
                "the Devin session takes no more messages: nothing sent"
            ),
            Outcome::LedgerUnavailable(err) => error!(
                error = %err,
                "the ledger is unavailable: nothing started; PagerDuty will retry the delivery"
            ),
            Outcome::Grouped { session, group, .. } => info!(
                session_id = %session.session_id, group = %group,
                "incident grouped into its group's Devin session: none started"
            ),
            Outcome::Capped { slot, .. } => warn!(
                limit = slot.limit, scope = %slot.scope, cap = slot.cap,
                refills_at = %timestamp::rfc3339(slot.refills_at_ms),
                "a session budget is spent: no session started"
            ),
            Outcome::Shadow { .. } => info!("shadow mode: no session started"),
            Outcome::Merged { session, into, theirs, .. } => info!(
                session_id = %session.session_id, into = %into,
                into_session_id = theirs.as_ref().map(|theirs| theirs.session_id.as_str()),
                "a merged incident's session was handed to the incident it went into"
            ),
            Outcome::TooLate => warn!(
                "the request waited past the delivery budget before the function got it (a slow cold start?): nothing started; PagerDuty will retry"
            ),
            Outcome::Deferred { until_ms, .. } => info!(
                until = %timestamp::rfc3339(*until_ms),
                "the routing policy defers this incident's session: the follow-up starts it then if the incident is still open"
            ),
            Outcome::SkippedResolved { .. } => {
                info!("the incident resolved while its session was deferred: none started");
            }
            Outcome::AlreadyDecided { decision, .. } => {
                info!(decision, "an earlier start decided this incident: nothing to start");
            }
            Outcome::Commanded {
                command, session, ..
            } => info!(command, session_id = %session.session_id, "note command carried out"),
            Outcome::CommandRefused {
                command, reason, ..
            } => warn!(command, reason = %reason, "note command refused"),
        }
    }

    /// What the outcome counts in the delivery's metrics (Devin's errors and latency are
    /// counted by the calls themselves).
    pub fn count(&self, tally: &mut Tally) {
        match self {
            Outcome::Unauthorized(_) | Outcome::Forbidden { .. } => {
                tally.verification_failures = 1;
            }
            Outcome::BadRequest(_) => tally.deliveries_refused = 1,
            Outcome::Stale { .. } => tally.deliveries_ignored = 1,
            Outcome::Repeat { .. } | Outcome::SessionExists { .. } => {
                tally.duplicates_suppressed = 1;
            }
            Outcome::EventTypeIgnored { .. }
            | Outcome::Unusable(_)
            | Outcome::IgnoredByRule { .. }
            | Outcome::OwnNote { .. }
            | Outcome::NoSession { .. }
            | Outcome::Superseded { .. }
            | Outcome::SkippedResolved { .. }
            | Outcome::AlreadyDecided { .. } => tally.deliveries_ignored = 1,
            Outcome::Deferred { .. } => tally.incidents_deferred = 1,
            Outcome::SessionStarted { .. } => tally.sessions_started = 1,
            Outcome::DevinRejected { .. } => tally.devin_rejected = 1,
            Outcome::LedgerUnavailable(_) => tally.ledger_errors = 1,
            Outcome::Grouped { .. } => tally.incidents_grouped = 1,
            Outcome::Capped { .. } => tally.sessions_capped = 1,
            _ => {}
        }
    }

    /// The HTTP answer, with `body` (from [`Outcome::body`]).
    pub fn answer(&self, body: String) -> Answer {
        let retry_after = match self {
            Outcome::DevinFailed { failure, .. } => match failure {
                Failure::Final(DevinError::Status { retry_after, .. })
                    if self.status() == StatusCode::TOO_MANY_REQUESTS =>
                {
                    retry_after.clone()
                }
                Failure::TimedOut | Failure::BudgetSpent => {
                    Some(HeaderValue::from_static(RETRY_AFTER_SECONDS))
                }
                Failure::Final(_) => None,
            },
            Outcome::SessionUncertain { .. }
            | Outcome::BeingCreated { .. }
            | Outcome::LedgerUnavailable(_)
            | Outcome::TooLate => Some(HeaderValue::from_static(RETRY_AFTER_SECONDS)),
            _ => None,
        };
        let allow =
            matches!(self, Outcome::MethodNotAllowed).then(|| HeaderValue::from_static("POST"));
        Answer {
            status: self.status().as_u16(),
            retry_after,
            allow,
            body,
        }
    }
}

/// The body of an answer about a session: its status, the incident, the session and its link,
/// and the rule that decided when there was one.
fn session_body(status: &str, rule: Option<&str>, incident_id: &str, session: &Session) -> Value {
    let mut body = json!({
        "status": status,
        "incident_id": incident_id,
        "session_id": session.session_id,
        "url": session.url,
    });
    if let Some(rule) = rule {
        body["rule"] = rule.into();
    }
    body
}
