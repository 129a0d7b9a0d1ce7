//! The session limits' counters in memory.

use std::collections::HashMap;

use super::{Entry, Item, MemoryLedger};
use crate::edge::ledger::Spent;
use crate::edge::lock::lock;
use pure::life::records::{incident_key, IncidentRecord};
use pure::policy::spend::Slot;

impl MemoryLedger {
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
