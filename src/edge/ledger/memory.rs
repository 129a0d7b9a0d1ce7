//! The ledger in memory: the same answers as the DynamoDB ledger, for one process. Local runs
//! and the in-process tests use it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::edge::ledger::{Claim, GroupClaim};
use crate::pure::ledger::{
    group_key, incident_key, GroupRecord, GroupStanding, IncidentRecord, OpenGroup, Standing,
};
use crate::pure::session::Session;
use crate::pure::spend::Slot;

#[derive(Debug, Clone)]
enum Item {
    Incident(IncidentRecord),
    Group(GroupRecord),
    Count(u32),
}

#[derive(Default)]
pub struct MemoryLedger {
    items: Mutex<HashMap<String, Item>>,
}

impl MemoryLedger {
    pub fn claim(
        &self,
        incident_id: &str,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Claim {
        let mut items = self.items.lock().unwrap();
        let key = incident_key(incident_id);
        let claim = match incident(items.get(&key)) {
            None => Claim::New,
            Some(record) => match record.standing(now_ms) {
                Standing::Abandoned => Claim::TakenOver,
                _ => return Claim::Held(record.clone()),
            },
        };
        let holder = holder.to_owned();
        let record = IncidentRecord::Creating {
            holder,
            lease_until_ms,
        };
        items.insert(key, Item::Incident(record));
        claim
    }

    pub fn record_created(&self, incident_id: &str, holder: &str, session: &Session) -> bool {
        let mut items = self.items.lock().unwrap();
        let key = incident_key(incident_id);
        if !incident(items.get(&key)).is_some_and(|record| holds(record, holder)) {
            return false;
        }
        let session = session.clone();
        items.insert(key, Item::Incident(IncidentRecord::Created { session }));
        true
    }

    pub fn release(&self, incident_id: &str, holder: &str) {
        let mut items = self.items.lock().unwrap();
        let key = incident_key(incident_id);
        if incident(items.get(&key)).is_some_and(|record| holds(record, holder)) {
            items.remove(&key);
        }
    }

    pub fn get(&self, incident_id: &str) -> Option<IncidentRecord> {
        let items = self.items.lock().unwrap();
        incident(items.get(&incident_key(incident_id))).cloned()
    }

    pub fn adopt(&self, incident_id: &str, session: &Session) -> bool {
        let mut items = self.items.lock().unwrap();
        let key = incident_key(incident_id);
        if items.contains_key(&key) {
            return false;
        }
        let session = session.clone();
        items.insert(key, Item::Incident(IncidentRecord::Created { session }));
        true
    }

    pub fn group(&self, group: &str) -> Option<GroupRecord> {
        let items = self.items.lock().unwrap();
        match items.get(&group_key(group)) {
            Some(Item::Group(record)) => Some(record.clone()),
            _ => None,
        }
    }

    pub fn claim_group(
        &self,
        group: &str,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
        max_incidents: u32,
    ) -> GroupClaim {
        let mut items = self.items.lock().unwrap();
        let key = group_key(group);
        if let Some(Item::Group(record)) = items.get(&key) {
            if record.standing(now_ms, max_incidents) != GroupStanding::Claimable {
                return GroupClaim::Held(record.clone());
            }
        }
        let holder = holder.to_owned();
        let record = GroupRecord::Creating {
            holder,
            lease_until_ms,
        };
        items.insert(key, Item::Group(record));
        GroupClaim::Won
    }

    pub fn open_group(&self, group: &str, holder: &str, open: &OpenGroup) -> bool {
        let mut items = self.items.lock().unwrap();
        let key = group_key(group);
        let ours = matches!(
            items.get(&key),
            Some(Item::Group(GroupRecord::Creating { holder: held_by, .. })) if held_by == holder
        );
        if ours {
            items.insert(key, Item::Group(GroupRecord::Open(open.clone())));
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
        let mut items = self.items.lock().unwrap();
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
        let mut items = self.items.lock().unwrap();
        if let Some(Item::Group(GroupRecord::Open(open))) = items.get_mut(&group_key(group)) {
            if open.session.session_id == session_id {
                open.window_until_ms = 0;
            }
        }
    }

    pub fn release_group(&self, group: &str, holder: &str) {
        let mut items = self.items.lock().unwrap();
        let key = group_key(group);
        let ours = matches!(
            items.get(&key),
            Some(Item::Group(GroupRecord::Creating { holder: held_by, .. })) if held_by == holder
        );
        if ours {
            items.remove(&key);
        }
    }

    /// Counts one session against every slot, or against none when one is spent: its index.
    pub fn spend(&self, slots: &[Slot]) -> Result<(), usize> {
        let mut items = self.items.lock().unwrap();
        let used = |items: &HashMap<String, Item>, key: &str| match items.get(key) {
            Some(Item::Count(used)) => *used,
            _ => 0,
        };
        if let Some(spent) = slots
            .iter()
            .position(|slot| used(&items, &slot.key) >= slot.cap)
        {
            return Err(spent);
        }
        for slot in slots {
            let now = used(&items, &slot.key) + 1;
            items.insert(slot.key.clone(), Item::Count(now));
        }
        Ok(())
    }

    pub fn refund(&self, slots: &[Slot]) {
        let mut items = self.items.lock().unwrap();
        for slot in slots {
            if let Some(Item::Count(used)) = items.get_mut(&slot.key) {
                *used = used.saturating_sub(1);
            }
        }
    }
}

fn incident(item: Option<&Item>) -> Option<&IncidentRecord> {
    match item {
        Some(Item::Incident(record)) => Some(record),
        _ => None,
    }
}

/// Whether `record` is `holder`'s claim.
fn holds(record: &IncidentRecord, holder: &str) -> bool {
    matches!(record, IncidentRecord::Creating { holder: held_by, .. } if held_by == holder)
}
