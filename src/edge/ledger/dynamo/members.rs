//! The open members of a group's session in the ledger (`pure::life::members`).

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Update};

use super::{is_condition_failure, n, s, unavailable, written, DynamoLedger};
use crate::edge::ledger::LedgerError;
use pure::life::members::{members_key, Joining, Left};
use pure::life::records::expires_at;

/// The open members of a group's session: one item per session (`members#<session id>`), its
/// `members` a string set changed by `ADD` and `DELETE`, which DynamoDB applies one at a time:
/// of two members leaving at once, exactly one sees the other gone.
impl DynamoLedger {
    pub async fn add_member(
        &self,
        session_id: &str,
        incident_id: &str,
        joining: Joining<'_>,
        now_ms: u64,
    ) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&members_key(session_id)))
            .expression_attribute_values(":id", member(incident_id))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":expires", n(expires_at(now_ms)))
            .expression_attribute_names("#members", "members");
        let update = match joining {
            Joining::Group(group) => update
                .update_expression(JOINS_GROUP)
                .expression_attribute_names("#group", "group")
                .expression_attribute_values(":group", s(group)),
            Joining::IfShared => update
                .update_expression("SET updated_at = :now, expires_at = :expires ADD #members :id")
                .condition_expression("attribute_exists(pk)"),
            Joining::Merge => update
                .update_expression("SET updated_at = :now, expires_at = :expires ADD #members :id"),
        };
        written(update.send().await).map(|_| ())
    }

    /// [`DynamoLedger::add_member`] of a group's incident, as an item of a transaction.
    pub(super) fn group_member_joins(
        &self,
        session_id: &str,
        incident_id: &str,
        group: &str,
        now_ms: u64,
    ) -> Result<Update, LedgerError> {
        Update::builder()
            .table_name(&self.table)
            .key("pk", s(&members_key(session_id)))
            .update_expression(JOINS_GROUP)
            .expression_attribute_names("#members", "members")
            .expression_attribute_names("#group", "group")
            .expression_attribute_values(":id", member(incident_id))
            .expression_attribute_values(":group", s(group))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":expires", n(expires_at(now_ms)))
            .build()
            .map_err(|err| unavailable(err.to_string()))
    }

    pub async fn leave_group(
        &self,
        session_id: &str,
        incident_id: &str,
        now_ms: u64,
    ) -> Result<Option<Left>, LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&members_key(session_id)))
            .update_expression("SET updated_at = :now DELETE #members :id")
            .expression_attribute_names("#members", "members")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":id", member(incident_id))
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let before = match update {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(err) if is_condition_failure(&err) => return Ok(None),
            Err(err) => return Err(unavailable(DisplayErrorContext(err).to_string())),
        };
        // None for a session a merge moved.
        let group = before
            .get("group")
            .and_then(|value| value.as_s().ok())
            .cloned();
        // DynamoDB drops a set once empty: no `members`, none open.
        let open = match before.get("members") {
            Some(AttributeValue::Ss(open)) => open.as_slice(),
            _ => &[],
        };
        let was_member = open.iter().any(|member| member == incident_id);
        Ok(Some(Left {
            group,
            was_member,
            still_open: (open.len() - usize::from(was_member)) as u32,
        }))
    }
}

/// An incident joins its group's session: the group named, the incident added to the set.
const JOINS_GROUP: &str =
    "SET #group = :group, updated_at = :now, expires_at = :expires ADD #members :id";

/// The one-incident set `ADD` and `DELETE` take.
fn member(incident_id: &str) -> AttributeValue {
    AttributeValue::Ss(vec![incident_id.to_owned()])
}
