//! Reading `ROUTING_CONFIG`: JSON into a checked [`Policy`], or one error that names the first
//! wrong place (`rules[2].when.urgency[0]: unknown variant ...`).

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::inbound::event_types;
use crate::policy::field::non_empty;
use crate::policy::rules::{
    default_event_types, default_forward_events, Limits, Policy, Rule, RuleFields, DEFAULTS,
    MAX_POLICY_TAGS,
};

/// How an error at the root of the policy names its place.
const TOP_LEVEL: &str = "(top level)";

/// Why a policy was refused: where, and what is wrong there.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("ROUTING_CONFIG: {path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
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
    defaults: RuleFields,
    #[serde(default)]
    rules: Vec<RuleFields>,
    #[serde(default)]
    limits: Limits,
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
        check(file)
    }
}

/// What serde cannot check: names, and what only rules may have.
fn check(file: PolicyFile) -> Result<Policy, PolicyError> {
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
    check_event_types("event_types", &file.event_types, event_types::cannot_start)?;
    check_event_types(
        "forward_events",
        &file.forward_events,
        event_types::cannot_forward,
    )?;
    check_tags("defaults.tags", &file.defaults)?;
    let mut names = HashSet::new();
    let mut rules = Vec::with_capacity(file.rules.len());
    for (i, mut fields) in file.rules.into_iter().enumerate() {
        let name = fields
            .name
            .take()
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| error(format!("rules[{i}].name"), "every rule needs a name"))?;
        if name == DEFAULTS || !names.insert(name.clone()) {
            return Err(error(
                format!("rules[{i}].name"),
                &format!("{name:?} is already taken (names must be unique and not \"defaults\")"),
            ));
        }
        check_tags(&format!("rules[{i}].tags"), &fields)?;
        let when = fields.when.take().unwrap_or_default();
        // A rule decides only for deliveries that start sessions: a type whose data is not an
        // incident would never match.
        check_event_types(
            &format!("rules[{i}].when.event_types"),
            when.event_types(),
            event_types::cannot_start,
        )?;
        rules.push(Rule { name, when, fields });
    }
    Ok(Policy {
        event_types: file.event_types,
        forward_events: file.forward_events,
        limits: file.limits,
        defaults: file.defaults,
        rules,
    })
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
    object("limits".into(), policy.get("limits"))?;
    if let Some(defaults) = policy.get("defaults") {
        object("defaults.limits".into(), defaults.get("limits"))?;
    }
    let rules = policy.get("rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        object(format!("rules[{i}]"), Some(rule))?;
        object(format!("rules[{i}].when"), rule.get("when"))?;
        object(format!("rules[{i}].limits"), rule.get("limits"))?;
    }
    Ok(())
}

/// Every listed type must carry what the list is for: a delivery the bridge cannot use could only
/// be ignored, and a subscription that asks PagerDuty for it wastes deliveries.
fn check_event_types(
    setting: &str,
    listed: &[String],
    why_not: fn(&str) -> Option<String>,
) -> Result<(), PolicyError> {
    for (i, event_type) in listed.iter().enumerate() {
        if let Some(message) = why_not(event_type) {
            return Err(PolicyError {
                path: format!("{setting}[{i}]"),
                message,
            });
        }
    }
    Ok(())
}

fn check_tags(path: &str, fields: &RuleFields) -> Result<(), PolicyError> {
    let tags = fields.tags.as_deref().unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;

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
            (r#"{"event_types": ["incident.triggered", "incident.responder.added"]}"#, "ROUTING_CONFIG: event_types[1]: incident.responder.added is not an event type whose data is an incident"),
            (r#"{"event_types": ["incident.annotated"]}"#, "ROUTING_CONFIG: event_types[0]: incident.annotated carries a note, not an incident"),
            (r#"{"forward_events": ["incident.resolved", "incident.status_update_published"]}"#, "ROUTING_CONFIG: forward_events[1]: incident.status_update_published is not an event type whose data is an incident"),
            (r#"{"forward_events": ["service.updated"]}"#, "ROUTING_CONFIG: forward_events[0]: service.updated is not"),
            (r#"{"rules": [{"name": "a", "when": {"event_types": ["incident.workflow.started"]}}]}"#, "ROUTING_CONFIG: rules[0].when.event_types[0]: incident.workflow.started is not"),
            (r#"{"defaults": {"action": "page"}}"#, "ROUTING_CONFIG: defaults.action: unknown variant `page`, expected one of `investigate`, `ignore`, `shadow`"),
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
            (r#"{"defaults": {"group_by": "{servce}"}}"#, "ROUTING_CONFIG: defaults.group_by: unknown placeholder {servce}"),
            (r#"{"defaults": {"group_by": 7}}"#, "ROUTING_CONFIG: defaults.group_by: invalid type: integer `7`, expected a string"),
            (r#"{"rules": [{"name": "a", "group_window_minutes": 0}]}"#, "ROUTING_CONFIG: rules[0].group_window_minutes: 0 is not a number of minutes from 1 to 1440"),
            (r#"{"rules": [{"name": "a", "group_window_minutes": 1441}]}"#, "ROUTING_CONFIG: rules[0].group_window_minutes: 1441 is not a number of minutes"),
            (r#"{"rules": [{"name": "a", "group_window_minutes": "30"}]}"#, "ROUTING_CONFIG: rules[0].group_window_minutes: invalid type: string \"30\""),
            (r#"{"rules": [{"name": "a", "start_after_minutes": 0}]}"#, "ROUTING_CONFIG: rules[0].start_after_minutes: 0 is not a number of minutes from 1 to 60"),
            (r#"{"defaults": {"start_after_minutes": 61}}"#, "ROUTING_CONFIG: defaults.start_after_minutes: 61 is not a number of minutes from 1 to 60"),
            (r#"{"defaults": {"structured_output": "no"}}"#, "ROUTING_CONFIG: defaults.structured_output: invalid type: string \"no\", expected a boolean"),
            (r#"{"limits": {"sessions_per_hour": 0}}"#, "ROUTING_CONFIG: limits.sessions_per_hour: invalid value: integer `0`, expected a nonzero u32"),
            (r#"{"limits": {"sessions_per_week": 5}}"#, "ROUTING_CONFIG: limits.sessions_per_week: unknown field `sessions_per_week`"),
            (r#"{"limits": [5]}"#, "ROUTING_CONFIG: limits: expected an object, found a list"),
            (r#"{"rules": [{"name": "a", "limits": {"sessions_per_hour": -1}}]}"#, "ROUTING_CONFIG: rules[0].limits.sessions_per_hour: invalid value: integer `-1`"),
            (r#"{"rules": [{"name": "a", "limits": [1]}]}"#, "ROUTING_CONFIG: rules[0].limits: expected an object, found a list"),
            (r#"{"defaults": {"limits": "5/h"}}"#, "ROUTING_CONFIG: defaults.limits: invalid type: string \"5/h\", expected an object of limits"),
            (r#"{"rules": [{"name": "a", "devin_mode": "fsat"}]}"#, "ROUTING_CONFIG: rules[0].devin_mode: unknown variant `fsat`, expected `normal` or `fast`"),
            (r#"{"defaults": {"devin_mode": "lite"}}"#, "ROUTING_CONFIG: defaults.devin_mode: unknown variant `lite`, expected `normal` or `fast`"),
            (r#"{"defaults": {"custom_fields": {"rootcause": "devin_root_cause"}}}"#, "ROUTING_CONFIG: defaults.custom_fields.?: unknown variant `rootcause`, expected one of `root_cause`, `summary`, `state`, `confidence`, `session`, `pull_request`"),
            (r#"{"rules": [{"name": "a", "custom_fields": {"summary": "Devin Summary"}}]}"#, "ROUTING_CONFIG: rules[0].custom_fields.?: \"Devin Summary\" is not a custom field name (1 to 50 lowercase letters, digits and underscores)"),
            (r#"{"rules": [{"name": "a", "custom_fields": ["summary"]}]}"#, "ROUTING_CONFIG: rules[0].custom_fields: invalid type: sequence, expected a map"),
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
