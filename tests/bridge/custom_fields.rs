//! Devin's findings into the incident's custom fields, end to end: the webhook and the
//! follow-up binaries on one ledger (DynamoDB in moto), the PagerDuty fake serving each
//! incident's fields. Set where the incident has the field and its type fits (cut at 200
//! characters), skipped (and logged once) where it does not, set again only when the findings
//! change, and nothing read or written without a mapping or a token.

use std::time::Duration;

use serde_json::{json, Value};

use crate::follow_up::started;
use crate::support::env::Env;
use crate::support::fleet::{Fleet, Instance};
use crate::support::incident::incident_json;
use crate::support::runtime_api::RuntimeApi;

const POLICY: &str = r#"{"defaults": {"custom_fields": {"root_cause": "devin_root_cause",
    "session": "devin_session_url", "confidence": "devin_confidence",
    "summary": "devin_summary"}}}"#;

/// Where the fields' warnings are logged: the absent one, the refused one.
const ABSENT: &str = "the policy maps findings into a custom field the incident does not have";

fn value<'a>(values: &'a [(String, Value)], name: &str) -> &'a Value {
    &values.iter().find(|(field, _)| field == name).unwrap().1
}

fn names(put: &Value) -> Vec<&str> {
    let entries = put["custom_fields"].as_array().unwrap();
    entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_are_set_into_the_fields_the_incident_has_once_per_change() {
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", POLICY)]).await;
    let id = "QFIELDS1";
    fleet
        .pagerduty
        .add_incident(incident_json(id, Duration::ZERO));
    let pd = &fleet.pagerduty;
    pd.add_field(id, "devin_root_cause", "string", "single_value", &[]);
    pd.add_field(id, "devin_session_url", "url", "single_value", &[]);
    let options = ["high", "medium", "low"];
    pd.add_field(
        id,
        "devin_confidence",
        "string",
        "single_value_fixed",
        &options,
    );
    // No `devin_summary`: the account does not have it.
    let session = started(&fleet, id).await;
    let follow = fleet.follow_up(&[]).await;

    let long = format!(
        "The 09:05 deploy cut the pool from 50 to 5. {}",
        "x".repeat(300)
    );
    let findings = json!({"state": "investigating", "confidence": "certain",
        "summary": "Checkout 5xx.", "root_cause": long});
    fleet.devin.show(
        &session,
        json!({"status": "running", "status_detail": "working",
        "structured_output": findings}),
    );
    follow.run().await;
    let values = pd.field_values(id);
    let root_cause = value(&values, "devin_root_cause").as_str().unwrap();
    assert!(root_cause.starts_with("The 09:05 deploy cut the pool from 50 to 5. xxx"));
    assert_eq!(root_cause.chars().count(), 200, "cut at 200");
    assert!(root_cause.ends_with('…'), "with a marker");
    let url = format!(
        "https://app.devin.ai/sessions/{}",
        session.trim_start_matches("devin-")
    );
    assert_eq!(value(&values, "devin_session_url"), &json!(url));
    // `certain` is none of the fixed field's options: PagerDuty refuses it, the rest is set.
    assert_eq!(value(&values, "devin_confidence"), &Value::Null);
    let puts = pd.field_puts(id);
    let put_names: Vec<Vec<&str>> = puts.iter().map(|(body, _)| names(body)).collect();
    assert_eq!(
        put_names,
        [
            vec!["devin_root_cause", "devin_session_url"],
            vec!["devin_confidence"]
        ]
    );
    assert_eq!(puts.iter().map(|(_, s)| *s).collect::<Vec<_>>(), [201, 400]);

    // The same findings: nothing read or set again.
    follow.run().await;
    assert_eq!((pd.field_puts(id).len(), pd.field_reads(id)), (2, 1));

    // Changed findings: set again (a 5xx on every try of a run leaves them for the next run).
    let findings = json!({"state": "concluded", "confidence": "high",
        "summary": "Pool size 5.", "root_cause": "Pool size 5 since the 09:05 deploy"});
    fleet
        .devin
        .show(&session, json!({"structured_output": findings}));
    pd.field_put_replies([503; 5]);
    follow.run().await;
    assert_eq!(
        value(&pd.field_values(id), "devin_confidence"),
        &Value::Null
    );
    pd.field_put_replies([]);
    follow.run().await;
    let values = pd.field_values(id);
    assert_eq!(value(&values, "devin_confidence"), &json!("high"));
    assert_eq!(
        value(&values, "devin_root_cause"),
        &json!("Pool size 5 since the 09:05 deploy")
    );
    let puts = pd.field_puts(id);
    assert!(puts
        .iter()
        .all(|(body, _)| !names(body).contains(&"devin_summary")));
    assert_eq!(puts.iter().filter(|(_, status)| *status == 201).count(), 3);

    let log = follow.function.stop().await;
    assert_eq!(log.matches(ABSENT).count(), 1, "logged once: {log}");
    assert!(log.contains("devin_summary"), "{log}");
}

/// A follow-up instance on the fleet's ledger and fakes with `env` changed by `change`.
async fn follow_up_with(fleet: &Fleet, change: impl FnOnce(Env) -> Env) -> Instance {
    let env = change(fleet.env.clone());
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_follow_up(&env.vars());
    Instance { runtime, function }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_read_or_set_without_a_mapping_or_a_token() {
    let fleet = Fleet::start(1, &[("ROUTING_CONFIG", POLICY)]).await;
    let id = "QFIELDS2";
    fleet
        .pagerduty
        .add_incident(incident_json(id, Duration::ZERO));
    fleet
        .pagerduty
        .add_field(id, "devin_root_cause", "string", "single_value", &[]);
    let session = started(&fleet, id).await;
    fleet.devin.show(
        &session,
        json!({"status": "running", "status_detail": "working",
        "structured_output": {"state": "investigating", "confidence": "low",
        "summary": "Looking.", "root_cause": "Unknown yet"}}),
    );

    let unmapped = follow_up_with(&fleet, |env| env.set("ROUTING_CONFIG", "{}")).await;
    unmapped.run().await;
    let no_token = follow_up_with(&fleet, |env| env.unset("PAGERDUTY_API_TOKEN")).await;
    no_token.run().await;
    assert_eq!(
        (
            fleet.pagerduty.field_reads(id),
            fleet.pagerduty.field_puts(id).len()
        ),
        (0, 0)
    );
    // The mapped policy with the token: set.
    fleet.follow_up(&[]).await.run().await;
    assert_eq!(
        value(&fleet.pagerduty.field_values(id), "devin_root_cause"),
        &json!("Unknown yet")
    );
}
