//! The ledger's side of shared group sessions and merges, one body against both ledgers (memory,
//! and DynamoDB in a real `moto_server`): the open members of a group's session leave one at a
//! time, so of members resolving at once exactly one is the last; and a merge records its
//! session on an incident whose start was deferred.

use std::time::Duration;

use futures_util::future::join_all;
use pagerduty_devin_bridge::edge::ledger::{DynamoLedger, Ledger, MemoryLedger};
use pure::life::members::{Joining, Left};
use pure::life::records::IncidentRecord;
use pure::life::session::Session;

use crate::support::moto::Moto;
use crate::support::now_ms;

const WITHIN: Duration = Duration::from_secs(5);

/// Both ledgers: the memory one, and DynamoDB on `moto` (a table of its own).
async fn ledgers(moto: &Moto, table: &str) -> Vec<(&'static str, Ledger)> {
    let table = moto.create_ledger_table(table).await;
    vec![
        ("memory", Ledger::Memory(MemoryLedger::default())),
        (
            "dynamodb",
            Ledger::Dynamo(DynamoLedger::new(moto.dynamodb(), &table)),
        ),
    ]
}

fn session(id: &str) -> Session {
    Session {
        session_id: id.into(),
        url: format!("https://app.devin.ai/sessions/{id}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn of_members_leaving_at_once_exactly_one_is_the_last() {
    let moto = Moto::start().await;
    for (name, ledger) in ledgers(&moto, "members").await {
        for round in 0..5 {
            let session_id = format!("devin-{round}");
            let members: Vec<String> = (0..8).map(|n| format!("Q{round}M{n}")).collect();
            for member in &members {
                ledger
                    .add_member(&session_id, member, Joining::Group("api"), now_ms(), WITHIN)
                    .await
                    .unwrap();
            }
            let left = join_all(
                members
                    .iter()
                    .map(|member| ledger.leave_group(&session_id, member, now_ms(), WITHIN)),
            )
            .await;
            let mut still_open: Vec<u32> = left
                .into_iter()
                .map(|left| {
                    let left = left.unwrap().expect("a group's session");
                    assert!(
                        left.was_member && left.group.as_deref() == Some("api"),
                        "{name}: {left:?}"
                    );
                    left.still_open
                })
                .collect();
            still_open.sort();
            assert_eq!(
                still_open,
                (0..8).collect::<Vec<u32>>(),
                "{name}: one last, none twice"
            );
            // A retry of a leave that was written: not a member, none open.
            let again = ledger
                .leave_group(&session_id, &members[0], now_ms(), WITHIN)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((again.was_member, again.still_open), (false, 0), "{name}");
        }
        // A session that is no group's has no members, and a reopen adds none to it.
        ledger
            .add_member("devin-alone", "Q1", Joining::IfShared, now_ms(), WITHIN)
            .await
            .unwrap();
        let alone = ledger
            .leave_group("devin-alone", "Q1", now_ms(), WITHIN)
            .await
            .unwrap();
        assert_eq!(alone, None, "{name}");
        // A member that comes back (reopened) is open again.
        ledger
            .add_member("devin-0", "Q0M3", Joining::IfShared, now_ms(), WITHIN)
            .await
            .unwrap();
        let back = ledger
            .leave_group("devin-0", "Q0M3", now_ms(), WITHIN)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((back.was_member, back.still_open), (true, 0), "{name}");
        // A session a merge moved has members without a group: the incident it now works for.
        ledger
            .add_member("devin-moved", "QINTO", Joining::Merge, now_ms(), WITHIN)
            .await
            .unwrap();
        let merged_away = ledger
            .leave_group("devin-moved", "QAWAY", now_ms(), WITHIN)
            .await
            .unwrap();
        let expected = Left {
            group: None,
            was_member: false,
            still_open: 1,
        };
        assert_eq!(merged_away, Some(expected), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_records_its_session_on_an_incident_whose_start_was_deferred() {
    let moto = Moto::start().await;
    for (name, ledger) in ledgers(&moto, "adopt").await {
        let (now, merged) = (now_ms(), session("devin-merged"));
        assert_eq!(
            ledger
                .defer("QDEF", now + 600_000, now, WITHIN)
                .await
                .unwrap(),
            None
        );
        assert!(
            ledger.adopt("QDEF", &merged, now, WITHIN).await.unwrap(),
            "{name}: the deferral gives way"
        );
        let recorded = ledger.get("QDEF", WITHIN).await.unwrap();
        assert_eq!(
            recorded,
            Some(IncidentRecord::Created {
                session: merged.clone(),
                generation: 1,
            }),
            "{name}"
        );
        assert!(
            ledger.starts(WITHIN).await.unwrap().is_empty(),
            "{name}: the follow-up never starts it"
        );
        // An incident with a session, or one being created, keeps its own.
        assert!(!ledger
            .adopt("QDEF", &session("devin-other"), now, WITHIN)
            .await
            .unwrap());
        ledger
            .claim(
                "QCLAIMED",
                pure::life::Start::Trigger,
                "holder",
                now,
                now + 60_000,
                WITHIN,
            )
            .await
            .unwrap();
        assert!(!ledger
            .adopt("QCLAIMED", &merged, now, WITHIN)
            .await
            .unwrap());
        assert!(
            ledger.adopt("QNEW", &merged, now, WITHIN).await.unwrap(),
            "{name}"
        );
    }
}
