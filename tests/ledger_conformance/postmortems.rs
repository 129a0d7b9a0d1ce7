//! The conformance bodies for the postmortem queue: ended records whose session was asked for a
//! draft when the incident resolved (see `ledger_conformance`).

use pagerduty_devin_bridge::edge::ledger::Ledger;
use pure::life::follow_up::{Mark, PostmortemPart, Progress};
use pure::life::records::{AwaitedPostmortem, IncidentRecord, OpenIncident};

use super::{get, session, T};

/// The incident `id`, its session `devin-1` closed out at 2 000.
async fn ended(ledger: &Ledger, id: &str) {
    assert!(ledger
        .adopt(id, &session("devin-1"), 1_000, T)
        .await
        .unwrap());
    let closed = Mark::ClosedOut(None);
    ledger.mark(id, "devin-1", &closed, 2_000, T).await.unwrap();
}

fn awaited(id: &str, postmortem: Option<PostmortemPart>, asked_at_ms: u64) -> AwaitedPostmortem {
    AwaitedPostmortem {
        incident: OpenIncident {
            incident_id: id.into(),
            session: session("devin-1"),
            progress: Progress {
                postmortem,
                ..Progress::default()
            },
        },
        asked_at_ms,
    }
}

pub(crate) async fn an_ended_record_awaits_its_postmortem_once_until_posted_whole(ledger: &Ledger) {
    ended(ledger, "Q1").await;
    // Only the ended record, and only of its session; a followed one is not queued.
    assert!(ledger
        .adopt("Q2", &session("devin-2"), 1_000, T)
        .await
        .unwrap());
    ledger
        .await_postmortem("Q2", "devin-2", 3_000, T)
        .await
        .unwrap();
    ledger
        .await_postmortem("Q1", "devin-9", 3_000, T)
        .await
        .unwrap();
    ledger
        .await_postmortem("Q9", "devin-1", 3_000, T)
        .await
        .unwrap();
    assert_eq!(ledger.awaited_postmortems(T).await.unwrap(), []);
    ledger
        .await_postmortem("Q1", "devin-1", 3_000, T)
        .await
        .unwrap();
    // A retried resolve keeps when it was first asked.
    ledger
        .await_postmortem("Q1", "devin-1", 3_500, T)
        .await
        .unwrap();
    assert_eq!(
        ledger.awaited_postmortems(T).await.unwrap(),
        [awaited("Q1", None, 3_000)]
    );
    assert_eq!(
        ledger.open_incidents(T).await.unwrap(),
        [OpenIncident {
            incident_id: "Q2".into(),
            session: session("devin-2"),
            progress: Progress::default(),
        }],
        "the open queue is not the postmortem queue"
    );

    let part = |part| Some(PostmortemPart { part, of: 2 });
    // Another session's part is not recorded.
    ledger
        .postmortem_posted("Q1", "devin-9", part(1), 4_000, T)
        .await
        .unwrap();
    ledger
        .postmortem_posted("Q1", "devin-1", part(1), 4_000, T)
        .await
        .unwrap();
    assert_eq!(
        ledger.awaited_postmortems(T).await.unwrap(),
        [awaited("Q1", part(1), 3_000)]
    );
    ledger
        .postmortem_posted("Q1", "devin-1", part(2), 5_000, T)
        .await
        .unwrap();
    assert_eq!(
        ledger.awaited_postmortems(T).await.unwrap(),
        [],
        "posted whole"
    );
    ledger
        .await_postmortem("Q1", "devin-1", 6_000, T)
        .await
        .unwrap();
    assert_eq!(ledger.awaited_postmortems(T).await.unwrap(), [], "once");
    assert_eq!(
        get(ledger, "Q1").await,
        Some(IncidentRecord::Ended {
            session: session("devin-1"),
            generation: 1,
        }),
        "still ended: a reopen starts the next generation"
    );
}

pub(crate) async fn a_postmortem_given_up_on_leaves_the_queue_for_good(ledger: &Ledger) {
    ended(ledger, "Q1").await;
    ledger
        .await_postmortem("Q1", "devin-1", 3_000, T)
        .await
        .unwrap();
    ledger
        .postmortem_posted("Q1", "devin-1", None, 4_000, T)
        .await
        .unwrap();
    assert_eq!(ledger.awaited_postmortems(T).await.unwrap(), []);
    // A retried resolve asks nothing to be awaited again.
    ledger
        .await_postmortem("Q1", "devin-1", 5_000, T)
        .await
        .unwrap();
    assert_eq!(ledger.awaited_postmortems(T).await.unwrap(), []);
}
