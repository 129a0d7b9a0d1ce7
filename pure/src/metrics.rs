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
    /// Incidents whose session Devin refused for good (answered 2xx, so PagerDuty does not
    /// retry them; the follow-up's sweep tries them again on its runs).
    pub devin_rejected: u32,
    /// Deliveries the ledger could not serve.
    pub ledger_errors: u32,
    /// Incidents that joined their group's session instead of starting one.
    pub incidents_grouped: u32,
    /// Incidents not investigated because a session budget was spent.
    pub sessions_capped: u32,
    /// Incidents whose session waits for the policy's `start_after_minutes`.
    pub incidents_deferred: u32,
    /// Note commands (`devin ...`) carried out or refused.
    pub note_commands: u32,
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
            ("IncidentsDeferred", self.incidents_deferred),
            ("NoteCommands", self.note_commands),
        ];
        let latency = self.devin_latency.map(|latency| ("DevinLatency", latency));
        emf(function, timestamp_ms, &counts, latency)
    }
}

/// What one run of the follow-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTally {
    pub findings_posted: u32,
    pub questions_posted: u32,
    /// Quota states noted on incidents: Devin stopped for want of credits or limits.
    pub devin_quota_hits: u32,
    pub sessions_closed_out: u32,
    /// Open incidents the webhook never started a session for, started by the sweep.
    pub sessions_started_by_sweep: u32,
    pub deferred_started: u32,
    /// Sessions started by retrying a start: pending, capped until its budget refilled, or a
    /// claim whose lease ran out.
    pub starts_retried: u32,
    /// Deferred incidents that resolved before their time.
    pub deferred_skipped: u32,
    /// Devin, PagerDuty or ledger calls that failed; what failed is tried again next run.
    pub follow_up_errors: u32,
}

impl RunTally {
    pub fn to_emf(&self, function: &str, timestamp_ms: u64) -> String {
        let counts = [
            ("FindingsPosted", self.findings_posted),
            ("QuestionsPosted", self.questions_posted),
            ("DevinQuotaHits", self.devin_quota_hits),
            ("SessionsClosedOut", self.sessions_closed_out),
            ("SessionsStartedBySweep", self.sessions_started_by_sweep),
            ("DeferredStarted", self.deferred_started),
            ("StartsRetried", self.starts_retried),
            ("DeferredSkipped", self.deferred_skipped),
            ("FollowUpErrors", self.follow_up_errors),
        ];
        emf(function, timestamp_ms, &counts, None)
    }

    /// Adds another part of the run's counts.
    pub fn add(&mut self, other: RunTally) {
        self.findings_posted += other.findings_posted;
        self.questions_posted += other.questions_posted;
        self.devin_quota_hits += other.devin_quota_hits;
        self.sessions_closed_out += other.sessions_closed_out;
        self.sessions_started_by_sweep += other.sessions_started_by_sweep;
        self.deferred_started += other.deferred_started;
        self.starts_retried += other.starts_retried;
        self.deferred_skipped += other.deferred_skipped;
        self.follow_up_errors += other.follow_up_errors;
    }
}

/// One EMF document: every count, and a latency in milliseconds when there is one.
fn emf(
    function: &str,
    timestamp_ms: u64,
    counts: &[(&str, u32)],
    latency: Option<(&str, Duration)>,
) -> String {
    let mut definitions: Vec<Value> = counts
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut document = Map::new();
    document.insert("FunctionName".into(), function.into());
    for (name, count) in counts {
        document.insert((*name).into(), (*count).into());
    }
    if let Some((name, latency)) = latency {
        definitions.push(json!({"Name": name, "Unit": "Milliseconds"}));
        document.insert(name.into(), json!(latency.as_secs_f64() * 1000.0));
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
    fn a_follow_up_run_has_its_own_metrics() {
        let run = RunTally {
            sessions_started_by_sweep: 2,
            devin_quota_hits: 1,
            ..RunTally::default()
        };
        let emf: Value = serde_json::from_str(&run.to_emf("follow-up", 7)).unwrap();
        assert_eq!(emf["SessionsStartedBySweep"], 2);
        assert_eq!(emf["DevinQuotaHits"], 1);
        assert_eq!(emf["FindingsPosted"], 0);
        assert!(emf.get("SessionsStarted").is_none());
        assert_eq!(
            emf["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "FindingsPosted"
        );
    }

    /// Every count of a run reaches its EMF line and survives `add`: a field left out of either
    /// is a count never written (the literal names every field, so a new one fails to compile
    /// here until it is added).
    #[test]
    fn every_count_of_a_run_is_written_and_added() {
        let run = RunTally {
            findings_posted: 1,
            questions_posted: 2,
            devin_quota_hits: 4,
            sessions_closed_out: 8,
            sessions_started_by_sweep: 16,
            deferred_started: 32,
            starts_retried: 64,
            deferred_skipped: 128,
            follow_up_errors: 256,
        };
        let written = |run: &RunTally| -> u64 {
            let emf: Value = serde_json::from_str(&run.to_emf("f", 0)).unwrap();
            emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|metric| emf[metric["Name"].as_str().unwrap()].as_u64().unwrap())
                .sum()
        };
        assert_eq!(written(&run), 511, "each count once");
        let mut twice = run;
        twice.add(run);
        assert_eq!(written(&twice), 1022);
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
            12
        );
    }
}
