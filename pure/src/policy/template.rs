//! `{placeholder}` templates for session titles and prompts, checked when the policy is loaded
//! and rendered per incident.
//!
//! In a prompt every value is inserted JSON-quoted (`"High error rate"`), so text written by
//! whatever raised the alert stays visibly quoted data; in a title it is inserted as is, on one
//! line. A value the incident lacks renders as `unknown` (or `none` for priority, teams and
//! assignees), never as an empty hole.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer};
use thiserror::Error;

use crate::inbound::webhook::{Incident, Reference};
use crate::text::alerts::Evidence;
use crate::text::quote;

/// What a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    Title,
    Service,
    ServiceId,
    Urgency,
    Priority,
    Number,
    IncidentId,
    Url,
    Status,
    Assignees,
    Teams,
    EscalationPolicy,
    EventType,
    OccurredAt,
    /// The alerts' evidence: a JSON array in a prompt, their summaries in a title.
    Alerts,
    /// The changes PagerDuty correlated: a JSON array in a prompt, their summaries in a title.
    Changes,
    /// Similar past incidents: a JSON array in a prompt, their titles in a title.
    PastIncidents,
}

const PLACEHOLDERS: [(&str, Placeholder); 17] = [
    ("title", Placeholder::Title),
    ("service", Placeholder::Service),
    ("service_id", Placeholder::ServiceId),
    ("urgency", Placeholder::Urgency),
    ("priority", Placeholder::Priority),
    ("number", Placeholder::Number),
    ("incident_id", Placeholder::IncidentId),
    ("url", Placeholder::Url),
    ("status", Placeholder::Status),
    ("assignees", Placeholder::Assignees),
    ("teams", Placeholder::Teams),
    ("escalation_policy", Placeholder::EscalationPolicy),
    ("event_type", Placeholder::EventType),
    ("occurred_at", Placeholder::OccurredAt),
    ("alerts", Placeholder::Alerts),
    ("changes", Placeholder::Changes),
    ("past_incidents", Placeholder::PastIncidents),
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}}; known: {known}")]
    Unknown { name: String, known: KnownNames },
    #[error("unclosed '{{' at byte {0} (write '{{{{' for a literal brace)")]
    Unclosed(usize),
    #[error("unmatched '}}' at byte {0} (write '}}}}' for a literal brace)")]
    Unmatched(usize),
}

/// Lists the placeholder names in error messages.
#[derive(Debug, PartialEq, Eq)]
pub struct KnownNames;

impl fmt::Display for KnownNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = PLACEHOLDERS.iter().map(|(name, _)| *name).collect();
        f.write_str(&names.join(", "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Placeholder),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// How values are written into the rendered text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// As JSON strings: for prompts, where payload text must stay data.
    Json,
    /// As they are: for titles.
    Plain,
}

/// What the placeholders are filled from.
pub struct Facts<'a> {
    pub incident: &'a Incident,
    pub event_type: &'a str,
    pub occurred_at: Option<&'a str>,
    /// The incident's alerts (and what PagerDuty correlated with it), when they were read.
    pub alerts: Option<&'a Evidence>,
}

impl Template {
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(TemplateError::Unmatched(at)),
                '{' => {
                    let rest = &source[at + 1..];
                    let end = rest.find('}').ok_or(TemplateError::Unclosed(at))?;
                    let name = &rest[..end];
                    let placeholder = PLACEHOLDERS
                        .iter()
                        .find(|(known, _)| *known == name)
                        .map(|&(_, placeholder)| placeholder)
                        .ok_or_else(|| TemplateError::Unknown {
                            name: name.to_owned(),
                            known: KnownNames,
                        })?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Value(placeholder));
                    // Skip the name and its closing brace.
                    for _ in 0..name.chars().count() + 1 {
                        chars.next();
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    pub fn render(&self, facts: &Facts<'_>, quoting: Quoting) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                // The alerts are structured: in a prompt, their JSON itself, quoted as data.
                Part::Value(placeholder)
                    if quoting == Quoting::Json && facts.list(*placeholder).is_some() =>
                {
                    match facts.list(*placeholder).filter(|values| !values.is_empty()) {
                        Some(values) => out.push_str(&quote::json(values)),
                        None => out.push_str(&quote::json(NONE)),
                    }
                }
                Part::Value(placeholder) => {
                    let value = facts.value(*placeholder);
                    match quoting {
                        Quoting::Plain => out.push_str(&value),
                        Quoting::Json => out.push_str(&quote::json(value.as_ref())),
                    }
                }
            }
        }
        out
    }
}

/// The template as it was written (literal braces doubled again).
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(text) => f.write_str(&text.replace('{', "{{").replace('}', "}}"))?,
                Part::Value(placeholder) => {
                    let name = PLACEHOLDERS
                        .iter()
                        .find(|(_, known)| known == placeholder)
                        .map_or("?", |(name, _)| name);
                    write!(f, "{{{name}}}")?;
                }
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Template::parse(&source).map_err(serde::de::Error::custom)
    }
}

const UNKNOWN: &str = "unknown";
const NONE: &str = "none";

impl Facts<'_> {
    fn value(&self, placeholder: Placeholder) -> Cow<'_, str> {
        let incident = self.incident;
        match placeholder {
            Placeholder::Title => or_word(incident.title.as_deref(), UNKNOWN),
            Placeholder::Service => or_word(incident.service_name(), UNKNOWN),
            Placeholder::ServiceId => or_word(incident.service_id(), UNKNOWN),
            Placeholder::Urgency => or_word(incident.urgency.as_deref(), UNKNOWN),
            Placeholder::Priority => or_word(incident.priority_name(), NONE),
            Placeholder::Number => incident
                .number
                .map_or(Cow::Borrowed(UNKNOWN), |n| Cow::Owned(n.to_string())),
            Placeholder::IncidentId => or_word(Some(&incident.id), UNKNOWN),
            Placeholder::Url => or_word(incident.html_url.as_deref(), UNKNOWN),
            Placeholder::Status => or_word(incident.status.as_deref(), UNKNOWN),
            Placeholder::Assignees => names(&incident.assignees),
            Placeholder::Teams => names(&incident.teams),
            Placeholder::EscalationPolicy => or_word(incident.escalation_policy_name(), UNKNOWN),
            Placeholder::EventType => or_word(Some(self.event_type), UNKNOWN),
            Placeholder::OccurredAt => or_word(self.occurred_at, UNKNOWN),
            Placeholder::Alerts | Placeholder::Changes => self.joined(placeholder, "summary"),
            Placeholder::PastIncidents => self.joined(placeholder, "title"),
        }
    }

    /// The evidence a structured placeholder names (empty when none was read); `None` for the
    /// others.
    fn list(&self, placeholder: Placeholder) -> Option<&[serde_json::Value]> {
        let evidence = self.alerts;
        let list = |pick: fn(&Evidence) -> &Vec<serde_json::Value>| {
            Some(evidence.map_or(&[][..], |evidence| pick(evidence).as_slice()))
        };
        match placeholder {
            Placeholder::Alerts => list(|evidence| &evidence.alerts),
            Placeholder::Changes => list(|evidence| &evidence.changes),
            Placeholder::PastIncidents => list(|evidence| &evidence.past_incidents),
            _ => None,
        }
    }

    /// One field of each value of a structured placeholder, for a title; `none` when none.
    fn joined(&self, placeholder: Placeholder, field: &str) -> Cow<'_, str> {
        let values: Vec<&str> = self
            .list(placeholder)
            .unwrap_or_default()
            .iter()
            .filter_map(|value| value[field].as_str())
            .collect();
        if values.is_empty() {
            Cow::Borrowed(NONE)
        } else {
            Cow::Owned(values.join("; "))
        }
    }
}

fn or_word<'a>(value: Option<&'a str>, missing: &'static str) -> Cow<'a, str> {
    Cow::Borrowed(value.filter(|v| !v.is_empty()).unwrap_or(missing))
}

fn names(references: &[Reference]) -> Cow<'_, str> {
    let names: Vec<&str> = references.iter().filter_map(Reference::name).collect();
    if names.is_empty() {
        Cow::Borrowed(NONE)
    } else {
        Cow::Owned(names.join(", "))
    }
}

#[cfg(test)]
mod tests;
