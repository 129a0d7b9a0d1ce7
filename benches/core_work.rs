//! The pure work of one delivery, over the real PagerDuty captures: verify the signature of the
//! raw body, parse it, route it, and render the Devin request body. No I/O.
//!   cargo bench --bench core_work

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pure::inbound::secret::Secret;
use pure::inbound::verify::{sign, Verifier};
use pure::inbound::webhook;
use pure::policy::template::Facts;
use pure::policy::Policy;
use pure::text::brief;
use std::hint::black_box;

const SECRET: &str = "HvPtlQNKMPpHSSqJpCdndXfo7HnGXa1pnH6w5axpxLFn9aRBNBGh4e8/HlonK5mz";

fn capture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/pagerduty/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// What the handler does between "the body is in memory" and "the request body is ready".
fn deliver(verifier: &Verifier, policy: &Policy, signature: &[u8], body: &[u8]) -> Option<Vec<u8>> {
    verifier.verify(None, Some(signature), body).ok()?;
    let event = webhook::parse(body).ok()?.event;
    if !policy.accepts(&event.event_type) {
        return None;
    }
    let incident = event.incident().ok()?;
    let decision = policy.decide(&event.event_type, &incident);
    let facts = Facts {
        incident: &incident,
        event_type: &event.event_type,
        occurred_at: event.occurred_at.as_deref(),
        alerts: None,
    };
    let request = brief::session_request(&facts, &decision);
    Some(serde_json::to_vec(&request).unwrap())
}

fn benches(c: &mut Criterion) {
    let secrets = [Secret::new(SECRET)];
    let verifier = Verifier::new(&[], &secrets);
    let example = std::fs::read_to_string(format!(
        "{}/config/routing.example.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let policies = [
        ("built-in", Policy::default()),
        ("example policy", Policy::from_json(&example).unwrap()),
    ];
    // Every capture, treated as a triggered incident where it carries one.
    for name in ["incident-triggered.json", "incident-priority-updated.json"] {
        let body = String::from_utf8(capture(name))
            .unwrap()
            .replace("incident.priority_updated", "incident.triggered")
            .into_bytes();
        let signature = sign(SECRET, &body);
        for (label, policy) in &policies {
            assert!(deliver(&verifier, policy, signature.as_bytes(), &body).is_some());
            c.bench_function(&format!("triggered {name} ({label})"), |b| {
                b.iter(|| {
                    deliver(
                        &verifier,
                        policy,
                        black_box(signature.as_bytes()),
                        black_box(&body),
                    )
                })
            });
        }
    }
    for name in ["pagey-ping.json", "incident-annotated.json"] {
        let body = capture(name);
        let signature = sign(SECRET, &body);
        let policy = &policies[0].1;
        assert!(deliver(&verifier, policy, signature.as_bytes(), &body).is_none());
        c.bench_function(&format!("ignored {name}"), |b| {
            b.iter(|| {
                deliver(
                    &verifier,
                    policy,
                    black_box(signature.as_bytes()),
                    black_box(&body),
                )
            })
        });
    }
    // The policy itself is checked once per cold start.
    c.bench_function("check the example policy", |b| {
        b.iter_batched(
            || example.clone(),
            |json| Policy::from_json(&json).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(pure, benches);
criterion_main!(pure);
