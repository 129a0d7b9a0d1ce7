//! The conditions of a rule (`when`): each names a field of the incident and the values that
//! match it.

use serde::{Deserialize, Deserializer};

use crate::inbound::webhook::{Incident, Reference};
use crate::policy::field::some_non_empty;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    High,
    Low,
}

/// Conditions on an incident, all of which must hold; an absent matcher holds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object of matchers")]
pub struct Matchers {
    #[serde(default, deserialize_with = "some_non_empty")]
    services: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_non_empty")]
    urgency: Option<Vec<Urgency>>,
    #[serde(default, deserialize_with = "some_non_empty")]
    priority: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_non_empty")]
    teams: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_non_empty")]
    escalation_policies: Option<Vec<String>>,
    title_matches: Option<TitlePattern>,
    #[serde(default, deserialize_with = "some_non_empty")]
    event_types: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
struct TitlePattern(regex_lite::Regex);

impl<'de> Deserialize<'de> for TitlePattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(deserializer)?;
        regex_lite::Regex::new(&pattern)
            .map(TitlePattern)
            .map_err(|err| serde::de::Error::custom(format!("not a regular expression: {err}")))
    }
}

impl Matchers {
    /// The event types `event_types` lists, when it does.
    pub(super) fn event_types(&self) -> &[String] {
        self.event_types.as_deref().unwrap_or_default()
    }

    /// The matchers, as a policy summary shows them: `priority=P1, urgency=high`; empty when
    /// every incident matches.
    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut list = |name: &str, values: Option<Vec<String>>| {
            if let Some(values) = values {
                parts.push(format!("{name}={}", values.join("|")));
            }
        };
        list("services", self.services.clone());
        list(
            "urgency",
            self.urgency.as_ref().map(|urgencies| {
                urgencies
                    .iter()
                    .map(|u| format!("{u:?}").to_ascii_lowercase())
                    .collect()
            }),
        );
        list("priority", self.priority.clone());
        list("teams", self.teams.clone());
        list("escalation_policies", self.escalation_policies.clone());
        list("event_types", self.event_types.clone());
        if let Some(TitlePattern(pattern)) = &self.title_matches {
            parts.push(format!("title~{}", pattern.as_str()));
        }
        parts.join(", ")
    }

    pub(super) fn matches(&self, event_type: &str, incident: &Incident) -> bool {
        let named = |list: &Option<Vec<String>>, reference: Option<&Reference>| {
            list.as_ref().is_none_or(|list| {
                reference.is_some_and(|r| {
                    list.iter().any(|wanted| {
                        r.id.as_deref() == Some(wanted) || r.summary.as_deref() == Some(wanted)
                    })
                })
            })
        };
        named(&self.services, incident.service.as_ref())
            && named(
                &self.escalation_policies,
                incident.escalation_policy.as_ref(),
            )
            && self.teams.as_ref().is_none_or(|_| {
                incident
                    .teams
                    .iter()
                    .any(|team| named(&self.teams, Some(team)))
            })
            && self.urgency.as_ref().is_none_or(|list| {
                let urgency = match incident.urgency.as_deref() {
                    Some("high") => Some(Urgency::High),
                    Some("low") => Some(Urgency::Low),
                    _ => None,
                };
                urgency.is_some_and(|u| list.contains(&u))
            })
            && self.priority.as_ref().is_none_or(|list| {
                match incident
                    .priority
                    .as_ref()
                    .and_then(|p| p.summary.as_deref())
                {
                    Some(priority) => list.iter().any(|wanted| wanted == priority),
                    None => list.iter().any(|wanted| wanted == "none"),
                }
            })
            && self.title_matches.as_ref().is_none_or(|TitlePattern(re)| {
                re.is_match(incident.title.as_deref().unwrap_or_default())
            })
            && self
                .event_types
                .as_ref()
                .is_none_or(|list| list.iter().any(|t| t == event_type))
    }
}
