//! A sample incident for the core's unit tests: the one the docs and `events/` show.

use crate::inbound::webhook::{Incident, Reference, INCIDENT_TRIGGERED};
use crate::policy::template::Facts;

pub fn reference(id: &str, summary: &str) -> Option<Reference> {
    Some(Reference::named(id, summary))
}

pub fn incident() -> Incident {
    Incident {
        id: "Q3VQH2T8RZK1MN".into(),
        number: Some(1423),
        title: Some("High 5xx error rate on checkout-api".into()),
        status: Some("triggered".into()),
        urgency: Some("high".into()),
        html_url: Some("https://acme.pagerduty.com/incidents/Q3VQH2T8RZK1MN".into()),
        incident_key: None,
        created_at: Some("2026-11-28T09:12:04Z".into()),
        service: reference("PF9KMXH", "checkout-api"),
        priority: reference("PSO75BM", "P1"),
        escalation_policy: reference("PUS0KTE", "Payments Escalation"),
        assignees: vec![],
        teams: reference("PFCVPS0", "Payments").into_iter().collect(),
        resolve_reason: None,
    }
}

/// What a triggered delivery of `incident` fills the placeholders with.
pub fn facts(incident: &Incident) -> Facts<'_> {
    Facts {
        incident,
        event_type: INCIDENT_TRIGGERED,
        occurred_at: Some("2026-11-28T09:12:04.512Z"),
        alerts: None,
    }
}
