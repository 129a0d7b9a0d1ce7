//! The ledger in memory: the same answers as the DynamoDB ledger, for one process. Local runs
//! and the in-process tests use it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use crate::edge::ledger::{Claim, GroupClaim, Spent};
use crate::edge::lock::lock;
use pure::life::follow_up::{Mark, Progress, Seen};
use pure::life::members::{members_key, Joining, Left};
use pure::life::records::{
    group_key, incident_key, GroupRecord, GroupStanding, IncidentRecord, Leader, OpenGroup,
    OpenIncident, ToStart, DEFERRED_QUEUE, STARTS_QUEUE,
};
use pure::life::session::Session;
use pure::life::{self, Move, Start};
use pure::policy::spend::Slot;

#[derive(Debug, Clone)]
enum Item {
    Incident(Entry),
    Group(GroupRecord),
    Count(u32),
    /// A group session's group and open members.
    Members(Option<String>, BTreeSet<String>),
}

/// An incident's record and what was posted on it. Its follow-up queue is the record's
/// (`life::queue`).
#[derive(Debug, Clone)]
struct Entry {
    record: IncidentRecord,
    progress: Progress,
}

impl Entry {
    fn item(record: IncidentRecord) -> Item {
        Item::Incident(Entry {
            record,
            progress: Progress::default(),
        })
    }
}

#[derive(Default)]
pub struct MemoryLedger {
    items: Mutex<HashMap<String, Item>>,
    /// The follow-up's run lease: its holder and when it ends.
    run_lease: Mutex<Option<(String, u64)>>,
}

impl MemoryLedger {
    pub fn claim(
        &self,
        incident_id: &str,
        start: Start,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Claim {
        let mut items = lock(&self.items);
        let key = incident_key(incident_id);
        let record = incident(items.get(&key));
        match life::on_start(record, start, holder, now_ms, lease_until_ms) {
            Move::Claim(claimed) => {
                let record = IncidentRecord::Creating(claimed.clone());
                items.insert(key, Entry::item(record));
                Claim::Won(claimed)
            }
            Move::Ours(claimed) => Claim::Won(claimed),
            Move::Wait { .. } | Move::Stands => {
                Claim::Held(record.cloned().expect("only a record stands or waits"))
            }
        }
    }

    pub fn settle(&self, incident_id: &str, holder: &str, record: &IncidentRecord) -> bool {
        let mut items = lock(&self.items);
        let key = incident_key(incident_id);
        if !incident(items.get(&key)).is_some_and(|held| holds(held, holder)) {
            return false;
        }
        items.insert(key, Entry::item(record.clone()));
        true
    }

    pub fn get(&self, incident_id: &str) -> Option<IncidentRecord> {
        let items = lock(&self.items);
        incident(items.get(&incident_key(incident_id))).cloned()
    }

    pub fn adopt(&self, incident_id: &str, session: &Session) -> bool {
        let mut items = lock(&self.items);
        let key = incident_key(incident_id);
        if incident(items.get(&key)).is_some_and(|record| !life::adoptable(record)) {
            return false;
        }
        let session = session.clone();
        let record = IncidentRecord::Created {
            session,
            generation: 1,
        };
        items.insert(key, Entry::item(record));
        true
    }

    /// Records the deferral, unless the incident has a record: then that record.
    pub fn defer(&self, incident_id: &str, until_ms: u64) -> Option<IncidentRecord> {
        let mut items = lock(&self.items);
        let key = incident_key(incident_id);
        if let Some(record) = incident(items.get(&key)) {
            return Some(record.clone());
        }
        items.insert(key, Entry::item(IncidentRecord::Deferred { until_ms }));
        None
    }

    /// A start the follow-up found due, on an incident that resolved: no session.
    pub fn skip_resolved(&self, incident_id: &str) {
        let mut items = lock(&self.items);
        let key = incident_key(incident_id);
        if let Some(Item::Incident(entry)) = items.get(&key) {
            if life::skippable(&entry.record) {
                let generation = entry.record.generation();
                let skipped = IncidentRecord::SkippedResolved { generation };
                items.insert(key, Entry::item(skipped));
            }
        }
    }

    pub fn open_incidents(&self) -> Vec<OpenIncident> {
        let items = lock(&self.items);
        let mut open: Vec<OpenIncident> = items
            .iter()
            .filter_map(|(key, item)| match item {
                Item::Incident(Entry {
                    record: IncidentRecord::Created { session, .. },
                    progress,
                }) => Some(OpenIncident {
                    incident_id: key.trim_start_matches("incident#").to_owned(),
                    session: session.clone(),
                    progress: progress.clone(),
                }),
                _ => None,
            })
            .collect();
        open.sort_by(|a, b| a.incident_id.cmp(&b.incident_id));
        open
    }

    /// The records of the starts queue (and the legacy deferred one: the same here).
    pub fn starts(&self) -> Vec<ToStart> {
        let items = lock(&self.items);
        let mut starts: Vec<ToStart> = items
            .iter()
            .filter_map(|(key, item)| match item {
                Item::Incident(entry)
                    if matches!(
                        life::queue(&entry.record),
                        Some(STARTS_QUEUE | DEFERRED_QUEUE)
                    ) =>
                {
                    Some(ToStart {
                        incident_id: key.trim_start_matches("incident#").to_owned(),
                        record: entry.record.clone(),
                    })
                }
                _ => None,
            })
            .collect();
        starts.sort_by(|a, b| a.incident_id.cmp(&b.incident_id));
        starts
    }

    /// Records what was posted on the incident, while its session is `session_id`.
    pub fn mark(&self, incident_id: &str, session_id: &str, mark: &Mark) {
        let mut items = lock(&self.items);
        let Some(entry) = followed(&mut items, incident_id, session_id) else {
            return;
        };
        match mark {
            Mark::Findings(hash) => entry.progress.posted = Some(hash.clone()),
            Mark::Asked(id) => entry.progress.asked = Some(id.clone()),
            Mark::Waiting(id) => entry.progress.waiting = Some(id.clone()),
            Mark::Quota(detail) => entry.progress.quota = Some(detail.clone()),
            Mark::ClosedOut(hash) => {
                if let Some(hash) = hash {
                    entry.progress.posted = Some(hash.clone());
                }
                if let IncidentRecord::Created {
                    session,
                    generation,
                } = &entry.record
                {
                    let (session, generation) = (session.clone(), *generation);
                    entry.record = IncidentRecord::Ended {
                        session,
                        generation,
                    };
                }
            }
        }
    }

    /// Records the session's activity print, seen at `now_ms`, while its session is
    /// `session_id`.
    pub fn see(&self, incident_id: &str, session_id: &str, print: &str, now_ms: u64) {
        let mut items = lock(&self.items);
        if let Some(entry) = followed(&mut items, incident_id, session_id) {
            entry.progress.seen = Some(Seen {
                print: print.to_owned(),
                since_ms: now_ms,
            });
        }
    }

    /// Records when the session was read, and whether Devin answered 404 (the first 404 kept),
    /// while its session is `session_id`.
    pub fn followed(&self, incident_id: &str, session_id: &str, missing: bool, now_ms: u64) {
        let mut items = self.items.lock().unwrap();
        if let Some(entry) = followed(&mut items, incident_id, session_id) {
            let progress = &mut entry.progress;
            progress.followed_at = Some(now_ms);
            progress.missing_since = missing.then(|| progress.missing_since.unwrap_or(now_ms));
        }
    }

    /// Records the reference of a note whose post got an ambiguous answer.
    pub fn unsure(&self, incident_id: &str, session_id: &str, reference: &str) {
        let mut items = self.items.lock().unwrap();
        if let Some(entry) = followed(&mut items, incident_id, session_id) {
            entry.progress.unsure = Some(reference.to_owned());
        }
    }

    pub fn take_run_lease(&self, holder: &str, now_ms: u64, until_ms: u64) -> bool {
        let mut lease = lock(&self.run_lease);
        if lease.as_ref().is_some_and(|(_, until)| *until > now_ms) {
            return false;
        }
        *lease = Some((holder.to_owned(), until_ms));
        true
    }

    pub fn release_run_lease(&self, holder: &str) {
        let mut lease = lock(&self.run_lease);
        if lease.as_ref().is_some_and(|(held_by, _)| held_by == holder) {
            *lease = None;
        }
    }

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

    pub fn open_group(&self, group: &str, holder: &str, open: &OpenGroup) -> bool {
        let mut items = lock(&self.items);
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
        let mut items = lock(&self.items);
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

    /// Counts one session against every slot, or against none when one is spent (its index),
    /// and marks `holder`'s claim on the incident as counted, in the same step.
    pub fn spend(&self, slots: &[Slot], incident_id: &str, holder: &str) -> Spent {
        let mut items = lock(&self.items);
        let used = |items: &HashMap<String, Item>, key: &str| match items.get(key) {
            Some(Item::Count(used)) => *used,
            _ => 0,
        };
        if let Some(spent) = slots
            .iter()
            .position(|slot| used(&items, &slot.key) >= slot.cap)
        {
            return Spent::Capped(spent);
        }
        let claim = match items.get_mut(&incident_key(incident_id)) {
            Some(Item::Incident(Entry {
                record: IncidentRecord::Creating(claim),
                ..
            })) if claim.holder == holder => claim,
            _ => return Spent::NotOurs,
        };
        claim.spent = true;
        for slot in slots {
            let now = used(&items, &slot.key) + 1;
            items.insert(slot.key.clone(), Item::Count(now));
        }
        Spent::Counted
    }

    pub fn refund(&self, slots: &[Slot]) {
        let mut items = lock(&self.items);
        for slot in slots {
            if let Some(Item::Count(used)) = items.get_mut(&slot.key) {
                *used = used.saturating_sub(1);
            }
        }
    }
}

fn incident(item: Option<&Item>) -> Option<&IncidentRecord> {
    match item {
        Some(Item::Incident(entry)) => Some(&entry.record),
        _ => None,
    }
}

/// The incident's entry while its session is `session_id`: what the follow-up records on.
fn followed<'a>(
    items: &'a mut HashMap<String, Item>,
    incident_id: &str,
    session_id: &str,
) -> Option<&'a mut Entry> {
    let Some(Item::Incident(entry)) = items.get_mut(&incident_key(incident_id)) else {
        return None;
    };
    let ours = matches!(&entry.record, IncidentRecord::Created { session, .. } if session.session_id == session_id);
    ours.then_some(entry)
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

/// Whether `record` is `holder`'s claim.
fn holds(record: &IncidentRecord, holder: &str) -> bool {
    matches!(record, IncidentRecord::Creating(claim) if claim.holder == holder)
}

#[cfg(test)]
mod tests;
