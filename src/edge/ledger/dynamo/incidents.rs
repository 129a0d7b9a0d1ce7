//! Incidents in the ledger: the claim a delivery takes before creating a session, the session
//! once created, and a merged incident's session adopted by the one it went into.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{
    n, number, refused_on, s, unavailable, written, DynamoLedger, Item, CLAIMABLE, CREATED,
    CREATING, DEFERRED, HELD_BY_ME, SKIPPED_RESOLVED,
};
use crate::edge::ledger::{Claim, LedgerError};
use crate::pure::ledger::{expires_at, incident_key, IncidentRecord, OPEN_QUEUE};
use crate::pure::session::Session;

impl DynamoLedger {
    pub async fn claim(
        &self,
        incident_id: &str,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Result<Claim, LedgerError> {
        let mut item = record_item(incident_id, now_ms);
        item.insert("state".into(), s(CREATING));
        item.insert("holder".into(), s(holder));
        item.insert("lease_until".into(), n(lease_until_ms));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(CLAIMABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":deferred", s(DEFERRED))
            .expression_attribute_values(":skipped", s(SKIPPED_RESOLVED))
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            // A claim replaced: its create may have happened. A deferral replaced: nothing
            // was created.
            Ok(output) => match output.attributes() {
                Some(old)
                    if old
                        .get("state")
                        .is_some_and(|state| state.as_s().is_ok_and(|state| state == CREATING)) =>
                {
                    // Without its lease's end, the lookup reaches back to the start.
                    let earlier_lease_until_ms = number(old, "lease_until").unwrap_or(0);
                    Ok(Claim::TakenOver {
                        earlier_lease_until_ms,
                    })
                }
                _ => Ok(Claim::New),
            },
            Err(err) => match self.refusing_record(incident_id, err).await? {
                Some(record) => Ok(Claim::Held(record)),
                None => Err(unavailable(
                    "the claim was refused, but the incident has no record".into(),
                )),
            },
        }
    }

    /// The record that made a conditional put of `incident_id`'s record fail: from the refusal,
    /// or read back when the refusal does not carry it (not every DynamoDB sends it). Another
    /// failure is the ledger's.
    pub(super) async fn refusing_record(
        &self,
        incident_id: &str,
        err: SdkError<PutItemError, HttpResponse>,
    ) -> Result<Option<IncidentRecord>, LedgerError> {
        match refused_on(&err)? {
            Some(item) => record(incident_id, item).map(Some),
            None => self.get(incident_id).await,
        }
    }

    pub async fn record_created(
        &self,
        incident_id: &str,
        holder: &str,
        session: &Session,
        now_ms: u64,
    ) -> Result<bool, LedgerError> {
        let mut item = created_item(incident_id, session, now_ms);
        item.insert("created_by".into(), s(holder));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(HELD_BY_ME)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":me", s(holder))
            .send()
            .await;
        written(put)
    }

    pub async fn release(&self, incident_id: &str, holder: &str) -> Result<(), LedgerError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .condition_expression(HELD_BY_ME)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":me", s(holder))
            .send()
            .await;
        // No longer ours: nothing to give up.
        written(delete).map(|_| ())
    }

    pub async fn get(&self, incident_id: &str) -> Result<Option<IncidentRecord>, LedgerError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| unavailable(DisplayErrorContext(err).to_string()))?;
        output
            .item()
            .map(|item| record(incident_id, item))
            .transpose()
    }

    pub async fn adopt(
        &self,
        incident_id: &str,
        session: &Session,
        now_ms: u64,
    ) -> Result<bool, LedgerError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(created_item(incident_id, session, now_ms)))
            .condition_expression(ADOPTABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":deferred", s(DEFERRED))
            .expression_attribute_values(":skipped", s(SKIPPED_RESOLVED))
            .send()
            .await;
        written(put)
    }
}

/// A merge records its session as the incident's when none was started (nor is being) for it:
/// no record, or a state that never has a session.
const ADOPTABLE: &str = "attribute_not_exists(pk) OR #state IN (:deferred, :skipped)";

/// The attributes every record of an incident carries.
pub(super) fn record_item(incident_id: &str, now_ms: u64) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(&incident_key(incident_id))),
        ("incident_id".to_owned(), s(incident_id)),
        ("updated_at".to_owned(), n(now_ms)),
        ("expires_at".to_owned(), n(expires_at(now_ms))),
    ])
}

/// An incident with its session, on the queue the follow-up reads: whether this instance created
/// the session or adopted one found in Devin.
fn created_item(incident_id: &str, session: &Session, now_ms: u64) -> Item {
    let mut item = record_item(incident_id, now_ms);
    item.insert("state".into(), s(CREATED));
    item.insert("session_id".into(), s(&session.session_id));
    item.insert("url".into(), s(&session.url));
    item.insert("queue".into(), s(OPEN_QUEUE));
    item
}

/// An item read back as a record.
fn record(incident_id: &str, item: &Item) -> Result<IncidentRecord, LedgerError> {
    let unreadable = |detail: &str| LedgerError::Unreadable {
        key: incident_key(incident_id),
        detail: detail.to_owned(),
    };
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
    match text("state").map(String::as_str) {
        Some(CREATING) => Ok(IncidentRecord::Creating {
            holder: text("holder").cloned().unwrap_or_default(),
            lease_until_ms: number(item, "lease_until")
                .ok_or_else(|| unreadable("a claim without a lease"))?,
        }),
        Some(DEFERRED) => Ok(IncidentRecord::Deferred {
            until_ms: number(item, "until")
                .ok_or_else(|| unreadable("a deferral without a time"))?,
        }),
        Some(SKIPPED_RESOLVED) => Ok(IncidentRecord::SkippedResolved),
        Some(CREATED) => Ok(IncidentRecord::Created {
            session: Session {
                session_id: text("session_id")
                    .cloned()
                    .ok_or_else(|| unreadable("a session without an id"))?,
                url: text("url").cloned().unwrap_or_default(),
            },
        }),
        _ => Err(unreadable("no known state")),
    }
}
