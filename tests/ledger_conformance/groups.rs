//! The conformance bodies for storm groups and session budgets (see `ledger_conformance`).

use pagerduty_devin_bridge::edge::ledger::{Claim, GroupClaim, Ledger, Spent};
use pure::life::members::Left;
use pure::life::records::{GroupRecord, Leader, OpenGroup};
use pure::life::Start;
use pure::policy::spend::Slot;

use super::{session, T};

fn open_group(session_id: &str, incidents: u32, window_until_ms: u64) -> OpenGroup {
    OpenGroup {
        session: session(session_id),
        leader_id: "Q1".into(),
        leader_number: Some(7),
        incidents,
        window_until_ms,
        tags: 4,
    }
}

/// Claims the group for `holder`, leading it for incident `Q<holder>`.
async fn claim_group(ledger: &Ledger, holder: &str, now_ms: u64, lease_ms: u64) -> GroupClaim {
    ledger
        .claim_group("G", (holder, &leader(holder)), now_ms, lease_ms, 3, T)
        .await
        .unwrap()
}

fn leader(holder: &str) -> Leader {
    Leader {
        incident_id: format!("Q{holder}"),
        generation: 1,
    }
}

/// The leader of [`open_group`] leaves the session's open members: what the ledger answers.
async fn leader_left(ledger: &Ledger) -> Option<Left> {
    ledger.leave_group("devin-g", "Q1", 2_500, T).await.unwrap()
}

async fn join(ledger: &Ledger, session_id: &str, now_ms: u64) -> Option<u32> {
    ledger
        .join_group("G", session_id, now_ms, 3, T)
        .await
        .unwrap()
}

pub async fn a_group_is_claimed_opened_by_its_holder_and_joined_until_full(ledger: &Ledger) {
    assert_eq!(
        claim_group(ledger, "a", 1_000, 5_000).await,
        GroupClaim::Won
    );
    let claimed = GroupRecord::Creating {
        holder: "a".into(),
        lease_until_ms: 5_000,
        leader: Some(leader("a")),
    };
    assert_eq!(
        claim_group(ledger, "b", 4_999, 9_000).await,
        GroupClaim::Held(claimed)
    );
    let open = open_group("devin-g", 1, 60_000);
    assert!(!ledger.open_group("G", "b", &open, 2_000, T).await.unwrap());
    assert_eq!(leader_left(ledger).await, None, "not opened: no members");
    assert!(ledger.open_group("G", "a", &open, 2_000, T).await.unwrap());
    assert_eq!(
        ledger.group("G", T).await.unwrap(),
        Some(GroupRecord::Open(open.clone()))
    );
    // Opened with its leader as the session's one open member.
    let left = Left {
        group: Some("G".into()),
        was_member: true,
        still_open: 0,
    };
    assert_eq!(leader_left(ledger).await, Some(left));
    assert_eq!(
        claim_group(ledger, "c", 3_000, 9_000).await,
        GroupClaim::Held(GroupRecord::Open(open))
    );
    assert_eq!(join(ledger, "devin-other", 3_000).await, None);
    assert_eq!(join(ledger, "devin-g", 3_000).await, Some(2));
    assert_eq!(join(ledger, "devin-g", 3_000).await, Some(3));
    assert_eq!(join(ledger, "devin-g", 3_000).await, None, "full");
    assert_eq!(
        claim_group(ledger, "c", 3_000, 9_000).await,
        GroupClaim::Won
    );
}

pub async fn a_group_takes_no_one_after_its_window_or_once_closed(ledger: &Ledger) {
    assert_eq!(
        claim_group(ledger, "a", 1_000, 5_000).await,
        GroupClaim::Won
    );
    let open = open_group("devin-g", 1, 60_000);
    assert!(ledger.open_group("G", "a", &open, 2_000, T).await.unwrap());
    assert_eq!(join(ledger, "devin-g", 59_999).await, Some(2));
    assert_eq!(
        join(ledger, "devin-g", 60_000).await,
        None,
        "the window ended"
    );
    ledger.close_group("G", "devin-other", T).await.unwrap();
    assert_eq!(
        join(ledger, "devin-g", 3_000).await,
        Some(3),
        "not another's to close"
    );
    ledger.close_group("G", "devin-g", T).await.unwrap();
    let closed = OpenGroup {
        incidents: 3,
        window_until_ms: 0,
        ..open
    };
    assert_eq!(
        ledger.group("G", T).await.unwrap(),
        Some(GroupRecord::Open(closed))
    );
    assert_eq!(
        claim_group(ledger, "b", 3_000, 9_000).await,
        GroupClaim::Won
    );
}

pub async fn a_group_claim_is_released_by_its_holder_or_taken_over_after_its_lease(
    ledger: &Ledger,
) {
    assert_eq!(
        claim_group(ledger, "a", 1_000, 5_000).await,
        GroupClaim::Won
    );
    ledger.release_group("G", "b", T).await.unwrap();
    assert!(ledger.group("G", T).await.unwrap().is_some(), "not b's");
    ledger.release_group("G", "a", T).await.unwrap();
    assert_eq!(ledger.group("G", T).await.unwrap(), None);
    assert_eq!(
        claim_group(ledger, "b", 2_000, 6_000).await,
        GroupClaim::Won
    );
    // At its lease's end the claim is abandoned (`pure::life::records`'s group standing): whoever
    // takes it over learns whose session may exist.
    assert_eq!(
        claim_group(ledger, "c", 6_000, 9_000).await,
        GroupClaim::TookOver {
            leader: leader("b"),
            lease_until_ms: 6_000
        }
    );
    assert!(!ledger
        .open_group("G", "b", &open_group("devin-b", 1, 60_000), 7_000, T)
        .await
        .unwrap());
    // c could not look b's session up: its claim names b again (another holder's is not
    // changed), and whoever takes it over next looks b's up.
    ledger
        .name_group_leader("G", "b", &leader("x"), T)
        .await
        .unwrap();
    ledger
        .name_group_leader("G", "c", &leader("b"), T)
        .await
        .unwrap();
    assert_eq!(
        claim_group(ledger, "d", 9_000, 12_000).await,
        GroupClaim::TookOver {
            leader: leader("b"),
            lease_until_ms: 9_000
        }
    );
}

pub fn slot(key: &str, cap: u32) -> Slot {
    Slot {
        key: key.into(),
        cap,
        limit: "sessions_per_hour",
        scope: "bridge".into(),
        refills_at_ms: 3_600_000,
    }
}

pub async fn a_spend_counts_against_every_cap_or_none_and_a_refund_gives_back(ledger: &Ledger) {
    let (hour, day) = (slot("budget#bridge#h#1", 2), slot("budget#bridge#d#1", 3));
    let both = [hour.clone(), day.clone()];
    // Every spend is a claim's: the claim is marked as counted with it.
    let held = ledger
        .claim("QS", Start::Trigger, "h", 1_000, u64::MAX / 2, T)
        .await
        .unwrap();
    assert!(matches!(held, Claim::Won(_)));
    let spend = |slots: Vec<Slot>| async move { ledger.spend(&slots, "QS", "h", T).await.unwrap() };
    assert_eq!(spend(both.to_vec()).await, Spent::Counted);
    assert_eq!(spend(both.to_vec()).await, Spent::Counted);
    assert_eq!(
        spend(both.to_vec()).await,
        Spent::Capped(0),
        "the hour's cap"
    );
    // The refused spend counted nothing: the day has room for one more.
    assert_eq!(spend(vec![day.clone()]).await, Spent::Counted);
    assert_eq!(spend(vec![day.clone()]).await, Spent::Capped(0));
    ledger.refund(std::slice::from_ref(&hour), T).await.unwrap();
    assert_eq!(
        spend(both.to_vec()).await,
        Spent::Capped(1),
        "the day's cap"
    );
    assert_eq!(spend(vec![hour.clone()]).await, Spent::Counted);
    // A refund never takes a counter below nothing.
    let fresh = slot("budget#bridge#h#2", 1);
    ledger
        .refund(std::slice::from_ref(&fresh), T)
        .await
        .unwrap();
    assert_eq!(spend(vec![fresh.clone()]).await, Spent::Counted);
    assert_eq!(spend(vec![fresh]).await, Spent::Capped(0));
    assert_eq!(
        spend(Vec::new()).await,
        Spent::Counted,
        "no budget, no count"
    );
}
