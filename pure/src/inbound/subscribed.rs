//! What the bridge's webhook subscriptions send, as `connect-pagerduty` records it in the
//! bridge's secret (`pure::inbound::pushed`): each subscription's filter, which the follow-up's sweep
//! keeps to (`pure::life::sweep::scope`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of the bridge's secret that holds the record (a JSON array, as a string).
pub const RECORD_KEY: &str = "PAGERDUTY_SUBSCRIPTIONS";

/// A subscription's filter as its entry records it: PagerDuty's `filter.type`
/// (`account_reference`, `service_reference`, `team_reference`) and, but for the account, the
/// service's or team's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribed {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The filter of each recorded subscription (`None`: recorded without it), from the parsed
/// secret; none when it has no record, or an unreadable one.
pub fn recorded(secret: &serde_json::Map<String, Value>) -> Vec<Option<Subscribed>> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        filter: Option<Subscribed>,
    }
    secret
        .get(RECORD_KEY)
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str::<Vec<Entry>>(text).ok())
        .map(|entries| entries.into_iter().map(|entry| entry.filter).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_gives_its_filter_or_none() {
        let record =
            r#"[{"id":"PSUB1","filter":{"type":"service_reference","id":"PSVC1"}},{"id":"PSUB2"}]"#;
        let secret = serde_json::json!({RECORD_KEY: record});
        let filters = recorded(secret.as_object().unwrap());
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].as_ref().unwrap().id.as_deref(), Some("PSVC1"));
        assert_eq!(filters[1], None);
        let garbage = serde_json::json!({RECORD_KEY: "garbage"});
        assert!(recorded(garbage.as_object().unwrap()).is_empty());
    }
}
