//! The deployment files agree with each other: the two local setups (`cargo lambda watch` and
//! `sam local invoke`) carry the same settings, and SAM can pass each of them to the function.

use std::collections::BTreeMap;

fn read(path: &str) -> String {
    std::fs::read_to_string(crate::support::repo_path(path)).unwrap()
}

/// `KEY=VALUE` lines of `events/local/local.env`.
fn local_env() -> BTreeMap<String, String> {
    read("events/local/local.env")
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once('=').expect("KEY=VALUE");
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn local_env_holds_the_secrets_the_sample_events_are_signed_with() {
    let env = local_env();
    assert_eq!(env["WEBHOOK_SECRET"], crate::support::LOCAL_WEBHOOK_SECRET);
    assert_eq!(
        env["PAGERDUTY_SIGNING_SECRET"],
        crate::support::LOCAL_SIGNING_SECRET
    );
    assert_eq!(env["DEVIN_DRY_RUN"], "true");
}

/// The text of one resource of `template.yaml`: its lines, up to the next line indented as
/// little as its name.
fn resource<'a>(template: &'a str, name: &str) -> &'a str {
    let start = template
        .find(&format!("\n  {name}:\n"))
        .unwrap_or_else(|| panic!("template.yaml has no {name}"))
        + 1;
    let rest = &template[start..];
    let end = rest
        .match_indices("\n  ")
        .map(|(at, _)| at)
        .find(|&at| !rest[at + 3..].starts_with(' '))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn sam_local_gets_the_same_settings_and_the_template_declares_each() {
    let sam: serde_json::Value = serde_json::from_str(&read("events/local/sam-env.json")).unwrap();
    let template = read("template.yaml");
    for function in ["BridgeFunction", "FollowUpFunction"] {
        let declared = resource(&template, function);
        for key in sam[function].as_object().unwrap().keys() {
            assert!(
                declared.contains(&format!("\n          {key}: ")),
                "{function} does not declare {key}, so sam local would drop it"
            );
        }
    }
    let sam = sam["BridgeFunction"].as_object().unwrap();
    for (key, value) in sam {
        if ["BRIDGE_SECRET_ID", "LEDGER_TABLE"].contains(&key.as_str()) {
            assert_eq!(
                value, "",
                "locally: secrets from the environment, the ledger in memory"
            );
        } else {
            assert_eq!(value.as_str(), Some(local_env()[key].as_str()), "{key}");
        }
    }
    assert_eq!(sam.len(), local_env().len() + 2);
}

#[test]
fn the_schedule_sends_the_sample_scheduled_event() {
    let template = read("template.yaml");
    let follow_up = resource(&template, "FollowUpFunction");
    let input = follow_up
        .lines()
        .find_map(|line| line.trim().strip_prefix("Input: "))
        .expect("the schedule's Input");
    let input: serde_json::Value =
        serde_json::from_str(input.trim_matches('\'')).expect("JSON input");
    let sample: serde_json::Value = serde_json::from_str(&read("events/scheduled.json")).unwrap();
    assert_eq!(input, sample);
    assert!(follow_up.contains("Binary: follow-up"));
}
