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

#[test]
fn sam_local_gets_the_same_settings_and_the_template_declares_each() {
    let sam: serde_json::Value = serde_json::from_str(&read("events/local/sam-env.json")).unwrap();
    let sam = sam["BridgeFunction"].as_object().unwrap();
    let template = read("template.yaml");
    for (key, value) in sam {
        assert!(
            template.contains(&format!("\n          {key}: ")),
            "template.yaml does not declare {key}, so sam local would drop it"
        );
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
