//! What PagerDuty already correlated with an incident, as the brief shows it: the changes
//! (deploys, configuration changes) it linked to the incident with its stated reason, similar
//! past incidents on the service with how long they took to resolve, and the incidents it found
//! related. Read leniently (every field optional; a reason PagerDuty adds later is kept as its
//! word), and bounded: a few of each, within what the alerts leave of the brief's evidence cap.
//! Every value is data written by whatever sent the change or raised the incident: the brief
//! quotes it like every other value from PagerDuty. A change event's `routing_key` is an
//! integration key: it is not even read.
//!
//! Source: PagerDuty's REST OpenAPI (PagerDuty/api-schema, `reference/REST/openapiv3.json`),
//! operations `listIncidentRelatedChangeEvents`, `getPastIncidents`, `getRelatedIncidents`.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::inbound::timestamp;
use crate::inbound::webhook::{null_as_empty, Reference};
use crate::text::alerts::{self, Context, Evidence};
use crate::text::quote;

/// How many of each the brief shows.
pub const MAX_CHANGES: usize = 3;
pub const MAX_PAST_INCIDENTS: usize = 3;
pub const MAX_RELATED_INCIDENTS: usize = 3;
/// The most the alerts and all of this take in the brief together, in bytes of JSON: the alerts
/// take up to [`alerts::MAX_EVIDENCE_BYTES`] of it first.
pub const MAX_BRIEF_EVIDENCE_BYTES: usize = 12 * 1024;
/// A change's `custom_details` larger than this (as JSON) are left out, with a word saying so.
const MAX_CUSTOM_DETAILS_BYTES: usize = 512;
/// A change's summary: PagerDuty allows 1,024 characters.
const MAX_SUMMARY_CHARS: usize = 1024;
const MAX_CHANGE_LINKS: usize = 5;
/// Room kept in each list for the word that says what was left out.
const CUT_WORD_ROOM: usize = 100;

/// `GET /incidents/{id}/related_change_events`: one of `change_events`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ChangeEvent {
    pub summary: Option<String>,
    pub timestamp: Option<String>,
    pub source: Option<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub links: Vec<Context>,
    pub custom_details: Option<Value>,
    pub correlation_reason: Option<CorrelationReason>,
}

/// Why PagerDuty linked the change: `most_recent`, `related_service` or `intelligent` today,
/// kept as its word so that a reason added later still reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct CorrelationReason {
    pub reason: Option<String>,
}

/// `GET /incidents/{id}/past_incidents`: one of `past_incidents`, with what `GET /incidents/{id}`
/// said of it when it was read (the list gives neither number nor resolve time).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct PastIncident {
    pub incident: Option<IncidentRef>,
    pub score: Option<f64>,
    #[serde(skip)]
    pub detail: Option<PastDetail>,
}

/// An incident as these lists give it: the schema says a whole `Incident`, the examples show
/// `{id, created_at, self, title}`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct IncidentRef {
    pub id: Option<String>,
    pub incident_number: Option<u64>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub created_at: Option<String>,
    pub html_url: Option<String>,
    pub service: Option<Reference>,
}

/// A past incident as `GET /incidents/{id}` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PastDetail {
    pub number: Option<u64>,
    pub status: Option<String>,
    pub resolved_at: Option<String>,
    pub html_url: Option<String>,
}

/// `GET /incidents/{id}/related_incidents`: one of `related_incidents`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RelatedIncident {
    pub incident: Option<IncidentRef>,
    #[serde(deserialize_with = "null_as_empty")]
    pub relationships: Vec<Relationship>,
}

/// `machine_learning_inferred` or `service_dependency`; its `metadata` is kept as JSON: the
/// schema says arrays of services where its example shows single objects.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Relationship {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub metadata: Option<Value>,
}

/// What was read of the three, each `None` when it was not read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Correlated {
    pub changes: Option<Vec<ChangeEvent>>,
    pub past_incidents: Option<Vec<PastIncident>>,
    pub related_incidents: Option<Vec<RelatedIncident>>,
}

/// Whether PagerDuty's answer means the account does not have the feature: 402 ("Account does
/// not have the abilities to perform the action") or 403 (past and related incidents need the
/// Event Intelligence package or the Digital Operations plan). Asked again, it would answer the
/// same until the account changes.
pub fn means_absent(status: u16) -> bool {
    matches!(status, 402 | 403)
}

impl Evidence {
    /// The evidence of the alerts and of what PagerDuty correlated, [`MAX_BRIEF_EVIDENCE_BYTES`]
    /// in all; `None` when none of them was read.
    pub fn gathered(alerts: Option<&[alerts::Alert]>, correlated: &Correlated) -> Option<Evidence> {
        let read = alerts.is_some()
            || correlated.changes.is_some()
            || correlated.past_incidents.is_some()
            || correlated.related_incidents.is_some();
        if !read {
            return None;
        }
        let mut evidence = alerts.map(Evidence::of).unwrap_or_default();
        let mut left = MAX_BRIEF_EVIDENCE_BYTES.saturating_sub(size(&evidence.alerts));
        let mut changes: Vec<&ChangeEvent> = correlated.changes.iter().flatten().collect();
        changes.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
        changes.truncate(MAX_CHANGES);
        evidence.changes = bounded(changes.into_iter().map(change), "changes", &mut left);
        let mut past: Vec<&PastIncident> = correlated.past_incidents.iter().flatten().collect();
        // The most similar first, as PagerDuty scores them.
        past.sort_by(|a, b| b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)));
        past.truncate(MAX_PAST_INCIDENTS);
        evidence.past_incidents = bounded(
            past.into_iter().map(past_incident),
            "past incidents",
            &mut left,
        );
        let mut related: Vec<&RelatedIncident> =
            correlated.related_incidents.iter().flatten().collect();
        related.sort_by(|a, b| created(b).cmp(&created(a)));
        related.truncate(MAX_RELATED_INCIDENTS);
        evidence.related_incidents = bounded(
            related.into_iter().map(related_incident),
            "related incidents",
            &mut left,
        );
        Some(evidence)
    }
}

fn size(values: &[Value]) -> usize {
    serde_json::to_string(values).map_or(0, |json| json.len())
}

fn created(related: &RelatedIncident) -> Option<&str> {
    related.incident.as_ref()?.created_at.as_deref()
}

/// The values that fit whole in `left` (less the room of the word that says what was cut), in
/// order; the first that does not ends the list with that word.
fn bounded(
    values: impl ExactSizeIterator<Item = Value>,
    what: &str,
    left: &mut usize,
) -> Vec<Value> {
    let total = values.len();
    let mut shown = Vec::new();
    for value in values {
        let size = value.to_string().len() + 1;
        if size + CUT_WORD_ROOM <= *left {
            *left -= size;
            shown.push(value);
            continue;
        }
        let more = total - shown.len();
        let word =
            json!({"cut": format!("{more} more {what} left out: the evidence is capped at 12 KB")});
        if word.to_string().len() < *left {
            *left -= word.to_string().len() + 1;
            shown.push(word);
        }
        break;
    }
    shown
}

/// An object of the values that are there.
fn object(fields: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value.filter(|v| !v.is_null())?)))
        .collect();
    Value::Object(map)
}

fn text(value: &Option<String>) -> Option<Value> {
    value.clone().map(Value::from)
}

/// What the brief shows of a change: its summary, time, source, PagerDuty's reason, its web
/// links (as the alerts' links are kept) and its custom details when they are small.
fn change(event: &ChangeEvent) -> Value {
    let mut links = alerts::links(&event.links);
    links.truncate(MAX_CHANGE_LINKS);
    let details = event
        .custom_details
        .clone()
        .filter(|d| !d.is_null())
        .map(|details| {
            let size = details.to_string().len();
            if size <= MAX_CUSTOM_DETAILS_BYTES {
                details
            } else {
                format!("[left out: {size} bytes]").into()
            }
        });
    object([
        (
            "summary",
            event
                .summary
                .as_deref()
                .map(|s| quote::cut(s, MAX_SUMMARY_CHARS).into()),
        ),
        ("timestamp", text(&event.timestamp)),
        ("source", text(&event.source)),
        (
            "correlation_reason",
            event
                .correlation_reason
                .as_ref()
                .and_then(|r| text(&r.reason)),
        ),
        ("links", (!links.is_empty()).then_some(Value::Array(links))),
        ("custom_details", details),
    ])
}

/// What the brief shows of a past incident: its number, title, when, how it ended, how long it
/// took to resolve and PagerDuty's similarity score.
fn past_incident(past: &PastIncident) -> Value {
    let incident = past.incident.clone().unwrap_or_default();
    let detail = past.detail.clone().unwrap_or_default();
    let took = match (
        incident.created_at.as_deref(),
        detail.resolved_at.as_deref(),
    ) {
        (Some(created), Some(resolved)) => duration(created, resolved),
        _ => None,
    };
    object([
        (
            "number",
            detail.number.or(incident.incident_number).map(Value::from),
        ),
        ("title", text(&incident.title)),
        ("created_at", text(&incident.created_at)),
        ("status", text(&detail.status)),
        ("resolved_at", text(&detail.resolved_at)),
        ("time_to_resolve", took.map(Value::from)),
        ("url", text(&detail.html_url.or(incident.html_url))),
        ("score", past.score.map(Value::from)),
    ])
}

/// What the brief shows of a related incident: which, and how PagerDuty relates it.
fn related_incident(related: &RelatedIncident) -> Value {
    let incident = related.incident.clone().unwrap_or_default();
    let kinds: Vec<Value> = related
        .relationships
        .iter()
        .filter_map(|r| text(&r.kind))
        .collect();
    object([
        ("number", incident.incident_number.map(Value::from)),
        ("title", text(&incident.title)),
        ("status", text(&incident.status)),
        ("created_at", text(&incident.created_at)),
        (
            "service",
            incident.service.and_then(|s| s.summary).map(Value::from),
        ),
        ("url", text(&incident.html_url)),
        (
            "relationships",
            (!kinds.is_empty()).then_some(Value::Array(kinds)),
        ),
    ])
}

/// `2h 14m` from one RFC 3339 time to a later one.
fn duration(from: &str, to: &str) -> Option<String> {
    let ms = timestamp::epoch_ms(to)?.checked_sub(timestamp::epoch_ms(from)?)?;
    let minutes = ms / 60_000;
    Some(
        match (minutes / (24 * 60), minutes / 60 % 24, minutes % 60) {
            (0, 0, m) => format!("{m}m"),
            (0, h, m) => format!("{h}h {m}m"),
            (d, h, _) => format!("{d}d {h}h"),
        },
    )
}

#[cfg(test)]
mod tests;
