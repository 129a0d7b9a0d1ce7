//! A checked policy: the rules in the order they are tried, each with its matchers and the
//! fields it sets, and the defaults those fields override.

use std::num::NonZeroU32;

use serde::Deserialize;

use crate::pure::policy::field::explicit;
use crate::pure::policy::matchers::Matchers;
use crate::pure::template::Template;
use crate::pure::webhook::{
    INCIDENT_ANNOTATED, INCIDENT_REOPENED, INCIDENT_RESOLVED, INCIDENT_TRIGGERED,
};

/// Devin accepts at most 50 tags a session; the bridge adds three of its own.
pub const MAX_POLICY_TAGS: usize = 47;
/// The rule name a decision reports when no rule matched.
pub const DEFAULTS: &str = "defaults";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Investigate,
    Ignore,
}

/// A checked policy, ready to decide.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(super) event_types: Vec<String>,
    pub(super) forward_events: Vec<String>,
    pub(super) defaults: RuleFields,
    pub(super) rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) name: String,
    pub(super) when: Matchers,
    pub(super) fields: RuleFields,
}

/// `defaults` and each rule: every field optional; in a rule, a field left out (or `null`)
/// takes the value from `defaults`, except where `null` is a value of its own (`playbook_id`,
/// `max_acu_limit`, `knowledge_ids`, `repos`: null means "leave it out of the session").
/// `name` and `when` are read here and moved into the [`Rule`] when the policy is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object of route fields")]
pub(super) struct RuleFields {
    pub(super) name: Option<String>,
    pub(super) when: Option<Matchers>,
    pub(super) action: Option<Action>,
    pub(super) title: Option<Template>,
    pub(super) prompt: Option<Template>,
    #[serde(default, deserialize_with = "explicit")]
    pub(super) playbook_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit")]
    pub(super) max_acu_limit: Option<Option<NonZeroU32>>,
    pub(super) tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "explicit")]
    pub(super) knowledge_ids: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "explicit")]
    pub(super) repos: Option<Option<Vec<String>>>,
}

pub(super) fn default_event_types() -> Vec<String> {
    vec![INCIDENT_TRIGGERED.to_owned()]
}

/// What the session hears of by default: the responders' notes, and the end (or return) of
/// the incident.
pub(super) fn default_forward_events() -> Vec<String> {
    [INCIDENT_RESOLVED, INCIDENT_REOPENED, INCIDENT_ANNOTATED]
        .map(str::to_owned)
        .to_vec()
}

impl Default for Policy {
    /// No `ROUTING_CONFIG`: every triggered incident gets the built-in brief.
    fn default() -> Self {
        Policy {
            event_types: default_event_types(),
            forward_events: default_forward_events(),
            defaults: RuleFields::default(),
            rules: Vec::new(),
        }
    }
}

impl Policy {
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}
