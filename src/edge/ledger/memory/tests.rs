use super::*;
use crate::edge::ledger::Claim;
use pure::life::follow_up::{posts, Mark, Observed, Seen};
use pure::life::session::{Session, SessionMessage, SessionState};
use pure::life::Start;

fn session(id: &str) -> Session {
    Session {
        session_id: id.into(),
        url: format!("https://app.devin.ai/sessions/{id}"),
    }
}

#[test]
fn the_follow_record_keeps_the_last_change_seen_and_the_turn_noted() {
    let ledger = MemoryLedger::default();
    assert!(ledger.adopt("Q1", &session("devin-1")));
    ledger.see("Q1", "devin-1", "p1", 1_000);
    ledger.mark("Q1", "devin-1", &Mark::Waiting("ev-1".into()));
    // Another session's marks are not this incident's.
    ledger.see("Q1", "devin-2", "p2", 3_000);
    let [open] = ledger.open_incidents().try_into().unwrap();
    assert_eq!(
        open.progress,
        Progress {
            waiting: Some("ev-1".into()),
            seen: Some(Seen {
                print: "p1".into(),
                since_ms: 1_000
            }),
            ..Progress::default()
        }
    );
    // Read at 4 s, then 404 at 5 s and 6 s (the first kept), then read again.
    ledger.followed("Q1", "devin-1", false, 4_000);
    ledger.followed("Q1", "devin-2", true, 4_500);
    let [open] = ledger.open_incidents().try_into().unwrap();
    assert_eq!(
        (open.progress.followed_at, open.progress.missing_since),
        (Some(4_000), None)
    );
    ledger.followed("Q1", "devin-1", true, 5_000);
    ledger.followed("Q1", "devin-1", true, 6_000);
    let [open] = ledger.open_incidents().try_into().unwrap();
    assert_eq!(
        (open.progress.followed_at, open.progress.missing_since),
        (Some(6_000), Some(5_000))
    );
    ledger.followed("Q1", "devin-1", false, 7_000);
    let [open] = ledger.open_incidents().try_into().unwrap();
    assert_eq!(
        (open.progress.followed_at, open.progress.missing_since),
        (Some(7_000), None)
    );
    ledger.mark("Q1", "devin-1", &Mark::ClosedOut(None));
    assert!(ledger.open_incidents().is_empty());
}

#[test]
fn a_message_noted_as_waiting_is_still_asked_once_the_findings_are_blocked() {
    let ledger = MemoryLedger::default();
    assert!(ledger.adopt("Q1", &session("devin-1")));
    ledger.mark("Q1", "devin-1", &Mark::Waiting("ev-1".into()));
    let blocked: SessionState = serde_json::from_value(serde_json::json!({
        "status": "running", "status_detail": "waiting_for_user",
        "structured_output": {"state": "blocked"}}))
    .unwrap();
    let last = [SessionMessage {
        event_id: Some("ev-1".into()),
        message: "I need access to the orders database.".into(),
        source: Some("devin".into()),
        created_at: None,
    }];
    let marks_now = |ledger: &MemoryLedger| {
        let [open] = ledger.open_incidents().try_into().unwrap();
        let observed = Observed::new(
            &blocked,
            "https://app.devin.ai/sessions/1",
            Some(&last),
            2_000,
            std::time::Duration::from_secs(3600),
        );
        posts(&open.progress, &observed)
            .into_iter()
            .map(|post| post.mark)
            .collect::<Vec<_>>()
    };
    assert_eq!(marks_now(&ledger), [Mark::Asked("ev-1".into())]);
    ledger.mark("Q1", "devin-1", &Mark::Asked("ev-1".into()));
    assert_eq!(marks_now(&ledger), Vec::<Mark>::new());
}

#[test]
fn a_panic_while_the_ledger_is_locked_does_not_refuse_the_next_invocation() {
    let ledger = std::sync::Arc::new(MemoryLedger::default());
    assert!(ledger.adopt("Q1", &session("devin-1")));
    let held = ledger.clone();
    let panicked = std::thread::spawn(move || {
        let _items = held.items.lock().unwrap();
        panic!("an invocation fails while holding the ledger");
    })
    .join();
    assert!(panicked.is_err() && ledger.items.is_poisoned());
    assert!(
        matches!(
            ledger.claim("Q2", Start::Trigger, "b", 1_000, 2_000),
            Claim::Won(_)
        ),
        "the next invocation claims"
    );
    assert_eq!(
        ledger.get("Q1"),
        Some(IncidentRecord::Created {
            session: session("devin-1"),
            generation: 1,
        })
    );
}
