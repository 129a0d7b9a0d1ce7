//! What the follow-up keeps in memory: deferrals, the queues of incidents to visit, what was
//! posted on each, and the run lease.

use std::collections::HashMap;

use super::{incident, Entry, Item, MemoryLedger};
use crate::edge::lock::lock;
use pure::life;
use pure::life::follow_up::{Mark, Seen};
use pure::life::records::{
    incident_key, IncidentRecord, OpenIncident, ToStart, DEFERRED_QUEUE, STARTS_QUEUE,
};

impl MemoryLedger {
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
                    ..
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
            Mark::Postmortem(part) => entry.progress.postmortem = Some(*part),
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

    /// Records the hash of the findings set into the incident's custom fields.
    pub fn fields_set(&self, incident_id: &str, session_id: &str, fields: &str) {
        let mut items = lock(&self.items);
        if let Some(entry) = followed(&mut items, incident_id, session_id) {
            entry.progress.fields = Some(fields.to_owned());
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
}

/// The incident's entry while its session is `session_id`: what the follow-up records on.
fn followed<'a>(
    items: &'a mut HashMap<String, Item>,
    incident_id: &str,
    session_id: &str,
) -> Option<&'a mut Entry> {
    entry_of(items, incident_id, |record| match record {
        IncidentRecord::Created { session, .. } => session.session_id == session_id,
        _ => false,
    })
}

/// The incident's entry while its record is as `ours` says.
pub(super) fn entry_of<'a>(
    items: &'a mut HashMap<String, Item>,
    incident_id: &str,
    ours: impl FnOnce(&IncidentRecord) -> bool,
) -> Option<&'a mut Entry> {
    let Some(Item::Incident(entry)) = items.get_mut(&incident_key(incident_id)) else {
        return None;
    };
    ours(&entry.record).then_some(entry)
}
