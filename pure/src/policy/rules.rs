//! A checked policy: the rules in the order they are tried, each with its matchers and the
//! fields it sets, and the defaults those fields override.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::Deserialize;

use crate::inbound::webhook::{
    INCIDENT_ANNOTATED, INCIDENT_REOPENED, INCIDENT_RESOLVED, INCIDENT_TRIGGERED,
};
use crate::life::session::DevinMode;
use crate::policy::field::explicit;
use crate::policy::matchers::Matchers;
use crate::policy::template::Template;
use crate::text::custom_fields::FieldMap;

/// Devin accepts at most 50 tags a session; the bridge adds three of its own.
pub const MAX_POLICY_TAGS: usize = 47;
/// The rule name a decision reports when no rule matched.
pub const DEFAULTS: &str = "defaults";
/// The ACU cap of every session when the policy names none (`null` lifts it).
pub const DEFAULT_MAX_ACU_LIMIT: u32 = 10;
/// How long a group takes new incidents after its session started, when the policy says not.
pub const DEFAULT_GROUP_WINDOW: Duration = Duration::from_secs(30 * 60);
/// A group closes at this many incidents: the next one starts a new group.
pub const MAX_GROUP_INCIDENTS: u32 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Investigate,
    Ignore,
    /// Start nothing: show on the incident what would have been started.
    Shadow,
}

/// Session limits, counted in the ledger in fixed UTC hours and days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object of limits")]
pub struct Limits {
    pub sessions_per_hour: Option<NonZeroU32>,
    pub sessions_per_day: Option<NonZeroU32>,
}

/// A checked policy, ready to decide.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(super) event_types: Vec<String>,
    pub(super) forward_events: Vec<String>,
    /// For the whole bridge.
    pub(super) limits: Limits,
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
/// `max_acu_limit`, `knowledge_ids`, `repos`, `devin_mode`: null means "leave it out of the
/// session").
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
    /// Incidents whose template renders alike share a session; `null` turns grouping off.
    #[serde(default, deserialize_with = "explicit")]
    pub(super) group_by: Option<Option<Template>>,
    pub(super) group_window_minutes: Option<GroupWindow>,
    /// This rule's own budget (counted per rule).
    pub(super) limits: Option<Limits>,
    /// Whether sessions keep structured findings for the follow-up to post (default: yes).
    pub(super) structured_output: Option<bool>,
    /// Wait this long after the incident was created before starting its session: incidents
    /// that resolve themselves in the meantime cost nothing. `null` turns a default off.
    #[serde(default, deserialize_with = "explicit")]
    pub(super) start_after_minutes: Option<Option<StartAfter>>,
    /// Whether a resolve asks the session for a postmortem draft (default: yes; it needs the
    /// structured output).
    pub(super) postmortem: Option<bool>,
    /// Devin's agent mode for the session (`normal` or `fast`); sent only when named, `null`
    /// turns a default off (Devin then uses the organization's default mode).
    #[serde(default, deserialize_with = "explicit")]
    pub(super) devin_mode: Option<Option<DevinMode>>,
    /// Which findings the follow-up sets into which of the incident's custom fields; a rule's
    /// map replaces the default's, and `{}` sets none.
    pub(super) custom_fields: Option<FieldMap>,
}

/// A number of minutes from `MIN` to `MAX`, refused with its bounds when outside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minutes<const MIN: u32, const MAX: u32>(pub u32);

impl<const MIN: u32, const MAX: u32> Minutes<MIN, MAX> {
    pub fn duration(self) -> Duration {
        Duration::from_secs(60 * u64::from(self.0))
    }
}

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Minutes<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let minutes = u32::deserialize(deserializer)?;
        if !(MIN..=MAX).contains(&minutes) {
            return Err(serde::de::Error::custom(format!(
                "{minutes} is not a number of minutes from {MIN} to {MAX}"
            )));
        }
        Ok(Minutes(minutes))
    }
}

/// `group_window_minutes`: from 1 minute to a day.
pub type GroupWindow = Minutes<1, 1440>;

/// `start_after_minutes`: from 1 minute to an hour (the sweep looks an hour back by default).
pub type StartAfter = Minutes<1, 60>;

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
            limits: Limits::default(),
            defaults: RuleFields::default(),
            rules: Vec::new(),
        }
    }
}

impl Policy {
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The limits of the whole bridge.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Every event type the bridge acts on: those that may start a session and those passed on
    /// to one, once each, sorted (a webhook subscription's event filter).
    pub fn event_types_heard(&self) -> Vec<String> {
        let mut heard: Vec<String> = self
            .event_types
            .iter()
            .chain(&self.forward_events)
            .cloned()
            .collect();
        heard.sort();
        heard.dedup();
        heard
    }

    /// Whether some incidents' sessions wait (`start_after_minutes`): the follow-up starts
    /// them, and needs PagerDuty's token to see whether they are still open.
    /// Whether some incidents' findings go into custom fields: only then does the follow-up
    /// read (or write) any.
    pub fn sets_fields(&self) -> bool {
        std::iter::once(&self.defaults)
            .chain(self.rules.iter().map(|rule| &rule.fields))
            .any(|fields| {
                fields
                    .custom_fields
                    .as_ref()
                    .is_some_and(|map| !map.is_empty())
            })
    }

    pub fn defers(&self) -> bool {
        std::iter::once(&self.defaults)
            .chain(self.rules.iter().map(|rule| &rule.fields))
            .any(|fields| matches!(fields.start_after_minutes, Some(Some(_))))
    }
}
