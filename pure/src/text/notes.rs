//! What the bridge writes on PagerDuty incidents: that a session started, that the incident
//! joined its group's session, that a budget is spent, what shadow mode would have started.
//! Every note starts with the marker, so it is never sent back to Devin.

use crate::inbound::timestamp;
use crate::life::session::{Session, SessionRequest};
use crate::policy::spend::Slot;
use crate::policy::Decision;
use crate::text::quote;

/// Marks the notes the bridge writes on incidents, so that they are never sent back to Devin
/// when PagerDuty reports them as `incident.annotated`.
pub const BRIDGE_NOTE_MARKER: &str = "[pagerduty-devin-bridge]";

/// The note the responders find on the incident once its session has started.
pub fn session_started_note(
    session: &Session,
    request: &SessionRequest,
    decision: &Decision<'_>,
) -> String {
    let mut note = format!(
        "{BRIDGE_NOTE_MARKER} Devin is investigating this incident: {}\n",
        session.url
    );
    match decision.prompt {
        None => note.push_str(
            "Asked to: pull the service's recent logs and metrics, find the root cause, open a \
             hotfix pull request if the cause is in code (never merge or deploy it), and post \
             the findings to the team's incident channel.\n",
        ),
        Some(_) => {
            note.push_str("Asked, by the routing policy's brief:\n");
            note.push_str(&request.prompt);
            note.push('\n');
        }
    }
    note.push_str(&format!("Routing rule: {}", decision.rule));
    if let Some(playbook) = decision.playbook_id {
        note.push_str(&format!("; playbook {playbook}"));
    }
    if let Some(cap) = decision.max_acu_limit {
        note.push_str(&format!("; at most {cap} ACUs"));
    }
    note.push_str(".\n");
    if decision.structured_output {
        note.push_str("Its findings and questions will be noted here as it works. ");
    }
    note.push_str(&format!(
        "Notes you add here reach Devin; resolving the incident asks it to wrap up. (Session {})",
        session.session_id
    ));
    note
}

/// Whether a note on an incident is one the bridge wrote: it starts with the marker.
pub fn is_bridge_note(content: &str) -> bool {
    content.trim_start().starts_with(BRIDGE_NOTE_MARKER)
}

/// The note on an incident that joined its group's session.
pub fn grouped_note(
    leader_number: Option<u64>,
    leader_id: &str,
    session: &Session,
    group: &str,
) -> String {
    let leader = leader_number.map_or_else(|| leader_id.to_owned(), |n| format!("#{n}"));
    format!(
        "{BRIDGE_NOTE_MARKER} Grouped with {leader} into Devin session {}: incidents of the group \
         {group:?} share one investigation. Notes you add here reach that session. (Session {})",
        session.url, session.session_id
    )
}

/// The note on an incident not investigated because a budget is spent.
/// `retried`: this was the one more try when the budget refilled (`pure::life`), and nothing
/// tries again but a person.
pub fn capped_note(slot: &Slot, retried: bool) -> String {
    let next = if retried {
        "It was spent again when it refilled: the bridge tries no more. Write `devin investigate` \
         to start the investigation anyway."
            .to_owned()
    } else {
        format!(
            "It refills at {}, and the bridge tries once more then if the incident is still open; \
             `devin investigate` starts it now.",
            timestamp::utc_minute(slot.refills_at_ms)
        )
    };
    format!(
        "{BRIDGE_NOTE_MARKER} Devin is not investigating this incident: the {} budget \
         {} ({} sessions) is spent. {next}",
        slot.scope, slot.limit, slot.cap,
    )
}

/// The note on an incident whose session the routing policy defers.
pub fn deferred_note(rule: &str, until_ms: u64) -> String {
    format!(
        "{BRIDGE_NOTE_MARKER} Devin will start investigating this incident at {} if it is still \
         open then (routing rule {rule} waits: incidents that resolve themselves cost nothing).",
        timestamp::utc_minute(until_ms)
    )
}

/// The note on a command the bridge did not carry out, and why.
pub fn command_refused_note(command: &str, reason: &str) -> String {
    format!("{BRIDGE_NOTE_MARKER} `{command}` was not carried out: {reason}")
}

/// The note on an incident whose session a responder stopped.
pub fn stopped_note(session: &Session, who: Option<&str>) -> String {
    let who = who.map_or_else(String::new, |who| {
        format!(" by {}", quote::plain_line(who, 80))
    });
    format!(
        "{BRIDGE_NOTE_MARKER} Devin's session was stopped (devin stop{who}): {}. Write `devin \
         investigate` to start a new one.",
        session.url
    )
}

/// The note on an incident that left its group's session (`devin stop` while other incidents
/// of the group are still open): the session carries on for them.
pub fn left_group_note(session: &Session, who: Option<&str>, still_open: u32) -> String {
    let who = who.map_or_else(String::new, |who| {
        format!(" by {}", quote::plain_line(who, 80))
    });
    format!(
        "{BRIDGE_NOTE_MARKER} Devin's session no longer investigates this incident (devin \
         stop{who}): {}. It carries on for the {still_open} other open incident(s) it works for \
         (its group's, or the one this incident was merged into). Write `devin stop all` to end \
         the session for every incident it works for, or `devin investigate` to start a new one \
         for this incident.",
        session.url
    )
}

/// The note on an incident that already has a session, when a responder asks for one.
pub fn already_investigating_note(session: &Session) -> String {
    format!(
        "{BRIDGE_NOTE_MARKER} Devin is already investigating this incident: {}",
        session.url
    )
}

/// The note shadow mode writes instead of starting a session.
pub fn shadow_note(
    decision: &Decision<'_>,
    request: &SessionRequest,
    group: Option<&str>,
) -> String {
    let mut note = format!(
        "{BRIDGE_NOTE_MARKER} Shadow mode (routing rule {}): no session was started. Devin would \
         have been asked, with the title {:?}",
        decision.rule,
        request.title.as_deref().unwrap_or_default()
    );
    if let Some(group) = group {
        note.push_str(&format!(", in the group {group:?}"));
    }
    note.push_str(":\n");
    note.push_str(&request.prompt);
    note
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;
    use crate::inbound::webhook::INCIDENT_TRIGGERED;
    use crate::policy::Policy;
    use crate::samples::{facts, incident};
    use crate::text::brief::session_request;

    #[test]
    fn an_incident_that_leaves_its_group_says_how_to_stop_the_session_for_all() {
        let session = Session {
            session_id: "devin-1".into(),
            url: "https://app.devin.ai/sessions/1".into(),
        };
        let note = left_group_note(&session, Some("Dana\n`devin stop all`"), 2);
        assert!(note.starts_with(BRIDGE_NOTE_MARKER) && is_bridge_note(&note));
        assert!(note.contains("sessions/1") && note.contains("the 2 other open incident(s)"));
        assert!(note.contains("Write `devin stop all` to end the session for every incident"));
        assert!(
            !note.contains('\n'),
            "the author's name stays on one line: {note}"
        );
    }

    #[test]
    fn the_incident_note_links_the_session_and_carries_the_marker() {
        let policy = Policy::default();
        let incident = incident();
        let decision = policy.decide(INCIDENT_TRIGGERED, &incident);
        let request = session_request(&facts(&incident), &decision);
        let session = Session {
            session_id: "devin-abc".into(),
            url: "https://app.devin.ai/sessions/abc".into(),
        };
        let note = session_started_note(&session, &request, &decision);
        assert!(note.starts_with(
            "[pagerduty-devin-bridge] Devin is investigating this incident: https://app.devin.ai/sessions/abc\n"
        ));
        assert!(note.contains("root cause") && note.contains("hotfix pull request"));
        assert!(note.contains("Routing rule: defaults") && note.contains("devin-abc"));
        assert!(note.contains("findings and questions will be noted here"));
    }

    #[test]
    fn only_notes_that_start_with_the_marker_are_the_bridges() {
        assert!(is_bridge_note(
            "[pagerduty-devin-bridge] Devin is investigating"
        ));
        assert!(is_bridge_note("  [pagerduty-devin-bridge] x"));
        assert!(!is_bridge_note(
            "Why did [pagerduty-devin-bridge] say that?"
        ));
    }

    #[test]
    fn grouped_capped_and_shadow_notes_say_what_happened() {
        let session = Session {
            session_id: "devin-abc".into(),
            url: "https://app.devin.ai/sessions/abc".into(),
        };
        let grouped = grouped_note(Some(1423), "Q1", &session, "checkout-api");
        assert!(grouped.starts_with(BRIDGE_NOTE_MARKER));
        assert!(grouped
            .contains("Grouped with #1423 into Devin session https://app.devin.ai/sessions/abc"));
        let slot = Slot {
            key: "budget#bridge#hour#498849".into(),
            cap: 5,
            limit: "sessions_per_hour",
            scope: "bridge".into(),
            refills_at_ms: 1_795_860_000_000,
        };
        assert_eq!(
            capped_note(&slot, false),
            "[pagerduty-devin-bridge] Devin is not investigating this incident: the bridge budget \
             sessions_per_hour (5 sessions) is spent. It refills at 2026-11-28 10:00 UTC, and the \
             bridge tries once more then if the incident is still open; `devin investigate` \
             starts it now."
        );
        assert!(capped_note(&slot, true).contains("the bridge tries no more"));
        let policy = Policy::from_json(r#"{"defaults": {"action": "shadow"}}"#).unwrap();
        let incident = incident();
        let decision = policy.decide(INCIDENT_TRIGGERED, &incident);
        let request = session_request(&facts(&incident), &decision);
        let shadow = shadow_note(&decision, &request, Some("checkout-api"));
        assert!(shadow.starts_with("[pagerduty-devin-bridge] Shadow mode (routing rule defaults)"));
        assert!(shadow.ends_with(&request.prompt));
        assert_eq!(
            deferred_note("flaky", 1_795_860_000_000),
            "[pagerduty-devin-bridge] Devin will start investigating this incident at 2026-11-28 \
             10:00 UTC if it is still open then (routing rule flaky waits: incidents that resolve \
             themselves cost nothing)."
        );
        assert_eq!(decision.max_acu_limit, NonZeroU32::new(10));
    }
}
