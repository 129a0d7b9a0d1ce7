//! The routing policy through the handler, in process: the example policy in `config/` on the
//! sample events, with a real Devin fake on loopback.

use crate::support::devin::FakeDevin;
use crate::support::*;
use pure::policy::Policy;
use serde_json::{json, Value};

fn example_policy() -> String {
    std::fs::read_to_string(repo_path("config/routing.example.json")).unwrap()
}

#[test]
fn the_example_policy_is_valid() {
    let policy = Policy::from_json(&example_policy())
        .unwrap_or_else(|err| panic!("config/routing.example.json: {err}"));
    assert_eq!(policy.rule_count(), 4);
}

#[tokio::test]
async fn low_urgency_is_ignored_and_names_its_rule() {
    let devin = FakeDevin::start().await;
    let bridge = bridge_with_policy(&devin.url, false, &example_policy()).await;
    let (status, body, _) = handle(
        &bridge,
        &sample_event("incident-triggered-low-urgency.json"),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        body,
        json!({"status": "ignored", "rule": "low", "incident_id": "Q0LWURG3NCY7AB"})
    );
    assert!(devin.received().is_empty());
}

#[tokio::test]
async fn p1_goes_to_the_hotfix_playbook_with_its_cap() {
    let devin = FakeDevin::start().await;
    let bridge = bridge_with_policy(&devin.url, false, &example_policy()).await;
    let (status, body, _) = handle(&bridge, &sample_event("incident-triggered-p1.json")).await;
    assert_eq!(
        (status, &body["status"], &body["rule"]),
        (202, &json!("session_started"), &json!("sev1"))
    );

    let sent = &devin.received()[0].body;
    assert_eq!(sent["playbook_id"], "playbook-hotfix");
    assert_eq!(sent["max_acu_limit"], 50);
    assert_eq!(
        sent["repos"],
        json!(["github.com/acme/checkout-api", "github.com/acme/platform"])
    );
    assert!(
        sent.get("knowledge_ids").is_none(),
        "null in the policy: left out"
    );
    assert_eq!(
        sent["tags"],
        json!([
            "pagerduty-triage",
            "service:platform-db",
            "pagerduty-incident:Q9P1DBX2K8WZQA",
            "routed",
            "sev1"
        ])
    );
    assert_eq!(
        sent["title"],
        "PagerDuty #1425 · platform-db: Primary database connection pool exhausted [Q9P1DBX2K8WZQA]"
    );
    let prompt = sent["prompt"].as_str().unwrap();
    assert!(prompt.starts_with(r#"SEV1: PagerDuty incident "1425" on "platform-db": "Primary database connection pool exhausted""#), "{prompt}");
    assert!(!prompt.contains('{'), "no placeholder is left: {prompt}");
}

#[tokio::test]
async fn an_incident_no_rule_matches_gets_the_defaults() {
    let devin = FakeDevin::start().await;
    let bridge = bridge_with_policy(&devin.url, false, &example_policy()).await;
    // A high-urgency P2 of another team: no rule matches.
    let body = delivery_body(&sample_event("incident-triggered-p1.json"))
        .replace(r#""summary":"P1""#, r#""summary":"P2""#);
    let (status, answer, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", &body),
    )
    .await;
    assert_eq!((status, &answer["rule"]), (202, &json!("defaults")));
    let sent = &devin.received()[0].body;
    assert_eq!(sent["max_acu_limit"], 10);
    assert!(sent.get("playbook_id").is_none());
    assert_eq!(sent["repos"], json!([]));
    assert!(sent["prompt"]
        .as_str()
        .unwrap()
        .contains(r#"priority "P2""#));
}

#[tokio::test]
async fn dry_run_shows_the_rule_and_the_request() {
    let bridge = bridge_with_policy("http://127.0.0.1:9", true, &example_policy()).await;
    let (status, body, _) = handle(&bridge, &sample_event("incident-triggered.json")).await;
    assert_eq!(status, 202);
    assert_eq!(body["status"], "dry_run");
    assert_eq!(body["rule"], "sev1");
    assert_eq!(body["request"]["body"]["playbook_id"], "playbook-hotfix");
}

#[tokio::test]
async fn dry_run_shows_the_group_and_the_budgets_too() {
    let policy = r#"{"limits": {"sessions_per_hour": 5, "sessions_per_day": 20},
                     "rules": [{"name": "sev1", "when": {"priority": ["P1"]}, "group_by": "db:{service}",
                                "limits": {"sessions_per_hour": 2}}]}"#;
    let devin = FakeDevin::start().await;
    let bridge = bridge_with_policy(&devin.url, true, policy).await;
    let (status, body, _) = handle(&bridge, &sample_event("incident-triggered.json")).await;
    assert_eq!(
        (status, &body["status"], &body["rule"]),
        (202, &json!("dry_run"), &json!("sev1"))
    );
    assert_eq!(body["group"], "db:checkout-api");
    assert_eq!(
        body["limits"],
        json!([
            {"limit": "sessions_per_hour", "scope": "bridge", "cap": 5},
            {"limit": "sessions_per_day", "scope": "bridge", "cap": 20},
            {"limit": "sessions_per_hour", "scope": "rule sev1", "cap": 2},
        ])
    );
    assert_eq!(
        body["request"]["body"]["max_acu_limit"], 10,
        "the built-in cap"
    );
    assert_eq!(devin.requests(), 0);
}

#[tokio::test]
async fn event_types_outside_the_policy_are_ignored_before_any_rule() {
    let devin = FakeDevin::start().await;
    let policy = r#"{"event_types": ["incident.triggered", "incident.acknowledged"],
            "rules": [{"name": "acks", "when": {"event_types": ["incident.acknowledged"]}, "tags": ["ack"]}]}"#;
    let bridge = bridge_with_policy(&devin.url, false, policy).await;
    let (status, body, _) = handle(&bridge, &sample_event("pagey-ping.json")).await;
    assert_eq!(
        (status, body),
        (
            202,
            json!({"status": "ignored", "event_type": "pagey.ping"})
        )
    );
    let (status, body, _) = handle(&bridge, &sample_event("incident-acknowledged.json")).await;
    assert_eq!((status, &body["rule"]), (202, &json!("acks")));
    let tags: Vec<Value> = devin.received()[0].body["tags"].as_array().unwrap().clone();
    assert_eq!(tags.last().unwrap(), "ack");
}

/// The JSON blocks of the policy's overview and worked examples (docs/policy.md), in order.
fn readme_policies() -> Vec<String> {
    doc_section_policies("docs/policy.md", "## How a policy decides")
}

fn incident_of(event: &str) -> pure::inbound::webhook::Incident {
    let body = delivery_body(&sample_event(event));
    pure::inbound::webhook::parse(body.as_bytes())
        .unwrap()
        .event
        .incident()
        .unwrap()
}

#[test]
fn the_readme_policies_are_valid_and_do_what_they_say() {
    let policies: Vec<Policy> = readme_policies()
        .iter()
        .map(|json| Policy::from_json(json).unwrap_or_else(|err| panic!("{err}\n{json}")))
        .collect();
    assert_eq!(policies.len(), 4, "the overview and three worked examples");
    let checkout = incident_of("incident-triggered.json");
    let low = incident_of("incident-triggered-low-urgency.json");
    let p1 = incident_of("incident-triggered-p1.json");
    let decide = |policy: &Policy, incident| {
        let d = policy.decide("incident.triggered", incident);
        (
            d.rule.to_owned(),
            d.action,
            d.playbook_id.map(str::to_owned),
        )
    };
    use pure::policy::Action::{Ignore, Investigate};

    let [_, allowlist, ignore_low, sev1] = &policies[..] else {
        unreachable!()
    };
    assert_eq!(
        decide(allowlist, &checkout),
        ("pilot".into(), Investigate, None)
    );
    assert_eq!(decide(allowlist, &p1), ("defaults".into(), Ignore, None));
    assert_eq!(decide(ignore_low, &low), ("low".into(), Ignore, None));
    assert_eq!(
        decide(ignore_low, &p1),
        ("defaults".into(), Investigate, None)
    );
    assert_eq!(
        decide(sev1, &p1),
        ("sev1".into(), Investigate, Some("playbook-hotfix".into()))
    );
    assert_eq!(decide(sev1, &low), ("defaults".into(), Investigate, None));
}

#[test]
fn the_readme_storm_example_is_valid_and_does_what_it_says() {
    let policies = doc_section_policies("docs/policy.md", "## Alert storms and spend");
    assert_eq!(policies.len(), 1);
    let policy = Policy::from_json(&policies[0]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        (
            policy.limits().sessions_per_hour.map(|n| n.get()),
            policy.limits().sessions_per_day.map(|n| n.get())
        ),
        (Some(20), Some(100))
    );
    let p1 = incident_of("incident-triggered-p1.json");
    let sev1 = policy.decide("incident.triggered", &p1);
    assert_eq!(
        (sev1.rule, sev1.group_by.is_none()),
        ("sev1", true),
        "P1s get their own sessions"
    );
    assert_eq!(sev1.limits.sessions_per_hour.map(|n| n.get()), Some(5));
    assert_eq!(sev1.max_acu_limit.map(|n| n.get()), Some(30));
    let low = incident_of("incident-triggered-low-urgency.json");
    let grouped = policy.decide("incident.triggered", &low);
    assert_eq!(grouped.rule, "defaults");
    assert_eq!(
        grouped.group_window,
        std::time::Duration::from_secs(20 * 60)
    );
    assert!(grouped.group_by.is_some());
    let queue = pure::inbound::webhook::Incident {
        service: Some(pure::inbound::webhook::Reference {
            id: None,
            summary: Some("new-queue".into()),
            html_url: None,
        }),
        ..low
    };
    assert_eq!(
        policy.decide("incident.triggered", &queue).action,
        pure::policy::Action::Shadow
    );
}

/// `devin_mode` reaches Devin only for the rule that names it (the fake refuses any value but
/// `normal` and `fast`), and the dry run shows it.
#[tokio::test]
async fn devin_mode_is_sent_only_when_the_rule_names_it() {
    let policy =
        r#"{"rules": [{"name": "sev1", "when": {"priority": ["P1"]}, "devin_mode": "fast"}]}"#;
    let devin = FakeDevin::start().await;
    let bridge = bridge_with_policy(&devin.url, false, policy).await;
    let p1 = sample_event("incident-triggered-p1.json");
    let (status, body, _) = handle(&bridge, &p1).await;
    assert_eq!((status, &body["rule"]), (202, &json!("sev1")), "{body}");
    let p2 = delivery_body(&p1)
        .replace(r#""summary":"P1""#, r#""summary":"P2""#)
        .replace("Q9P1DBX2K8WZQA", "Q9P2DBX2K8WZQB")
        .replace("01JDX3B9Z8Y7X6W5V4T3S2R1Q0", "01JDX3B9Z8Y7X6W5V4T3S2R1Q1");
    let (status, body, _) = handle(
        &bridge,
        &function_url_event("POST", "/pagerduty-alert", &p2),
    )
    .await;
    assert_eq!((status, &body["rule"]), (202, &json!("defaults")), "{body}");
    let received = devin.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body["devin_mode"], "fast");
    assert!(
        received[1].body.get("devin_mode").is_none(),
        "{}",
        received[1].body
    );

    let dry = bridge_with_policy("http://127.0.0.1:9", true, policy).await;
    let (_, body, _) = handle(&dry, &p1).await;
    assert_eq!(body["request"]["body"]["devin_mode"], "fast", "{body}");
}

#[tokio::test]
async fn a_dry_runs_resolve_shows_the_postmortem_ask_unless_the_rule_turns_it_off() {
    let resolved = sample_event("incident-resolved.json");
    let bridge = bridge_with_policy("http://127.0.0.1:9", true, &example_policy()).await;
    let (status, body, _) = handle(&bridge, &resolved).await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("dry_run")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("`postmortem` field"), "{message}");
    // No PagerDuty token here: the timeline is said to be missing, not made up.
    assert!(
        message.contains("could not be read from PagerDuty"),
        "{message}"
    );

    let off = r#"{"defaults": {"postmortem": false}}"#;
    let bridge = bridge_with_policy("http://127.0.0.1:9", true, off).await;
    let (_, body, _) = handle(&bridge, &resolved).await;
    assert!(
        !body["message"].as_str().unwrap().contains("postmortem"),
        "{body}"
    );
}
