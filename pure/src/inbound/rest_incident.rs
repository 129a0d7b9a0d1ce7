//! An incident as PagerDuty's REST API shows it (`GET /incidents/{id}`, `GET /incidents`), read
//! with its own names and turned into the [`Incident`] a webhook delivery carries, so that a
//! session the follow-up or `devin investigate` starts gets the same title and brief as the
//! delivery's would.
//!
//! The REST shape differs from the webhook's: `incident_number` (the webhook says `number`) and
//! `assignments: [{at, assignee}]` (the webhook says `assignees: [ref]`); it adds a `summary`
//! (`[#1234] title`), `alert_counts`, `last_status_change_at`, ..., which the brief does not use.
//! Source: the `Incident` schema of PagerDuty's REST OpenAPI (PagerDuty/api-schema,
//! `reference/REST/openapiv3.json`, operations `getIncident` and `listIncidents`).

use serde::Deserialize;

use crate::inbound::webhook::{is_pagerduty_id, null_as_empty, Incident, Reference, ResolveReason};

/// `{"incident": {...}}` of `GET /incidents/{id}`, or one of `GET /incidents`'s `incidents`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RestIncident {
    pub id: String,
    pub incident_number: Option<u64>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub urgency: Option<String>,
    pub html_url: Option<String>,
    pub incident_key: Option<String>,
    pub created_at: Option<String>,
    pub service: Option<Reference>,
    pub priority: Option<Reference>,
    pub escalation_policy: Option<Reference>,
    #[serde(deserialize_with = "null_as_empty")]
    pub assignments: Vec<Assignment>,
    #[serde(deserialize_with = "null_as_empty")]
    pub teams: Vec<Reference>,
    pub resolve_reason: Option<ResolveReason>,
}

/// `assignments[]`: who the incident is assigned to, and since when.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Assignment {
    pub assignee: Option<Reference>,
}

impl RestIncident {
    /// The incident as a delivery carries it; `None` when its id is not a PagerDuty id (it
    /// becomes a URL path and a ledger key).
    pub fn into_incident(self) -> Option<Incident> {
        if !is_pagerduty_id(&self.id) {
            return None;
        }
        Some(Incident {
            id: self.id,
            number: self.incident_number,
            title: self.title,
            status: self.status,
            urgency: self.urgency,
            html_url: self.html_url,
            incident_key: self.incident_key,
            created_at: self.created_at,
            service: self.service,
            priority: self.priority,
            escalation_policy: self.escalation_policy,
            assignees: self
                .assignments
                .into_iter()
                .filter_map(|assignment| assignment.assignee)
                .collect(),
            teams: self.teams,
            resolve_reason: self.resolve_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::webhook;

    /// `GET /incidents/{id}`'s example in the OpenAPI (`getIncident`), trimmed of what is not
    /// read, beside the webhook overview's `data` of the same incident.
    const REST: &str = r#"{
        "id": "PT4KHLK", "type": "incident", "summary": "[#1234] The server is on fire.",
        "html_url": "https://subdomain.pagerduty.com/incidents/PT4KHLK",
        "incident_number": 1234, "title": "The server is on fire.",
        "created_at": "2015-10-06T21:30:42Z", "updated_at": "2015-10-06T21:40:23Z",
        "status": "acknowledged", "incident_key": "baf7cf21b1da41b4b0221008339ff357",
        "service": {"id": "PIJ90N7", "type": "service_reference", "summary": "My Mail Service"},
        "assignments": [{"at": "2015-11-10T00:31:52Z",
            "assignee": {"id": "PXPGF42", "type": "user_reference", "summary": "Earline Greenholt"}}],
        "assigned_via": "escalation_policy", "alert_counts": {"all": 2, "triggered": 1, "resolved": 1},
        "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Another Escalation Policy"},
        "teams": [{"id": "PQ9K7I8", "type": "team_reference", "summary": "Engineering"}],
        "priority": {"id": "P53ZZH5", "type": "priority", "summary": "P2", "name": "P2"},
        "urgency": "high", "resolve_reason": null
    }"#;

    const WEBHOOK: &str = r#"{
        "id": "PT4KHLK", "type": "incident",
        "html_url": "https://subdomain.pagerduty.com/incidents/PT4KHLK",
        "number": 1234, "title": "The server is on fire.", "created_at": "2015-10-06T21:30:42Z",
        "status": "acknowledged", "incident_key": "baf7cf21b1da41b4b0221008339ff357",
        "service": {"id": "PIJ90N7", "type": "service_reference", "summary": "My Mail Service"},
        "assignees": [{"id": "PXPGF42", "type": "user_reference", "summary": "Earline Greenholt"}],
        "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Another Escalation Policy"},
        "teams": [{"id": "PQ9K7I8", "type": "team_reference", "summary": "Engineering"}],
        "priority": {"id": "P53ZZH5", "type": "priority_reference", "summary": "P2"},
        "urgency": "high", "resolve_reason": null
    }"#;

    #[test]
    fn a_rest_incident_is_the_incident_its_delivery_carries() {
        let rest: RestIncident = serde_json::from_str(REST).unwrap();
        let delivered = format!(
            r#"{{"event":{{"id":"E","event_type":"incident.triggered","data":{WEBHOOK}}}}}"#
        );
        let delivered = webhook::parse(delivered.as_bytes())
            .unwrap()
            .event
            .incident()
            .unwrap();
        let incident = rest.into_incident().unwrap();
        assert_eq!(incident, delivered);
        assert_eq!(incident.number, Some(1234));
        assert_eq!(incident.assignees[0].name(), Some("Earline Greenholt"));
    }

    #[test]
    fn a_bare_rest_incident_reads_and_a_bending_id_does_not() {
        let bare: RestIncident =
            serde_json::from_str(r#"{"id":"P1","assignments":null,"teams":null}"#).unwrap();
        assert_eq!(bare.into_incident().unwrap().id, "P1");
        let bending: RestIncident = serde_json::from_str(r#"{"id":"../users"}"#).unwrap();
        assert_eq!(bending.into_incident(), None);
    }
}
