//! The postmortem draft of an incident whose session the follow-up closed out before the
//! incident resolved (issue 22, the common case: Devin concluded first). The resolve still asks
//! the session for its draft, and the ended record waits in the ledger's postmortem queue: the
//! next follow-up runs post the draft once and take the record out of the queue, or give up on
//! it, without a note, once the ask is older than the idle time.

use serde_json::{json, Value};

use crate::postmortem::{
    done_as, draft, follow_up, postmortem_notes, started_then_resolved, told, ASK,
};
use crate::support::fleet::{Fleet, Instance};
use crate::support::*;

/// Devin concluded on the incident `id`: the follow-up's run closes it out with the final note.
/// The session, the resolve's delivery, and the follow-up.
async fn concluded_and_closed_out(fleet: &Fleet, id: &str) -> (String, String, Instance) {
    let (session, resolve) = started_then_resolved(fleet, id).await;
    fleet.devin.show(
        &session,
        json!({"status": "running", "status_detail": "waiting_for_user",
            "structured_output": {"state": "concluded", "summary": "Pool cut to 5 by v42."}}),
    );
    let follow = follow_up(fleet).await;
    follow.run().await;
    let notes = fleet.pagerduty.notes_on(id);
    assert!(
        notes.last().unwrap().contains("Devin concluded"),
        "{notes:#?}"
    );
    let item = fleet.ledger_item(id).await;
    assert_eq!(item["state"].as_s().unwrap(), "ended");
    assert!(!item.contains_key("queue"), "closed out: {item:?}");
    (session, resolve, follow)
}

fn queue(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Option<String> {
    item.get("queue").map(|queue| queue.as_s().unwrap().clone())
}

/// The session, at rest after its turn, shows `output`.
fn shows(fleet: &Fleet, session: &str, output: Value) {
    let shown = json!({"status": "running", "status_detail": "waiting_for_user",
        "structured_output": output});
    fleet.devin.show(session, shown);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_closed_out_before_the_resolve_still_gets_its_draft_posted_once() {
    let fleet = Fleet::start(1, &[]).await;
    let (session, resolve, follow) = concluded_and_closed_out(&fleet, "QPE1").await;

    done_as(&fleet, &resolve, "forwarded").await;
    let asked = told(&fleet, &session);
    assert!(asked.last().unwrap().contains(ASK), "{asked:#?}");
    let item = fleet.ledger_item("QPE1").await;
    assert_eq!(
        item["state"].as_s().unwrap(),
        "ended",
        "a reopen starts anew, as before"
    );
    assert_eq!(queue(&item).as_deref(), Some("postmortem"));
    let asked_at = item["postmortem_asked_at"].as_n().unwrap().clone();
    // PagerDuty's retry of the resolve asks again, and queues nothing new.
    done_as(&fleet, &resolve, "forwarded").await;
    let item = fleet.ledger_item("QPE1").await;
    assert_eq!(item["postmortem_asked_at"].as_n().unwrap(), &asked_at);

    // No draft yet: nothing posted, still awaited.
    follow.run().await;
    assert!(postmortem_notes(&fleet, "QPE1").is_empty());
    assert_eq!(
        queue(&fleet.ledger_item("QPE1").await).as_deref(),
        Some("postmortem")
    );

    shows(
        &fleet,
        &session,
        json!({"state": "concluded", "summary": "Pool", "postmortem": draft("v42 broke checkout.")}),
    );
    follow.run().await;
    follow.run().await;
    let notes = postmortem_notes(&fleet, "QPE1");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].contains("Summary: v42 broke checkout."),
        "{}",
        notes[0]
    );
    let item = fleet.ledger_item("QPE1").await;
    assert_eq!(item["postmortem"].as_s().unwrap(), "1/1");
    assert_eq!(queue(&item), None, "posted whole: out of the queue");
    assert_eq!(item["state"].as_s().unwrap(), "ended");
    let all = fleet.pagerduty.notes_on("QPE1");
    assert_eq!(all.len(), 3, "started, concluded, the draft: {all:#?}");
    follow.function.stop().await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_that_never_comes_is_given_up_after_the_idle_time_without_a_note() {
    let fleet = Fleet::start(1, &[]).await;
    let (_, resolve, follow) = concluded_and_closed_out(&fleet, "QPE2").await;
    done_as(&fleet, &resolve, "forwarded").await;
    assert_eq!(
        queue(&fleet.ledger_item("QPE2").await).as_deref(),
        Some("postmortem")
    );
    let notes_before = fleet.pagerduty.notes_on("QPE2").len();

    // Asked 25 hours ago (the idle time is a day by default), and no draft since.
    let long_ago = now_ms() - 25 * 3600 * 1000;
    fleet
        .set_ledger_time("QPE2", "postmortem_asked_at", long_ago)
        .await;
    follow.run().await;
    let item = fleet.ledger_item("QPE2").await;
    assert_eq!(queue(&item), None, "given up on: {item:?}");
    assert_eq!(item["postmortem"].as_s().unwrap(), "0/0", "none, recorded");
    assert_eq!(fleet.pagerduty.notes_on("QPE2").len(), notes_before);
    // A retried resolve does not queue it again.
    done_as(&fleet, &resolve, "forwarded").await;
    assert_eq!(queue(&fleet.ledger_item("QPE2").await), None);
    follow.function.stop().await;
    fleet.stop().await;
}
