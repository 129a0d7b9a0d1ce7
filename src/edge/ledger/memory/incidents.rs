//! Incidents in memory: the claim a delivery takes before creating a session, the session once
//! created, and a merged incident's session adopted by the one it went into.

use super::{incident, Entry, MemoryLedger};
use crate::edge::ledger::Claim;
use crate::edge::lock::lock;
use pure::life::records::{incident_key, IncidentRecord};
use pure::life::session::Session;
use pure::life::{self, Move, Start};

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
}

/// Whether `record` is `holder`'s claim.
fn holds(record: &IncidentRecord, holder: &str) -> bool {
    matches!(record, IncidentRecord::Creating(claim) if claim.holder == holder)
}
