//! A triggered delivery's latency as Lambda runs it (through the Runtime API emulator, the
//! optimized `bootstrap`), with the PagerDuty fake answering every call in 50 ms: the alerts,
//! the related changes, the past incidents (then each of them), the related incidents, and the
//! note. Beside it the same deliveries without a PagerDuty token (Devin alone, no PagerDuty
//! call). Prints p50 and p99 of each.
//!   cargo bench --bench pagerduty_reads

// The tests' loopback parts; the bench uses a few of them.
#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::devin::FakeDevin;
use support::env::Env;
use support::pagerduty::{Correlated, FakePagerDuty};
use support::runtime_api::{Outcome, RuntimeApi};
use support::*;

const DELIVERIES: usize = 200;
const PAGERDUTY_ANSWERS_IN: Duration = Duration::from_millis(50);

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(measure());
}

fn incident_id(n: usize) -> String {
    format!("QBENCH{n:06}")
}

fn delivery(n: usize) -> String {
    let body = json!({"event": {"id": format!("EVBENCH{n:06}"), "event_type": "incident.triggered",
        "occurred_at": "2026-11-28T09:12:04.512Z",
        "data": {"id": incident_id(n), "type": "incident", "number": n, "title": "Bench alert",
                 "status": "triggered", "urgency": "high", "service": {"id": "PS", "summary": "bench-api"},
                 "priority": {"id": "PP", "summary": "P1"}, "teams": [{"id": "PT", "summary": "SRE"}]}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// Each incident has an alert, two changes, two past incidents and a related incident.
fn correlate(pagerduty: &FakePagerDuty, n: usize) {
    let id = incident_id(n);
    pagerduty.add_alerts(
        &id,
        json!([{"summary": "5xx rate 12.4% > 5%", "created_at": "2026-11-28T09:12:00Z",
                "body": {"details": {"query": "sum(rate(http_5xx[5m])) > 0.05"}}}]),
    );
    pagerduty.correlate(
        Correlated::Changes,
        &id,
        json!([{"summary": "Deploy checkout v2", "timestamp": "2026-11-28T09:05:00Z",
                "source": "ci", "routing_key": "R0UT1NGK3Y",
                "correlation_reason": {"reason": "intelligent"}},
               {"summary": "Flag on", "timestamp": "2026-11-28T08:05:00Z",
                "correlation_reason": {"reason": "most_recent"}}]),
    );
    pagerduty.correlate(
        Correlated::Past,
        &id,
        json!([{"incident": {"id": "PPAST01", "created_at": "2026-10-01T10:00:00Z",
                             "title": "Checkout 5xx"}, "score": 46.8},
               {"incident": {"id": "PPAST02", "created_at": "2026-09-01T10:00:00Z",
                             "title": "Checkout slow"}, "score": 12.5}]),
    );
    pagerduty.correlate(
        Correlated::Related,
        &id,
        json!([{"incident": {"id": "PREL01", "created_at": "2026-11-28T09:11:00Z",
                             "title": "DB latency"},
                "relationships": [{"type": "machine_learning_inferred"}]}]),
    );
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn at(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `DELIVERIES` triggered deliveries, one after the other, to one warm function; their
/// latencies, sorted, and the PagerDuty calls made.
async fn deliveries(env: &Env, first: usize) -> Vec<Duration> {
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&env.vars());
    let mut latencies = Vec::with_capacity(DELIVERIES);
    for n in first..first + DELIVERIES {
        let asked = Instant::now();
        let Outcome::Response(answer) = runtime.invoke(&delivery(n)).await else {
            panic!("invocation {n} failed");
        };
        latencies.push(asked.elapsed());
        assert_eq!(answer["statusCode"], 202);
        let body: serde_json::Value =
            serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["status"], "session_started", "{body}");
    }
    function.stop().await;
    latencies.sort();
    latencies
}

async fn measure() {
    let devin = FakeDevin::start().await;
    let pagerduty = FakePagerDuty::start().await;
    pagerduty.add_incident(json!({"id": "PPAST01", "number": 812, "status": "resolved",
        "title": "Checkout 5xx", "created_at": "2026-10-01T10:00:00Z",
        "resolved_at": "2026-10-01T12:14:00Z"}));
    for n in 0..2 * DELIVERIES {
        correlate(&pagerduty, n);
    }
    pagerduty.answer_after(Some(PAGERDUTY_ANSWERS_IN));
    let base = Env::local(&devin.url)
        .set("DEVIN_ORG_ID", "org-bench")
        .set("AWS_LAMBDA_LOG_LEVEL", "WARN");
    let with_token = base
        .clone()
        .set("PAGERDUTY_API_URL", &pagerduty.url)
        .set("PAGERDUTY_API_TOKEN", "pd_bench_token")
        .set("PAGERDUTY_FROM_EMAIL", "bridge@acme.example");
    let without = deliveries(&base, 0).await;
    let calls_before = pagerduty.calls().len();
    let with = deliveries(&with_token, DELIVERIES).await;
    let calls = pagerduty.calls().len() - calls_before;
    println!(
        "{DELIVERIES} triggered deliveries each, warm, through the Runtime API emulator (Devin instant)"
    );
    println!("| PagerDuty | p50 | p99 | max | PagerDuty calls per delivery |");
    println!("| --- | --- | --- | --- | --- |");
    let row = |name: &str, sorted: &[Duration], calls: f64| {
        println!(
            "| {name} | {} | {} | {} | {calls:.1} |",
            ms(at(sorted, 0.5)),
            ms(at(sorted, 0.99)),
            ms(*sorted.last().unwrap())
        );
    };
    row("no token", &without, 0.0);
    row(
        "token, every answer in 50 ms",
        &with,
        calls as f64 / DELIVERIES as f64,
    );
}
