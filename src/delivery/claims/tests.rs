//! The claims part alone: the memory ledger, a lease and a fixed wall clock; no bridge, no
//! clients, no secrets. Tokio's time is paused, so a wait on another claim costs no real time.

use std::sync::Arc;
use std::time::Duration;

use super::{Claims, Held};
use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::edge::clock::{self, Clock};
use crate::edge::ledger::{Ledger, MemoryLedger};
use pure::budget::Budget;
use pure::life::records::IncidentRecord;
use pure::life::session::Session;
use pure::life::{Settled, Start};

/// The fixed wall time the claims start at.
const T0: u64 = 1_800_000_000_000;
const LEASE: Duration = Duration::from_secs(120);
const LEASE_MS: u64 = 120_000;
const RULE: &str = "payments";

fn ledger() -> Arc<Ledger> {
    Arc::new(Ledger::Memory(MemoryLedger::default()))
}

/// The claims part on `ledger`, its wall clock standing at `epoch_ms`.
fn claims_at(ledger: &Arc<Ledger>, epoch_ms: u64) -> Claims {
    Claims::new(ledger.clone(), LEASE, Clock::Fixed(epoch_ms))
}

/// A delivery's budget from now.
fn budget() -> Budget {
    Budget::new(clock::now(), Duration::from_secs(4), None)
}

fn session(id: &str) -> Session {
    Session {
        session_id: id.to_owned(),
        url: format!("https://app.devin.ai/sessions/{id}"),
    }
}

async fn record(ledger: &Ledger, incident_id: &str) -> Option<IncidentRecord> {
    ledger
        .get(incident_id, Duration::from_secs(1))
        .await
        .unwrap()
}

async fn won(claims: &Claims, incident_id: &str, start: Start) -> Held {
    match claims.claim(incident_id, start, RULE, budget()).await {
        Ok(held) => held,
        Err(outcome) => panic!("the claim was not won: {}", outcome.body()),
    }
}

#[tokio::test(start_paused = true)]
async fn a_first_claim_wins_with_the_lease_and_a_second_waits_out_the_budget() {
    let ledger = ledger();
    let claims = claims_at(&ledger, T0);
    let held = won(&claims, "QC1", Start::Trigger).await;
    assert_eq!(held.claimed.generation, 1);
    assert_eq!(held.claimed.lease_until_ms, T0 + LEASE_MS);
    assert_eq!(held.took_over(), None);

    let started = clock::now();
    let second = claims.claim("QC1", Start::Trigger, RULE, budget()).await;
    assert!(
        matches!(&second, Err(Outcome::Retry(Retry::BeingCreated { incident_id })) if incident_id == "QC1"),
        "another start holds it: {:?}",
        second.err().map(|outcome| outcome.body())
    );
    let waited = clock::now() - started;
    assert!(
        waited > Duration::from_secs(3) && waited < Duration::from_secs(4),
        "it waited inside the budget: {waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_recorded_session_is_what_the_next_claim_and_the_next_message_find() {
    let ledger = ledger();
    let claims = claims_at(&ledger, T0);
    let held = won(&claims, "QC2", Start::Trigger).await;
    let made = session("s-2");
    claims
        .record_session("QC2", &held, &made, budget())
        .await
        .unwrap();

    let again = claims.claim("QC2", Start::Trigger, RULE, budget()).await;
    assert!(
        matches!(&again, Err(Outcome::Done(Done::SessionExists { session, .. })) if *session == made),
        "PagerDuty's retry finds the session"
    );
    let told = claims.session_to_tell("QC2", false, budget()).await;
    assert_eq!(told.ok().flatten(), Some(made));
}

#[tokio::test(start_paused = true)]
async fn a_claim_whose_lease_ran_out_is_taken_over_and_its_holder_no_longer_records() {
    let ledger = ledger();
    let first = won(&claims_at(&ledger, T0), "QC3", Start::Trigger).await;

    let later = claims_at(&ledger, T0 + LEASE_MS + 1);
    let second = won(&later, "QC3", Start::Due).await;
    assert_eq!(
        second.took_over(),
        Some(T0 + LEASE_MS),
        "the earlier create may have happened: looked up first"
    );
    // The first holder's late record is not written: the claim is the second's now.
    claims_at(&ledger, T0)
        .record_session("QC3", &first, &session("s-late"), budget())
        .await
        .unwrap();
    match record(&ledger, "QC3").await {
        Some(IncidentRecord::Creating(claim)) => assert_eq!(claim.holder, second.holder),
        other => panic!("the second claim stands: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_start_that_made_nothing_leaves_a_pending_record_that_a_trigger_claims_again() {
    let ledger = ledger();
    let claims = claims_at(&ledger, T0);
    let held = won(&claims, "QC4", Start::Trigger).await;
    claims
        .settle("QC4", &held, Settled::NothingMade, budget())
        .await;
    assert_eq!(
        record(&ledger, "QC4").await,
        Some(IncidentRecord::Pending { generation: 1 })
    );

    let swept = claims.claim("QC4", Start::Sweep, RULE, budget()).await;
    assert!(
        matches!(
            &swept,
            Err(Outcome::Done(Done::AlreadyDecided {
                decision: "pending",
                ..
            }))
        ),
        "the sweep leaves a pending start to its retry"
    );
    let retried = won(&claims, "QC4", Start::Trigger).await;
    assert_eq!(retried.claimed.generation, 1);
}

#[tokio::test(start_paused = true)]
async fn a_deferral_holds_until_its_time_on_the_clock_and_the_record_says_so() {
    let ledger = ledger();
    let until_ms = T0 + 60_000;
    let claims = claims_at(&ledger, T0);
    assert_eq!(claims.defer("QC5", until_ms, budget()).await.unwrap(), None);
    let deferred = claims.defer("QC5", until_ms + 1, budget()).await.unwrap();
    assert_eq!(
        deferred,
        Some(IncidentRecord::Deferred { until_ms }),
        "a second deferral finds the first"
    );

    let early = claims.claim("QC5", Start::Trigger, RULE, budget()).await;
    assert!(
        matches!(&early, Err(Outcome::Done(Done::Deferred { until_ms: at, .. })) if *at == until_ms),
        "not before its time"
    );
    let due = won(&claims_at(&ledger, until_ms), "QC5", Start::Due).await;
    assert_eq!(due.took_over(), None);
}

#[tokio::test(start_paused = true)]
async fn a_closed_out_session_is_told_a_note_but_a_reopen_starts_the_next_generation() {
    let ledger = ledger();
    let claims = claims_at(&ledger, T0);
    let held = won(&claims, "QC6", Start::Trigger).await;
    let ended = session("s-6");
    claims
        .record_session("QC6", &held, &ended, budget())
        .await
        .unwrap();
    claims.close_out("QC6", "s-6", budget()).await.unwrap();

    let note = claims.session_to_tell("QC6", false, budget()).await;
    assert_eq!(note.ok().flatten(), Some(ended), "a note still reaches it");
    let reopen = claims.session_to_tell("QC6", true, budget()).await;
    assert_eq!(reopen.ok().flatten(), None, "a reopen starts anew");
    let next = won(&claims, "QC6", Start::Reopen).await;
    assert_eq!(next.claimed.generation, 2);
}

#[tokio::test(start_paused = true)]
async fn a_resolve_before_the_session_drops_the_pending_start() {
    let ledger = ledger();
    let claims = claims_at(&ledger, T0);
    let held = won(&claims, "QC7", Start::Trigger).await;
    claims
        .settle("QC7", &held, Settled::NothingMade, budget())
        .await;
    let resolved = claims
        .resolved_without_session("QC7".to_owned(), budget())
        .await;
    assert!(matches!(resolved, Outcome::Done(Done::NoSession { .. })));
    assert_eq!(
        record(&ledger, "QC7").await,
        Some(IncidentRecord::SkippedResolved { generation: 1 })
    );
    let retry = claims.claim("QC7", Start::Trigger, RULE, budget()).await;
    assert!(
        matches!(&retry, Err(Outcome::Done(Done::SkippedResolved { .. }))),
        "PagerDuty's retry of the trigger starts nothing"
    );
}
