//! The policy tool as a team uses it (the built `policy` binary): `check` on every policy of
//! docs/policy.md and on broken ones, `test` on every sample delivery with the example policy,
//! giving the decisions docs/policy.md's table shows, and `--expect` failing when it should.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::support::*;

/// Runs `policy` with `args` from the repository: its exit code and output.
fn policy(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .current_dir(repo_path(""))
        .args(args)
        .output()
        .expect("the policy tool runs");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// A policy written to a file of its own, removed when dropped.
struct Written(std::path::PathBuf);

static WRITTEN: AtomicU64 = AtomicU64::new(0);

impl Written {
    fn as_str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn written(json: &str) -> Written {
    let n = WRITTEN.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("policy-{}-{n}.json", std::process::id()));
    std::fs::write(&path, json).unwrap();
    Written(path)
}

#[test]
fn check_passes_every_policy_of_the_readme_with_a_line_per_rule() {
    let (code, out) = policy(&["check", "config/routing.example.json"]);
    assert_eq!(code, 0, "{out}");
    let readme = std::fs::read_to_string(repo_path("docs/policy.md")).unwrap();
    // The summary docs/policy.md shows is the tool's, line for line.
    for line in out.lines() {
        assert!(
            readme.contains(line),
            "docs/policy.md's Policy tests miss: {line}"
        );
    }
    let mut policies = doc_section_policies("docs/policy.md", "## How a policy decides");
    policies.extend(doc_section_policies(
        "docs/policy.md",
        "## Alert storms and spend",
    ));
    assert!(policies.len() >= 5);
    for json in policies {
        let file = written(&json);
        let (code, out) = policy(&["check", file.as_str()]);
        assert_eq!(code, 0, "{json}\n{out}");
        assert!(
            out.lines()
                .last()
                .unwrap()
                .trim_start()
                .starts_with("defaults: "),
            "{out}"
        );
    }
}

#[test]
fn check_refuses_a_broken_policy_naming_the_place() {
    for (json, says) in [
        (r#"{"rules": [{"name": "x", "when": {"urgency": ["urgent"]}}]}"#, "ROUTING_CONFIG: rules[0].when.urgency[0]: unknown variant `urgent`"),
        (r#"{"defaults": {"prompt": "{titel}"}}"#, "ROUTING_CONFIG: defaults.prompt: unknown placeholder {titel}"),
        (r#"{"rules": [{"name": "a"}, {"name": "a"}]}"#, "ROUTING_CONFIG: rules[1].name: \"a\" is already taken"),
        (r#"{"rules": [{"name": "a", "start_after_minutes": 90}]}"#, "ROUTING_CONFIG: rules[0].start_after_minutes: 90 is not a number of minutes from 1 to 60"),
        (r#"{"limits": {"sessions_per_week": 1}}"#, "ROUTING_CONFIG: limits.sessions_per_week: unknown field"),
        ("{", "ROUTING_CONFIG: (top level): EOF while parsing"),
        (r#"{"event_types": ["incident.triggered", "incident.status_update_published"]}"#, "ROUTING_CONFIG: event_types[1]: incident.status_update_published is not an event type whose data is an incident"),
        (r#"{"forward_events": ["incident.annotated", "incident.responder.added"]}"#, "ROUTING_CONFIG: forward_events[1]: incident.responder.added is not an event type whose data is an incident"),
    ] {
        let file = written(json);
        let (code, out) = policy(&["check", file.as_str()]);
        assert_eq!(code, 1, "{json}: {out}");
        assert!(out.starts_with(&format!("{}: {says}", file.as_str())), "{out}");
    }
    let (code, out) = policy(&["check", "no/such/policy.json"]);
    assert_eq!(code, 1, "{out}");
    let (code, out) = policy(&["lint", "config/routing.example.json"]);
    assert_eq!(
        (code, out.starts_with("unknown command \"lint\"")),
        (2, true),
        "{out}"
    );
}

/// The table of decisions in docs/policy.md: each delivery file and what the example policy does.
fn readme_decisions() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo_path("docs/policy.md")).unwrap();
    readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `events/"))
        .map(|row| {
            let (file, decision) = row.split_once("` | ").unwrap();
            (
                format!("events/{file}"),
                decision.trim_end_matches(" |").to_owned(),
            )
        })
        .collect()
}

#[test]
fn test_gives_every_sample_delivery_the_decision_the_readme_shows() {
    let table = readme_decisions();
    let listed: Vec<&str> = table.iter().map(|(file, _)| file.as_str()).collect();
    for (name, _) in sample_events() {
        assert!(
            listed.contains(&format!("events/{name}").as_str()),
            "docs/policy.md's table misses {name}"
        );
    }
    for (file, decision) in &table {
        let (code, out) = policy(&["test", "config/routing.example.json", file]);
        assert_eq!(code, 0, "{out}");
        if let Some(rest) = decision.strip_prefix("rule `") {
            let (rule, action) = rest.split_once("`, ").unwrap();
            let action = action.split_whitespace().next().unwrap();
            assert!(
                out.contains(&format!("  rule: {rule} ({action})")),
                "{file}: {out}"
            );
            if action == "investigate" {
                let request: serde_json::Value = serde_json::from_str(
                    &out.split("  request:\n")
                        .nth(1)
                        .unwrap()
                        .lines()
                        .map(str::trim_start)
                        .collect::<String>(),
                )
                .unwrap();
                assert!(
                    request["body"]["prompt"].as_str().unwrap().contains("SEV1"),
                    "{file}"
                );
            }
        } else if decision.starts_with("passed on") {
            assert!(
                out.contains("passed on to the incident's session"),
                "{file}: {out}"
            );
        } else {
            assert!(
                out.contains("ignored: neither in event_types nor in forward_events"),
                "{file}: {out}"
            );
        }
    }
}

#[test]
fn expectations_hold_or_fail_the_run() {
    let p1 = "events/incident-triggered-p1.json";
    let low = "events/incident-triggered-low-urgency.json";
    let example = "config/routing.example.json";
    let (code, out) = policy(&[
        "test",
        example,
        p1,
        "--expect",
        "rule=sev1",
        "--expect",
        "group=none",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = policy(&["test", example, low, "--expect", "action=ignore"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = policy(&["test", example, p1, low, "--expect", "rule=sev1"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{low}: FAILED: expected rule=sev1, got low")),
        "{out}"
    );
    assert!(!out.contains(&format!("{p1}: FAILED")), "{out}");
    let grouped = written(
        r#"{"defaults": {"group_by": "svc:{service}", "start_after_minutes": 5, "limits": {"sessions_per_hour": 3}}}"#,
    );
    let (code, out) = policy(&[
        "test",
        grouped.as_str(),
        p1,
        "--expect",
        "group=svc:platform-db",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  budgets: rule defaults sessions_per_hour (3)"),
        "{out}"
    );
    assert!(
        out.contains("  deferral: starts 5 min after the incident's creation"),
        "{out}"
    );
    let (code, out) = policy(&["test", example, p1, "--expect", "colour=red"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn test_shows_the_changes_and_past_incidents_a_file_carries_and_none_without() {
    let policy_file = written(
        r#"{"defaults": {"prompt": "Explain {title}.\nChanges: {changes}\nBefore: {past_incidents}\n"}}"#,
    );
    let mut event: serde_json::Value =
        serde_json::from_str(&sample_event("incident-triggered.json")).unwrap();
    let (code, out) = policy(&[
        "test",
        policy_file.as_str(),
        "events/incident-triggered.json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  read of PagerDuty: none in the file"),
        "{out}"
    );
    assert!(
        out.contains(r#"Changes: \"none\"\nBefore: \"none\""#),
        "{out}"
    );

    event["pagerduty"] = serde_json::json!({
        "related_change_events": [
            {"summary": "Deploy checkout v2", "timestamp": "2026-11-28T09:05:00Z",
             "routing_key": "R0UT1NGK3YD0N0TQU0TE", "correlation_reason": {"reason": "intelligent"}}],
        "past_incidents": [
            {"incident": {"id": "PPAST01", "title": "Checkout 5xx after deploy",
                          "created_at": "2026-10-01T10:00:00Z", "incident_number": 812,
                          "resolved_at": "2026-10-01T12:14:00Z"}, "score": 46.8}]});
    let event_file = written(&event.to_string());
    let (code, out) = policy(&["test", policy_file.as_str(), event_file.as_str()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "  read of PagerDuty: from the file: 0 alerts, 1 changes, 1 past incidents, 0 related incidents"
        ),
        "{out}"
    );
    assert!(
        out.contains(r#"\"correlation_reason\":\"intelligent\""#),
        "{out}"
    );
    assert!(out.contains(r#"\"time_to_resolve\":\"2h 14m\""#), "{out}");
    assert!(!out.contains("R0UT1NGK3Y"), "{out}");
}
