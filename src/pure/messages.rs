//! What the bridge writes besides the brief: the note the responders find on the incident when
//! its session starts, and the messages that tell the session what happened in PagerDuty.

use crate::pure::policy::Decision;
use crate::pure::session::{Session, SessionRequest};
use crate::pure::webhook::{INCIDENT_REOPENED, INCIDENT_RESOLVED};

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
    note.push_str(&format!(
        ".\nNotes you add here reach Devin; resolving the incident asks it to wrap up. (Session {})",
        session.session_id
    ));
    note
}

/// What the session is told of a PagerDuty event. `who` is the event's agent, when it has one.
pub fn session_message(event_type: &str, who: Option<&str>, priority: Option<&str>) -> String {
    let who = who.unwrap_or("PagerDuty automation");
    match event_type {
        INCIDENT_RESOLVED => format!(
            "The PagerDuty incident was resolved by {who}. Finish now: reply with a short summary \
             of the root cause and of what you found or changed, then stop; no further \
             investigation is needed."
        ),
        INCIDENT_REOPENED => format!(
            "The PagerDuty incident was reopened by {who}: the problem is back. Resume the \
             investigation from what you found so far."
        ),
        "incident.priority_updated" => format!(
            "PagerDuty update: {who} changed the incident's priority to {}.",
            priority.unwrap_or("none")
        ),
        other => {
            let what = other
                .strip_prefix("incident.")
                .unwrap_or(other)
                .replace('_', " ");
            format!("PagerDuty update: the incident was {what} by {who}.")
        }
    }
}

/// A responder's note, as the session receives it.
pub fn forwarded_note_message(who: Option<&str>, content: &str) -> String {
    format!("{} wrote in PagerDuty: {content}", who.unwrap_or("Someone"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pure::brief::session_request;
    use crate::pure::policy::Policy;
    use crate::pure::samples::{facts, incident};
    use crate::pure::webhook::INCIDENT_TRIGGERED;

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
    }

    #[test]
    fn messages_say_who_and_what() {
        assert_eq!(
            forwarded_note_message(Some("Dana"), "Rolled back deploy 42"),
            "Dana wrote in PagerDuty: Rolled back deploy 42"
        );
        assert_eq!(
            forwarded_note_message(None, "x"),
            "Someone wrote in PagerDuty: x"
        );
        let resolved = session_message("incident.resolved", Some("Dana"), None);
        assert!(resolved.starts_with("The PagerDuty incident was resolved by Dana."));
        assert!(resolved.contains("root cause") && resolved.contains("stop"));
        assert!(session_message("incident.reopened", None, None)
            .starts_with("The PagerDuty incident was reopened by PagerDuty automation"));
        assert_eq!(
            session_message("incident.acknowledged", Some("Dana"), None),
            "PagerDuty update: the incident was acknowledged by Dana."
        );
        assert_eq!(
            session_message("incident.priority_updated", Some("Dana"), Some("P1")),
            "PagerDuty update: Dana changed the incident's priority to P1."
        );
    }
}
