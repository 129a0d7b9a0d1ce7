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
}

const PLACEHOLDERS: [(&str, Placeholder); 15] = [
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
    /// The incident's alerts, when they were read.
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
                Part::Value(Placeholder::Alerts) if quoting == Quoting::Json => {
                    match facts.alerts.filter(|evidence| !evidence.alerts.is_empty()) {
                        Some(evidence) => out.push_str(&quote::json(&evidence.alerts)),
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
            Placeholder::Alerts => {
                let summaries: Vec<&str> = self
                    .alerts
                    .iter()
                    .flat_map(|evidence| &evidence.alerts)
                    .filter_map(|alert| alert["summary"].as_str())
                    .collect();
                if summaries.is_empty() {
                    Cow::Borrowed(NONE)
                } else {
                    Cow::Owned(summaries.join("; "))
                }
            }
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
mod tests {
    use super::*;

    fn full() -> Incident {
        Incident {
            id: "Q1".into(),
            number: Some(7),
            title: Some("Disk \"full\"\nnow".into()),
            status: Some("triggered".into()),
            urgency: Some("high".into()),
            html_url: Some("https://x.pagerduty.com/incidents/Q1".into()),
            service: Some(Reference::named("PS", "api")),
            priority: Some(Reference::named("PP", "P1")),
            escalation_policy: Some(Reference::named("PE", "Default")),
            assignees: vec![Reference::named("U1", "Ann"), Reference::named("U2", "Bo")],
            teams: vec![Reference::named("T1", "Core")],
            ..Incident::default()
        }
    }

    fn render(template: &str, incident: &Incident, quoting: Quoting) -> String {
        let facts = Facts {
            incident,
            event_type: "incident.triggered",
            occurred_at: Some("2026-11-28T09:12:04.512Z"),
            alerts: None,
        };
        Template::parse(template).unwrap().render(&facts, quoting)
    }

    #[test]
    fn every_placeholder_renders() {
        let all: Vec<String> = PLACEHOLDERS
            .iter()
            .map(|(n, _)| format!("{{{n}}}"))
            .collect();
        let rendered = render(&all.join("|"), &full(), Quoting::Plain);
        assert_eq!(
            rendered,
            "Disk \"full\"\nnow|api|PS|high|P1|7|Q1|https://x.pagerduty.com/incidents/Q1|triggered|\
             Ann, Bo|Core|Default|incident.triggered|2026-11-28T09:12:04.512Z|none"
        );
    }

    #[test]
    fn missing_values_render_as_words() {
        let bare = Incident {
            id: "Q2".into(),
            title: Some(String::new()),
            ..Incident::default()
        };
        let all: Vec<String> = PLACEHOLDERS
            .iter()
            .map(|(n, _)| format!("{{{n}}}"))
            .collect();
        let rendered = render(&all.join("|"), &bare, Quoting::Plain);
        assert_eq!(
            rendered,
            "unknown|unknown|unknown|unknown|none|unknown|Q2|unknown|unknown|none|none|unknown|\
             incident.triggered|2026-11-28T09:12:04.512Z|none"
        );
    }

    #[test]
    fn prompts_quote_every_value() {
        let rendered = render(
            "Look at {title} on {service} ({number}).",
            &full(),
            Quoting::Json,
        );
        assert_eq!(rendered, r#"Look at "Disk \"full\"\nnow" on "api" ("7")."#);
    }

    #[test]
    fn alerts_are_a_json_array_in_a_prompt_and_their_summaries_in_a_title() {
        let evidence = Evidence {
            alerts: vec![
                serde_json::json!({"summary": "CPU \"97%\"\u{2028}", "details": {"q": "x > 1"}}),
            ],
        };
        let incident = full();
        let facts = Facts {
            incident: &incident,
            event_type: "incident.triggered",
            occurred_at: None,
            alerts: Some(&evidence),
        };
        let prompt = Template::parse("Alerts: {alerts}.")
            .unwrap()
            .render(&facts, Quoting::Json);
        assert_eq!(
            prompt,
            r#"Alerts: [{"details":{"q":"x > 1"},"summary":"CPU \"97%\"\u2028"}]."#
        );
        let title = Template::parse("{alerts}")
            .unwrap()
            .render(&facts, Quoting::Plain);
        assert_eq!(title, "CPU \"97%\"\u{2028}");
        assert_eq!(
            render("{alerts}", &full(), Quoting::Json),
            r#""none""#,
            "no alerts read"
        );
    }

    #[test]
    fn a_template_shows_as_it_was_written() {
        for source in ["db:{service}", "{{literal}} {title}}}", "plain"] {
            assert_eq!(Template::parse(source).unwrap().to_string(), source);
        }
    }

    #[test]
    fn braces_can_be_literal() {
        assert_eq!(
            render("{{title}} is {title}}}", &full(), Quoting::Plain),
            "{title} is Disk \"full\"\nnow}"
        );
    }

    #[test]
    fn bad_templates_are_refused() {
        let unknown = Template::parse("a {titel} b").unwrap_err();
        assert!(unknown
            .to_string()
            .starts_with("unknown placeholder {titel}; known: title, service,"));
        assert_eq!(
            Template::parse("a {title").unwrap_err(),
            TemplateError::Unclosed(2)
        );
        assert_eq!(
            Template::parse("a } b").unwrap_err(),
            TemplateError::Unmatched(2)
        );
        assert!(Template::parse("{}").is_err());
        assert!(Template::parse("{ title }").is_err());
    }
}
