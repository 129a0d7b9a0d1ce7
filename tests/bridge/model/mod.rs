//! The model-based test of an incident's life with the ledger (issue 20, "Proof"): random
//! stories of deliveries and their retries on two instances, follow-up runs, note commands,
//! merges, resolves, reopens, time passing (an injected wall clock) and failures, each played
//! against the bridge in process with the Devin and PagerDuty fakes on loopback, on both
//! ledgers (memory; DynamoDB on moto, a fresh table per story). After every step and at the end
//! the invariants of [`invariants`] must hold. A failing story shrinks to a short one, printed
//! step by step with every answer, and the seed that finds it again.
//!
//! - `MODEL_SEED=<n>`: the seed (printed at the start and on failure); random when unset.
//! - `MODEL_CASES=<n>`: stories per ledger (else [`MEMORY_CASES`] and [`MOTO_CASES`]).
//! - `MODEL_STEPS=<n>`: the most steps a story has ([`MAX_STEPS`]).
//! - `MODEL_SURVEY=1`: plays every story and counts the violations by kind instead of stopping
//!   at the first (no shrinking): how often each breaks, and how long the stories take.
//! - `MODEL_HUNT=<text>`: only violations whose first line holds this text fail a story, so
//!   that shrinking finds the shortest story of that kind (`two active sessions`, `note`, ...).
//! - `MODEL_BUDGET_MS=<n>`: each delivery's budget (else `setup::delivery_budget_ms`): shorter
//!   to play the stories where deliveries run out of time between two writes.
//! - `MODEL_WITHOUT=<kind>,...`: leaves these kinds of step out (`ops::kind`: `Merge`,
//!   `DevinObeys`, `PagerDutyStoredThen502`, ...), to look past a violation already known.

mod events;
mod invariants;
mod ops;
mod setup;
mod steps;
mod world;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

use crate::support::moto::Moto;
use ops::{story, told, Op};
use setup::LedgerKind;
use world::World;

/// Stories per run in CI, against the memory ledger: ~0.23 s each (two cores, the moto test
/// beside it), about 3 minutes.
const MEMORY_CASES: u32 = 800;
/// Stories per run in CI, against DynamoDB on moto (a fresh table each, every call through the
/// fault injector): ~0.8 s each, about 2 minutes beside the memory test.
const MOTO_CASES: u32 = 150;
const MAX_STEPS: usize = 40;
/// Shrinking replays the story each time: bounded, so a failure is reported in minutes.
const MAX_SHRINK_ITERS: u32 = 400;
const STACK_BYTES: usize = 64 << 20;

#[test]
fn stories_on_the_memory_ledger_keep_one_session_per_incident_and_leave_none_behind() {
    play_stories(LedgerKind::Memory, MEMORY_CASES);
}

#[test]
fn stories_on_dynamodb_keep_one_session_per_incident_and_leave_none_behind() {
    play_stories(LedgerKind::Dynamo, MOTO_CASES);
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
}

/// Plays the stories on a thread of its own: a story's future, polled by `block_on` on the
/// calling thread, is deeper than a test thread's stack in a debug build.
fn play_stories(kind: LedgerKind, default_cases: u32) {
    let player = std::thread::Builder::new()
        .name(format!("model-{kind:?}"))
        .stack_size(STACK_BYTES)
        .spawn(move || play_stories_here(kind, default_cases))
        .unwrap();
    if let Err(panic) = player.join() {
        std::panic::resume_unwind(panic);
    }
}

fn play_stories_here(kind: LedgerKind, default_cases: u32) {
    let seed = env_number("MODEL_SEED").unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        u64::from(nanos) ^ u64::from(std::process::id()) << 32
    });
    let cases = env_number("MODEL_CASES").unwrap_or(default_cases);
    let steps = env_number("MODEL_STEPS").unwrap_or(MAX_STEPS).max(2);
    let without: Vec<String> = std::env::var("MODEL_WITHOUT")
        .unwrap_or_default()
        .split(',')
        .map(|kind| kind.trim().to_owned())
        .filter(|kind| !kind.is_empty())
        .collect();
    eprintln!(
        "model {kind:?}: MODEL_SEED={seed} MODEL_CASES={cases} MODEL_STEPS={steps} MODEL_WITHOUT={}",
        without.join(",")
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let moto = match kind {
        LedgerKind::Dynamo => Some(runtime.block_on(Moto::start())),
        LedgerKind::Memory => None,
    };
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: MAX_SHRINK_ITERS,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let played = AtomicU64::new(0);
    let started = Instant::now();
    let survey = std::env::var("MODEL_SURVEY").is_ok_and(|value| value == "1");
    let hunt = std::env::var("MODEL_HUNT")
        .ok()
        .filter(|text| !text.is_empty());
    let broken: Mutex<BTreeMap<String, (u32, String)>> = Mutex::default();
    let result = runner.run(&story(steps, without), |ops| {
        let case = played.fetch_add(1, Ordering::Relaxed);
        let outcome = runtime.block_on(play(kind, moto.as_ref(), case, &ops));
        // Hunting one kind of violation: stories that break otherwise count as passing, so
        // that shrinking keeps to that kind.
        let outcome = match (outcome, &hunt) {
            (Err(why), Some(hunt)) if !why.lines().next().unwrap_or_default().contains(hunt) => {
                Ok(())
            }
            (outcome, _) => outcome,
        };
        match (outcome, survey) {
            (Err(why), true) => {
                let first_line = why.lines().next().unwrap_or_default();
                let mut broken = broken.lock().unwrap();
                let seen = broken
                    .entry(violation_kind(first_line))
                    .or_insert((0, format!("{}\n{why}", told(&ops))));
                seen.0 += 1;
                Ok(())
            }
            (outcome, _) => outcome.map_err(TestCaseError::fail),
        }
    });
    let played_after = AtomicU64::new(played.into_inner());
    let played = played_after.load(Ordering::Relaxed);
    eprintln!(
        "model {kind:?}: {played} stories played in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (violation, (count, example)) in broken.into_inner().unwrap() {
        eprintln!("model {kind:?}: {count} stories broke: {violation}\nfor example:\n{example}\n");
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, ops)) => {
            let (ops, why) = runtime.block_on(minimize(
                kind,
                moto.as_ref(),
                &played_after,
                ops,
                why.message().to_owned(),
            ));
            panic!(
                "model {kind:?}: an invariant broke (MODEL_SEED={seed} finds it again).\n\
             The shortest story found ({} steps), then each step with its answers:\n{}\n{why}",
                ops.len(),
                told(&ops)
            )
        }
        Err(TestError::Abort(why)) => panic!("model {kind:?}: aborted (MODEL_SEED={seed}): {why}"),
    }
}

/// Proptest's shrinking stops at the first removal that lets a story pass, which a racy step
/// (two deliveries at once) sometimes does: a greedy pass of our own then drops the steps after
/// the one that broke, and each other step, last first, while the same kind of violation stays.
async fn minimize(
    kind: LedgerKind,
    moto: Option<&Moto>,
    cases: &AtomicU64,
    mut ops: Vec<Op>,
    mut why: String,
) -> (Vec<Op>, String) {
    let wanted = violation_kind(why.lines().next().unwrap_or_default());
    ops.truncate(broken_at(&why).unwrap_or(ops.len()));
    let mut step = ops.len();
    while step > 0 {
        step -= 1;
        let mut shorter = ops.clone();
        shorter.remove(step);
        if shorter.is_empty() {
            continue;
        }
        let case = cases.fetch_add(1, Ordering::Relaxed);
        if let Err(again) = play(kind, moto, case, &shorter).await {
            if violation_kind(again.lines().next().unwrap_or_default()) == wanted {
                ops = shorter;
                ops.truncate(broken_at(&again).unwrap_or(ops.len()));
                step = step.min(ops.len());
                why = again;
            }
        }
    }
    (ops, why)
}

/// The step a violation was seen after (`after step 7: ...`), if not at the end.
fn broken_at(why: &str) -> Option<usize> {
    let rest = why.strip_prefix("after step ")?;
    rest.split(':').next()?.parse().ok()
}

/// A violation's first line without what varies (ids, numbers, quotes): its kind.
fn violation_kind(line: &str) -> String {
    let line = line.split(['"', '[', '{']).next().unwrap_or_default();
    let mut kind = String::new();
    for c in line.chars() {
        match c.is_ascii_digit() {
            true if kind.ends_with('#') => {}
            true => kind.push('#'),
            false => kind.push(c),
        }
    }
    kind.replace("QAPI#", "<id>")
        .replace("QWEB#", "<id>")
        .replace("QDB#", "<id>")
        .replace("QBATCH#", "<id>")
}

/// Plays one story in a fresh world: the violation, with the story and every answer.
async fn play(kind: LedgerKind, moto: Option<&Moto>, case: u64, ops: &[Op]) -> Result<(), String> {
    let mut world = World::new(kind, moto, case).await;
    for (n, &op) in ops.iter().enumerate() {
        world.log.push(format!("  {:>2}. {op}", n + 1));
        world.apply(op).await;
        if let Err(broken) = invariants::after_step(&world) {
            return Err(format!(
                "after step {}: {broken}\n{}",
                n + 1,
                world.log.join("\n")
            ));
        }
    }
    world.settle().await;
    let end = invariants::after_step(&world).and_then(|()| invariants::at_the_end(&world));
    let end = match end {
        Ok(()) => invariants::ledger_owners(&world).await,
        broken => broken,
    };
    end.map_err(|broken| {
        format!(
            "at the end: {broken}\n{}\n{}",
            world.log.join("\n"),
            told_devin(&world)
        )
    })
}

/// What Devin's sessions were told, in order: for the report of a failure at the end.
fn told_devin(world: &World) -> String {
    let mut told = String::from("  Devin was told:\n");
    for message in world.devin.messages() {
        let text: String = message.message.chars().take(160).collect();
        told.push_str(&format!("    {}: {text}\n", message.devin_id));
    }
    told
}
