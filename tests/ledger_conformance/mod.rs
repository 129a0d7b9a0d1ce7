//! One suite for both ledgers: the same test bodies run against the memory ledger (local runs)
//! and the DynamoDB ledger on a real `moto_server`, so that they give the same answers to every
//! call. Time is what the caller says it is (`now_ms`): no test waits for a lease to end.
//!
//! Each body is an async fn taking `&Ledger`; [`conformance!`] runs each against one ledger:
//! `tests/in_process` runs them on the memory ledger, `tests/bridge` on DynamoDB (a process
//! test: it needs moto). Claims go through [`claim`] alone, the one place to change when the
//! claim's arguments do. The bodies for groups and budgets are in `ledger_conformance/groups.rs`, for the
//! postmortem queue in `ledger_conformance/postmortems.rs`.

use std::time::Duration;

use pagerduty_devin_bridge::edge::ledger::{Claim, Ledger, Spent};
use pure::life::follow_up::{Mark, PostmortemPart, Progress, Seen};
use pure::life::records::{Claimed, IncidentRecord, OpenIncident};
use pure::life::session::Session;
use pure::life::Start;

mod groups;
mod postmortems;
pub(crate) use groups::*;
pub(crate) use postmortems::*;

/// Every call's timeout: ample, the suite is about answers.
const T: Duration = Duration::from_secs(5);

/// Runs every body against one ledger, in a module named after it: `conformance!(memory)` or
/// `conformance!(dynamo)` (DynamoDB on moto, a fresh table each). A test binary calls it once
/// per ledger it runs the suite on; a body left out of the list is dead code, which fails the
/// lints.
macro_rules! conformance {
    (memory: $($body:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $body() {
                    let ledger = pagerduty_devin_bridge::edge::ledger::Ledger::Memory(
                        pagerduty_devin_bridge::edge::ledger::MemoryLedger::default(),
                    );
                    crate::ledger_suite::$body(&ledger).await;
                }
            )*
        }
    };
    (dynamo: $($body:ident),* $(,)?) => {
        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $body() {
                    let moto = crate::support::moto::Moto::start().await;
                    let table = moto.create_ledger_table("conformance").await;
                    let ledger =
                        crate::support::ledger_faults::dynamo_ledger(&moto.endpoint, &table);
                    crate::ledger_suite::$body(&ledger).await;
                }
            )*
        }
    };
    ($ledger:ident) => {
        crate::ledger_suite::conformance!(
            $ledger:
            a_claim_holds_until_its_lease_ends_then_is_taken_over,
            only_the_holder_settles_its_claim,
            a_start_that_made_nothing_is_pending_and_started_again,
            caps_and_refusals_are_recorded_and_only_their_owners_start_them,
            an_ended_session_gives_way_to_the_next_generation_on_reopen,
            a_claim_counts_its_session_once,
            a_deferral_waits_and_is_claimed_when_due,
            a_start_resolved_before_it_is_due_is_skipped_and_claimed_on_reopen,
            a_merge_adopts_a_session_only_into_an_incident_without_a_record,
            a_group_is_claimed_opened_by_its_holder_and_joined_until_full,
            a_group_takes_no_one_after_its_window_or_once_closed,
            a_group_claim_is_released_by_its_holder_or_taken_over_after_its_lease,
            a_spend_counts_against_every_cap_or_none_and_a_refund_gives_back,
            one_follow_up_run_holds_the_run_lease_at_a_time,
            the_follow_up_records_progress_on_the_current_session_only,
            an_ended_record_awaits_its_postmortem_once_until_posted_whole,
            a_postmortem_given_up_on_leaves_the_queue_for_good,
        );
    };
}
pub(crate) use conformance;

/// The one place the suite claims an incident, as a trigger (or its retry) would.
async fn claim(ledger: &Ledger, id: &str, holder: &str, now_ms: u64, lease_until_ms: u64) -> Claim {
    claim_as(ledger, id, Start::Trigger, holder, now_ms, lease_until_ms).await
}

async fn claim_as(
    ledger: &Ledger,
    id: &str,
    start: Start,
    holder: &str,
    now_ms: u64,
    lease_until_ms: u64,
) -> Claim {
    ledger
        .claim(id, start, holder, now_ms, lease_until_ms, T)
        .await
        .unwrap()
}

/// A fresh claim of the incident's first session.
fn claimed(holder: &str, lease_until_ms: u64) -> Claimed {
    Claimed {
        holder: holder.into(),
        lease_until_ms,
        generation: 1,
        took_over: None,
        spent: false,
        after_cap: false,
    }
}

fn won(holder: &str, lease_until_ms: u64) -> Claim {
    Claim::Won(claimed(holder, lease_until_ms))
}

async fn settle(ledger: &Ledger, id: &str, holder: &str, record: &IncidentRecord) -> bool {
    ledger.settle(id, holder, record, 2_000, T).await.unwrap()
}

async fn get(ledger: &Ledger, id: &str) -> Option<IncidentRecord> {
    ledger.get(id, T).await.unwrap()
}

async fn starts(ledger: &Ledger) -> Vec<(String, IncidentRecord)> {
    let starts = ledger.starts(T).await.unwrap();
    starts
        .into_iter()
        .map(|start| (start.incident_id, start.record))
        .collect()
}

fn session(id: &str) -> Session {
    Session {
        session_id: id.into(),
        url: format!("https://app.devin.ai/sessions/{id}"),
    }
}

fn creating(holder: &str, lease_until_ms: u64) -> IncidentRecord {
    IncidentRecord::Creating(claimed(holder, lease_until_ms))
}

fn created(id: &str) -> Option<IncidentRecord> {
    Some(IncidentRecord::Created {
        session: session(id),
        generation: 1,
    })
}

pub(crate) async fn a_claim_holds_until_its_lease_ends_then_is_taken_over(ledger: &Ledger) {
    assert_eq!(
        claim(ledger, "Q1", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    assert_eq!(
        claim(ledger, "Q1", "b", 4_999, 9_000).await,
        Claim::Held(creating("a", 5_000))
    );
    // A claim read back by its own holder (a retried write that landed) is its own.
    assert_eq!(
        claim(ledger, "Q1", "a", 4_999, 9_000).await,
        won("a", 5_000)
    );
    // A lease ends at its time (`pure::life::records`'s standing): then the claim is abandoned, and
    // the follow-up finds it among its starts.
    assert_eq!(
        starts(ledger).await,
        [("Q1".to_owned(), creating("a", 5_000))]
    );
    let took_over = Claimed {
        took_over: Some(5_000),
        ..claimed("b", 9_000)
    };
    assert_eq!(
        claim_as(ledger, "Q1", Start::Due, "b", 5_000, 9_000).await,
        Claim::Won(took_over.clone())
    );
    assert_eq!(
        get(ledger, "Q1").await,
        Some(IncidentRecord::Creating(took_over))
    );
    assert_eq!(get(ledger, "Q2").await, None);
}

pub(crate) async fn only_the_holder_settles_its_claim(ledger: &Ledger) {
    assert_eq!(
        claim(ledger, "Q1", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    let record = created("devin-a").unwrap();
    assert!(!settle(ledger, "Q1", "b", &record).await);
    assert_eq!(get(ledger, "Q1").await, Some(creating("a", 5_000)));
    assert!(settle(ledger, "Q1", "a", &record).await);
    assert_eq!(get(ledger, "Q1").await, created("devin-a"));
    assert!(!settle(ledger, "Q1", "a", &record).await, "settled once");
    // The session stands, whatever the time and whoever starts.
    for start in [
        Start::Trigger,
        Start::Sweep,
        Start::Due,
        Start::Reopen,
        Start::Asked,
    ] {
        assert_eq!(
            claim_as(ledger, "Q1", start, "c", u64::MAX / 2, u64::MAX / 2 + 1).await,
            Claim::Held(record.clone())
        );
    }
    let open = ledger.open_incidents(T).await.unwrap();
    assert_eq!(
        open,
        [OpenIncident {
            incident_id: "Q1".into(),
            session: session("devin-a"),
            progress: Progress::default(),
        }]
    );
    assert_eq!(starts(ledger).await, []);
}

pub(crate) async fn a_start_that_made_nothing_is_pending_and_started_again(ledger: &Ledger) {
    assert_eq!(
        claim(ledger, "Q1", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    let pending = IncidentRecord::Pending { generation: 1 };
    assert!(settle(ledger, "Q1", "a", &pending).await);
    assert_eq!(starts(ledger).await, [("Q1".to_owned(), pending.clone())]);
    // The sweep leaves it to its owners: PagerDuty's retry, the follow-up's next run.
    assert_eq!(
        claim_as(ledger, "Q1", Start::Sweep, "s", 2_000, 6_000).await,
        Claim::Held(pending)
    );
    assert_eq!(
        claim(ledger, "Q1", "b", 2_000, 6_000).await,
        won("b", 6_000)
    );
}

pub(crate) async fn caps_and_refusals_are_recorded_and_only_their_owners_start_them(
    ledger: &Ledger,
) {
    let capped = IncidentRecord::Capped {
        until_ms: Some(3_600_000),
        generation: 1,
    };
    assert_eq!(
        claim(ledger, "Q1", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    assert!(settle(ledger, "Q1", "a", &capped).await);
    assert_eq!(starts(ledger).await, [("Q1".to_owned(), capped.clone())]);
    assert_eq!(
        claim(ledger, "Q1", "b", 2_000, 6_000).await,
        Claim::Held(capped.clone()),
        "a trigger's retry"
    );
    assert_eq!(
        claim_as(ledger, "Q1", Start::Due, "f", 3_599_999, 3_700_000).await,
        Claim::Held(capped),
        "not before the budget refills"
    );
    let retry = Claimed {
        after_cap: true,
        ..claimed("f", 3_700_000)
    };
    assert_eq!(
        claim_as(ledger, "Q1", Start::Due, "f", 3_600_000, 3_700_000).await,
        Claim::Won(retry)
    );
    let for_good = IncidentRecord::Capped {
        until_ms: None,
        generation: 1,
    };
    assert!(settle(ledger, "Q1", "f", &for_good).await);
    assert_eq!(get(ledger, "Q1").await, Some(for_good));
    assert_eq!(starts(ledger).await, [], "only a person or a reopen now");

    let rejected = IncidentRecord::Rejected { generation: 1 };
    assert_eq!(
        claim(ledger, "Q2", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    assert!(settle(ledger, "Q2", "a", &rejected).await);
    for start in [Start::Trigger, Start::Sweep, Start::Due, Start::Reopen] {
        assert_eq!(
            claim_as(ledger, "Q2", start, "b", 9_000, 10_000).await,
            Claim::Held(rejected.clone())
        );
    }
    assert_eq!(
        claim_as(ledger, "Q2", Start::Asked, "p", 9_000, 10_000).await,
        won("p", 10_000)
    );
}

pub(crate) async fn an_ended_session_gives_way_to_the_next_generation_on_reopen(ledger: &Ledger) {
    assert_eq!(
        claim(ledger, "Q1", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    assert!(settle(ledger, "Q1", "a", &created("devin-1").unwrap()).await);
    let closed = Mark::ClosedOut(None);
    ledger
        .mark("Q1", "devin-1", &closed, 3_000, T)
        .await
        .unwrap();
    let ended = IncidentRecord::Ended {
        session: session("devin-1"),
        generation: 1,
    };
    assert_eq!(get(ledger, "Q1").await, Some(ended.clone()));
    assert_eq!(
        claim(ledger, "Q1", "b", 4_000, 9_000).await,
        Claim::Held(ended),
        "a trigger's retry starts nothing"
    );
    let next = Claimed {
        generation: 2,
        ..claimed("r", 9_000)
    };
    assert_eq!(
        claim_as(ledger, "Q1", Start::Reopen, "r", 4_000, 9_000).await,
        Claim::Won(next.clone())
    );
    let second = IncidentRecord::Created {
        session: session("devin-2"),
        generation: 2,
    };
    assert!(settle(ledger, "Q1", "r", &second).await);
    assert_eq!(get(ledger, "Q1").await, Some(second));
}

pub(crate) async fn a_claim_counts_its_session_once(ledger: &Ledger) {
    let hour = slot("budget#bridge#h#9", 1);
    let spend = |holder: &'static str| {
        let slots = vec![hour.clone()];
        async move { ledger.spend(&slots, "Q1", holder, T).await.unwrap() }
    };
    assert_eq!(
        claim(ledger, "Q1", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    assert_eq!(
        spend("b").await,
        Spent::NotOurs,
        "not b's claim: nothing counted"
    );
    assert_eq!(spend("a").await, Spent::Counted);
    let spent = Claimed {
        spent: true,
        took_over: Some(5_000),
        ..claimed("b", 9_000)
    };
    assert_eq!(
        claim(ledger, "Q1", "b", 5_000, 9_000).await,
        Claim::Won(spent),
        "whoever takes the claim over knows it was counted"
    );
}

pub(crate) async fn a_deferral_waits_and_is_claimed_when_due(ledger: &Ledger) {
    let defer = |id: &'static str| async move { ledger.defer(id, 10_000, 1_000, T).await.unwrap() };
    assert_eq!(defer("Q1").await, None);
    let deferred = IncidentRecord::Deferred { until_ms: 10_000 };
    assert_eq!(defer("Q1").await, Some(deferred.clone()), "deferred once");
    assert_eq!(get(ledger, "Q1").await, Some(deferred.clone()));
    assert_eq!(starts(ledger).await, [("Q1".to_owned(), deferred.clone())]);
    assert_eq!(
        claim(ledger, "Q1", "a", 9_999, 15_000).await,
        Claim::Held(deferred)
    );
    assert_eq!(
        claim(ledger, "Q1", "a", 10_000, 15_000).await,
        won("a", 15_000)
    );
    assert_eq!(defer("Q1").await, Some(creating("a", 15_000)));
}

pub(crate) async fn a_start_resolved_before_it_is_due_is_skipped_and_claimed_on_reopen(
    ledger: &Ledger,
) {
    assert_eq!(ledger.defer("Q1", 10_000, 1_000, T).await.unwrap(), None);
    ledger.skip_resolved("Q1", 2_000, T).await.unwrap();
    assert_eq!(
        get(ledger, "Q1").await,
        Some(IncidentRecord::SkippedResolved { generation: 1 })
    );
    assert_eq!(starts(ledger).await, []);
    assert_eq!(
        claim_as(ledger, "Q1", Start::Reopen, "a", 3_000, 8_000).await,
        won("a", 8_000)
    );
    // A claim is never skipped: its create may have happened.
    ledger.skip_resolved("Q1", 4_000, T).await.unwrap();
    assert_eq!(get(ledger, "Q1").await, Some(creating("a", 8_000)));
    assert!(
        settle(
            ledger,
            "Q1",
            "a",
            &IncidentRecord::Pending { generation: 1 }
        )
        .await
    );
    ledger.skip_resolved("Q1", 5_000, T).await.unwrap();
    assert_eq!(
        get(ledger, "Q1").await,
        Some(IncidentRecord::SkippedResolved { generation: 1 }),
        "a pending start is"
    );
}

pub(crate) async fn a_merge_adopts_a_session_only_into_an_incident_without_a_record(
    ledger: &Ledger,
) {
    let adopt = |id: &'static str, session_id: &'static str| async move {
        ledger
            .adopt(id, &session(session_id), 1_000, T)
            .await
            .unwrap()
    };
    assert!(adopt("Q2", "devin-2").await);
    assert!(adopt("Q1", "devin-1").await);
    assert!(!adopt("Q1", "devin-other").await);
    assert_eq!(get(ledger, "Q1").await, created("devin-1"));
    assert_eq!(
        claim(ledger, "Q3", "a", 1_000, 5_000).await,
        won("a", 5_000)
    );
    assert!(!adopt("Q3", "devin-3").await, "a claim stands");
    let open: Vec<String> = ledger
        .open_incidents(T)
        .await
        .unwrap()
        .into_iter()
        .map(|open| open.incident_id)
        .collect();
    assert_eq!(open, ["Q1", "Q2"], "in the order of their ids");
}

pub(crate) async fn one_follow_up_run_holds_the_run_lease_at_a_time(ledger: &Ledger) {
    let take = |holder: &'static str, now_ms: u64| async move {
        ledger
            .take_run_lease(holder, now_ms, now_ms + 4_000, T)
            .await
            .unwrap()
    };
    assert!(take("a", 1_000).await);
    assert!(!take("b", 4_999).await);
    // At its end (1_000 + 4_000) the lease is free.
    assert!(take("b", 5_000).await);
    ledger.release_run_lease("a", T).await.unwrap();
    assert!(!take("c", 6_000).await, "a released nothing of b's");
    ledger.release_run_lease("b", T).await.unwrap();
    assert!(take("c", 6_000).await);
}

pub(crate) async fn the_follow_up_records_progress_on_the_current_session_only(ledger: &Ledger) {
    assert!(ledger
        .adopt("Q1", &session("devin-1"), 1_000, T)
        .await
        .unwrap());
    let mark = |session_id: &'static str, mark: Mark| async move {
        ledger
            .mark("Q1", session_id, &mark, 2_000, T)
            .await
            .unwrap()
    };
    ledger.see("Q1", "devin-1", "p1", 1_500, T).await.unwrap();
    mark("devin-1", Mark::Findings("h1".into())).await;
    mark("devin-1", Mark::Asked("e1".into())).await;
    mark("devin-1", Mark::Waiting("e2".into())).await;
    mark("devin-1", Mark::Quota("low".into())).await;
    let part = |part| Mark::Postmortem(PostmortemPart { part, of: 2 });
    mark("devin-1", part(1)).await;
    mark("devin-2", part(2)).await;
    // Another session's progress is not this incident's.
    ledger.see("Q1", "devin-2", "p2", 1_600, T).await.unwrap();
    mark("devin-2", Mark::Findings("h2".into())).await;
    ledger.see("Q9", "devin-1", "p9", 1_600, T).await.unwrap();
    // Two 404s in a row (the first kept), a post left unsure; another session's, nothing.
    for (session_id, missing, at) in [
        ("devin-1", true, 1_700),
        ("devin-1", true, 1_800),
        ("devin-2", false, 1_900),
    ] {
        let followed = ledger.followed("Q1", session_id, missing, at, T);
        followed.await.unwrap();
    }
    ledger
        .unsure("Q1", "devin-1", "3fa9c1", 1_800, T)
        .await
        .unwrap();
    ledger
        .unsure("Q1", "devin-2", "000000", 1_800, T)
        .await
        .unwrap();
    // The custom fields' hash, recorded only on the incident's current session.
    ledger
        .fields_set("Q1", "devin-1", "f1", 1_800, T)
        .await
        .unwrap();
    ledger
        .fields_set("Q1", "devin-2", "f2", 1_800, T)
        .await
        .unwrap();
    let progress = Progress {
        posted: Some("h1".into()),
        asked: Some("e1".into()),
        waiting: Some("e2".into()),
        quota: Some("low".into()),
        seen: Some(Seen {
            print: "p1".into(),
            since_ms: 1_500,
        }),
        followed_at: Some(1_800),
        missing_since: Some(1_700),
        unsure: Some("3fa9c1".into()),
        postmortem: Some(PostmortemPart { part: 1, of: 2 }),
        fields: Some("f1".into()),
    };
    assert_eq!(
        ledger.open_incidents(T).await.unwrap(),
        [OpenIncident {
            incident_id: "Q1".into(),
            session: session("devin-1"),
            progress,
        }]
    );
    // A read clears the 404.
    ledger
        .followed("Q1", "devin-1", false, 1_950, T)
        .await
        .unwrap();
    let [open] = <[OpenIncident; 1]>::try_from(ledger.open_incidents(T).await.unwrap()).unwrap();
    assert_eq!(
        (open.progress.followed_at, open.progress.missing_since),
        (Some(1_950), None)
    );
    assert_eq!(
        get(ledger, "Q9").await,
        None,
        "nothing recorded without a record"
    );
    mark("devin-2", Mark::ClosedOut(None)).await;
    assert_eq!(ledger.open_incidents(T).await.unwrap().len(), 1);
    mark("devin-1", Mark::ClosedOut(Some("h3".into()))).await;
    assert_eq!(ledger.open_incidents(T).await.unwrap(), []);
    assert_eq!(
        get(ledger, "Q1").await,
        Some(IncidentRecord::Ended {
            session: session("devin-1"),
            generation: 1,
        }),
        "closed out: ended, kept"
    );
}
