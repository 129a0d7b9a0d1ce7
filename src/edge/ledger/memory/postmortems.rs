//! The postmortem queue in memory: ended records whose session was asked for a draft when the
//! incident resolved, as the DynamoDB ledger keeps them.

use std::collections::HashMap;

use super::follow_up::entry_of;
use super::{Entry, Item, MemoryLedger};
use crate::edge::lock::lock;
use pure::life::follow_up::PostmortemPart;
use pure::life::records::{AwaitedPostmortem, IncidentRecord, OpenIncident};

impl MemoryLedger {
    /// Queues the ended record of `session_id` for its draft, once: a draft posted or given up
    /// on is recorded (`0/0` for none).
    pub fn await_postmortem(&self, incident_id: &str, session_id: &str, now_ms: u64) {
        let mut items = lock(&self.items);
        if let Some(entry) = ended(&mut items, incident_id, session_id) {
            if entry.progress.postmortem.is_none() && entry.postmortem_asked_at.is_none() {
                entry.postmortem_asked_at = Some(now_ms);
            }
        }
    }

    pub fn awaited_postmortems(&self) -> Vec<AwaitedPostmortem> {
        let items = lock(&self.items);
        let mut awaited: Vec<AwaitedPostmortem> = items
            .iter()
            .filter_map(|(key, item)| match item {
                Item::Incident(Entry {
                    record: IncidentRecord::Ended { session, .. },
                    progress,
                    postmortem_asked_at: Some(asked_at_ms),
                }) => Some(AwaitedPostmortem {
                    incident: OpenIncident {
                        incident_id: key.trim_start_matches("incident#").to_owned(),
                        session: session.clone(),
                        progress: progress.clone(),
                    },
                    asked_at_ms: *asked_at_ms,
                }),
                _ => None,
            })
            .collect();
        awaited.sort_by(|a, b| a.incident.incident_id.cmp(&b.incident.incident_id));
        awaited
    }

    /// Records a part posted (the last takes the record out of the queue), or, with `None`,
    /// that the draft is given up on (none recorded, `0/0`, unless parts were posted).
    pub fn postmortem_posted(
        &self,
        incident_id: &str,
        session_id: &str,
        posted: Option<PostmortemPart>,
    ) {
        let mut items = lock(&self.items);
        if let Some(entry) = ended(&mut items, incident_id, session_id) {
            match posted {
                Some(part) => entry.progress.postmortem = Some(part),
                None => {
                    let given_up = PostmortemPart::NONE;
                    entry.progress.postmortem.get_or_insert(given_up);
                }
            }
            if posted.is_none_or(|part| part.is_whole()) {
                entry.postmortem_asked_at = None;
            }
        }
    }
}

/// The incident's entry while it is the ended record of `session_id`.
fn ended<'a>(
    items: &'a mut HashMap<String, Item>,
    incident_id: &str,
    session_id: &str,
) -> Option<&'a mut Entry> {
    entry_of(items, incident_id, |record| match record {
        IncidentRecord::Ended { session, .. } => session.session_id == session_id,
        _ => false,
    })
}
