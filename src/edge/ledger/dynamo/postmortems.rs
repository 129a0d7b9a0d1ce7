//! The postmortem queue: ended records whose session was asked for a draft when the incident
//! resolved. The record stays `ended` (a reopen starts the next generation as before); only its
//! queue and what was posted change.

use super::follow_up::{open_incident, readable};
use super::{n, number, s, written, DynamoLedger, ENDED};
use crate::edge::ledger::LedgerError;
use pure::life::follow_up::PostmortemPart;
use pure::life::records::{expires_at, incident_key, AwaitedPostmortem, POSTMORTEM_QUEUE};

/// The record is still the ended one of that session.
const ENDED_SESSION: &str = "#state = :ended AND session_id = :session";

impl DynamoLedger {
    pub async fn await_postmortem(
        &self,
        incident_id: &str,
        session_id: &str,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .update_expression(
                "SET #queue = :queue, postmortem_asked_at = :now, updated_at = :now, expires_at = :expires",
            )
            // Asked once: a retried resolve, or one after the draft was posted or given up on,
            // queues nothing again.
            .condition_expression(format!(
                "{ENDED_SESSION} AND attribute_not_exists(postmortem) AND attribute_not_exists(postmortem_asked_at)"
            ))
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#queue", "queue")
            .expression_attribute_values(":ended", s(ENDED))
            .expression_attribute_values(":session", s(session_id))
            .expression_attribute_values(":queue", s(POSTMORTEM_QUEUE))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":expires", n(expires_at(now_ms)))
            .send()
            .await;
        written(update).map(|_| ())
    }

    pub async fn awaited_postmortems(&self) -> Result<Vec<AwaitedPostmortem>, LedgerError> {
        let items = self.queue(POSTMORTEM_QUEUE).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let read = open_incident(item).and_then(|incident| {
                    let asked_at_ms = number(item, "postmortem_asked_at").ok_or("no asked_at")?;
                    Ok(AwaitedPostmortem {
                        incident,
                        asked_at_ms,
                    })
                });
                readable(item, read)
            })
            .collect())
    }

    pub async fn postmortem_posted(
        &self,
        incident_id: &str,
        session_id: &str,
        posted: Option<PostmortemPart>,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        // Given up on: none recorded (`0/0`), unless parts were posted.
        let mut expression = String::from(match posted {
            Some(_) => "SET updated_at = :now, postmortem = :value",
            None => "SET updated_at = :now, postmortem = if_not_exists(postmortem, :value)",
        });
        if posted.is_none_or(|part| part.is_whole()) {
            expression.push_str(" REMOVE #queue");
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .update_expression(expression)
            .condition_expression(ENDED_SESSION)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":ended", s(ENDED))
            .expression_attribute_values(":session", s(session_id))
            .expression_attribute_values(":now", n(now_ms));
        let part = posted.unwrap_or(PostmortemPart::NONE);
        update = update.expression_attribute_values(":value", s(&part.stored()));
        if posted.is_none_or(|part| part.is_whole()) {
            update = update.expression_attribute_names("#queue", "queue");
        }
        // Refused: the incident reopened (a new record): nothing of this session to record.
        written(update.send().await).map(|_| ())
    }
}
