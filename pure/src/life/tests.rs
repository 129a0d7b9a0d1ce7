use super::*;

const NOW: u64 = 10_000;
const LEASE: u64 = 20_000;

fn session(id: &str) -> Session {
    Session {
        session_id: id.into(),
        url: format!("https://app.devin.ai/sessions/{id}"),
    }
}

fn claim(holder: &str, lease_until_ms: u64, generation: u32) -> Claimed {
    Claimed {
        holder: holder.into(),
        lease_until_ms,
        generation,
        took_over: None,
        spent: false,
        after_cap: false,
    }
}

fn start(record: Option<&IncidentRecord>, start: Start) -> Move {
    on_start(record, start, "me", NOW, LEASE)
}

/// The generation `start` claims on `record`, or `None` when it does not claim.
fn claims(record: &IncidentRecord, by: Start) -> Option<u32> {
    match start(Some(record), by) {
        Move::Claim(claimed) => Some(claimed.generation),
        _ => None,
    }
}

const ALL: [Start; 5] = [
    Start::Trigger,
    Start::Sweep,
    Start::Due,
    Start::Reopen,
    Start::Asked,
];

#[test]
fn an_unknown_incident_is_claimed_by_any_start() {
    for by in ALL {
        assert_eq!(
            start(None, by),
            Move::Claim(claim("me", LEASE, 1)),
            "{by:?}"
        );
    }
}

#[test]
fn a_live_claim_makes_others_wait_and_its_own_holder_carry_on() {
    let held = IncidentRecord::Creating(claim("other", NOW + 1, 1));
    for by in ALL {
        assert_eq!(
            start(Some(&held), by),
            Move::Wait {
                lease_until_ms: NOW + 1
            }
        );
    }
    // An SDK retry of a claim that landed reads back its own claim: it is ours.
    let mine = IncidentRecord::Creating(claim("me", NOW + 1, 2));
    assert_eq!(
        start(Some(&mine), Start::Trigger),
        Move::Ours(claim("me", NOW + 1, 2))
    );
}

#[test]
fn an_abandoned_claim_is_taken_over_by_any_start_keeping_its_count_and_generation() {
    let abandoned = IncidentRecord::Creating(Claimed {
        spent: true,
        after_cap: true,
        ..claim("other", NOW, 3)
    });
    for by in ALL {
        assert_eq!(
            start(Some(&abandoned), by),
            Move::Claim(Claimed {
                took_over: Some(NOW),
                spent: true,
                after_cap: true,
                ..claim("me", LEASE, 3)
            }),
            "{by:?}"
        );
    }
}

#[test]
fn each_decision_is_undone_only_by_its_owner() {
    let session = session("s1");
    use Start::*;
    let table: Vec<(IncidentRecord, [Option<u32>; 5])> = vec![
        // state:                                   Trigger  Sweep    Due      Reopen   Asked
        (
            IncidentRecord::Pending { generation: 2 },
            [Some(2), None, Some(2), Some(2), Some(2)],
        ),
        (
            IncidentRecord::Deferred { until_ms: NOW },
            [Some(1), None, Some(1), None, Some(1)],
        ),
        (
            IncidentRecord::Deferred { until_ms: NOW + 1 },
            [None, None, None, None, Some(1)],
        ),
        (
            IncidentRecord::Capped {
                until_ms: Some(NOW),
                generation: 1,
            },
            [None, None, Some(1), Some(1), Some(1)],
        ),
        (
            IncidentRecord::Capped {
                until_ms: Some(NOW + 1),
                generation: 1,
            },
            [None, None, None, Some(1), Some(1)],
        ),
        (
            IncidentRecord::Capped {
                until_ms: None,
                generation: 1,
            },
            [None, None, None, Some(1), Some(1)],
        ),
        (
            IncidentRecord::Rejected { generation: 1 },
            [None, None, None, None, Some(1)],
        ),
        (
            IncidentRecord::Created {
                session: session.clone(),
                generation: 1,
            },
            [None; 5],
        ),
        (
            IncidentRecord::Ended {
                session,
                generation: 1,
            },
            [None, None, None, Some(2), Some(2)],
        ),
        (
            IncidentRecord::SkippedResolved { generation: 1 },
            [None, None, None, Some(1), Some(1)],
        ),
        // Skipped while the next generation was pending: that generation is still the next.
        (
            IncidentRecord::SkippedResolved { generation: 3 },
            [None, None, None, Some(3), Some(3)],
        ),
    ];
    for (record, expected) in table {
        let got = [Trigger, Sweep, Due, Reopen, Asked].map(|by| claims(&record, by));
        assert_eq!(got, expected, "{record:?}");
    }
}

#[test]
fn a_cap_is_retried_once_then_left_to_a_person() {
    let first = settle(
        &claim("me", LEASE, 1),
        Settled::Capped {
            refills_at_ms: 3_600_000,
        },
    );
    assert_eq!(
        first,
        IncidentRecord::Capped {
            until_ms: Some(3_600_000),
            generation: 1
        }
    );
    assert!(due(&first, 3_600_000) && !due(&first, 3_599_999));
    let Move::Claim(retry) = on_start(Some(&first), Start::Due, "f", 3_600_000, 3_700_000) else {
        panic!("the refill retries it");
    };
    let again = settle(
        &retry,
        Settled::Capped {
            refills_at_ms: 7_200_000,
        },
    );
    assert_eq!(
        again,
        IncidentRecord::Capped {
            until_ms: None,
            generation: 1
        }
    );
    assert_eq!(owner(&again), Owner::PersonOrReopen);
    assert_eq!(queue(&again), None);
}

#[test]
fn every_state_has_an_owner_and_the_follow_ups_are_queued() {
    let records = [
        IncidentRecord::Creating(claim("x", NOW, 1)),
        IncidentRecord::Pending { generation: 1 },
        IncidentRecord::Created {
            session: session("s"),
            generation: 1,
        },
        IncidentRecord::Deferred { until_ms: NOW },
        IncidentRecord::Capped {
            until_ms: Some(NOW),
            generation: 1,
        },
        IncidentRecord::Capped {
            until_ms: None,
            generation: 1,
        },
        IncidentRecord::Rejected { generation: 1 },
        IncidentRecord::Ended {
            session: session("s"),
            generation: 1,
        },
        IncidentRecord::SkippedResolved { generation: 1 },
    ];
    for record in &records {
        let follow_up_moves_it = matches!(
            owner(record),
            Owner::Holder | Owner::NextStart | Owner::FollowUp | Owner::FollowUpWhenDue
        );
        // What the follow-up owns, it can find: it is in one of its queues.
        assert_eq!(follow_up_moves_it, queue(record).is_some(), "{record:?}");
    }
    let abandoned = &records[0];
    assert!(due(abandoned, NOW) && !due(abandoned, NOW - 1));
    assert!(due(&records[1], 0), "a pending start is due at once");
}

#[test]
fn a_start_settles_into_the_record_its_owner_moves_on() {
    let held = claim("me", LEASE, 2);
    assert_eq!(
        settle(&held, Settled::Session(session("s2"))),
        IncidentRecord::Created {
            session: session("s2"),
            generation: 2
        }
    );
    assert_eq!(
        settle(&held, Settled::NothingMade),
        IncidentRecord::Pending { generation: 2 }
    );
    assert_eq!(
        settle(&held, Settled::Rejected),
        IncidentRecord::Rejected { generation: 2 }
    );
}
