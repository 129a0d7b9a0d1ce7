//! What the policy says about one delivery: whether its event type is forwarded or may start a
//! session, and for an incident, which rule decides and with what.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::inbound::webhook::Incident;
use crate::life::session::DevinMode;
use crate::policy::rules::{
    Action, Limits, Policy, RuleFields, DEFAULTS, DEFAULT_GROUP_WINDOW, DEFAULT_MAX_ACU_LIMIT,
};
use crate::policy::template::Template;
use crate::text::custom_fields::FieldMap;

/// What the policy says about one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'a> {
    /// The matching rule's name, or [`DEFAULTS`].
    pub rule: &'a str,
    pub action: Action,
    /// `None`: the built-in title or prompt.
    pub title: Option<&'a Template>,
    pub prompt: Option<&'a Template>,
    pub playbook_id: Option<&'a str>,
    pub max_acu_limit: Option<NonZeroU32>,
    pub tags: &'a [String],
    pub knowledge_ids: Option<&'a [String]>,
    pub repos: Option<&'a [String]>,
    /// Renders the incident's group; `None`: no grouping.
    pub group_by: Option<&'a Template>,
    /// How long the group's session takes new incidents after it started.
    pub group_window: Duration,
    /// The deciding rule's own budget.
    pub limits: Limits,
    /// Whether the session keeps structured findings.
    pub structured_output: bool,
    /// How long after the incident's creation its session may start; `None`: at once.
    pub start_after: Option<Duration>,
    /// Whether a resolve asks the session for a postmortem draft (only with the structured
    /// output, where Devin writes it).
    pub postmortem: bool,
    /// Devin's agent mode; `None`: left out (the organization's default).
    pub devin_mode: Option<DevinMode>,
    /// Which findings go into which custom fields of the incident; `None`: none.
    pub custom_fields: Option<&'a FieldMap>,
}

impl Policy {
    /// Whether deliveries of this type are passed on to the incident's session.
    pub fn forwards(&self, event_type: &str) -> bool {
        self.forward_events.iter().any(|t| t == event_type)
    }

    /// Whether deliveries of this type may start a session at all.
    pub fn accepts(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == event_type)
    }

    /// The first rule whose matchers all hold decides; with none, `defaults` does.
    pub fn decide(&self, event_type: &str, incident: &Incident) -> Decision<'_> {
        let rule = self
            .rules
            .iter()
            .find(|rule| rule.when.matches(event_type, incident));
        match rule {
            Some(rule) => self.decision(&rule.name, &rule.fields),
            None => self.decision(DEFAULTS, &self.defaults),
        }
    }

    /// What the rule `name` with `fields` decides, over the defaults.
    pub(super) fn decision<'a>(&'a self, name: &'a str, fields: &'a RuleFields) -> Decision<'a> {
        let defaults = &self.defaults;
        // A rule's field wins when present; otherwise the default's.
        fn pick<'a, T>(rule: &'a Option<T>, defaults: &'a Option<T>) -> Option<&'a T> {
            rule.as_ref().or(defaults.as_ref())
        }
        Decision {
            rule: name,
            action: pick(&fields.action, &defaults.action)
                .copied()
                .unwrap_or(Action::Investigate),
            title: pick(&fields.title, &defaults.title),
            prompt: pick(&fields.prompt, &defaults.prompt),
            playbook_id: pick(&fields.playbook_id, &defaults.playbook_id)
                .and_then(|id| id.as_deref()),
            // Absent everywhere: the built-in cap; `null`: none.
            max_acu_limit: pick(&fields.max_acu_limit, &defaults.max_acu_limit)
                .copied()
                .unwrap_or(NonZeroU32::new(DEFAULT_MAX_ACU_LIMIT)),
            tags: pick(&fields.tags, &defaults.tags).map_or(&[], Vec::as_slice),
            knowledge_ids: pick(&fields.knowledge_ids, &defaults.knowledge_ids)
                .and_then(|ids| ids.as_deref()),
            repos: pick(&fields.repos, &defaults.repos).and_then(|repos| repos.as_deref()),
            group_by: pick(&fields.group_by, &defaults.group_by).and_then(Option::as_ref),
            group_window: pick(&fields.group_window_minutes, &defaults.group_window_minutes)
                .map_or(DEFAULT_GROUP_WINDOW, |window| window.duration()),
            limits: pick(&fields.limits, &defaults.limits)
                .copied()
                .unwrap_or_default(),
            structured_output: pick(&fields.structured_output, &defaults.structured_output)
                .copied()
                .unwrap_or(true),
            start_after: pick(&fields.start_after_minutes, &defaults.start_after_minutes)
                .copied()
                .flatten()
                .map(|after| after.duration()),
            postmortem: pick(&fields.postmortem, &defaults.postmortem)
                .copied()
                .unwrap_or(true),
            devin_mode: pick(&fields.devin_mode, &defaults.devin_mode)
                .copied()
                .flatten(),
            custom_fields: pick(&fields.custom_fields, &defaults.custom_fields)
                .filter(|map| !map.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests;
