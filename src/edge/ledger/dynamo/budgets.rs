//! Session budgets in the ledger: one counter per budget and UTC hour or day, all raised in
//! one transaction under their caps, or none. Concurrent spends conflict on the counters they
//! share: a conflict is retried while the caller's time allows (`busy`).

use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use tokio::time::Instant;

use super::busy::{cancelled_for_a_moment, is_busy, retrying, Attempt};
use super::{is_condition_failure, n, s, unavailable, DynamoLedger};
use crate::edge::ledger::LedgerError;
use crate::pure::ledger::expires_at;
use crate::pure::spend::Slot;

impl DynamoLedger {
    /// One transaction: every counter goes up by one under its cap, or none does. Tried again
    /// while DynamoDB is busy, until `timeout`.
    pub async fn spend(
        &self,
        slots: &[Slot],
        timeout: Duration,
    ) -> Result<Result<(), usize>, LedgerError> {
        let items = slots
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
        let deadline = Instant::now() + timeout;
        retrying(deadline, || self.spend_once(items.clone())).await
    }

    async fn spend_once(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Attempt<Result<(), usize>>, LedgerError> {
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match written {
            Ok(_) => return Ok(Attempt::Done(Ok(()))),
            Err(err) => err,
        };
        let detail = || DisplayErrorContext(&err).to_string();
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let reasons = cancelled.cancellation_reasons();
            let spent = reasons
                .iter()
                .position(|reason| reason.code() == Some("ConditionalCheckFailed"));
            if let Some(spent) = spent {
                return Ok(Attempt::Done(Err(spent)));
            }
            if cancelled_for_a_moment(reasons) {
                return Ok(Attempt::Busy(detail()));
            }
        }
        match err.as_service_error() {
            Some(service) if is_busy(service) => Ok(Attempt::Busy(detail())),
            _ => Err(unavailable(detail())),
        }
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
