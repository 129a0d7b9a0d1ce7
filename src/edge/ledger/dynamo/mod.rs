//! The ledger in a DynamoDB table (`LEDGER_TABLE`): one item per incident, per group and per
//! budget counter, keyed `pk`, written with conditional writes (as Powertools' idempotency
//! utility does), deleted by the table's time to live (`expires_at`) after 30 days.
//! [`incidents`] claims and records incidents (an incident's item and back in
//! [`incident_item`]), [`groups`] the storm groups, [`spend`] counts sessions against the
//! policy's limits, [`follow_up`] keeps what the follow-up visits and posted.
//! The incidents the follow-up visits carry a `queue` attribute, which the sparse index
//! [`QUEUE_INDEX`] lists; a record leaves its queue by losing the attribute.

mod busy;
mod follow_up;
mod groups;
mod incident_item;
mod incidents;
mod members;
mod postmortems;
mod spend;

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use crate::edge::ledger::LedgerError;

type Item = HashMap<String, AttributeValue>;

const CREATING: &str = "creating";
const CREATED: &str = "created";
const DEFERRED: &str = "deferred";
const SKIPPED_RESOLVED: &str = "skipped_resolved";
const ENDED: &str = "ended";
const PENDING: &str = "pending";
const CAPPED: &str = "capped";
const REJECTED: &str = "rejected";

/// The index of the follow-up's queues: key `queue`, sorted by `pk` (`template.yaml`).
pub const QUEUE_INDEX: &str = "by_queue";

/// A group: new, a claim whose lease ran out (at its time, as `GroupRecord::standing` reads it),
/// or open but closed (window passed, full).
const GROUP_CLAIMABLE: &str =
    "attribute_not_exists(pk) OR (#state = :creating AND #lease <= :now) \
     OR (#state = :open AND (window_until <= :now OR incidents >= :max))";
const OPEN: &str = "open";
/// Still `holder`'s claim.
const HELD_BY_ME: &str = "#state = :creating AND #holder = :me";

pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: &str) -> Self {
        DynamoLedger {
            client,
            table: table.to_owned(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// A number attribute, when it is one.
fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|number| number.parse().ok())
}

/// A text attribute, when it is one.
fn text<'a>(item: &'a Item, name: &str) -> Option<&'a String> {
    item.get(name).and_then(|value| value.as_s().ok())
}

/// The record `key` is unreadable: it lacks `attribute` (or holds another type there), which
/// every writer of its state sets. No default stands in for it.
fn lacks(key: String, attribute: &str) -> LedgerError {
    LedgerError::Unreadable {
        key,
        detail: format!("no {attribute} attribute"),
    }
}

fn is_condition_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|err| err.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// How a conditional write went: `Ok(true)` written, `Ok(false)` refused by its condition (the
/// record is not what the write expected), `Err` when the ledger failed.
fn written<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, LedgerError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if is_condition_failure(&err) => Ok(false),
        Err(err) => Err(unavailable(DisplayErrorContext(err).to_string())),
    }
}

/// The item a conditional put was refused on: `Ok(Some(item))` when the refusal carries it,
/// `Ok(None)` when it was refused without it (not every DynamoDB sends it: read it back), `Err`
/// when the ledger failed.
fn refused_on(err: &SdkError<PutItemError, HttpResponse>) -> Result<Option<&Item>, LedgerError> {
    match err.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(failed)) => Ok(failed.item()),
        _ if is_condition_failure(err) => Ok(None),
        _ => Err(unavailable(DisplayErrorContext(err).to_string())),
    }
}

fn unavailable(detail: String) -> LedgerError {
    LedgerError::Unavailable(detail)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
