//! An incident's record as a DynamoDB item, and an item read back as a record.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    lacks, n, number, s, text, Item, CAPPED, CREATED, CREATING, DEFERRED, ENDED, PENDING, REJECTED,
    SKIPPED_RESOLVED,
};
use crate::edge::ledger::LedgerError;
use pure::life;
use pure::life::records::{expires_at, incident_key, Claimed, IncidentRecord};
use pure::life::session::Session;

/// The attributes every record of an incident carries.
pub(super) fn record_item(incident_id: &str, now_ms: u64) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(&incident_key(incident_id))),
        ("incident_id".to_owned(), s(incident_id)),
        ("updated_at".to_owned(), n(now_ms)),
        ("expires_at".to_owned(), n(expires_at(now_ms))),
    ])
}

/// The whole item of an incident's record, on the follow-up queue its state is in
/// (`pure::life::queue`).
pub(super) fn item_of(incident_id: &str, record: &IncidentRecord, now_ms: u64) -> Item {
    let mut item = record_item(incident_id, now_ms);
    item.insert("state".into(), s(life::state_name(record)));
    item.insert("generation".into(), n(u64::from(record.generation())));
    match record {
        IncidentRecord::Creating(claim) => {
            item.insert("holder".into(), s(&claim.holder));
            item.insert("lease_until".into(), n(claim.lease_until_ms));
            item.insert("spent".into(), AttributeValue::Bool(claim.spent));
            item.insert("after_cap".into(), AttributeValue::Bool(claim.after_cap));
            if let Some(took_over) = claim.took_over {
                item.insert("took_over".into(), n(took_over));
            }
        }
        IncidentRecord::Created { session, .. } | IncidentRecord::Ended { session, .. } => {
            item.insert("session_id".into(), s(&session.session_id));
            item.insert("url".into(), s(&session.url));
        }
        IncidentRecord::Deferred { until_ms }
        | IncidentRecord::Capped {
            until_ms: Some(until_ms),
            ..
        } => {
            item.insert("until".into(), n(*until_ms));
        }
        _ => {}
    }
    if let Some(queue) = life::queue(record) {
        item.insert("queue".into(), s(queue));
    }
    item
}

/// An item read back as a record. Records written before generations were kept are the first
/// generation; a `created` one the follow-up closed out then (`closed_at`) has ended.
pub(super) fn record(incident_id: &str, item: &Item) -> Result<IncidentRecord, LedgerError> {
    let unreadable = |detail: &str| unreadable(incident_id, detail);
    let generation = generation(incident_id, item)?;
    let session = || session(incident_id, item);
    match text(item, "state").map(String::as_str) {
        Some(CREATING) => Ok(IncidentRecord::Creating(claimed(
            incident_id,
            item,
            generation,
        )?)),
        Some(DEFERRED) => Ok(IncidentRecord::Deferred {
            until_ms: number(item, "until")
                .ok_or_else(|| unreadable("a deferral without a time"))?,
        }),
        Some(SKIPPED_RESOLVED) => Ok(IncidentRecord::SkippedResolved { generation }),
        Some(CREATED) if item.contains_key("closed_at") => Ok(IncidentRecord::Ended {
            session: session()?,
            generation,
        }),
        Some(CREATED) => Ok(IncidentRecord::Created {
            session: session()?,
            generation,
        }),
        Some(ENDED) => Ok(IncidentRecord::Ended {
            session: session()?,
            generation,
        }),
        Some(PENDING) => Ok(IncidentRecord::Pending { generation }),
        Some(CAPPED) => Ok(IncidentRecord::Capped {
            until_ms: number(item, "until"),
            generation,
        }),
        Some(REJECTED) => Ok(IncidentRecord::Rejected { generation }),
        _ => Err(unreadable("no known state")),
    }
}

/// The record's generation: the first when it has none.
fn generation(incident_id: &str, item: &Item) -> Result<u32, LedgerError> {
    match item.get("generation") {
        None => Ok(1),
        Some(_) => number(item, "generation")
            .and_then(|generation| u32::try_from(generation).ok())
            .ok_or_else(|| unreadable(incident_id, "a generation that is not a number")),
    }
}

/// A claim's record.
fn claimed(incident_id: &str, item: &Item, generation: u32) -> Result<Claimed, LedgerError> {
    let flag = |name: &str| {
        item.get(name)
            .and_then(|value| value.as_bool().ok())
            .copied()
            .unwrap_or(false)
    };
    Ok(Claimed {
        holder: required(incident_id, item, "holder")?,
        lease_until_ms: number(item, "lease_until")
            .ok_or_else(|| unreadable(incident_id, "a claim without a lease"))?,
        generation,
        took_over: number(item, "took_over"),
        spent: flag("spent"),
        after_cap: flag("after_cap"),
    })
}

/// The session a record names.
fn session(incident_id: &str, item: &Item) -> Result<Session, LedgerError> {
    Ok(Session {
        session_id: required(incident_id, item, "session_id")?,
        url: required(incident_id, item, "url")?,
    })
}

/// A text attribute every writer of the record's state sets.
fn required(incident_id: &str, item: &Item, name: &str) -> Result<String, LedgerError> {
    text(item, name)
        .cloned()
        .ok_or_else(|| lacks(incident_key(incident_id), name))
}

fn unreadable(incident_id: &str, detail: &str) -> LedgerError {
    LedgerError::Unreadable {
        key: incident_key(incident_id),
        detail: detail.to_owned(),
    }
}
