//! The open incidents of a group's session: a storm group's session is shared, so one member's
//! resolve, merge or `devin stop` must not end it for the others. The ledger keeps the set of
//! open members per session (not per group name: a group whose window closed opens again with
//! a new session while the old one still works for its members), changed with conditional
//! writes so that of two members resolving at once exactly one is the last. A session a merge
//! moved to another incident has members too (that incident), so that the merged-away
//! incident's `devin stop` leaves it rather than ending another incident's work.

/// The key of a group session's members record.
pub fn members_key(session_id: &str) -> String {
    format!("members#{session_id}")
}

/// How an incident becomes an open member of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining<'a> {
    /// As a member of this group's session (its leader, or an incident joining it).
    Group(&'a str),
    /// Only when the session has members already (an incident reopened).
    IfShared,
    /// As the incident a merged-away incident's session now works for.
    Merge,
}

/// What the ledger answered when an incident left its session's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    /// The group whose session it is; none for a session a merge moved.
    pub group: Option<String>,
    /// Whether this call took the incident out; false when it had left already (a retry of a
    /// delivery whose leave was written).
    pub was_member: bool,
    /// The members still open after it.
    pub still_open: u32,
}

/// What the session hears when one of its incidents ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It was the session's own (no group), or the group's last open member: the session ends
    /// its work as for any incident.
    Last,
    /// Other members are still open: the session carries on with them.
    OthersOpen(u32),
}

impl Ending {
    /// How an incident's end reaches its session: `left` is the ledger's answer, `None` when the
    /// session is no group's.
    pub fn of(left: Option<&Left>) -> Ending {
        match left {
            Some(left) if left.still_open > 0 => Ending::OthersOpen(left.still_open),
            _ => Ending::Last,
        }
    }
}

/// An incident as the session knows it: `#number` when it has one, else its id (quoted).
pub fn incident_label(number: Option<u64>, incident_id: &str) -> String {
    number.map_or_else(
        || crate::text::quote::json(incident_id),
        |number| format!("#{number}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(still_open: u32) -> Left {
        Left {
            group: Some("checkout-api".into()),
            was_member: true,
            still_open,
        }
    }

    #[test]
    fn only_the_last_open_member_ends_the_session() {
        assert_eq!(Ending::of(None), Ending::Last, "no group: today's end");
        assert_eq!(Ending::of(Some(&left(0))), Ending::Last);
        assert_eq!(Ending::of(Some(&left(3))), Ending::OthersOpen(3));
        assert_eq!(members_key("devin-1"), "members#devin-1");
        assert_eq!(incident_label(Some(12), "Q1"), "#12");
        assert_eq!(incident_label(None, "Q\"1"), "\"Q\\\"1\"");
    }
}
