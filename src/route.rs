//! The routing policy (`ROUTING_CONFIG`): which incidents reach Devin, and with which brief,
//! playbook and budget. Modelled on Alertmanager's routing: ordered rules of matchers, the first
//! match decides, every field of it overriding `defaults`; checked whole at cold start, so
//! nothing half-valid ever runs.

use std::collections::HashSet;
use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use thiserror::Error;

use crate::incident::{
    Incident, Reference, INCIDENT_ANNOTATED, INCIDENT_REOPENED, INCIDENT_RESOLVED,
    INCIDENT_TRIGGERED,
};
use crate::template::Template;

/// Devin accepts at most 50 tags a session; the bridge adds three of its own.
pub const MAX_POLICY_TAGS: usize = 47;
/// How an error at the root of the policy names its place.
const TOP_LEVEL: &str = "(top level)";
/// The rule name a decision reports when no rule matched.
pub const DEFAULTS: &str = "defaults";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Investigate,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    High,
    Low,
}

/// The policy as written; validated into a [`Policy`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a policy object")]
struct PolicyFile {
    #[serde(default = "default_event_types", deserialize_with = "non_empty")]
    event_types: Vec<String>,
    #[serde(default = "default_forward_events")]
    forward_events: Vec<String>,
    #[serde(default)]
    defaults: Route,
    #[serde(default)]
    rules: Vec<Route>,
}

fn default_event_types() -> Vec<String> {
    vec![INCIDENT_TRIGGERED.to_owned()]
}

/// What the session hears of by default: the responders' notes, and the end (or return) of
/// the incident.
fn default_forward_events() -> Vec<String> {
    [INCIDENT_RESOLVED, INCIDENT_REOPENED, INCIDENT_ANNOTATED]
        .map(str::to_owned)
        .to_vec()
}

/// `defaults` and each rule: every field optional; in a rule, a field left out (or `null`)
/// takes the value from `defaults`, except where `null` is a value of its own (`playbook_id`,
/// `max_acu_limit`, `knowledge_ids`, `repos`: null means "leave it out of the session").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object of route fields")]
struct Route {
    name: Option<String>,
    when: Option<Matchers>,
    action: Option<Action>,
    title: Option<Template>,
    prompt: Option<Template>,
    #[serde(default, deserialize_with = "explicit")]
    playbook_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit")]
    max_acu_limit: Option<Option<NonZeroU32>>,
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "explicit")]
    knowledge_ids: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "explicit")]
    repos: Option<Option<Vec<String>>>,
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

/// A checked policy, ready to decide.
#[derive(Debug, Clone)]
pub struct Policy {
    event_types: Vec<String>,
    forward_events: Vec<String>,
    defaults: Route,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    when: Matchers,
    route: Route,
}

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
}

/// Why a policy was refused: where, and what is wrong there.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("ROUTING_CONFIG: {path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

impl Default for Policy {
    /// No `ROUTING_CONFIG`: every triggered incident gets the built-in brief.
    fn default() -> Self {
        Policy {
            event_types: default_event_types(),
            forward_events: default_forward_events(),
            defaults: Route::default(),
            rules: Vec::new(),
        }
    }
}

impl Policy {
    /// Parses and checks a policy; the error names the first wrong place.
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(json).map_err(|err| PolicyError {
            path: TOP_LEVEL.into(),
            message: err.to_string(),
        })?;
        require_objects(&value)?;
        let file: PolicyFile = serde_path_to_error::deserialize(&value).map_err(|err| {
            let path = err.path().to_string();
            PolicyError {
                // serde_path_to_error says "." for the root.
                path: if path == "." { TOP_LEVEL.into() } else { path },
                message: err.into_inner().to_string(),
            }
        })?;
        Self::check(file)
    }

    fn check(file: PolicyFile) -> Result<Self, PolicyError> {
        let error = |path: String, message: &str| PolicyError {
            path,
            message: message.to_owned(),
        };
        if file.defaults.name.is_some() {
            return Err(error("defaults.name".into(), "only rules have a name"));
        }
        if file.defaults.when.is_some() {
            return Err(error("defaults.when".into(), "only rules have matchers"));
        }
        check_tags("defaults.tags", &file.defaults)?;
        let mut names = HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for (i, mut route) in file.rules.into_iter().enumerate() {
            let name = route
                .name
                .take()
                .filter(|name| !name.trim().is_empty())
                .ok_or_else(|| error(format!("rules[{i}].name"), "every rule needs a name"))?;
            if name == DEFAULTS || !names.insert(name.clone()) {
                return Err(error(
                    format!("rules[{i}].name"),
                    &format!(
                        "{name:?} is already taken (names must be unique and not \"defaults\")"
                    ),
                ));
            }
            check_tags(&format!("rules[{i}].tags"), &route)?;
            let when = route.when.take().unwrap_or_default();
            rules.push(Rule { name, when, route });
        }
        Ok(Policy {
            event_types: file.event_types,
            forward_events: file.forward_events,
            defaults: file.defaults,
            rules,
        })
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

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
        let defaults = &self.defaults;
        let (name, route) = match rule {
            Some(rule) => (rule.name.as_str(), &rule.route),
            None => (DEFAULTS, defaults),
        };
        // A rule's field wins when present; otherwise the default's.
        fn pick<'a, T>(rule: &'a Option<T>, defaults: &'a Option<T>) -> Option<&'a T> {
            rule.as_ref().or(defaults.as_ref())
        }
        Decision {
            rule: name,
            action: pick(&route.action, &defaults.action)
                .copied()
                .unwrap_or(Action::Investigate),
            title: pick(&route.title, &defaults.title),
            prompt: pick(&route.prompt, &defaults.prompt),
            playbook_id: pick(&route.playbook_id, &defaults.playbook_id)
                .and_then(|id| id.as_deref()),
            max_acu_limit: pick(&route.max_acu_limit, &defaults.max_acu_limit)
                .copied()
                .flatten(),
            tags: pick(&route.tags, &defaults.tags).map_or(&[], Vec::as_slice),
            knowledge_ids: pick(&route.knowledge_ids, &defaults.knowledge_ids)
                .and_then(|ids| ids.as_deref()),
            repos: pick(&route.repos, &defaults.repos).and_then(|repos| repos.as_deref()),
        }
    }
}

/// Serde also reads a struct from a JSON array, field by field in order: a policy written that
/// way is surely a mistake, so every place that takes an object must hold one.
fn require_objects(policy: &Value) -> Result<(), PolicyError> {
    let object = |path: String, value: Option<&Value>| match value {
        Some(Value::Array(_)) => Err(PolicyError {
            path,
            message: "expected an object, found a list".into(),
        }),
        _ => Ok(()),
    };
    if !policy.is_object() {
        return Err(PolicyError {
            path: TOP_LEVEL.into(),
            message: "expected a JSON object".into(),
        });
    }
    object("defaults".into(), policy.get("defaults"))?;
    let rules = policy.get("rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        object(format!("rules[{i}]"), Some(rule))?;
        object(format!("rules[{i}].when"), rule.get("when"))?;
    }
    Ok(())
}

fn check_tags(path: &str, route: &Route) -> Result<(), PolicyError> {
    let tags = route.tags.as_deref().unwrap_or_default();
    let message = if tags.len() > MAX_POLICY_TAGS {
        format!("at most {MAX_POLICY_TAGS} tags (Devin allows 50, the bridge adds 3)")
    } else if tags.iter().any(|tag| tag.trim().is_empty()) {
        "tags cannot be empty".to_owned()
    } else {
        return Ok(());
    };
    Err(PolicyError {
        path: path.to_owned(),
        message,
    })
}

impl Matchers {
    fn matches(&self, event_type: &str, incident: &Incident) -> bool {
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

/// A field that distinguishes "left out" (`None`) from "set to null" (`Some(None)`).
fn explicit<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A list that must not be empty: an empty matcher would match nothing, surely a mistake.
fn non_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let list = Vec::<T>::deserialize(deserializer)?;
    if list.is_empty() {
        return Err(serde::de::Error::custom(
            "an empty list would match nothing; leave the key out instead",
        ));
    }
    Ok(list)
}

fn some_non_empty<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    non_empty(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(id: &str, summary: &str) -> Option<Reference> {
        Some(Reference::named(id, summary))
    }

    fn incident() -> Incident {
        Incident {
            id: "Q1".into(),
            title: Some("Checkout latency high".into()),
            urgency: Some("high".into()),
            service: reference("PSVC1", "checkout-api"),
            priority: reference("PPRI1", "P1"),
            escalation_policy: reference("PESC1", "Payments EP"),
            teams: vec![
                reference("PTEAM1", "Payments").unwrap(),
                reference("PTEAM2", "SRE").unwrap(),
            ],
            ..Incident::default()
        }
    }

    fn policy(json: &str) -> Policy {
        Policy::from_json(json).unwrap_or_else(|err| panic!("{err}"))
    }

    /// The rule that decides for `incident` when the only rule has these matchers.
    fn matches(when: &str, incident: &Incident) -> bool {
        let policy = policy(&format!(r#"{{"rules":[{{"name":"r","when":{when}}}]}}"#));
        policy.decide(INCIDENT_TRIGGERED, incident).rule == "r"
    }

    #[test]
    fn each_matcher_on_its_own() {
        let i = incident();
        let cases = [
            (r#"{}"#, true),
            (r#"{"services":["checkout-api"]}"#, true),
            (r#"{"services":["PSVC1"]}"#, true),
            (r#"{"services":["other","checkout-api"]}"#, true),
            (r#"{"services":["Checkout-API"]}"#, false),
            (r#"{"urgency":["high"]}"#, true),
            (r#"{"urgency":["low"]}"#, false),
            (r#"{"priority":["P1","P2"]}"#, true),
            (r#"{"priority":["none"]}"#, false),
            (r#"{"teams":["SRE"]}"#, true),
            (r#"{"teams":["PTEAM1"]}"#, true),
            (r#"{"teams":["Infra"]}"#, false),
            (r#"{"escalation_policies":["Payments EP"]}"#, true),
            (r#"{"escalation_policies":["PESC1"]}"#, true),
            (r#"{"escalation_policies":["Other"]}"#, false),
            (r#"{"title_matches":"(?i)CHECKOUT|card"}"#, true),
            (r#"{"title_matches":"^latency"}"#, false),
            (r#"{"event_types":["incident.triggered"]}"#, true),
            (r#"{"event_types":["incident.acknowledged"]}"#, false),
        ];
        for (when, expected) in cases {
            assert_eq!(matches(when, &i), expected, "{when}");
        }
    }

    #[test]
    fn all_matchers_must_hold() {
        let i = incident();
        assert!(matches(r#"{"priority":["P1"],"urgency":["high"]}"#, &i));
        assert!(!matches(r#"{"priority":["P1"],"urgency":["low"]}"#, &i));
    }

    #[test]
    fn none_matches_an_incident_without_a_priority() {
        let no_priority = Incident {
            priority: None,
            ..incident()
        };
        assert!(matches(r#"{"priority":["none"]}"#, &no_priority));
        assert!(!matches(r#"{"priority":["P1"]}"#, &no_priority));
    }

    #[test]
    fn missing_fields_never_match_a_matcher_that_needs_them() {
        let bare = Incident {
            id: "Q2".into(),
            ..Incident::default()
        };
        for when in [
            r#"{"services":["checkout-api"]}"#,
            r#"{"urgency":["high","low"]}"#,
            r#"{"teams":["SRE"]}"#,
            r#"{"escalation_policies":["Payments EP"]}"#,
            r#"{"title_matches":"."}"#,
        ] {
            assert!(!matches(when, &bare), "{when}");
        }
        assert!(matches(r#"{"title_matches":"^$"}"#, &bare));
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let p = policy(
            r#"{"rules":[
                {"name":"noisy","when":{"services":["legacy-batch"]},"action":"ignore"},
                {"name":"sev1","when":{"priority":["P1"]}},
                {"name":"high","when":{"urgency":["high"]},"action":"ignore"}
            ]}"#,
        );
        assert_eq!(p.decide(INCIDENT_TRIGGERED, &incident()).rule, "sev1");
        let batch = Incident {
            service: reference("PB", "legacy-batch"),
            ..incident()
        };
        let decision = p.decide(INCIDENT_TRIGGERED, &batch);
        assert_eq!((decision.rule, decision.action), ("noisy", Action::Ignore));
        let p3 = Incident {
            priority: reference("P3", "P3"),
            ..incident()
        };
        assert_eq!(p.decide(INCIDENT_TRIGGERED, &p3).rule, "high");
        let low = Incident {
            urgency: Some("low".into()),
            ..p3
        };
        let decision = p.decide(INCIDENT_TRIGGERED, &low);
        assert_eq!(
            (decision.rule, decision.action),
            (DEFAULTS, Action::Investigate)
        );
    }

    #[test]
    fn rules_override_defaults_field_by_field() {
        let p = policy(
            r#"{
                "defaults": {"action":"ignore","title":"T {number}","playbook_id":"pb-default",
                             "max_acu_limit":10,"tags":["d"],"knowledge_ids":["k1"],"repos":["a/b"]},
                "rules": [
                    {"name":"sev1","when":{"priority":["P1"]},"action":"investigate",
                     "max_acu_limit":50,"tags":["sev1"],"playbook_id":null},
                    {"name":"all","action":"investigate","knowledge_ids":null,"repos":[]}
                ]
            }"#,
        );
        let sev1 = p.decide(INCIDENT_TRIGGERED, &incident());
        assert_eq!(sev1.action, Action::Investigate);
        assert_eq!(sev1.max_acu_limit, NonZeroU32::new(50));
        assert_eq!(sev1.tags, ["sev1"]);
        assert_eq!(sev1.playbook_id, None, "null in a rule clears the default");
        assert_eq!(sev1.knowledge_ids, Some(&["k1".to_owned()][..]));
        assert_eq!(sev1.title, p.defaults.title.as_ref());

        let other = Incident {
            priority: None,
            ..incident()
        };
        let all = p.decide(INCIDENT_TRIGGERED, &other);
        assert_eq!(all.rule, "all");
        assert_eq!(all.playbook_id, Some("pb-default"));
        assert_eq!(all.max_acu_limit, NonZeroU32::new(10));
        assert_eq!(all.tags, ["d"]);
        assert_eq!(all.knowledge_ids, None);
        assert_eq!(all.repos, Some(&[][..]));
    }

    #[test]
    fn no_policy_is_todays_behaviour() {
        let p = Policy::default();
        assert!(p.accepts("incident.triggered"));
        assert!(!p.accepts("incident.acknowledged") && !p.accepts("pagey.ping"));
        let d = p.decide(INCIDENT_TRIGGERED, &incident());
        assert_eq!(
            d,
            Decision {
                rule: DEFAULTS,
                action: Action::Investigate,
                title: None,
                prompt: None,
                playbook_id: None,
                max_acu_limit: None,
                tags: &[],
                knowledge_ids: None,
                repos: None,
            }
        );
    }

    #[test]
    fn event_types_choose_what_may_start_a_session() {
        let p = policy(r#"{"event_types":["incident.triggered","incident.reopened"]}"#);
        assert!(p.accepts("incident.reopened") && !p.accepts("incident.resolved"));
    }

    #[test]
    fn forward_events_choose_what_the_session_hears() {
        let default = Policy::default();
        for forwarded in [
            "incident.resolved",
            "incident.reopened",
            "incident.annotated",
        ] {
            assert!(default.forwards(forwarded), "{forwarded}");
        }
        assert!(!default.forwards("incident.acknowledged"));
        let p = policy(r#"{"forward_events":["incident.acknowledged","incident.annotated"]}"#);
        assert!(p.forwards("incident.acknowledged") && !p.forwards("incident.resolved"));
        let none = policy(r#"{"forward_events":[]}"#);
        assert!(!none.forwards("incident.annotated"));
    }

    /// Every way a policy can be wrong, and the line that says where.
    #[test]
    fn every_validation_error_names_its_place() {
        let cases = [
            (r#"{"rules": ["#, "ROUTING_CONFIG: (top level): EOF while parsing a list at line 1 column 11"),
            (r#"{"#, "ROUTING_CONFIG: (top level): EOF while parsing an object"),
            (r#"[]"#, "ROUTING_CONFIG: (top level): expected a JSON object"),
            (r#"{"defaults": ["ignore"]}"#, "ROUTING_CONFIG: defaults: expected an object, found a list"),
            (r#"{"rules": [["a"]]}"#, "ROUTING_CONFIG: rules[0]: expected an object, found a list"),
            (r#"{"rules": [{"name": "a", "when": []}]}"#, "ROUTING_CONFIG: rules[0].when: expected an object, found a list"),
            (r#"{"rules": {"name": "a"}}"#, "ROUTING_CONFIG: rules: invalid type: map, expected a sequence"),
            (r#"{"rule": []}"#, "ROUTING_CONFIG: rule: unknown field `rule`"),
            (r#"{"event_types": []}"#, "ROUTING_CONFIG: event_types: an empty list would match nothing"),
            (r#"{"event_types": "incident.triggered"}"#, "ROUTING_CONFIG: event_types: invalid type: string"),
            (r#"{"defaults": {"action": "page"}}"#, "ROUTING_CONFIG: defaults.action: unknown variant `page`, expected `investigate` or `ignore`"),
            (r#"{"defaults": {"prompt": "see {titel}"}}"#, "ROUTING_CONFIG: defaults.prompt: unknown placeholder {titel}; known: title,"),
            (r#"{"defaults": {"title": "oops {"}}"#, "ROUTING_CONFIG: defaults.title: unclosed '{' at byte 5"),
            (r#"{"defaults": {"max_acu_limit": 0}}"#, "ROUTING_CONFIG: defaults.max_acu_limit: invalid value: integer `0`, expected a nonzero u32"),
            (r#"{"defaults": {"max_acu_limit": "50"}}"#, "ROUTING_CONFIG: defaults.max_acu_limit: invalid type: string \"50\""),
            (r#"{"defaults": {"tags": ["ok", " "]}}"#, "ROUTING_CONFIG: defaults.tags: tags cannot be empty"),
            (r#"{"defaults": {"name": "d"}}"#, "ROUTING_CONFIG: defaults.name: only rules have a name"),
            (r#"{"defaults": {"when": {}}}"#, "ROUTING_CONFIG: defaults.when: only rules have matchers"),
            (r#"{"rules": [{"when": {}}]}"#, "ROUTING_CONFIG: rules[0].name: every rule needs a name"),
            (r#"{"rules": [{"name": "a"}, {"name": "a"}]}"#, "ROUTING_CONFIG: rules[1].name: \"a\" is already taken"),
            (r#"{"rules": [{"name": "defaults"}]}"#, "ROUTING_CONFIG: rules[0].name: \"defaults\" is already taken"),
            (r#"{"rules": [{"name": "a"}, {"name": "b"}, {"name": "c", "when": {"urgency": ["high", "medium"]}}]}"#, "ROUTING_CONFIG: rules[2].when.urgency[1]: unknown variant `medium`, expected `high` or `low`"),
            (r#"{"rules": [{"name": "a", "when": {"title_matches": "(unclosed"}}]}"#, "ROUTING_CONFIG: rules[0].when.title_matches: not a regular expression"),
            (r#"{"rules": [{"name": "a", "when": {"service": ["x"]}}]}"#, "ROUTING_CONFIG: rules[0].when.service: unknown field `service`, expected one of `services`"),
            (r#"{"rules": [{"name": "a", "when": {"services": []}}]}"#, "ROUTING_CONFIG: rules[0].when.services: an empty list would match nothing"),
            (r#"{"rules": [{"name": "a", "when": {"teams": "Payments"}}]}"#, "ROUTING_CONFIG: rules[0].when.teams: invalid type: string \"Payments\", expected a sequence"),
            (r#"{"rules": [{"name": "a", "repos": "acme/x"}]}"#, "ROUTING_CONFIG: rules[0].repos: invalid type: string \"acme/x\", expected a sequence"),
        ];
        for (json, expected) in cases {
            let err = match Policy::from_json(json) {
                Ok(_) => panic!("accepted: {json}"),
                Err(err) => err.to_string(),
            };
            assert!(
                err.starts_with(expected),
                "{json}\n  got: {err}\n  want: {expected}"
            );
            assert!(!err.contains('\n'), "one line: {err}");
        }
        let too_many: Vec<String> = (0..48).map(|i| format!("\"t{i}\"")).collect();
        let err = Policy::from_json(&format!(
            r#"{{"rules":[{{"name":"a","tags":[{}]}}]}}"#,
            too_many.join(",")
        ))
        .unwrap_err();
        assert_eq!(err.path, "rules[0].tags");
    }
}
