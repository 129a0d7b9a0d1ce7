use serde_json::json;

use super::*;

fn state(output: Value) -> SessionState {
    SessionState {
        status: Some("running".into()),
        structured_output: Some(output),
        ..SessionState::default()
    }
}

const URL: &str = "https://app.devin.ai/sessions/abc";
const FINDINGS: &str = "Devin's findings";

#[test]
fn the_schema_is_self_contained_draft_7_and_small() {
    let schema: Value = serde_json::to_value(schema()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    for field in [
        "state",
        "summary",
        "root_cause",
        "confidence",
        "evidence",
        "next_steps",
        "pull_request_url",
    ] {
        assert!(schema["properties"][field].is_object(), "{field}");
    }
    assert_eq!(
        schema["properties"]["state"]["enum"],
        json!(["investigating", "concluded", "blocked"])
    );
    assert_eq!(
        schema["properties"]["confidence"]["enum"],
        json!(["high", "medium", "low"])
    );
    assert!(!SCHEMA.contains("$ref") && SCHEMA.len() < 64 * 1024);
}

#[test]
fn a_finding_reads_as_a_concise_note() {
    let mut s = state(json!({
        "state": "concluded", "confidence": "high",
        "summary": "Checkout 5xx since the 09:05 deploy.",
        "root_cause": "The connection pool was cut from 50 to 5.",
        "evidence": [{"claim": "Pool waits up 40x", "link": "https://grafana.acme.example/d/pool"},
                     {"claim": "Deploy at 09:05", "link": "javascript:alert(1)"}],
        "next_steps": ["Merge the revert", "Watch p99"],
        "pull_request_url": "https://github.com/acme/checkout/pull/812"
    }));
    s.pull_requests = serde_json::from_value(json!([
        {"pr_url": "https://github.com/acme/checkout/pull/812", "pr_state": "open"}
    ]))
    .unwrap();
    let note = findings_note(&s, URL, FINDINGS).unwrap();
    assert_eq!(
        note.content,
        "[pagerduty-devin-bridge] Devin's findings: concluded, high confidence\n\
             Summary: Checkout 5xx since the 09:05 deploy.\n\
             Root cause: The connection pool was cut from 50 to 5.\n\
             Evidence:\n\
             - Pool waits up 40x (https://grafana.acme.example/d/pool)\n\
             - Deploy at 09:05\n\
             Next steps:\n\
             - Merge the revert\n\
             - Watch p99\n\
             Pull requests: https://github.com/acme/checkout/pull/812 (open)\n\
             Session: https://app.devin.ai/sessions/abc"
    );
    assert_eq!(note.hash.len(), 16);
}

#[test]
fn the_declared_state_is_read_from_the_output_or_its_text() {
    let declared = |output: Value| declared_state(&state(output));
    assert_eq!(
        declared(json!({"state": "concluded"})),
        Some(Declared::Concluded)
    );
    assert_eq!(
        declared(json!({"state": " blocked "})),
        Some(Declared::Blocked)
    );
    assert_eq!(
        declared(json!(r#"{"state": "investigating"}"#)),
        Some(Declared::Investigating)
    );
    for output in [
        json!({}),
        json!({"state": "done"}),
        json!({"state": 1}),
        json!("x"),
    ] {
        assert_eq!(declared(output.clone()), None, "{output}");
    }
    assert_eq!(declared_state(&SessionState::default()), None);
}

#[test]
fn the_hash_follows_what_the_note_says() {
    let first = findings_note(
        &state(json!({"summary": "Looking at the pool"})),
        URL,
        FINDINGS,
    )
    .unwrap();
    let again = findings_note(
        &state(json!({"summary": "Looking at the pool"})),
        URL,
        FINDINGS,
    )
    .unwrap();
    let changed = findings_note(
        &state(json!({"summary": "The pool is too small"})),
        URL,
        FINDINGS,
    );
    assert_eq!(first.hash, again.hash);
    assert_ne!(first.hash, changed.unwrap().hash);
}

#[test]
fn findings_that_say_nothing_post_nothing() {
    for output in [
        json!({}),
        json!({"state": "investigating", "confidence": "low"}),
        json!({"summary": "   "}),
        json!("free text"),
        json!("{\"state\": \"investigating\"}"),
        json!(null),
    ] {
        assert_eq!(
            findings_note(&state(output.clone()), URL, FINDINGS),
            None,
            "{output}"
        );
    }
    assert_eq!(findings_note(&SessionState::default(), URL, FINDINGS), None);
}

#[test]
fn the_status_note_says_the_state_and_the_latest_findings() {
    let mut s = state(json!({"summary": "Pool too small", "confidence": "medium"}));
    s.status_detail = Some("working".into());
    assert!(status_note(&s, URL).starts_with(
        "[pagerduty-devin-bridge] Devin's status: running, working. Latest findings: medium confidence\nSummary: Pool too small"
    ));
    let bare = SessionState {
        status: Some("new".into()),
        ..SessionState::default()
    };
    assert_eq!(
        status_note(&bare, URL),
        "[pagerduty-devin-bridge] Devin's status: new. No findings yet. Session: https://app.devin.ai/sessions/abc"
    );
}

#[test]
fn findings_stored_as_a_json_string_are_read() {
    let output = json!({"summary": "Disk full", "confidence": "high"}).to_string();
    let note = findings_note(&state(Value::String(output)), URL, FINDINGS).unwrap();
    assert!(note
        .content
        .contains(": high confidence\nSummary: Disk full\n"));
}

#[test]
fn findings_off_the_schema_are_read_as_far_as_they_go() {
    let findings = Findings::read(&json!({
        "summary": 42, "root_cause": "Disk full", "evidence": "df shows 100%",
        "next_steps": "Grow the volume", "confidence": ["high"]
    }));
    assert_eq!(findings.summary, None);
    assert_eq!(findings.root_cause.as_deref(), Some("Disk full"));
    assert_eq!(findings.evidence, vec![("df shows 100%".into(), None)]);
    assert_eq!(findings.next_steps, vec!["Grow the volume".to_owned()]);
    assert_eq!(findings.confidence, None);
}

#[test]
fn a_hostile_finding_stays_on_its_lines_and_within_bounds() {
    let long = "x".repeat(10_000);
    let note = findings_note(
        &state(json!({"summary": long, "root_cause": "a\u{202e}b\u{2028}c",
            "evidence": (0..50).map(|i| json!({"claim": format!("c{i}\nnext"), "link": "https://x.example/a b"})).collect::<Vec<_>>()})),
        URL,
        FINDINGS,
    )
    .unwrap();
    assert!(note.content.len() < 6000, "{}", note.content.len());
    assert!(note.content.contains("Root cause: abc\n"));
    assert!(note.content.contains("- c0 next\n") && !note.content.contains("c8 next"));
    assert!(!note.content.contains("x.example"));
}
