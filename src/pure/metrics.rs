//! What a delivery did, as CloudWatch Embedded Metric Format: one JSON line per delivery on
//! stdout, which CloudWatch Logs turns into metrics a team can alarm on, with no agent and no
//! extra permission.

use std::time::Duration;

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "PagerDutyDevinBridge";

/// The counts of one delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub sessions_started: u32,
    /// Repeats answered from memory, and incidents whose session already existed.
    pub duplicates_suppressed: u32,
    /// Event types and incidents the policy does not investigate.
    pub deliveries_ignored: u32,
    pub verification_failures: u32,
    /// Verified deliveries answered 400 (their body is not what PagerDuty sends): PagerDuty
    /// never retries them, so the incident is lost to the bridge.
    pub deliveries_refused: u32,
    /// Devin calls that failed, retried or not.
    pub devin_errors: u32,
    /// Incidents whose session Devin refused for good (answered 2xx: nothing retries them).
    pub devin_rejected: u32,
    /// Deliveries the ledger could not serve.
    pub ledger_errors: u32,
    /// Incidents that joined their group's session instead of starting one.
    pub incidents_grouped: u32,
    /// Incidents not investigated because a session budget was spent.
    pub sessions_capped: u32,
    /// Time spent waiting for Devin, when it was called.
    pub devin_latency: Option<Duration>,
}

impl Tally {
    /// The EMF document for this delivery, for the function named `function` (the metrics'
    /// one dimension), at `timestamp_ms` since the epoch.
    pub fn to_emf(&self, function: &str, timestamp_ms: u64) -> String {
        let counts = [
            ("SessionsStarted", self.sessions_started),
            ("DuplicatesSuppressed", self.duplicates_suppressed),
            ("DeliveriesIgnored", self.deliveries_ignored),
            ("VerificationFailures", self.verification_failures),
            ("DeliveriesRefused", self.deliveries_refused),
            ("DevinErrors", self.devin_errors),
            ("DevinRejected", self.devin_rejected),
            ("LedgerErrors", self.ledger_errors),
            ("IncidentsGrouped", self.incidents_grouped),
            ("SessionsCapped", self.sessions_capped),
        ];
        let mut definitions: Vec<Value> = counts
            .iter()
            .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
            .collect();
        let mut document = Map::new();
        document.insert("FunctionName".into(), function.into());
        for (name, count) in counts {
            document.insert(name.into(), count.into());
        }
        if let Some(latency) = self.devin_latency {
            definitions.push(json!({"Name": "DevinLatency", "Unit": "Milliseconds"}));
            document.insert("DevinLatency".into(), json!(latency.as_secs_f64() * 1000.0));
        }
        document.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(document).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_document_declares_every_value_it_carries() {
        let tally = Tally {
            sessions_started: 1,
            devin_latency: Some(Duration::from_micros(12_500)),
            ..Tally::default()
        };
        let emf: Value =
            serde_json::from_str(&tally.to_emf("bridge-fn", 1_795_857_125_000)).unwrap();
        let directive = &emf["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(emf["_aws"]["Timestamp"], 1_795_857_125_000u64);
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(emf["FunctionName"], "bridge-fn");
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(emf[name].is_number(), "{name} has no value");
        }
        assert_eq!(emf["SessionsStarted"], 1);
        assert_eq!(emf["DevinErrors"], 0);
        assert_eq!(emf["DevinLatency"], 12.5);
    }

    #[test]
    fn latency_is_left_out_when_devin_was_not_called() {
        let emf: Value = serde_json::from_str(&Tally::default().to_emf("f", 0)).unwrap();
        assert!(emf.get("DevinLatency").is_none());
        assert_eq!(
            emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .len(),
            10
        );
    }
}
