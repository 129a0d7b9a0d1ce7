//! The policy in one line per rule, as `cargo policy check` shows it: what each rule matches and
//! what it decides. Beside the decisions it reads, so that the rules need not know them.

use crate::policy::decide::Decision;
use crate::policy::rules::{Action, Policy, DEFAULTS};

impl Policy {
    /// One line per rule, in the order they are tried, then the defaults': what each matches
    /// and what it decides (`sev1: investigate when priority=P1; playbook playbook-hotfix; at
    /// most 50 ACUs`).
    pub fn summaries(&self) -> Vec<String> {
        let rules = self.rules.iter().map(|rule| {
            (
                self.decision(&rule.name, &rule.fields),
                rule.when.describe(),
            )
        });
        let defaults = (self.decision(DEFAULTS, &self.defaults), String::new());
        rules
            .chain([defaults])
            .map(|(decision, when)| summary(&decision, &when))
            .collect()
    }
}

/// A rule's one line.
fn summary(decision: &Decision<'_>, when: &str) -> String {
    let action = format!("{:?}", decision.action).to_ascii_lowercase();
    let mut line = format!("{}: {action}", decision.rule);
    line.push_str(match (decision.rule == DEFAULTS, when.is_empty()) {
        (true, _) => " (when no rule matches)",
        (false, true) => " (every incident)",
        (false, false) => " when ",
    });
    line.push_str(when);
    if decision.action == Action::Ignore {
        return line;
    }
    let mut parts = Vec::new();
    if let Some(group_by) = decision.group_by {
        let minutes = decision.group_window.as_secs() / 60;
        parts.push(format!("grouped by {group_by} for {minutes} min"));
    }
    if let Some(after) = decision.start_after {
        parts.push(format!(
            "starts {} min after creation",
            after.as_secs() / 60
        ));
    }
    if let Some(playbook) = decision.playbook_id {
        parts.push(format!("playbook {playbook}"));
    }
    parts.push(match decision.max_acu_limit {
        Some(cap) => format!("at most {cap} ACUs"),
        None => "no ACU cap".into(),
    });
    for (cap, per) in [
        (decision.limits.sessions_per_hour, "hour"),
        (decision.limits.sessions_per_day, "day"),
    ] {
        if let Some(cap) = cap {
            parts.push(format!("{cap} sessions a {per}"));
        }
    }
    if !decision.structured_output {
        parts.push("no findings".into());
    }
    if decision.structured_output && !decision.postmortem {
        parts.push("no postmortem".into());
    }
    if let Some(fields) = decision.custom_fields {
        let pairs: Vec<String> = fields
            .iter()
            .map(|(finding, name)| format!("{}={}", finding.as_str(), name.as_str()))
            .collect();
        parts.push(format!("custom fields {}", pairs.join(", ")));
    }
    if let Some(mode) = decision.devin_mode {
        parts.push(format!("devin_mode {}", mode.as_str()));
    }
    line.push_str("; ");
    line.push_str(&parts.join("; "));
    line
}

#[cfg(test)]
mod tests {
    use crate::policy::Policy;

    #[test]
    fn a_rule_line_names_its_devin_mode_and_custom_fields() {
        let policy = Policy::from_json(
            r#"{"defaults": {"custom_fields": {"session": "devin_session_url", "root_cause": "devin_root_cause"}},
                "rules": [{"name": "sev1", "when": {"priority": ["P1"]}, "devin_mode": "fast",
                           "custom_fields": {}}]}"#,
        )
        .unwrap();
        assert!(policy.sets_fields());
        assert_eq!(
            policy.summaries(),
            [
                "sev1: investigate when priority=P1; at most 10 ACUs; devin_mode fast",
                "defaults: investigate (when no rule matches); at most 10 ACUs; custom fields root_cause=devin_root_cause, session=devin_session_url",
            ]
        );
        assert!(!Policy::default().sets_fields());
    }
}
