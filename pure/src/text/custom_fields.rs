//! Devin's findings as values of the incident's custom fields, where the routing policy maps
//! them (`custom_fields`) and the account defines them: which findings can be mapped, the field
//! names a policy may write, and, given the fields PagerDuty shows on the incident
//! (`getIncidentFieldValues`), what to set and what to leave out. The values are Devin's text,
//! shown as plain text on one line, bounded as PagerDuty bounds a field.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use crate::life::session::SessionState;
use crate::text::findings::{current_findings, hash};
use crate::text::quote::plain_line;

/// The longest `string` or `url` value PagerDuty takes (`CustomFieldsFieldValue.value`:
/// `maxLength: 200`): longer text is cut, its last character an ellipsis.
pub const MAX_FIELD_CHARS: usize = 200;
/// A field's `name`: "lowercase letters, digits, and underscores", at most 50
/// (`CustomFieldsFieldValue.name`).
const MAX_NAME_CHARS: usize = 50;

/// The findings a policy may map to a field: the closed set of what the findings hold as one
/// short text each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The findings' `root_cause`.
    RootCause,
    /// The findings' `summary`.
    Summary,
    /// The findings' `state`: `investigating`, `concluded` or `blocked`.
    State,
    /// The findings' `confidence`: `high`, `medium` or `low`.
    Confidence,
    /// The session's URL.
    Session,
    /// The hotfix pull request: the one the findings name, else the session's first.
    PullRequest,
}

impl Finding {
    /// The finding as the policy names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::RootCause => "root_cause",
            Finding::Summary => "summary",
            Finding::State => "state",
            Finding::Confidence => "confidence",
            Finding::Session => "session",
            Finding::PullRequest => "pull_request",
        }
    }
}

/// A custom field's name, as the policy writes it: checked as PagerDuty names fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldName(String);

impl FieldName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if name.is_empty() || name.len() > MAX_NAME_CHARS || !name.chars().all(allowed) {
            return Err(serde::de::Error::custom(format!(
                "{name:?} is not a custom field name (1 to 50 lowercase letters, digits and underscores)"
            )));
        }
        Ok(FieldName(name))
    }
}

/// The policy's `custom_fields`: which finding goes into which field.
pub type FieldMap = BTreeMap<Finding, FieldName>;

/// The findings as fields show them: each finding the session shows now, as its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldValues(BTreeMap<Finding, String>);

impl FieldValues {
    /// What the session shows now, for every finding (mapped or not): its session URL, and
    /// what its findings and pull requests say.
    pub fn of(state: &SessionState, session_url: &str) -> FieldValues {
        let findings = current_findings(state).unwrap_or_default();
        let named_pr = findings.pull_request_url.clone();
        let devins_pr = state.pull_requests.iter().find_map(|pr| pr.pr_url.clone());
        let values = [
            (Finding::RootCause, findings.root_cause),
            (Finding::Summary, findings.summary),
            (Finding::State, findings.state),
            (Finding::Confidence, findings.confidence),
            (Finding::Session, Some(session_url.to_owned())),
            (Finding::PullRequest, named_pr.or(devins_pr)),
        ];
        FieldValues(
            values
                .into_iter()
                .filter_map(|(finding, text)| {
                    let text = plain_line(&text?, MAX_FIELD_CHARS);
                    (!text.is_empty()).then_some((finding, text))
                })
                .collect(),
        )
    }

    /// Changes whenever a value does: what the ledger records once the fields are set.
    pub fn hash(&self) -> String {
        let shown: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|(finding, value)| (finding.as_str(), value.as_str()))
            .collect();
        hash(&json!(shown).to_string())
    }

    /// The mapped findings the session shows: field name and value.
    pub fn mapped<'a>(&'a self, map: &'a FieldMap) -> Vec<(&'a str, &'a str)> {
        map.iter()
            .filter_map(|(finding, name)| Some((name.as_str(), self.0.get(finding)?.as_str())))
            .collect()
    }
}

/// A field as `getIncidentFieldValues` shows it on the incident; read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FieldDefinition {
    pub name: String,
    /// `boolean`, `integer`, `float`, `string`, `datetime` or `url`.
    pub data_type: Option<String>,
    /// `single_value`, `single_value_fixed`, `multi_value` or `multi_value_fixed`.
    pub field_type: Option<String>,
}

/// What to set on one incident, and what not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldPlan {
    /// `{"name", "value"}` entries for one `setIncidentFieldValues`.
    pub free: Vec<Value>,
    /// The same for fields of fixed options, one request each: `getIncidentFieldValues` does
    /// not show the options, so PagerDuty's refusal of a value outside them is how the bridge
    /// learns it, and it must not take the other fields with it.
    pub fixed: Vec<Value>,
    /// Mapped names the incident does not have.
    pub absent: Vec<String>,
    /// Mapped fields whose type cannot take the value: name and why.
    pub unfit: Vec<(String, String)>,
}

/// The plan for `wanted` (name and value) on an incident whose fields are `defined`.
pub fn plan(defined: &[FieldDefinition], wanted: &[(&str, &str)]) -> FieldPlan {
    let mut plan = FieldPlan::default();
    for &(name, value) in wanted {
        let Some(field) = defined.iter().find(|field| field.name == name) else {
            plan.absent.push(name.to_owned());
            continue;
        };
        match entry(field, value) {
            Ok((entry, true)) => plan.fixed.push(entry),
            Ok((entry, false)) => plan.free.push(entry),
            Err(why) => plan.unfit.push((name.to_owned(), why)),
        }
    }
    plan
}

/// The field's entry for `value`, and whether it has fixed options; or why it takes no text.
fn entry(field: &FieldDefinition, value: &str) -> Result<(Value, bool), String> {
    let data_type = field.data_type.as_deref().unwrap_or("unknown");
    match data_type {
        "string" => {}
        "url" if is_web_link(value) => {}
        "url" => return Err("a url field, and the value is no link".into()),
        other => return Err(format!("a {other} field takes no text")),
    }
    let field_type = field.field_type.as_deref().unwrap_or("unknown");
    let value = match field_type {
        "single_value" | "single_value_fixed" => json!(value),
        // A list of one: the finding is one text.
        "multi_value" | "multi_value_fixed" => json!([value]),
        other => return Err(format!("a field of type {other}")),
    };
    let entry = json!({"name": field.name, "value": value});
    Ok((entry, field_type.ends_with("_fixed")))
}

/// An http(s) link of one word (already cut to [`MAX_FIELD_CHARS`]: a cut link ends with an
/// ellipsis, which is no link either).
fn is_web_link(value: &str) -> bool {
    let web = value.starts_with("https://") || value.starts_with("http://");
    web && !value.ends_with('…') && !value.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(output: Value) -> SessionState {
        serde_json::from_value(output).unwrap()
    }

    fn map(json: &str) -> FieldMap {
        serde_json::from_str(json).unwrap()
    }

    const URL: &str = "https://app.devin.ai/sessions/1";

    #[test]
    fn the_findings_become_one_line_values_cut_at_200() {
        let long = format!("line one\nline two {}", "x".repeat(300));
        let shown = state(json!({"structured_output": {"state": "investigating",
            "confidence": "high", "root_cause": long, "summary": "  "},
            "pull_requests": [{"pr_url": "https://github.com/acme/a/pull/1"}]}));
        let values = FieldValues::of(&shown, URL);
        let all = map(
            r#"{"root_cause": "rc", "summary": "s", "state": "st", "confidence": "c",
                "session": "url", "pull_request": "pr"}"#,
        );
        let mapped = values.mapped(&all);
        let root_cause = mapped.iter().find(|(name, _)| *name == "rc").unwrap().1;
        assert!(root_cause.starts_with("line one line two xxx"));
        assert_eq!(root_cause.chars().count(), MAX_FIELD_CHARS);
        assert!(root_cause.ends_with('…'));
        assert!(
            !mapped.iter().any(|(name, _)| *name == "s"),
            "blank: left out"
        );
        assert!(mapped.contains(&("url", URL)));
        assert!(mapped.contains(&("pr", "https://github.com/acme/a/pull/1")));
        assert!(mapped.contains(&("c", "high")));
        // The same findings hash alike; any change, mapped or not, changes the hash.
        assert_eq!(values.hash(), FieldValues::of(&shown, URL).hash());
        let other = state(json!({"structured_output": {"state": "concluded"}}));
        assert_ne!(values.hash(), FieldValues::of(&other, URL).hash());
    }

    #[test]
    fn only_fields_the_incident_has_and_whose_type_fits_are_set() {
        let defined: Vec<FieldDefinition> = serde_json::from_value(json!([
            {"name": "rc", "data_type": "string", "field_type": "single_value"},
            {"name": "conf", "data_type": "string", "field_type": "single_value_fixed"},
            {"name": "link", "data_type": "url", "field_type": "single_value"},
            {"name": "tags", "data_type": "string", "field_type": "multi_value"},
            {"name": "count", "data_type": "integer", "field_type": "single_value"},
            {"name": "bad_url", "data_type": "url", "field_type": "single_value"}
        ]))
        .unwrap();
        let wanted = [
            ("rc", "Pool size 5"),
            ("conf", "high"),
            ("link", URL),
            ("tags", "concluded"),
            ("count", "high"),
            ("bad_url", "Pool size 5"),
            ("nope", "x"),
        ];
        let plan = plan(&defined, &wanted);
        assert_eq!(
            plan.free,
            [
                json!({"name": "rc", "value": "Pool size 5"}),
                json!({"name": "link", "value": URL}),
                json!({"name": "tags", "value": ["concluded"]})
            ]
        );
        assert_eq!(plan.fixed, [json!({"name": "conf", "value": "high"})]);
        assert_eq!(plan.absent, ["nope"]);
        let unfit: Vec<&str> = plan.unfit.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(unfit, ["count", "bad_url"]);
    }

    #[test]
    fn a_field_name_is_checked_as_pagerduty_names_fields() {
        for bad in [r#"{"summary": "Devin-Summary"}"#, r#"{"summary": ""}"#] {
            assert!(serde_json::from_str::<FieldMap>(bad).is_err(), "{bad}");
        }
        let long = format!(r#"{{"summary": "{}"}}"#, "a".repeat(51));
        assert!(serde_json::from_str::<FieldMap>(&long).is_err());
        assert!(serde_json::from_str::<FieldMap>(r#"{"rootcause": "x"}"#).is_err());
        assert_eq!(map(r#"{"summary": "devin_summary_2"}"#).len(), 1);
    }
}
