//! Session limits in the ledger: one counter per budget and UTC hour or day, all raised in
//! one transaction under their caps, or none. Concurrent spends conflict on the counters they
//! share: a conflict is retried while the caller's time allows (`busy`).

use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use tokio::time::Instant;

use super::busy::{is_busy, retrying, Attempt};
use super::{is_condition_failure, n, s, unavailable, DynamoLedger, CREATING};
use crate::edge::ledger::{LedgerError, Spent};
use pure::life::records::{expires_at, incident_key};
use pure::policy::spend::Slot;

impl DynamoLedger {
    /// One transaction: every counter goes up by one under its cap, or none does; and the
    /// claim on the incident, still `holder`'s, is marked as counted. Tried again while
    /// DynamoDB is busy, until `timeout`.
    pub async fn spend(
        &self,
        slots: &[Slot],
        incident_id: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<Spent, LedgerError> {
        let mut items = slots
            .iter()
            .map(|slot| {
                let update = Update::builder()
                    .table_name(&self.table)
                    .key("pk", s(&slot.key))
                    .update_expression("ADD used :one SET expires_at = :expires")
                    .condition_expression("attribute_not_exists(used) OR used < :cap")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":cap", n(u64::from(slot.cap)))
                    .expression_attribute_values(":expires", n(expires_at(slot.refills_at_ms)))
                    .build()
                    .map_err(|err| unavailable(err.to_string()))?;
                Ok(TransactWriteItem::builder().update(update).build())
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        let counted = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .update_expression("SET spent = :true")
            .condition_expression("#state = :creating AND holder = :me")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":creating", s(CREATING))
            .expression_attribute_values(":me", s(holder))
            .build()
            .map_err(|err| unavailable(err.to_string()))?;
        items.push(TransactWriteItem::builder().update(counted).build());
        let deadline = Instant::now() + timeout;
        let claim = slots.len();
        retrying(deadline, || self.spend_once(items.clone(), claim)).await
    }

    /// `claim`: the index of the claim's update among the items.
    async fn spend_once(
        &self,
        items: Vec<TransactWriteItem>,
        claim: usize,
    ) -> Result<Attempt<Spent>, LedgerError> {
        Ok(match self.transact_once(items).await? {
            Attempt::Done(None) => Attempt::Done(Spent::Counted),
            Attempt::Done(Some(refused)) if refused == claim => Attempt::Done(Spent::NotOurs),
            Attempt::Done(Some(capped)) => Attempt::Done(Spent::Capped(capped)),
            Attempt::Busy(busy) => Attempt::Busy(busy),
        })
    }

    /// Gives back one count on each counter; each give-back tried again while DynamoDB is busy,
    /// until `timeout`.
    pub async fn refund(&self, slots: &[Slot], timeout: Duration) -> Result<(), LedgerError> {
        let deadline = Instant::now() + timeout;
        for slot in slots {
            retrying(deadline, || self.refund_once(slot)).await?;
        }
        Ok(())
    }

    async fn refund_once(&self, slot: &Slot) -> Result<Attempt<()>, LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&slot.key))
            .update_expression("ADD used :minus_one")
            .condition_expression("used > :zero")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match update {
            Ok(_) => Ok(Attempt::Done(())),
            // Nothing counted (the counter expired): nothing to give back.
            Err(err) if is_condition_failure(&err) => Ok(Attempt::Done(())),
            Err(err) => match err.as_service_error() {
                Some(service) if is_busy(service) => {
                    Ok(Attempt::Busy(DisplayErrorContext(&err).to_string()))
                }
                _ => Err(unavailable(DisplayErrorContext(err).to_string())),
            },
        }
    }
}
