//! Incidents in the ledger: the claim a delivery takes before creating a session, the session
//! once created, and a merged incident's session adopted by the one it went into.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::incident_item::{item_of, record};
use super::{
    n, refused_on, s, unavailable, written, DynamoLedger, CAPPED, CREATING, DEFERRED, ENDED,
    HELD_BY_ME, PENDING, REJECTED, SKIPPED_RESOLVED,
};
use crate::edge::ledger::{Claim, LedgerError};
use pure::life::records::{incident_key, IncidentRecord};
use pure::life::session::Session;
use pure::life::{self, Move, Start};

/// How often a claim reads the record again when it changed between the read and the write.
const CLAIM_ATTEMPTS: usize = 4;

impl DynamoLedger {
    /// The common path is one write: a new record, unless the incident has one. Otherwise the
    /// refusal carries the record, `pure::life::on_start` decides on it, and the claim is
    /// written only if the record is still the one decided on (else decided again).
    pub async fn claim(
        &self,
        incident_id: &str,
        start: Start,
        holder: &str,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Result<Claim, LedgerError> {
        let mut found: Option<IncidentRecord> = None;
        for _ in 0..CLAIM_ATTEMPTS {
            let claimed =
                match life::on_start(found.as_ref(), start, holder, now_ms, lease_until_ms) {
                    Move::Claim(claimed) => claimed,
                    // A retried write that landed reads back this start's own claim.
                    Move::Ours(claimed) => return Ok(Claim::Won(claimed)),
                    Move::Wait { .. } | Move::Stands => {
                        return Ok(Claim::Held(found.expect("only a record stands or waits")))
                    }
                };
            let record = IncidentRecord::Creating(claimed.clone());
            let (condition, names, values) = unchanged(found.as_ref());
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item_of(incident_id, &record, now_ms)))
                .condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match put {
                Ok(_) => return Ok(Claim::Won(claimed)),
                Err(err) => found = self.refusing_record(incident_id, err).await?,
            }
        }
        Err(unavailable(format!(
            "the record of {incident_id} changed {CLAIM_ATTEMPTS} times while it was claimed"
        )))
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

    pub async fn settle(
        &self,
        incident_id: &str,
        holder: &str,
        record: &IncidentRecord,
        now_ms: u64,
    ) -> Result<bool, LedgerError> {
        let mut item = item_of(incident_id, record, now_ms);
        item.insert("settled_by".into(), s(holder));
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
            .set_item(Some(item_of(
                incident_id,
                &IncidentRecord::Created {
                    session: session.clone(),
                    generation: 1,
                },
                now_ms,
            )))
            .condition_expression(ADOPTABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":deferred", s(DEFERRED))
            .expression_attribute_values(":skipped", s(SKIPPED_RESOLVED))
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":capped", s(CAPPED))
            .expression_attribute_values(":rejected", s(REJECTED))
            .expression_attribute_values(":ended", s(ENDED))
            .send()
            .await;
        written(put)
    }
}

/// A merge records its session as the incident's when it has no live session nor a start in
/// progress (`pure::life::adoptable`).
const ADOPTABLE: &str = "attribute_not_exists(pk) \
     OR #state IN (:deferred, :skipped, :pending, :capped, :rejected, :ended)";

/// The condition that the record is still `found` (absent when `None`): what a claim decided
/// on. A concurrent change (another claim, a settle) fails it, and the claim decides again.
type Condition = (
    String,
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

fn unchanged(found: Option<&IncidentRecord>) -> Condition {
    let Some(record) = found else {
        return ("attribute_not_exists(pk)".into(), None, None);
    };
    let mut names = HashMap::from([("#state".to_owned(), "state".to_owned())]);
    let mut values = HashMap::from([(":state".to_owned(), s(life::state_name(record)))]);
    // A session closed out before `ended` was a state of its own is still `created` (with
    // `closed_at`): its session's id says it is the same record.
    let mut condition = match record {
        IncidentRecord::Ended { .. } => "(#state = :state OR attribute_exists(closed_at))",
        _ => "#state = :state",
    }
    .to_owned();
    let mut also = |clause: &str, name: &str, value: AttributeValue| {
        condition.push_str(clause);
        values.insert(name.to_owned(), value);
    };
    match record {
        IncidentRecord::Creating(claim) => {
            also(" AND holder = :holder", ":holder", s(&claim.holder));
            also(
                " AND lease_until = :lease",
                ":lease",
                n(claim.lease_until_ms),
            );
        }
        IncidentRecord::Created { session, .. } | IncidentRecord::Ended { session, .. } => {
            also(
                " AND session_id = :session",
                ":session",
                s(&session.session_id),
            );
        }
        IncidentRecord::Deferred { until_ms } => {
            names.insert("#until".into(), "until".into());
            also(" AND #until = :until", ":until", n(*until_ms));
        }
        IncidentRecord::Pending { generation }
        | IncidentRecord::Capped { generation, .. }
        | IncidentRecord::Rejected { generation }
        | IncidentRecord::SkippedResolved { generation } => {
            also(
                " AND generation = :generation",
                ":generation",
                n(u64::from(*generation)),
            );
        }
    }
    (condition, Some(names), Some(values))
}
