//! What the follow-up keeps in the ledger: deferred incidents, the queues it visits (read from
//! the sparse index), what it posted on each incident, and the lease that lets one run at a
//! time post notes.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use tracing::warn;

use super::incident_item::{item_of, record};
use super::{
    n, number, s, unavailable, written, DynamoLedger, Item, CAPPED, CREATED, DEFERRED, ENDED,
    PENDING, QUEUE_INDEX, SKIPPED_RESOLVED,
};
use crate::edge::ledger::LedgerError;
use pure::life::follow_up::{Mark, PostmortemPart, Progress, Seen};
use pure::life::records::{
    expires_at, incident_key, IncidentRecord, OpenIncident, ToStart, DEFERRED_QUEUE, OPEN_QUEUE,
    RUN_LEASE_KEY, STARTS_QUEUE,
};
use pure::life::session::Session;

impl DynamoLedger {
    pub async fn defer(
        &self,
        incident_id: &str,
        until_ms: u64,
        now_ms: u64,
    ) -> Result<Option<IncidentRecord>, LedgerError> {
        let item = item_of(incident_id, &IncidentRecord::Deferred { until_ms }, now_ms);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(None),
            Err(err) => self.refusing_record(incident_id, err).await,
        }
    }

    pub async fn skip_resolved(&self, incident_id: &str, now_ms: u64) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .update_expression("SET #state = :skipped, updated_at = :now REMOVE #queue")
            // `pure::life::skippable`: nothing was made of these.
            .condition_expression("#state IN (:deferred, :pending, :capped)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#queue", "queue")
            .expression_attribute_values(":skipped", s(SKIPPED_RESOLVED))
            .expression_attribute_values(":deferred", s(DEFERRED))
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":capped", s(CAPPED))
            .expression_attribute_values(":now", n(now_ms))
            .send()
            .await;
        // Started meanwhile: nothing to skip.
        written(update).map(|_| ())
    }

    pub async fn open_incidents(&self) -> Result<Vec<OpenIncident>, LedgerError> {
        let items = self.queue(OPEN_QUEUE).await?;
        Ok(items
            .iter()
            .filter_map(|item| readable(item, open_incident(item)))
            .collect())
    }

    /// The starts queue, and the deferrals queued before it held them.
    pub async fn starts(&self) -> Result<Vec<ToStart>, LedgerError> {
        let mut items = self.queue(STARTS_QUEUE).await?;
        items.extend(self.queue(DEFERRED_QUEUE).await?);
        Ok(items
            .iter()
            .filter_map(|item| {
                let incident_id = text(item, "incident_id")?;
                let read = record(&incident_id, item).map(|record| ToStart {
                    incident_id,
                    record,
                });
                read.map_err(
                    |err| warn!(error = %err, "a queued ledger item is unreadable: skipped"),
                )
                .ok()
            })
            .collect())
    }

    /// Every item of a queue, page after page.
    pub(super) async fn queue(&self, queue: &str) -> Result<Vec<Item>, LedgerError> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(QUEUE_INDEX)
                .key_condition_expression("#queue = :queue")
                .expression_attribute_names("#queue", "queue")
                .expression_attribute_values(":queue", s(queue))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|err| unavailable(DisplayErrorContext(err).to_string()))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }

    pub async fn mark(
        &self,
        incident_id: &str,
        session_id: &str,
        mark: &Mark,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let (expression, value) = match mark {
            Mark::Findings(hash) => ("SET posted = :value", Some(hash.clone())),
            Mark::Asked(id) => ("SET asked = :value", Some(id.clone())),
            Mark::Waiting(id) => ("SET waiting = :value", Some(id.clone())),
            Mark::Quota(detail) => ("SET quota = :value", Some(detail.clone())),
            Mark::Postmortem(part) => ("SET postmortem = :value", Some(part.stored())),
            Mark::ClosedOut(Some(hash)) => {
                ("SET posted = :value, closed_at = :now", Some(hash.clone()))
            }
            Mark::ClosedOut(None) => ("SET closed_at = :now", None),
        };
        let closes = matches!(mark, Mark::ClosedOut(_));
        let value = value.as_deref();
        self.record_progress(incident_id, session_id, expression, value, closes, now_ms)
            .await
    }

    pub async fn see(
        &self,
        incident_id: &str,
        session_id: &str,
        print: &str,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let expression = "SET seen = :value, seen_at = :now";
        self.record_progress(
            incident_id,
            session_id,
            expression,
            Some(print),
            false,
            now_ms,
        )
        .await
    }

    pub async fn followed(
        &self,
        incident_id: &str,
        session_id: &str,
        missing: bool,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let expression = if missing {
            "SET followed_at = :now, missing_since = if_not_exists(missing_since, :now)"
        } else {
            "SET followed_at = :now REMOVE missing_since"
        };
        self.record_progress(incident_id, session_id, expression, None, false, now_ms)
            .await
    }

    pub async fn unsure(
        &self,
        incident_id: &str,
        session_id: &str,
        reference: &str,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let expression = "SET unsure = :value";
        self.record_progress(
            incident_id,
            session_id,
            expression,
            Some(reference),
            false,
            now_ms,
        )
        .await
    }

    pub async fn fields_set(
        &self,
        incident_id: &str,
        session_id: &str,
        fields: &str,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let expression = "SET fields_set = :value";
        let value = Some(fields);
        self.record_progress(incident_id, session_id, expression, value, false, now_ms)
            .await
    }

    /// Sets what `expression` says (with `value` as `:value`, the time as `:now`) on the
    /// incident's record while its session is `session_id`; `closes` takes it out of the
    /// follow-up's queue.
    async fn record_progress(
        &self,
        incident_id: &str,
        session_id: &str,
        expression: &str,
        value: Option<&str>,
        closes: bool,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        // `expression` may end with a REMOVE clause of its own.
        let (set, removed) = expression
            .split_once(" REMOVE ")
            .unwrap_or((expression, ""));
        let mut set = set.to_owned();
        let mut removed: Vec<&str> = removed.split(", ").filter(|a| !a.is_empty()).collect();
        if closes {
            // Ended: a reopen or `devin investigate` starts the next generation.
            set.push_str(", #state = :ended");
            removed.push("#queue");
        }
        let mut expression = format!("{set}, updated_at = :now, expires_at = :expires");
        if !removed.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&incident_key(incident_id)))
            .update_expression(expression)
            .condition_expression("#state = :created AND session_id = :session")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":created", s(CREATED))
            .expression_attribute_values(":session", s(session_id))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":expires", n(expires_at(now_ms)));
        if let Some(value) = value {
            update = update.expression_attribute_values(":value", s(value));
        }
        if closes {
            update = update
                .expression_attribute_names("#queue", "queue")
                .expression_attribute_values(":ended", s(ENDED));
        }
        // Refused: the incident has another session now (a merge), nothing of this one to record.
        written(update.send().await).map(|_| ())
    }

    pub async fn take_run_lease(
        &self,
        holder: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<bool, LedgerError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(RUN_LEASE_KEY))
            .item("holder", s(holder))
            .item("lease_until", n(until_ms))
            .item("expires_at", n(expires_at(now_ms)))
            .condition_expression("attribute_not_exists(pk) OR lease_until <= :now")
            .expression_attribute_values(":now", n(now_ms))
            .send()
            .await;
        written(put)
    }

    pub async fn release_run_lease(&self, holder: &str) -> Result<(), LedgerError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(RUN_LEASE_KEY))
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", s(holder))
            .send()
            .await;
        written(delete).map(|_| ())
    }
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

pub(super) fn open_incident(item: &Item) -> Result<OpenIncident, &'static str> {
    Ok(OpenIncident {
        incident_id: text(item, "incident_id").ok_or("no incident id")?,
        session: Session {
            session_id: text(item, "session_id").ok_or("no session id")?,
            url: text(item, "url").ok_or("no url")?,
        },
        progress: Progress {
            posted: text(item, "posted"),
            // A record from before `waiting` was kept apart holds either note's message in
            // `asked`: taken as asked, it is never noted twice.
            asked: text(item, "asked"),
            waiting: text(item, "waiting"),
            quota: text(item, "quota"),
            seen: text(item, "seen")
                .zip(number(item, "seen_at"))
                .map(|(print, since_ms)| Seen { print, since_ms }),
            followed_at: number(item, "followed_at"),
            missing_since: number(item, "missing_since"),
            unsure: text(item, "unsure"),
            postmortem: text(item, "postmortem")
                .as_deref()
                .and_then(PostmortemPart::from_stored),
            fields: text(item, "fields_set"),
        },
    })
}

/// A queued item, or a warning naming it that it could not be read (it is skipped, not fatal).
pub(super) fn readable<T>(item: &Item, read: Result<T, &'static str>) -> Option<T> {
    read.map_err(|detail| {
        let key = text(item, "pk");
        warn!(?key, detail, "a queued ledger item is unreadable: skipped");
    })
    .ok()
}
