//! The bridge's own record of what it did, as data: the claim a delivery takes on an incident
//! before it creates the session, and the session once it exists. Stored by the ledger edge
//! (DynamoDB, or memory for local runs) with conditional writes, so that many instances agree.

use std::time::Duration;

use crate::pure::session::Session;

/// How long records are kept: PagerDuty retries for 48 hours, incidents rarely stay open a
/// month, and the table's time to live deletes what is older.
pub const KEEP_RECORDS_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The key of an incident's record.
pub fn incident_key(incident_id: &str) -> String {
    format!("incident#{incident_id}")
}

/// What the ledger holds for an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentRecord {
    /// A delivery (`holder`) is creating the session: no other may until the lease ends, in
    /// milliseconds since the epoch.
    Creating { holder: String, lease_until_ms: u64 },
    /// The session exists.
    Created { session: Session },
}

/// What a delivery makes of an incident's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The incident has its session.
    HasSession(Session),
    /// Another delivery is creating it, or may have: wait, or let PagerDuty come back.
    BeingCreated { lease_until_ms: u64 },
    /// A claim whose lease ran out: its create may or may not have happened; whoever takes it
    /// over looks the session up before creating one.
    Abandoned,
}

impl IncidentRecord {
    pub fn standing(&self, now_ms: u64) -> Standing {
        match self {
            IncidentRecord::Created { session } => Standing::HasSession(session.clone()),
            IncidentRecord::Creating { lease_until_ms, .. } if *lease_until_ms > now_ms => {
                Standing::BeingCreated {
                    lease_until_ms: *lease_until_ms,
                }
            }
            IncidentRecord::Creating { .. } => Standing::Abandoned,
        }
    }
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
        let claim = IncidentRecord::Creating {
            holder: "a".into(),
            lease_until_ms: 2_000,
        };
        assert_eq!(
            claim.standing(1_999),
            Standing::BeingCreated {
                lease_until_ms: 2_000
            }
        );
        assert_eq!(claim.standing(2_000), Standing::Abandoned);
        let created = IncidentRecord::Created { session: session() };
        assert_eq!(created.standing(u64::MAX), Standing::HasSession(session()));
    }

    #[test]
    fn records_are_kept_thirty_days() {
        assert_eq!(expires_at(1_000_999), 1_000 + 30 * 24 * 3600);
        assert_eq!(incident_key("Q1"), "incident#Q1");
    }
}
