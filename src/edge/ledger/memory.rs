//! The ledger in memory: the same answers as the DynamoDB ledger, for one process. Local runs
//! and the in-process tests use it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::edge::ledger::Claim;
use crate::pure::ledger::{incident_key, IncidentRecord, Standing};
use crate::pure::session::Session;

#[derive(Default)]
pub struct MemoryLedger {
    records: Mutex<HashMap<String, IncidentRecord>>,
}

impl MemoryLedger {
    pub fn claim(
        &self,
        incident_id: &str,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Claim {
        let mut records = self.records.lock().unwrap();
        let key = incident_key(incident_id);
        let claim = match records
            .get(&key)
            .map(|record| (record.standing(now_ms), record))
        {
            None => Claim::New,
            Some((Standing::Abandoned, _)) => Claim::TakenOver,
            Some((_, held)) => return Claim::Held(held.clone()),
        };
        let holder = holder.to_owned();
        records.insert(
            key,
            IncidentRecord::Creating {
                holder,
                lease_until_ms,
            },
        );
        claim
    }

    pub fn record_created(&self, incident_id: &str, holder: &str, session: &Session) -> bool {
        let mut records = self.records.lock().unwrap();
        match records.get_mut(&incident_key(incident_id)) {
            Some(record @ IncidentRecord::Creating { .. }) if holds(record, holder) => {
                let session = session.clone();
                *record = IncidentRecord::Created { session };
                true
            }
            _ => false,
        }
    }

    pub fn release(&self, incident_id: &str, holder: &str) {
        let mut records = self.records.lock().unwrap();
        let key = incident_key(incident_id);
        if records
            .get(&key)
            .is_some_and(|record| holds(record, holder))
        {
            records.remove(&key);
        }
    }

    pub fn get(&self, incident_id: &str) -> Option<IncidentRecord> {
        let records = self.records.lock().unwrap();
        records.get(&incident_key(incident_id)).cloned()
    }
}

/// Whether `record` is `holder`'s claim.
fn holds(record: &IncidentRecord, holder: &str) -> bool {
    matches!(record, IncidentRecord::Creating { holder: held_by, .. } if held_by == holder)
}
