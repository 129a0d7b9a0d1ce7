//! A replay of 1,000 deliveries through two built `bootstrap` instances under Runtime API
//! emulators, sharing one ledger (DynamoDB in `moto_server`), as PagerDuty would send them on a
//! bad day: mixed event types, 10% repeats of earlier deliveries delivered to both instances at
//! once, 5% Devin faults (each retried later, as PagerDuty does, until answered 2xx).
//! Afterwards: every triggered incident has exactly one session, no session is doubled, every
//! fault was answered 5xx or 429, and both processes are still serving. Its figures are
//! printed.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::runtime_api::{Function, Outcome, RuntimeApi};
use crate::support::*;
use serde_json::{json, Value};

const DELIVERIES: usize = 1000;

/// xorshift64*: a fixed seed, so every run replays the same day.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn delivery(event_id: &str, event_type: &str, incident: &str, urgency: &str) -> String {
    let body = json!({"event": {
        "id": event_id,
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": "2026-11-28T09:12:04.512Z",
        "agent": null,
        "client": null,
        "data": {
            "id": incident,
            "type": "incident",
            "number": 1,
            "status": "triggered",
            "title": format!("Replayed alert on {incident}"),
            "service": {"id": "PSVC", "summary": "replay-service"},
            "urgency": urgency,
            "priority": null,
            "teams": [],
            "assignees": [],
        }
    }});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

fn ping(event_id: &str) -> String {
    let body = json!({"event": {"id": event_id, "event_type": "pagey.ping", "resource_type": "pagey",
        "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

fn status_of(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Response(response) => response["statusCode"].as_u64().unwrap() as u16,
        Outcome::Error(error) => panic!("the function failed an invocation: {error}"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What PagerDuty sees of the day.
#[derive(Default)]
struct Day {
    answers: BTreeMap<u16, usize>,
    latencies: Vec<Duration>,
    delivered: usize,
}

impl Day {
    async fn deliver(&mut self, runtime: &RuntimeApi, event: &str) -> u16 {
        let asked = Instant::now();
        let status = status_of(runtime.invoke(event).await);
        self.latencies.push(asked.elapsed());
        *self.answers.entry(status).or_default() += 1;
        self.delivered += 1;
        status
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_deliveries_on_a_bad_day() {
    let moto = Moto::start().await;
    let table = moto.create_ledger_table("replay-ledger").await;
    let devin = FakeDevin::start().await;
    // A short budget, so the faulty deliveries spend it quickly; a short lease, so the
    // retries of an uncertain create come soon.
    let env = Env::local(&devin.url)
        .with_ledger(&moto, &table)
        .set("DELIVERY_BUDGET_MS", "250")
        .set("CLAIM_LEASE_SECONDS", "1");
    let instances = [RuntimeApi::start().await, RuntimeApi::start().await];
    let mut functions: Vec<Function> = instances
        .iter()
        .map(|runtime| runtime.spawn_function(&env.vars()))
        .collect();

    let mut rng = Rng(0x5EED_CAFE_F00D_BEEF);
    let mut sent: Vec<String> = Vec::new();
    // Deliveries PagerDuty still owes a retry to: a fault, or an answer of 5xx.
    let mut owed: Vec<String> = Vec::new();
    let mut incidents: Vec<String> = Vec::new();
    let mut triggered: HashSet<String> = HashSet::new();
    let mut day = Day::default();
    let (mut faults, mut repeats, mut retries, mut deferred) = (0, 0, 0, 0);
    let started = Instant::now();

    for n in 0..DELIVERIES {
        let runtime = &instances[n % 2];
        let roll = rng.below(100);
        if roll < 10 && !sent.is_empty() {
            // A repeat, delivered to both instances at once.
            repeats += 1;
            let event = sent[rng.below(sent.len() as u64) as usize].clone();
            let (a, b) = tokio::join!(
                status_of_timed(&instances[0], &event),
                status_of_timed(&instances[1], &event)
            );
            for (status, took) in [a, b] {
                day.latencies.push(took);
                *day.answers.entry(status).or_default() += 1;
                day.delivered += 1;
                if status != 202 {
                    deferred += 1;
                    owed.push(event.clone());
                }
            }
            continue;
        }
        let (event, fault) = if roll < 15 {
            // Devin down for this one: a new incident that cannot be investigated yet.
            faults += 1;
            let incident = format!("QFAULT{n:05}");
            incidents.push(incident.clone());
            triggered.insert(incident.clone());
            let event = delivery(
                &format!("EV{n:05}"),
                "incident.triggered",
                &incident,
                "high",
            );
            (event, true)
        } else if roll < 25 && !owed.is_empty() {
            retries += 1;
            (owed.swap_remove(0), false)
        } else {
            let event_id = format!("EV{n:05}");
            let event = match rng.below(10) {
                0..=4 => {
                    let incident = format!("QINC{n:05}");
                    incidents.push(incident.clone());
                    triggered.insert(incident.clone());
                    delivery(&event_id, "incident.triggered", &incident, "high")
                }
                5 | 6 if !incidents.is_empty() => {
                    // The same incident again, in a new delivery (a re-trigger).
                    let incident = &incidents[rng.below(incidents.len() as u64) as usize];
                    triggered.insert(incident.clone());
                    delivery(&event_id, "incident.triggered", incident, "high")
                }
                7 if !incidents.is_empty() => {
                    let incident = &incidents[rng.below(incidents.len() as u64) as usize];
                    delivery(&event_id, "incident.acknowledged", incident, "high")
                }
                8 => ping(&event_id),
                _ => delivery(&event_id, "incident.future_thing", "QUNKNOWN", "low"),
            };
            (event, false)
        };

        if fault {
            devin.outage(Some([500, 503, 429][n % 3]));
        }
        let status = day.deliver(runtime, &event).await;
        if fault {
            devin.outage(None);
            assert!(
                status == 429 || status >= 500,
                "a fault was answered {status}"
            );
            owed.push(event);
        } else if status == 202 {
            sent.push(event);
        } else {
            // An incident whose create is uncertain: its claim holds until its lease ends,
            // and PagerDuty comes back.
            assert_eq!(status, 503, "delivery {n} was answered {status}");
            deferred += 1;
            owed.push(event);
        }
    }
    // PagerDuty keeps retrying what it is owed, until each is answered 2xx.
    for round in 0.. {
        assert!(round < 10, "{} deliveries never answered 2xx", owed.len());
        let mut still_owed = Vec::new();
        for (n, event) in owed.drain(..).enumerate() {
            retries += 1;
            if day.deliver(&instances[n % 2], &event).await != 202 {
                still_owed.push(event);
            }
        }
        if still_owed.is_empty() {
            break;
        }
        owed = still_owed;
        // Past the claims' lease.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let elapsed = started.elapsed();

    // Exactly one session per triggered incident, and no other.
    let sessions = devin.sessions();
    let mut per_incident: BTreeMap<String, usize> = BTreeMap::new();
    for session in &sessions {
        let tag = session
            .tags
            .iter()
            .find_map(|tag| tag.strip_prefix("pagerduty-incident:"))
            .expect("every session carries its incident tag");
        *per_incident.entry(tag.to_owned()).or_default() += 1;
    }
    let doubled: Vec<_> = per_incident.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubled.is_empty(),
        "incidents with more than one session: {doubled:?}"
    );
    let with_session: HashSet<String> = per_incident.keys().cloned().collect();
    assert_eq!(
        with_session, triggered,
        "every triggered incident, and only those, has a session"
    );

    // Still serving.
    let mut output = String::new();
    for (runtime, mut function) in instances.iter().zip(functions.drain(..)) {
        assert!(function.is_alive());
        assert_eq!(status_of(runtime.invoke(&ping("EVFINAL")).await), 202);
        output.push_str(&function.stop().await);
    }

    let metrics: Vec<Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    let total = |name: &str| -> u64 { metrics.iter().map(|m| m[name].as_u64().unwrap()).sum() };
    let mut latencies = day.latencies;
    latencies.sort();
    println!(
        "replay: {} deliveries to 2 instances ({} repeats to both at once, {} faults, {} answered \
         503 behind a claim, {} PagerDuty retries) in {:.1} s; answers {:?}; {} incidents \
         triggered, {} sessions, none doubled, none lost; metrics: {} started, {} duplicates \
         suppressed, {} ignored, {} Devin errors; {} Devin requests ({} creates); invocation \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        day.delivered,
        repeats,
        faults,
        deferred,
        retries,
        elapsed.as_secs_f64(),
        day.answers,
        triggered.len(),
        sessions.len(),
        total("SessionsStarted"),
        total("DuplicatesSuppressed"),
        total("DeliveriesIgnored"),
        total("DevinErrors"),
        devin.requests(),
        devin.creates(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    assert_eq!(total("SessionsStarted"), sessions.len() as u64);
}

/// One delivery's status and how long its answer took.
async fn status_of_timed(runtime: &RuntimeApi, event: &str) -> (u16, Duration) {
    let asked = Instant::now();
    (status_of(runtime.invoke(event).await), asked.elapsed())
}
