//! PagerDuty webhook v3 deliveries, parsed leniently: the envelope (`event.id`,
//! `event.event_type`) is required, everything else is optional, because real payloads vary and
//! new event types appear over time.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use thiserror::Error;

pub const INCIDENT_TRIGGERED: &str = "incident.triggered";
pub const INCIDENT_ANNOTATED: &str = "incident.annotated";
pub const INCIDENT_RESOLVED: &str = "incident.resolved";
pub const INCIDENT_REOPENED: &str = "incident.reopened";

/// One webhook delivery: `{"event": {...}}`.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    pub event: Event,
}

#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// Who did it: a user reference, or `null` for automation.
    #[serde(default)]
    pub agent: Option<Reference>,
    /// Kept raw: its shape depends on the event type, and most types never need it parsed.
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
}

/// `event.data` when `data.type == "incident"`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Incident {
    pub id: String,
    pub number: Option<u64>,
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
    pub assignees: Vec<Reference>,
    #[serde(deserialize_with = "null_as_empty")]
    pub teams: Vec<Reference>,
    /// Why a resolved incident was resolved: a merge names the incident it went into.
    pub resolve_reason: Option<ResolveReason>,
}

/// `data.resolve_reason`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ResolveReason {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub incident: Option<Reference>,
}

impl Incident {
    /// The id of the incident this one was merged into, when a merge resolved it.
    pub fn merged_into(&self) -> Option<&str> {
        let reason = self.resolve_reason.as_ref()?;
        if reason.kind.as_deref() != Some("merge_resolve_reason") {
            return None;
        }
        reason
            .incident
            .as_ref()?
            .id
            .as_deref()
            .filter(|id| is_pagerduty_id(id))
    }
}

impl Incident {
    pub fn service_name(&self) -> Option<&str> {
        self.service.as_ref().and_then(Reference::name)
    }

    pub fn service_id(&self) -> Option<&str> {
        self.service.as_ref().and_then(|s| s.id.as_deref())
    }

    /// `P1`, `P2`, ...: the priority's display name.
    pub fn priority_name(&self) -> Option<&str> {
        self.priority.as_ref().and_then(Reference::name)
    }

    pub fn escalation_policy_name(&self) -> Option<&str> {
        self.escalation_policy.as_ref().and_then(Reference::name)
    }
}

/// PagerDuty's `{id, summary, html_url, ...}` references; `summary` is the display name.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Reference {
    pub id: Option<String>,
    pub summary: Option<String>,
    pub html_url: Option<String>,
}

impl Reference {
    #[cfg(test)]
    pub fn named(id: &str, summary: &str) -> Self {
        Reference {
            id: Some(id.into()),
            summary: Some(summary.into()),
            html_url: None,
        }
    }

    /// The display name, or the id when the reference has no summary.
    pub fn name(&self) -> Option<&str> {
        self.summary.as_deref().or(self.id.as_deref())
    }
}

/// `event.data` of `incident.annotated` (`data.type == "incident_note"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentNote {
    pub incident_id: String,
    /// The note's own id, to find it whole among the incident's notes.
    pub id: Option<String>,
    pub content: String,
    /// PagerDuty cut `content` short (`data.trimmed`); `GET /incidents/{id}/notes` has it whole.
    pub trimmed: bool,
}

#[derive(Debug, Error)]
pub enum ParseError {
    #[error("the body is not a PagerDuty v3 delivery: {0}")]
    Envelope(#[source] serde_json::Error),
    #[error("event {event_id} ({event_type}) carries no data")]
    NoData {
        event_id: String,
        event_type: String,
    },
    #[error("event {event_id} ({event_type}) does not carry an incident: {source}")]
    NotAnIncident {
        event_id: String,
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

impl ParseError {
    /// The delivery's event type, once the envelope parsed.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            ParseError::Envelope(_) => None,
            ParseError::NoData { event_type, .. }
            | ParseError::NotAnIncident { event_type, .. } => Some(event_type),
        }
    }
}

/// Parses the envelope of a delivery; `data` stays raw until [`Event::incident`] asks for it.
pub fn parse(body: &[u8]) -> Result<Delivery, ParseError> {
    serde_json::from_slice(body).map_err(ParseError::Envelope)
}

#[derive(Deserialize)]
struct IncidentData {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    /// Present on `incident_note` data (`incident.annotated`).
    #[serde(default)]
    incident: Option<Reference>,
    /// The note's text, on `incident_note` data.
    #[serde(default)]
    content: Option<String>,
    /// Whether the note's text was cut short, on `incident_note` data.
    #[serde(default)]
    trimmed: Option<bool>,
}

impl Event {
    /// The incident this event is about, parsed in full. Fails when `data` is not an incident.
    pub fn incident(&self) -> Result<Incident, ParseError> {
        let data = self.data.as_ref().ok_or_else(|| ParseError::NoData {
            event_id: self.id.clone(),
            event_type: self.event_type.clone(),
        })?;
        let not_an_incident = |source| ParseError::NotAnIncident {
            event_id: self.id.clone(),
            event_type: self.event_type.clone(),
            source,
        };
        let header: IncidentData = serde_json::from_str(data.get()).map_err(not_an_incident)?;
        if header.kind.as_deref() != Some("incident")
            || !header.id.as_deref().is_some_and(is_pagerduty_id)
        {
            return Err(not_an_incident(serde::de::Error::custom(
                "expected data.type \"incident\" with a PagerDuty id (letters and digits, at most 32)",
            )));
        }
        serde_json::from_str(data.get()).map_err(not_an_incident)
    }

    /// The note of an `incident.annotated` event. Fails when `data` is not a note on an
    /// incident.
    pub fn note(&self) -> Result<IncidentNote, ParseError> {
        let not_a_note = |source| ParseError::NotAnIncident {
            event_id: self.id.clone(),
            event_type: self.event_type.clone(),
            source,
        };
        let data = self.data.as_ref().ok_or_else(|| ParseError::NoData {
            event_id: self.id.clone(),
            event_type: self.event_type.clone(),
        })?;
        let data: IncidentData = serde_json::from_str(data.get()).map_err(not_a_note)?;
        match (data.kind.as_deref(), data.incident.and_then(|i| i.id)) {
            (Some("incident_note"), Some(incident_id)) if is_pagerduty_id(&incident_id) => {
                Ok(IncidentNote {
                    incident_id,
                    id: data.id,
                    content: data.content.unwrap_or_default(),
                    trimmed: data.trimmed.unwrap_or(false),
                })
            }
            _ => Err(not_a_note(serde::de::Error::custom(
                "expected data.type \"incident_note\" with a PagerDuty incident.id (letters and digits, at most 32)",
            ))),
        }
    }

    /// Who did what the event reports: the agent's name, or `None` for automation.
    pub fn agent_name(&self) -> Option<&str> {
        self.agent.as_ref().and_then(Reference::name)
    }

    /// The agent's PagerDuty id, when the event names one.
    pub fn agent_id(&self) -> Option<&str> {
        self.agent.as_ref().and_then(|agent| agent.id.as_deref())
    }

    /// The id of the incident the event concerns, when it names one: for log lines about any
    /// event type, so never an error.
    pub fn incident_id(&self) -> Option<String> {
        let data: IncidentData = serde_json::from_str(self.data.as_ref()?.get()).ok()?;
        match data.kind.as_deref() {
            Some("incident") => data.id,
            _ => data.incident.and_then(|incident| incident.id),
        }
    }
}

/// PagerDuty's ids: letters and digits, 7 or 14 in real payloads; at most 32 here. Anything else
/// in a place that becomes a URL path or a ledger key is refused.
pub fn is_pagerduty_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A list that may come as `null`.
pub(crate) fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
