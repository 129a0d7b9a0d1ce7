//! PagerDuty's webhook event types, by what their `data` carries. Only an incident can start a
//! session or be passed on to one, and a note can be passed on; every other type (a responder
//! added, a status update, a workflow, a service changed) carries something else, however its
//! name begins.
//!
//! Source: PagerDuty's webhook overview, "Event Types" and "Event Data Types"
//! (<https://developer.pagerduty.com/docs/webhooks-overview>, the repository
//! PagerDuty/developer-docs, `docs/webhooks/01-Overview.md`), and `../shared/reference/`.

use crate::inbound::webhook::INCIDENT_ANNOTATED;

/// The types whose `data.type` is `incident`.
const INCIDENT_DATA: [&str; 11] = [
    "incident.triggered",
    "incident.acknowledged",
    "incident.unacknowledged",
    "incident.resolved",
    "incident.reopened",
    "incident.escalated",
    "incident.reassigned",
    "incident.delegated",
    "incident.priority_updated",
    "incident.service_updated",
    "incident.incident_type.changed",
];

/// What a delivery of a type carries in `data`, as far as the bridge can use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// `data.type == "incident"`: may start a session, or be passed on to one.
    Incident,
    /// `incident.annotated`: `data.type == "incident_note"`, passed on to the session.
    Note,
    /// Anything else, or a type the bridge does not know.
    Other,
}

/// What deliveries of `event_type` carry.
pub fn carries(event_type: &str) -> Carries {
    if INCIDENT_DATA.contains(&event_type) {
        Carries::Incident
    } else if event_type == INCIDENT_ANNOTATED {
        Carries::Note
    } else {
        Carries::Other
    }
}

/// Why `event_type` cannot start a session (`event_types`), or `None` when it can.
pub fn cannot_start(event_type: &str) -> Option<String> {
    match carries(event_type) {
        Carries::Incident => None,
        Carries::Note => Some(format!(
            "{event_type} carries a note, not an incident: it cannot start a session (list it in forward_events)"
        )),
        Carries::Other => Some(not_an_incident(event_type)),
    }
}

/// Why `event_type` cannot be passed on to a session (`forward_events`), or `None` when it can.
pub fn cannot_forward(event_type: &str) -> Option<String> {
    match carries(event_type) {
        Carries::Incident | Carries::Note => None,
        Carries::Other => Some(not_an_incident(event_type)),
    }
}

fn not_an_incident(event_type: &str) -> String {
    format!(
        "{event_type} is not an event type whose data is an incident or a note ({}, {INCIDENT_ANNOTATED}); the bridge could only ignore its deliveries",
        INCIDENT_DATA.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_incidents_start_and_only_incidents_and_notes_are_passed_on() {
        for incident in [
            "incident.triggered",
            "incident.acknowledged",
            "incident.resolved",
        ] {
            assert_eq!(
                (cannot_start(incident), cannot_forward(incident)),
                (None, None)
            );
        }
        assert!(cannot_start(INCIDENT_ANNOTATED)
            .unwrap()
            .contains("forward_events"));
        assert_eq!(cannot_forward(INCIDENT_ANNOTATED), None);
        for other in [
            "incident.responder.added",
            "incident.responder.replied",
            "incident.status_update_published",
            "incident.conference_bridge.updated",
            "incident.custom_field_values.updated",
            "incident.role.assigned",
            "incident.task.created",
            "incident.workflow.started",
            "service.updated",
            "pagey.ping",
            "incident.trigered",
        ] {
            let why = cannot_forward(other).expect(other);
            assert!(why.starts_with(other), "{why}");
            assert!(cannot_start(other).is_some(), "{other}");
        }
    }
}
