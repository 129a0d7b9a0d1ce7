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

/// Every metric name the code writes to its namespace: a delivery's and a follow-up run's.
fn emitted_metrics() -> std::collections::BTreeSet<String> {
    use pure::metrics::{RunTally, Tally};
    let delivery = Tally {
        devin_latency: Some(std::time::Duration::from_millis(1)),
        ..Tally::default()
    };
    [delivery.to_emf("f", 0), RunTally::default().to_emf("f", 0)]
        .iter()
        .flat_map(|line| {
            let emf: serde_json::Value = serde_json::from_str(line).unwrap();
            emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|metric| metric["Name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The dashboard's body, its `${...}` substitutions replaced by a placeholder.
fn dashboard_body(template: &str) -> serde_json::Value {
    let start = template
        .find("DashboardBody: !Sub |\n")
        .expect("a dashboard")
        + 22;
    let body: String = template[start..]
        .lines()
        .take_while(|line| line.starts_with("        ") || line.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut plain = String::new();
    let mut rest = body.as_str();
    while let Some(at) = rest.find("${") {
        plain.push_str(&rest[..at]);
        let end = rest[at..].find('}').unwrap();
        plain.push_str(&format!("SUB:{}", &rest[at + 2..at + end]));
        rest = &rest[at + end + 1..];
    }
    plain.push_str(rest);
    serde_json::from_str(&plain).expect("the dashboard body is JSON")
}

#[test]
fn the_dashboard_and_the_alarms_name_only_metrics_the_code_writes() {
    let template = read("template.yaml");
    let emitted = emitted_metrics();
    let lambda = [
        "Invocations",
        "Errors",
        "Throttles",
        "Duration",
        "UrlRequestCount",
        "Url4xxCount",
        "Url5xxCount",
        "UrlRequestLatency",
    ];
    let dashboard = dashboard_body(&template);
    let mut shown = std::collections::BTreeSet::new();
    for widget in dashboard["widgets"].as_array().unwrap() {
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (namespace, name) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
            match namespace {
                "PagerDutyDevinBridge" => {
                    assert!(
                        emitted.contains(name),
                        "the dashboard shows {name}, never written"
                    );
                    shown.insert(name.to_owned());
                }
                "AWS/Lambda" => assert!(lambda.contains(&name), "{name}"),
                other => panic!("a metric of {other}"),
            }
        }
    }
    assert_eq!(
        shown, emitted,
        "every metric the code writes is on the dashboard"
    );

    let mut alarms = Vec::new();
    let resources = template.lines().filter_map(|line| {
        let name = line.strip_prefix("  ")?.strip_suffix(':')?;
        name.chars()
            .all(|c| c.is_ascii_alphanumeric())
            .then_some(name)
    });
    for name in resources {
        let block = resource(&template, name);
        if !block.contains("Type: AWS::CloudWatch::Alarm") {
            continue;
        }
        let name = name.to_owned();
        let metric = block
            .lines()
            .find_map(|line| line.trim().strip_prefix("MetricName: "))
            .unwrap();
        if block.contains("Namespace: PagerDutyDevinBridge") {
            assert!(
                emitted.contains(metric),
                "{name} alarms on {metric}, never written"
            );
        } else {
            assert!(lambda.contains(&metric), "{name}: {metric}");
        }
        alarms.push(name);
    }
    let on_dashboard = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| {
            w["properties"]["alarms"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|arn| {
            arn.as_str()
                .unwrap()
                .trim_start_matches("SUB:")
                .trim_end_matches(".Arn")
                .to_owned()
        })
        .collect::<Vec<_>>();
    alarms.sort();
    let mut on_dashboard_sorted = on_dashboard.clone();
    on_dashboard_sorted.sort();
    assert_eq!(
        on_dashboard_sorted, alarms,
        "every alarm is on the dashboard"
    );
    assert!(template.contains("DashboardUrl:"));
}

#[test]
fn each_function_is_told_its_own_timeout() {
    let template = read("template.yaml");
    for function in ["BridgeFunction", "FollowUpFunction"] {
        let declared = resource(&template, function);
        let value_of = |key: &str| {
            let line = declared
                .lines()
                .find(|line| line.trim_start().starts_with(key))
                .unwrap_or_else(|| panic!("{function} has no {key}"));
            line.split_once(':')
                .unwrap()
                .1
                .trim()
                .trim_matches('"')
                .to_owned()
        };
        assert_eq!(
            value_of("FUNCTION_TIMEOUT_SECONDS:"),
            value_of("Timeout:"),
            "{function}: the claim's lease floor (CLAIM_LEASE_SECONDS) is its Timeout"
        );
    }
}
