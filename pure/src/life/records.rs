//! The bridge's own record of what it did, as data: the claim a delivery takes on an incident
//! before it creates the session, and the session once it exists. Stored by the ledger edge
//! (DynamoDB, or memory for local runs) with conditional writes, so that many instances agree.

use std::time::Duration;

use crate::life::follow_up::Progress;
use crate::life::session::Session;

/// The longest a claim on an incident may last (`CLAIM_LEASE_SECONDS` at most): it must outlive
/// any delivery and not block an incident for long; and so a claim taken over began at most this
/// long before its lease ended, whatever the lease was when it began (`pure::life::lookup`).
pub const MAX_CLAIM_LEASE_SECONDS: u64 = 900;

/// How long records are kept: PagerDuty retries for 48 hours, incidents rarely stay open a
/// month, and the table's time to live deletes what is older.
pub const KEEP_RECORDS_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The key of an incident's record.
pub fn incident_key(incident_id: &str) -> String {
    format!("incident#{incident_id}")
}

/// The key of the follow-up's run lease: one run at a time posts notes.
pub const RUN_LEASE_KEY: &str = "run#follow-up";

/// The queues of the ledger's index: the incidents the follow-up visits. Records leave them
/// when nothing more is to be done (a session closed out, a deferral started or skipped).
pub const OPEN_QUEUE: &str = "open";
/// The ended records whose session was asked for a postmortem draft when the incident resolved:
/// the follow-up posts the draft, or gives up on it (`follow_up::awaited_postmortem`).
pub const POSTMORTEM_QUEUE: &str = "postmortem";
/// The records whose next step is a start the follow-up makes when due (`pure::life::due`).
pub const STARTS_QUEUE: &str = "starts";
/// Where deferrals waited before the starts queue held them: read too, so that records written
/// before an upgrade still start.
pub const DEFERRED_QUEUE: &str = "deferred";

/// The key of a group's record (the incidents `group_by` renders alike).
pub fn group_key(group: &str) -> String {
    format!("group#{group}")
}

/// What the ledger holds for a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRecord {
    /// A delivery is starting the group's session, for its incident `leader` (unknown for a
    /// claim written before the ledger kept it): whoever takes the claim over after its lease
    /// looks that incident's session up first, since its create may have happened.
    Creating {
        holder: String,
        lease_until_ms: u64,
        leader: Option<Leader>,
    },
    /// The group's session takes new incidents until the window ends or it holds the most.
    Open(OpenGroup),
}

/// The incident whose start leads a group, and which of its sessions it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    pub incident_id: String,
    pub generation: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenGroup {
    pub session: Session,
    /// The incident that started it, and its number, for the other incidents' notes.
    pub leader_id: String,
    pub leader_number: Option<u64>,
    pub incidents: u32,
    pub window_until_ms: u64,
    /// The session's tags, so the incidents' tags stop before Devin's 50.
    pub tags: u32,
}

/// What a delivery makes of a group's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStanding {
    /// Its session takes this incident.
    Joinable(OpenGroup),
    /// Another delivery is starting its session: wait.
    BeingCreated,
    /// Closed (its window passed, it is full) or abandoned: a new group may start.
    Claimable,
}

impl GroupRecord {
    pub fn standing(&self, now_ms: u64, max_incidents: u32) -> GroupStanding {
        match self {
            GroupRecord::Open(open)
                if open.window_until_ms > now_ms && open.incidents < max_incidents =>
            {
                GroupStanding::Joinable(open.clone())
            }
            GroupRecord::Creating { lease_until_ms, .. } if *lease_until_ms > now_ms => {
                GroupStanding::BeingCreated
            }
            _ => GroupStanding::Claimable,
        }
    }
}

/// What the ledger holds for an incident: one state of its life (`pure::life` says what moves
/// each on, and who).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentRecord {
    /// A start (`holder`) is creating the session: no other may until the lease ends.
    Creating(Claimed),
    /// A start failed with nothing made (Devin busy, out of time before the create): the next
    /// delivery of the incident or the follow-up's next run starts it.
    Pending { generation: u32 },
    /// The session exists and the follow-up follows it.
    Created { session: Session, generation: u32 },
    /// The routing policy waits before starting a session: then the follow-up starts it if the
    /// incident is still open.
    Deferred { until_ms: u64 },
    /// A budget was spent: the follow-up tries once more when it refills (`until_ms`); capped
    /// again (`None`), only a person (`devin investigate`) or a reopen starts it.
    Capped {
        until_ms: Option<u64>,
        generation: u32,
    },
    /// Devin refused the session (400/409/422): only a person starts it again.
    Rejected { generation: u32 },
    /// Its session ended (finished, stopped, errored, idle) and the follow-up closed it out: a
    /// reopen or `devin investigate` starts the next generation.
    Ended { session: Session, generation: u32 },
    /// The incident resolved (or was merged away) before its start was made: no session
    /// unless it reopens or a person asks, then as this generation.
    SkippedResolved { generation: u32 },
}

/// A start's claim on an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub holder: String,
    /// Milliseconds since the epoch.
    pub lease_until_ms: u64,
    /// Which of the incident's sessions this claim starts: 1 for the first.
    pub generation: u32,
    /// When this claim took over one whose lease had run out: that lease's end. Its create may
    /// have happened, so the session is looked up before one is created (`pure::life::lookup`).
    pub took_over: Option<u64>,
    /// The limits were counted for this generation's session already (by this claim or the
    /// one it took over): never again.
    pub spent: bool,
    /// This claim retries a capped start: capped again, nothing retries it but a person.
    pub after_cap: bool,
}

/// What a delivery makes of an incident's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The incident has its session.
    HasSession(Session),
    /// Another start is creating it, or may have: wait, or let PagerDuty come back.
    BeingCreated { lease_until_ms: u64 },
    /// A claim whose lease ran out (at `lease_until_ms`): its create may or may not have
    /// happened; whoever takes it over looks the session up before creating one.
    Abandoned { lease_until_ms: u64 },
    /// A failed start nothing came of: the next start makes it.
    Pending,
    /// Waiting for its deferral to end.
    Deferred { until_ms: u64 },
    /// Resolved before its deferral ended: never investigated.
    SkippedResolved,
    /// A budget was spent; tried again then (or only by a person).
    Capped { until_ms: Option<u64> },
    /// Devin refused its session.
    Rejected,
    /// Its session ended and was closed out.
    Ended(Session),
}

impl IncidentRecord {
    pub fn standing(&self, now_ms: u64) -> Standing {
        match self {
            IncidentRecord::Created { session, .. } => Standing::HasSession(session.clone()),
            IncidentRecord::Creating(claim) if claim.lease_until_ms > now_ms => {
                Standing::BeingCreated {
                    lease_until_ms: claim.lease_until_ms,
                }
            }
            IncidentRecord::Creating(claim) => Standing::Abandoned {
                lease_until_ms: claim.lease_until_ms,
            },
            IncidentRecord::Pending { .. } => Standing::Pending,
            IncidentRecord::Deferred { until_ms } => Standing::Deferred {
                until_ms: *until_ms,
            },
            IncidentRecord::SkippedResolved { .. } => Standing::SkippedResolved,
            IncidentRecord::Capped { until_ms, .. } => Standing::Capped {
                until_ms: *until_ms,
            },
            IncidentRecord::Rejected { .. } => Standing::Rejected,
            IncidentRecord::Ended { session, .. } => Standing::Ended(session.clone()),
        }
    }

    /// The generation of the incident's current (or next) session.
    pub fn generation(&self) -> u32 {
        match self {
            IncidentRecord::Creating(claim) => claim.generation,
            IncidentRecord::Pending { generation }
            | IncidentRecord::Created { generation, .. }
            | IncidentRecord::Capped { generation, .. }
            | IncidentRecord::Rejected { generation }
            | IncidentRecord::Ended { generation, .. }
            | IncidentRecord::SkippedResolved { generation } => *generation,
            IncidentRecord::Deferred { .. } => 1,
        }
    }
}

/// An incident of an open session, as the follow-up finds it in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIncident {
    pub incident_id: String,
    pub session: Session,
    pub progress: Progress,
}

/// An ended record in the postmortem queue: its incident, and when its session was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedPostmortem {
    pub incident: OpenIncident,
    pub asked_at_ms: u64,
}

/// An incident whose record waits for a start the follow-up makes when it is due
/// (`pure::life::due`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToStart {
    pub incident_id: String,
    pub record: IncidentRecord,
}

/// When a deferred incident's session may start: `start_after` from when the incident was
/// created, so the webhook and the sweep agree whoever comes first.
pub fn deferred_until(created_at_ms: u64, start_after: Duration) -> u64 {
    created_at_ms.saturating_add(start_after.as_millis() as u64)
}

/// When a record written at `now_ms` expires, in seconds since the epoch (DynamoDB's time to
/// live counts in seconds).
pub fn expires_at(now_ms: u64) -> u64 {
    now_ms / 1000 + KEEP_RECORDS_FOR.as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            session_id: "devin-1".into(),
            url: "https://app.devin.ai/sessions/1".into(),
        }
    }

    #[test]
    fn a_claim_holds_until_its_lease_ends() {
        let claim = IncidentRecord::Creating(Claimed {
            holder: "a".into(),
            lease_until_ms: 2_000,
            generation: 1,
            took_over: None,
            spent: false,
            after_cap: false,
        });
        assert_eq!(
            claim.standing(1_999),
            Standing::BeingCreated {
                lease_until_ms: 2_000
            }
        );
        assert_eq!(
            claim.standing(2_000),
            Standing::Abandoned {
                lease_until_ms: 2_000
            }
        );
        let created = IncidentRecord::Created {
            session: session(),
            generation: 1,
        };
        assert_eq!(created.standing(u64::MAX), Standing::HasSession(session()));
    }

    #[test]
    fn a_group_takes_incidents_while_its_window_is_open_and_it_has_room() {
        let open = OpenGroup {
            session: session(),
            leader_id: "Q1".into(),
            leader_number: Some(7),
            incidents: 39,
            window_until_ms: 10_000,
            tags: 4,
        };
        let group = GroupRecord::Open(open.clone());
        assert_eq!(
            group.standing(9_999, 40),
            GroupStanding::Joinable(open.clone())
        );
        assert_eq!(
            group.standing(10_000, 40),
            GroupStanding::Claimable,
            "the window ended"
        );
        let full = GroupRecord::Open(OpenGroup {
            incidents: 40,
            ..open
        });
        assert_eq!(full.standing(0, 40), GroupStanding::Claimable, "full");
        let creating = GroupRecord::Creating {
            leader: None,
            holder: "a".into(),
            lease_until_ms: 5,
        };
        assert_eq!(creating.standing(4, 40), GroupStanding::BeingCreated);
        assert_eq!(creating.standing(5, 40), GroupStanding::Claimable);
    }

    #[test]
    fn a_deferral_counts_from_the_incidents_creation() {
        let record = IncidentRecord::Deferred {
            until_ms: deferred_until(1_000, Duration::from_secs(300)),
        };
        assert_eq!(record.standing(0), Standing::Deferred { until_ms: 301_000 });
        assert_eq!(
            IncidentRecord::SkippedResolved { generation: 1 }.standing(0),
            Standing::SkippedResolved
        );
    }

    #[test]
    fn records_are_kept_thirty_days() {
        assert_eq!(expires_at(1_000_999), 1_000 + 30 * 24 * 3600);
        assert_eq!(incident_key("Q1"), "incident#Q1");
    }
}
