//! Storm groups in the ledger: claimed like incidents, opened with their session, joined with
//! an atomic count under the group's limit and window.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use tokio::time::Instant;

use super::busy::{retrying, Attempt};
use super::{
    is_condition_failure, lacks, n, number, refused_on, s, text, unavailable, written,
    DynamoLedger, Item, CREATING, GROUP_CLAIMABLE, HELD_BY_ME, OPEN,
};
use crate::edge::ledger::{GroupClaim, LedgerError};
use pure::life::records::{expires_at, group_key, GroupRecord, Leader, OpenGroup};
use pure::life::session::Session;

impl DynamoLedger {
    pub async fn group(&self, group: &str) -> Result<Option<GroupRecord>, LedgerError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&group_key(group)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| unavailable(DisplayErrorContext(err).to_string()))?;
        output
            .item()
            .map(|item| group_record(group, item))
            .transpose()
    }

    pub async fn claim_group(
        &self,
        group: &str,
        holder: &str,
        leader: &Leader,
        now_ms: u64,
        lease_until_ms: u64,
        max_incidents: u32,
    ) -> Result<GroupClaim, LedgerError> {
        let mut item = group_item(group, now_ms);
        item.insert("state".into(), s(CREATING));
        item.insert("holder".into(), s(holder));
        item.insert("lease_until".into(), n(lease_until_ms));
        item.insert("leader_id".into(), s(&leader.incident_id));
        item.insert("generation".into(), n(u64::from(leader.generation)));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(GROUP_CLAIMABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":max", n(u64::from(max_incidents)))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(output) => match output.attributes() {
                // Written already: an earlier record unreadable names no leader to look up.
                Some(old) => Ok(group_record(group, old).map_or(GroupClaim::Won, taken_over)),
                None => Ok(GroupClaim::Won),
            },
            Err(err) => match refused_on(&err)? {
                Some(item) => Ok(GroupClaim::Held(group_record(group, item)?)),
                None => {
                    let held = self.group(group).await?;
                    held.map(GroupClaim::Held).ok_or_else(|| {
                        unavailable("the group claim was refused, but it has no record".into())
                    })
                }
            },
        }
    }

    /// Opens the group `holder` claimed, and makes its leader the session's first open member,
    /// in one transaction: a group open without its leader among the members would let another
    /// member's resolve tell the session to finish while the leader is still open. Tried again
    /// while DynamoDB is busy, until `timeout`.
    pub async fn open_group(
        &self,
        group: &str,
        holder: &str,
        open: &OpenGroup,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, LedgerError> {
        let mut item = group_item(group, now_ms);
        item.insert("state".into(), s(OPEN));
        item.insert("session_id".into(), s(&open.session.session_id));
        item.insert("url".into(), s(&open.session.url));
        item.insert("leader_id".into(), s(&open.leader_id));
        if let Some(number) = open.leader_number {
            item.insert("leader_number".into(), n(number));
        }
        item.insert("incidents".into(), n(u64::from(open.incidents)));
        item.insert("window_until".into(), n(open.window_until_ms));
        item.insert("tags".into(), n(u64::from(open.tags)));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(HELD_BY_ME)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":me", s(holder))
            .build()
            .map_err(|err| unavailable(err.to_string()))?;
        let (session_id, leader) = (&open.session.session_id, &open.leader_id);
        let leader_joins = self.group_member_joins(session_id, leader, group, now_ms)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(leader_joins).build(),
        ];
        let deadline = Instant::now() + timeout;
        retrying(deadline, || self.open_once(items.clone())).await
    }

    /// The claim's put first among `items`, the leader's membership (no condition) second.
    async fn open_once(&self, items: Vec<TransactWriteItem>) -> Result<Attempt<bool>, LedgerError> {
        match self.transact_once(items).await? {
            Attempt::Done(None) => Ok(Attempt::Done(true)),
            // The claim is no longer `holder`'s: nothing was written.
            Attempt::Done(Some(0)) => Ok(Attempt::Done(false)),
            Attempt::Done(Some(item)) => Err(unavailable(format!(
                "the group's open was refused by item {item}, which has no condition"
            ))),
            Attempt::Busy(busy) => Ok(Attempt::Busy(busy)),
        }
    }

    pub async fn join_group(
        &self,
        group: &str,
        session_id: &str,
        now_ms: u64,
        max_incidents: u32,
    ) -> Result<Option<u32>, LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&group_key(group)))
            .update_expression("ADD incidents :one")
            .condition_expression(
                "#state = :open AND session_id = :session AND window_until > :now AND incidents < :max",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":session", s(session_id))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":max", n(u64::from(max_incidents)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match update {
            // Joined: the count it answers is the group's now.
            Ok(output) => output
                .attributes()
                .and_then(|new| number(new, "incidents"))
                .and_then(|count| u32::try_from(count).ok())
                .map(Some)
                .ok_or_else(|| lacks(group_key(group), "incidents")),
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(unavailable(DisplayErrorContext(err).to_string())),
        }
    }

    pub async fn close_group(&self, group: &str, session_id: &str) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&group_key(group)))
            .update_expression("SET window_until = :closed")
            .condition_expression("#state = :open AND session_id = :session")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":session", s(session_id))
            .expression_attribute_values(":closed", n(0))
            .send()
            .await;
        // Another session leads the group now: nothing to close.
        written(update).map(|_| ())
    }

    pub async fn name_group_leader(
        &self,
        group: &str,
        holder: &str,
        leader: &Leader,
    ) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&group_key(group)))
            .update_expression("SET leader_id = :leader, generation = :generation")
            .condition_expression(HELD_BY_ME)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":leader", s(&leader.incident_id))
            .expression_attribute_values(":generation", n(u64::from(leader.generation)))
            .send()
            .await;
        // Taken over meanwhile: that claim names its own leader.
        written(update).map(|_| ())
    }

    pub async fn release_group(&self, group: &str, holder: &str) -> Result<(), LedgerError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(&group_key(group)))
            .condition_expression(HELD_BY_ME)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":me", s(holder))
            .send()
            .await;
        written(delete).map(|_| ())
    }
}

/// The attributes every record of a group carries.
fn group_item(group: &str, now_ms: u64) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(&group_key(group))),
        ("group".to_owned(), s(group)),
        ("updated_at".to_owned(), n(now_ms)),
        ("expires_at".to_owned(), n(expires_at(now_ms))),
    ])
}

/// How a claim that replaced `old` (claimable) went: over an abandoned claim naming its leader,
/// that leader's session is looked up first.
fn taken_over(old: GroupRecord) -> GroupClaim {
    match old {
        GroupRecord::Creating {
            leader: Some(leader),
            lease_until_ms,
            ..
        } => GroupClaim::TookOver {
            leader,
            lease_until_ms,
        },
        _ => GroupClaim::Won,
    }
}

/// A group's item read back as a record.
fn group_record(group: &str, item: &Item) -> Result<GroupRecord, LedgerError> {
    let unreadable = |detail: &str| LedgerError::Unreadable {
        key: group_key(group),
        detail: detail.to_owned(),
    };
    // Every attribute but the leader's number is written with its state: none may be missing.
    let string = |name: &str| {
        text(item, name)
            .cloned()
            .ok_or_else(|| lacks(group_key(group), name))
    };
    let whole = |name: &str| number(item, name).ok_or_else(|| lacks(group_key(group), name));
    let count = |name: &str| {
        u32::try_from(whole(name)?).map_err(|_| unreadable(&format!("{name} out of range")))
    };
    match string("state")?.as_str() {
        CREATING => Ok(GroupRecord::Creating {
            holder: string("holder")?,
            lease_until_ms: whole("lease_until")?,
            // A claim written before the ledger kept its leader names none.
            leader: match text(item, "leader_id") {
                None => None,
                Some(incident_id) => Some(Leader {
                    incident_id: incident_id.clone(),
                    generation: u32::try_from(whole("generation")?)
                        .map_err(|_| unreadable("generation out of range"))?,
                }),
            },
        }),
        OPEN => Ok(GroupRecord::Open(OpenGroup {
            session: Session {
                session_id: string("session_id")?,
                url: string("url")?,
            },
            leader_id: string("leader_id")?,
            leader_number: number(item, "leader_number"),
            incidents: count("incidents")?,
            window_until_ms: whole("window_until")?,
            tags: count("tags")?,
        })),
        _ => Err(unreadable("no known state")),
    }
}
