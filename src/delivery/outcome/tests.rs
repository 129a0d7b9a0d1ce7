//! The answer table checked by class (a refusal is a 4xx, a retry a 429 or 5xx, a done a 202
//! with a `status`) and byte for byte against the answers the bridge has always given.

use std::collections::BTreeSet;
use std::time::Duration;

use http::{HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::*;
use crate::edge::devin::DevinError;
use crate::edge::ledger::LedgerError;
use crate::edge::retry::Failure;
use pure::inbound::verify::Rejection;
use pure::inbound::webhook::ParseError;
use pure::life::session::Session;
use pure::policy::spend::Slot;

fn session(n: u8) -> Session {
    Session {
        session_id: format!("devin-{n}"),
        url: format!("https://app.devin.ai/sessions/{n}"),
    }
}

fn devin(status: u16, retry_after: Option<&'static str>) -> DevinError {
    DevinError::Status {
        status: StatusCode::from_u16(status).unwrap(),
        retry_after: retry_after.map(HeaderValue::from_static),
        said: "said \"so\"".into(),
        refused_tags: false,
    }
}

fn envelope() -> ParseError {
    ParseError::Envelope(serde_json::from_str::<Value>("{").unwrap_err())
}

fn no_data() -> ParseError {
    ParseError::NoData {
        event_id: "E1".into(),
        event_type: "incident.triggered".into(),
    }
}

fn slot() -> Slot {
    Slot {
        key: "k".into(),
        cap: 3,
        limit: "sessions_per_hour",
        scope: "rule db".into(),
        refills_at_ms: 1_700_000_000_000,
    }
}

fn rule() -> String {
    "db".into()
}

fn incident() -> String {
    "P1".into()
}

/// A sample of an answer, and how the bridge answered it before the answers were a typed table:
/// its name, the outcome; the status, `Retry-After`, whether a repeat is answered from memory,
/// the metric it counts, and its body byte for byte (keys sorted, as `serde_json`'s map keeps
/// them).
type Row = (
    &'static str,
    Outcome,
    u16,
    Option<&'static str>,
    bool,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
fn table() -> Vec<Row> {
    let failed = |step, failure| -> Outcome { Retry::DevinFailed { step, failure }.into() };
    let send = || DevinStep::SendMessage { session_id: "devin-9".into() };
    let timeout = || DevinError::Timeout(Duration::from_secs(2));
    vec![
        ("forbidden", Refused::Forbidden { source: "1.2.3.4".into() }.into(),
            403, None, false, "verification_failures", r#"{"error":"forbidden"}"#),
        ("not_found", Refused::NotFound.into(),
            404, None, false, "", r#"{"error":"not found"}"#),
        ("method", Refused::MethodNotAllowed.into(),
            405, None, false, "", r#"{"error":"method not allowed"}"#),
        ("too_large", Refused::TooLarge { bytes: 2_000_000 }.into(),
            413, None, false, "", r#"{"error":"payload too large"}"#),
        ("undecodable", Refused::UndecodableBody.into(),
            400, None, false, "", r#"{"detail":"the body is marked base64 and is not","error":"bad request"}"#),
        ("unauthorized", Refused::Unauthorized(Rejection::SignatureMismatch).into(),
            401, None, false, "verification_failures", r#"{"error":"unauthorized"}"#),
        ("bad_request_envelope", Refused::BadRequest(envelope()).into(),
            400, None, false, "deliveries_refused", r#"{"detail":"the body is not a PagerDuty v3 delivery: EOF while parsing an object at line 1 column 1","error":"bad request"}"#),
        ("bad_request_no_data", Refused::BadRequest(no_data()).into(),
            400, None, false, "deliveries_refused", r#"{"detail":"event E1 (incident.triggered) carries no data","error":"bad request"}"#),
        ("unusable_envelope", Done::Unusable(envelope()).into(),
            202, None, false, "deliveries_ignored", r#"{"event_type":null,"reason":"its data is not an incident or a note the bridge can use","status":"ignored"}"#),
        ("unusable_no_data", Done::Unusable(no_data()).into(),
            202, None, false, "deliveries_ignored", r#"{"event_type":"incident.triggered","reason":"its data is not an incident or a note the bridge can use","status":"ignored"}"#),
        ("repeat", Outcome::Repeat { body: r#"{"status":"forwarded"}"#.into() },
            202, None, false, "duplicates_suppressed", r#"{"status":"forwarded"}"#),
        ("stale", Done::Stale { occurred_at: "2020-01-01T00:00:00Z".into() }.into(),
            202, None, false, "deliveries_ignored", r#"{"occurred_at":"2020-01-01T00:00:00Z","status":"stale"}"#),
        ("event_type_ignored", Done::EventTypeIgnored { event_type: "incident.acknowledged".into() }.into(),
            202, None, false, "deliveries_ignored", r#"{"event_type":"incident.acknowledged","status":"ignored"}"#),
        ("ignored_by_rule", Done::IgnoredByRule { rule: rule(), incident_id: incident() }.into(),
            202, None, false, "deliveries_ignored", r#"{"incident_id":"P1","rule":"db","status":"ignored"}"#),
        ("own_note", Done::OwnNote { incident_id: incident() }.into(),
            202, None, false, "deliveries_ignored", r#"{"incident_id":"P1","reason":"the bridge's own note","status":"ignored"}"#),
        ("no_session", Done::NoSession { incident_id: incident() }.into(),
            202, None, false, "deliveries_ignored", r#"{"incident_id":"P1","status":"no_session"}"#),
        ("superseded", Done::Superseded { incident_id: incident(), status: "resolved".into() }.into(),
            202, None, true, "deliveries_ignored", r#"{"incident_id":"P1","now":"resolved","status":"superseded"}"#),
        ("stopped_by_person", Done::StoppedByPerson { incident_id: incident(), session: session(3) }.into(),
            202, None, true, "", r#"{"incident_id":"P1","session_id":"devin-3","status":"stopped_by_person","url":"https://app.devin.ai/sessions/3"}"#),
        ("dry_run_session", Done::DryRunSession { rule: rule(), incident_id: incident(), request: json!({"prompt": "p", "tags": ["a"]}), group: Some("g".into()), limits: json!([{"limit": "sessions_per_hour"}]), deferred_until: None }.into(),
            202, None, false, "", r#"{"deferred_until":null,"group":"g","incident_id":"P1","limits":[{"limit":"sessions_per_hour"}],"request":{"prompt":"p","tags":["a"]},"rule":"db","status":"dry_run"}"#),
        ("dry_run_session2", Done::DryRunSession { rule: rule(), incident_id: incident(), request: json!({"prompt": "p"}), group: None, limits: json!([]), deferred_until: Some("2030-01-01T00:00:00Z".into()) }.into(),
            202, None, false, "", r#"{"deferred_until":"2030-01-01T00:00:00Z","group":null,"incident_id":"P1","limits":[],"request":{"prompt":"p"},"rule":"db","status":"dry_run"}"#),
        ("dry_run_message", Done::DryRunMessage { incident_id: incident(), message: "hello\n\"x\"".into() }.into(),
            202, None, false, "", r#"{"incident_id":"P1","message":"hello\n\"x\"","status":"dry_run"}"#),
        ("session_started", Done::SessionStarted { rule: rule(), incident_id: incident(), session: session(1), note: NoteStatus::Added }.into(),
            202, None, true, "sessions_started", r#"{"incident_id":"P1","note":"added","rule":"db","session_id":"devin-1","status":"session_started","url":"https://app.devin.ai/sessions/1"}"#),
        ("session_exists", Done::SessionExists { rule: rule(), incident_id: incident(), session: session(2) }.into(),
            202, None, true, "duplicates_suppressed", r#"{"incident_id":"P1","rule":"db","session_id":"devin-2","status":"session_exists","url":"https://app.devin.ai/sessions/2"}"#),
        ("forwarded", Done::Forwarded { incident_id: incident(), session: session(3) }.into(),
            202, None, true, "", r#"{"incident_id":"P1","session_id":"devin-3","status":"forwarded","url":"https://app.devin.ai/sessions/3"}"#),
        ("devin_failed_429", failed(DevinStep::StartSession, Failure::Final(devin(429, Some("30")))),
            429, Some("30"), false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("devin_failed_429_none", failed(DevinStep::FindSession, Failure::Final(devin(429, None))),
            429, None, false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("devin_failed_500", failed(send(), Failure::Final(devin(500, Some("30")))),
            502, None, false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("devin_failed_timeout", failed(DevinStep::StartSession, Failure::Final(timeout())),
            502, None, false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("devin_failed_timed_out", failed(DevinStep::StartSession, Failure::TimedOut),
            503, Some("5"), false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("devin_failed_budget", failed(DevinStep::FindSession, Failure::BudgetSpent),
            503, Some("5"), false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("uncertain", Retry::SessionUncertain { failure: Failure::TimedOut }.into(),
            503, Some("5"), false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("uncertain_final", Retry::SessionUncertain { failure: Failure::Final(devin(500, None)) }.into(),
            503, Some("5"), false, "", r#"{"error":"Devin session not confirmed, retry later"}"#),
        ("being_created", Retry::BeingCreated { incident_id: incident() }.into(),
            503, Some("5"), false, "", r#"{"error":"the incident's session is being started, retry later"}"#),
        ("devin_rejected", Done::DevinRejected { rule: rule(), incident_id: incident(), error: devin(422, None), note: NoteStatus::Failed }.into(),
            202, None, true, "devin_rejected", r#"{"devin_status":422,"incident_id":"P1","note":"failed","rule":"db","status":"devin_rejected"}"#),
        ("devin_rejected_nostatus", Done::DevinRejected { rule: rule(), incident_id: incident(), error: DevinError::Timeout(Duration::from_secs(1)), note: NoteStatus::Off }.into(),
            202, None, true, "devin_rejected", r#"{"devin_status":null,"incident_id":"P1","note":"off","rule":"db","status":"devin_rejected"}"#),
        ("misconfigured_403", Retry::DevinMisconfigured { error: devin(403, None) }.into(),
            502, None, false, "", r#"{"error":"Devin refused the bridge's configuration, retry later"}"#),
        ("misconfigured_404", Retry::DevinMisconfigured { error: devin(404, None) }.into(),
            502, None, false, "", r#"{"error":"Devin refused the bridge's configuration, retry later"}"#),
        ("policy_tags", Retry::PolicyTagsRefused { rule: rule(), tags: vec!["a".into(), "b".into()], error: devin(400, None) }.into(),
            502, None, false, "", r#"{"error":"Devin refused the bridge's configuration, retry later"}"#),
        ("session_closed", Done::SessionClosed { incident_id: incident(), session: session(4) }.into(),
            202, None, true, "", r#"{"incident_id":"P1","session_id":"devin-4","status":"session_closed","url":"https://app.devin.ai/sessions/4"}"#),
        ("ledger", Retry::LedgerUnavailable(LedgerError::Unavailable("down".into())).into(),
            503, Some("5"), false, "ledger_errors", r#"{"error":"the bridge's ledger is unavailable, retry later"}"#),
        ("grouped", Done::Grouped { rule: rule(), incident_id: incident(), session: session(5), group: "db:x".into(), note: NoteStatus::Off }.into(),
            202, None, true, "incidents_grouped", r#"{"group":"db:x","incident_id":"P1","note":"off","rule":"db","session_id":"devin-5","status":"grouped","url":"https://app.devin.ai/sessions/5"}"#),
        ("capped", Done::Capped { rule: rule(), incident_id: incident(), slot: slot(), note: NoteStatus::Added }.into(),
            202, None, true, "sessions_capped", r#"{"cap":3,"incident_id":"P1","limit":"sessions_per_hour","note":"added","refills_at":"2023-11-14T22:13:20.000Z","rule":"db","scope":"rule db","status":"capped"}"#),
        ("shadow", Done::Shadow { rule: rule(), incident_id: incident(), group: None, note: NoteStatus::Failed }.into(),
            202, None, true, "", r#"{"group":null,"incident_id":"P1","note":"failed","rule":"db","status":"shadow"}"#),
        ("shadow_group", Done::Shadow { rule: rule(), incident_id: incident(), group: Some("g".into()), note: NoteStatus::Added }.into(),
            202, None, true, "", r#"{"group":"g","incident_id":"P1","note":"added","rule":"db","status":"shadow"}"#),
        ("merged", Done::Merged { incident_id: incident(), into: "P2".into(), session: session(6), theirs: None }.into(),
            202, None, true, "", r#"{"incident_id":"P1","into":"P2","into_session_id":null,"session_id":"devin-6","status":"merged","url":"https://app.devin.ai/sessions/6"}"#),
        ("merged_theirs", Done::Merged { incident_id: incident(), into: "P2".into(), session: session(6), theirs: Some(session(7)) }.into(),
            202, None, true, "", r#"{"incident_id":"P1","into":"P2","into_session_id":"devin-7","session_id":"devin-6","status":"merged","url":"https://app.devin.ai/sessions/6"}"#),
        ("too_late", Retry::TooLate.into(),
            503, Some("5"), false, "", r#"{"error":"too late to answer in time, retry later"}"#),
        ("deferred", Done::Deferred { rule: rule(), incident_id: incident(), until_ms: 1_700_000_123_456, note: NoteStatus::Off }.into(),
            202, None, true, "incidents_deferred", r#"{"incident_id":"P1","note":"off","rule":"db","status":"deferred","until":"2023-11-14T22:15:23.456Z"}"#),
        ("skipped_resolved", Done::SkippedResolved { incident_id: incident() }.into(),
            202, None, true, "deliveries_ignored", r#"{"incident_id":"P1","status":"skipped_resolved"}"#),
        ("already_decided", Done::AlreadyDecided { incident_id: incident(), decision: "capped" }.into(),
            202, None, true, "deliveries_ignored", r#"{"decision":"capped","incident_id":"P1","status":"already_decided"}"#),
        ("commanded", Done::Commanded { incident_id: incident(), command: "stop", session: session(8), note: NoteStatus::Added }.into(),
            202, None, true, "", r#"{"command":"stop","incident_id":"P1","note":"added","session_id":"devin-8","status":"command","url":"https://app.devin.ai/sessions/8"}"#),
        ("command_refused", Done::CommandRefused { incident_id: incident(), command: "status", reason: "no session".into(), note: NoteStatus::Failed }.into(),
            202, None, true, "", r#"{"command":"status","incident_id":"P1","note":"failed","reason":"no session","status":"command_refused"}"#),
    ]
}

/// Each variant's name: a new variant does not compile here until it is named, and then fails
/// [`every_variant_has_a_sample`] until the table has one.
fn variant(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Refused(refused) => match refused {
            Refused::Forbidden { .. } => "Forbidden",
            Refused::NotFound => "NotFound",
            Refused::MethodNotAllowed => "MethodNotAllowed",
            Refused::TooLarge { .. } => "TooLarge",
            Refused::UndecodableBody => "UndecodableBody",
            Refused::Unauthorized(_) => "Unauthorized",
            Refused::BadRequest(_) => "BadRequest",
        },
        Outcome::Retry(retry) => match retry {
            Retry::DevinFailed { .. } => "DevinFailed",
            Retry::SessionUncertain { .. } => "SessionUncertain",
            Retry::BeingCreated { .. } => "BeingCreated",
            Retry::DevinMisconfigured { .. } => "DevinMisconfigured",
            Retry::PolicyTagsRefused { .. } => "PolicyTagsRefused",
            Retry::LedgerUnavailable(_) => "LedgerUnavailable",
            Retry::TooLate => "TooLate",
        },
        Outcome::Done(done) => match done {
            Done::Unusable(_) => "Unusable",
            Done::Stale { .. } => "Stale",
            Done::EventTypeIgnored { .. } => "EventTypeIgnored",
            Done::IgnoredByRule { .. } => "IgnoredByRule",
            Done::OwnNote { .. } => "OwnNote",
            Done::NoSession { .. } => "NoSession",
            Done::Superseded { .. } => "Superseded",
            Done::DryRunSession { .. } => "DryRunSession",
            Done::DryRunMessage { .. } => "DryRunMessage",
            Done::SessionStarted { .. } => "SessionStarted",
            Done::SessionExists { .. } => "SessionExists",
            Done::Forwarded { .. } => "Forwarded",
            Done::DevinRejected { .. } => "DevinRejected",
            Done::SessionClosed { .. } => "SessionClosed",
            Done::StoppedByPerson { .. } => "StoppedByPerson",
            Done::Grouped { .. } => "Grouped",
            Done::Capped { .. } => "Capped",
            Done::Shadow { .. } => "Shadow",
            Done::Merged { .. } => "Merged",
            Done::Deferred { .. } => "Deferred",
            Done::SkippedResolved { .. } => "SkippedResolved",
            Done::AlreadyDecided { .. } => "AlreadyDecided",
            Done::Commanded { .. } => "Commanded",
            Done::CommandRefused { .. } => "CommandRefused",
        },
        Outcome::Repeat { .. } => "Repeat",
    }
}

/// How many variants [`variant`] names.
const VARIANTS: usize = 39;

/// The one metric a tally counts, if any.
fn counted(tally: &Tally) -> &'static str {
    let counts = [
        ("sessions_started", tally.sessions_started),
        ("duplicates_suppressed", tally.duplicates_suppressed),
        ("deliveries_ignored", tally.deliveries_ignored),
        ("verification_failures", tally.verification_failures),
        ("deliveries_refused", tally.deliveries_refused),
        ("devin_errors", tally.devin_errors),
        ("devin_rejected", tally.devin_rejected),
        ("ledger_errors", tally.ledger_errors),
        ("incidents_grouped", tally.incidents_grouped),
        ("sessions_capped", tally.sessions_capped),
        ("incidents_deferred", tally.incidents_deferred),
        ("note_commands", tally.note_commands),
    ];
    let mut counted = counts.into_iter().filter(|(_, count)| *count > 0);
    let name = counted.next().map_or("", |(name, count)| {
        assert_eq!(count, 1, "{name}");
        name
    });
    assert!(counted.next().is_none(), "{tally:?}");
    name
}

fn answer(outcome: &Outcome) -> Answer {
    outcome.answer(outcome.body())
}

fn retry_after(answer: &Answer) -> Option<&str> {
    answer
        .retry_after
        .as_ref()
        .map(|value| value.to_str().unwrap())
}

fn is_retried(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

#[test]
fn every_variant_has_a_sample() {
    let named: BTreeSet<_> = table().iter().map(|row| variant(&row.1)).collect();
    assert_eq!(named.len(), VARIANTS, "{named:?}");
}

#[test]
fn every_answer_is_the_same_as_before_byte_for_byte() {
    for (name, outcome, status, retry_after_was, complete, metric, body) in table() {
        let sent = answer(&outcome);
        assert_eq!(sent.status, status, "{name}");
        assert_eq!(outcome.status().as_u16(), status, "{name}");
        assert_eq!(retry_after(&sent), retry_after_was, "{name}");
        assert_eq!(outcome.is_complete(), complete, "{name}");
        assert_eq!(sent.body, body, "{name}");
        let mut tally = Tally::default();
        outcome.count(&mut tally);
        assert_eq!(counted(&tally), metric, "{name}");
        let allow = sent.allow.as_ref().map(|allow| allow.to_str().unwrap());
        assert_eq!(allow, (name == "method").then_some("POST"), "{name}");
    }
}

#[test]
fn a_refusal_is_a_4xx_that_pagerduty_never_retries() {
    for (name, outcome, ..) in table() {
        let Outcome::Refused(_) = outcome else {
            continue;
        };
        let sent = answer(&outcome);
        let status = StatusCode::from_u16(sent.status).unwrap();
        assert!(status.is_client_error() && !is_retried(status), "{name}");
        assert_eq!(retry_after(&sent), None, "{name}");
        let body: Value = serde_json::from_str(&sent.body).unwrap();
        assert!(
            body["error"].is_string() && body.get("status").is_none(),
            "{name}: {body}"
        );
        assert!(!outcome.is_complete(), "{name}");
    }
}

#[test]
fn a_retry_is_a_429_or_a_5xx_and_a_503_says_when_to_come_back() {
    for (name, outcome, ..) in table() {
        let Outcome::Retry(_) = outcome else { continue };
        let sent = answer(&outcome);
        let status = StatusCode::from_u16(sent.status).unwrap();
        assert!(is_retried(status), "{name}");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(retry_after(&sent), Some("5"), "{name}");
        }
        let body: Value = serde_json::from_str(&sent.body).unwrap();
        assert!(
            body["error"].is_string() && body.get("status").is_none(),
            "{name}: {body}"
        );
        assert!(!outcome.is_complete(), "{name}");
    }
    let devin_said = Some(HeaderValue::from_static("30"));
    let agains = [
        Again::Soon,
        Again::RateLimited(None),
        Again::RateLimited(devin_said),
        Again::AfterAFix,
    ];
    for again in agains {
        assert!(is_retried(again.status()), "{again:?}");
    }
}

#[test]
fn a_done_is_a_202_whose_body_says_what_was_done() {
    for (name, outcome, ..) in table() {
        let Outcome::Done(_) = outcome else { continue };
        let sent = answer(&outcome);
        assert_eq!(sent.status, 202, "{name}");
        assert!(sent.retry_after.is_none() && sent.allow.is_none(), "{name}");
        let body: Value = serde_json::from_str(&sent.body).unwrap();
        let status = body["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {body}"));
        assert!(
            !status.is_empty() && body.get("error").is_none(),
            "{name}: {body}"
        );
    }
}

#[test]
fn only_a_done_is_answered_again_from_memory() {
    for (name, outcome, ..) in table() {
        if outcome.is_complete() {
            assert!(matches!(outcome, Outcome::Done(_)), "{name}");
            assert_eq!(outcome.status(), StatusCode::ACCEPTED, "{name}");
        }
    }
}
