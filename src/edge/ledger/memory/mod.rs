//! The ledger in memory: the same answers as the DynamoDB ledger, for one process. Local runs
//! and the in-process tests use it. Its parts are the DynamoDB ledger's: [`incidents`],
//! [`groups`], [`spend`], [`follow_up`].

mod follow_up;
mod groups;
mod incidents;
mod postmortems;
mod spend;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use pure::life::follow_up::Progress;
use pure::life::records::{GroupRecord, IncidentRecord};

#[derive(Debug, Clone)]
enum Item {
    Incident(Entry),
    Group(GroupRecord),
    Count(u32),
    /// A group session's group and open members.
    Members(Option<String>, BTreeSet<String>),
}

/// An incident's record and what was posted on it. Its follow-up queue is the record's
/// (`life::queue`), or the postmortem queue while `postmortem_asked_at` is set.
#[derive(Debug, Clone)]
struct Entry {
    record: IncidentRecord,
    progress: Progress,
    /// When the ended record's session was asked for the postmortem draft it awaits.
    postmortem_asked_at: Option<u64>,
}

impl Entry {
    fn item(record: IncidentRecord) -> Item {
        Item::Incident(Entry {
            record,
            progress: Progress::default(),
            postmortem_asked_at: None,
        })
    }
}

#[derive(Default)]
pub struct MemoryLedger {
    items: Mutex<HashMap<String, Item>>,
    /// The follow-up's run lease: its holder and when it ends.
    run_lease: Mutex<Option<(String, u64)>>,
}

fn incident(item: Option<&Item>) -> Option<&IncidentRecord> {
    match item {
        Some(Item::Incident(entry)) => Some(&entry.record),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
