//! Storm groups in memory: a group's record, the claim that starts its session, joining and
//! closing it, and the open members of a group session.

use std::collections::{BTreeSet, HashMap};

use super::{Item, MemoryLedger};
use crate::edge::ledger::GroupClaim;
use crate::edge::lock::lock;
use pure::life::members::{members_key, Joining, Left};
use pure::life::records::{group_key, GroupRecord, GroupStanding, Leader, OpenGroup};

impl MemoryLedger {
    pub fn group(&self, group: &str) -> Option<GroupRecord> {
        let items = lock(&self.items);
        match items.get(&group_key(group)) {
            Some(Item::Group(record)) => Some(record.clone()),
            _ => None,
        }
    }

    pub fn claim_group(
        &self,
        group: &str,
        holder: &str,
        leader: &Leader,
        now_ms: u64,
        lease_until_ms: u64,
        max_incidents: u32,
    ) -> GroupClaim {
        let mut items = lock(&self.items);
        let key = group_key(group);
        let mut claim = GroupClaim::Won;
        if let Some(Item::Group(record)) = items.get(&key) {
            if record.standing(now_ms, max_incidents) != GroupStanding::Claimable {
                return GroupClaim::Held(record.clone());
            }
            claim = taken_over(record);
        }
        let record = GroupRecord::Creating {
            holder: holder.to_owned(),
            lease_until_ms,
            leader: Some(leader.clone()),
        };
        items.insert(key, Item::Group(record));
        claim
    }

    pub fn name_group_leader(&self, group: &str, holder: &str, leader: &Leader) {
        let mut items = lock(&self.items);
        if let Some(Item::Group(GroupRecord::Creating {
            holder: held_by,
            leader: named,
            ..
        })) = items.get_mut(&group_key(group))
        {
            if held_by == holder {
                *named = Some(leader.clone());
            }
        }
    }

    /// Opens the group and makes its leader the session's first open member, at once.
    pub fn open_group(&self, group: &str, holder: &str, open: &OpenGroup) -> bool {
        let mut items = lock(&self.items);
        let key = group_key(group);
        let ours = matches!(
            items.get(&key),
            Some(Item::Group(GroupRecord::Creating { holder: held_by, .. })) if held_by == holder
        );
        if ours {
            items.insert(key, Item::Group(GroupRecord::Open(open.clone())));
            let (session_id, leader) = (&open.session.session_id, &open.leader_id);
            join_members(&mut items, session_id, leader, Joining::Group(group));
        }
        ours
    }

    pub fn join_group(
        &self,
        group: &str,
        session_id: &str,
        now_ms: u64,
        max_incidents: u32,
    ) -> Option<u32> {
        let mut items = lock(&self.items);
        match items.get_mut(&group_key(group)) {
            Some(Item::Group(GroupRecord::Open(open)))
                if open.session.session_id == session_id
                    && open.window_until_ms > now_ms
                    && open.incidents < max_incidents =>
            {
                open.incidents += 1;
                Some(open.incidents)
            }
            _ => None,
        }
    }

    pub fn close_group(&self, group: &str, session_id: &str) {
        let mut items = lock(&self.items);
        if let Some(Item::Group(GroupRecord::Open(open))) = items.get_mut(&group_key(group)) {
            if open.session.session_id == session_id {
                open.window_until_ms = 0;
            }
        }
    }

    pub fn release_group(&self, group: &str, holder: &str) {
        let mut items = lock(&self.items);
        let key = group_key(group);
        let ours = matches!(
            items.get(&key),
            Some(Item::Group(GroupRecord::Creating { holder: held_by, .. })) if held_by == holder
        );
        if ours {
            items.remove(&key);
        }
    }

    /// Adds `incident_id` to the open members of the session `session_id`, as `joining` says.
    pub fn add_member(&self, session_id: &str, incident_id: &str, joining: Joining<'_>) {
        join_members(&mut lock(&self.items), session_id, incident_id, joining);
    }

    /// Takes `incident_id` out of the open members of the group session `session_id`.
    pub fn leave_group(&self, session_id: &str, incident_id: &str) -> Option<Left> {
        let mut items = lock(&self.items);
        let Some(Item::Members(group, open)) = items.get_mut(&members_key(session_id)) else {
            return None;
        };
        let was_member = open.remove(incident_id);
        Some(Left {
            group: group.clone(),
            was_member,
            still_open: open.len() as u32,
        })
    }
}

/// Records `incident_id` as an open member of the session `session_id`, as `joining` says.
fn join_members(
    items: &mut HashMap<String, Item>,
    session_id: &str,
    incident_id: &str,
    joining: Joining<'_>,
) {
    let key = members_key(session_id);
    let group = match (items.get_mut(&key), joining) {
        (Some(Item::Members(_, open)), _) => {
            open.insert(incident_id.to_owned());
            return;
        }
        (_, Joining::IfShared) => return,
        (_, Joining::Group(group)) => Some(group.to_owned()),
        (_, Joining::Merge) => None,
    };
    let open = BTreeSet::from([incident_id.to_owned()]);
    items.insert(key, Item::Members(group, open));
}

/// How a claim on a group replacing `record` (claimable) went: over an abandoned claim that
/// names its leader, that leader's session is looked up first.
fn taken_over(record: &GroupRecord) -> GroupClaim {
    match record {
        GroupRecord::Creating {
            leader: Some(leader),
            lease_until_ms,
            ..
        } => GroupClaim::TookOver {
            leader: leader.clone(),
            lease_until_ms: *lease_until_ms,
        },
        _ => GroupClaim::Won,
    }
}
