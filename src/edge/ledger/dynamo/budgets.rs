//! Session budgets in the ledger: one counter per budget and UTC hour or day, all raised in
//! one transaction under their caps, or none.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::{is_condition_failure, n, s, unavailable, DynamoLedger, CREATING};
use crate::edge::ledger::{LedgerError, Spent};
use crate::pure::ledger::{expires_at, incident_key};
use crate::pure::spend::Slot;

impl DynamoLedger {
    /// One transaction: every counter goes up by one under its cap, or none does; and the
    /// claim on the incident, still `holder`'s, is marked as counted.
    pub async fn spend(
        &self,
        slots: &[Slot],
        incident_id: &str,
        holder: &str,
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
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match written {
            Ok(_) => return Ok(Spent::Counted),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let spent = cancelled
                .cancellation_reasons()
                .iter()
                .position(|reason| reason.code() == Some("ConditionalCheckFailed"));
            match spent {
                Some(claim) if claim == slots.len() => return Ok(Spent::NotOurs),
                Some(spent) => return Ok(Spent::Capped(spent)),
                None => {}
            }
        }
        Err(unavailable(DisplayErrorContext(err).to_string()))
    }

    pub async fn refund(&self, slots: &[Slot]) -> Result<(), LedgerError> {
        for slot in slots {
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
                // Nothing counted (the counter expired): nothing to give back.
                Ok(_) => {}
                Err(err) if is_condition_failure(&err) => {}
                Err(err) => return Err(unavailable(DisplayErrorContext(err).to_string())),
            }
        }
        Ok(())
    }
}
