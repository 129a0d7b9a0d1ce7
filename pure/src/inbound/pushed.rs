//! `connect-pagerduty`'s own record of what each webhook subscription it created sends.
//!
//! PagerDuty redacts custom header values when a subscription is read back (`"-- redacted --"`,
//! the OpenAPI's `WebhookSubscription` schema) and shows a signing secret only in the create's
//! answer, so the tool cannot learn from PagerDuty which `X-Webhook-Secret` a subscription sends
//! nor which signing secret is its own. It keeps a record instead, per subscription: its id, its
//! URL, and SHA-256 digests of the header value and of the signing secret. The record lives in
//! the bridge's secret, under [`RECORD_KEY`], written in the same `PutSecretValue` as the
//! signing secret, so the two never disagree; no plain value is stored anywhere new, and the
//! digests sit next to the plain values, readable by no one who cannot read those. (The
//! subscription's description was the other place: any PagerDuty user who may read webhook
//! subscriptions sees it, and a digest of a short hand-set secret can be searched offline.)
//!
//! Also the SecretString edits that go with it: the signing secret of a new subscription first,
//! the ones before it kept (the bridge accepts any listed one); a subscription's entry and its
//! signing secret dropped when it is deleted; `WEBHOOK_SECRET` as a list during a rotation.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::inbound::secret::{self, PAGERDUTY_SIGNING_SECRET, WEBHOOK_SECRET};
use crate::inbound::subscribed::Subscribed;

pub use crate::inbound::subscribed::RECORD_KEY;

/// What one subscription was created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    pub id: String,
    pub url: String,
    /// [`digest`] of the `X-Webhook-Secret` value it sends.
    pub header_sha256: String,
    /// [`digest`] of its signing secret.
    pub signing_sha256: String,
    /// What it sends events of: the sweep lists only those incidents. Absent from entries
    /// written before it was recorded (running `connect-pagerduty` again adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Subscribed>,
}

impl Pushed {
    pub fn new(id: &str, url: &str, header_value: &str, signing_secret: &str) -> Pushed {
        Pushed {
            id: id.to_owned(),
            url: url.to_owned(),
            header_sha256: digest(header_value),
            signing_sha256: digest(signing_secret),
            filter: None,
        }
    }

    /// The entry, with the filter of the subscription it records.
    pub fn scoped(self, kind: &str, id: Option<&str>) -> Pushed {
        let filter = Subscribed {
            kind: kind.to_owned(),
            id: id.map(str::to_owned),
        };
        Pushed {
            filter: Some(filter),
            ..self
        }
    }

    /// Whether it sends this header value.
    pub fn sends(&self, header_value: &str) -> bool {
        self.header_sha256 == digest(header_value)
    }
}

/// Hex SHA-256 of a secret value, prefixed so it is never the digest of the value alone.
pub fn digest(value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"pagerduty-devin-bridge connect-pagerduty record\0");
    hasher.update(value.as_bytes());
    hex::encode(hasher.finalize())
}

fn object(secret_string: &str) -> Result<Map<String, Value>, String> {
    serde_json::from_str(secret_string)
        .map_err(|_| "the bridge's secret is not a JSON object".into())
}

/// The listed values of `key` (comma-separated, `secret::split_list`), in order.
fn listed(secret: &Map<String, Value>, key: &str) -> Vec<String> {
    let list = secret.get(key).and_then(Value::as_str).unwrap_or_default();
    secret::split_list(list).map(str::to_owned).collect()
}

fn set_listed(secret: &mut Map<String, Value>, key: &str, values: &[String]) {
    if values.is_empty() {
        secret.remove(key);
    } else {
        secret.insert(key.into(), values.join(",").into());
    }
}

/// The record's entries; none when the secret has no record (or an unreadable one).
pub fn records(secret_string: &str) -> Vec<Pushed> {
    object(secret_string)
        .map(|secret| records_in(&secret))
        .unwrap_or_default()
}

/// The record's entries in the parsed secret.
fn records_in(secret: &Map<String, Value>) -> Vec<Pushed> {
    secret
        .get(RECORD_KEY)
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// The entries whose signing secret the bridge's secret still lists: the subscriptions the
/// bridge can verify. (An entry whose secret was removed by hand is of no use.)
pub fn verifiable_records(secret_string: &str) -> Vec<Pushed> {
    let Ok(secret) = object(secret_string) else {
        return Vec::new();
    };
    let signing: Vec<String> = listed(&secret, PAGERDUTY_SIGNING_SECRET)
        .iter()
        .map(|value| digest(value))
        .collect();
    records_in(&secret)
        .into_iter()
        .filter(|entry| signing.contains(&entry.signing_sha256))
        .collect()
}

fn set_records(secret: &mut Map<String, Value>, records: &[Pushed]) {
    if records.is_empty() {
        secret.remove(RECORD_KEY);
    } else {
        let text = serde_json::to_string(records).expect("the record serializes");
        secret.insert(RECORD_KEY.into(), text.into());
    }
}

/// The values of `WEBHOOK_SECRET`, first the one the subscriptions should send.
pub fn webhook_secrets(secret_string: &str) -> Vec<String> {
    object(secret_string)
        .map(|secret| listed(&secret, WEBHOOK_SECRET))
        .unwrap_or_default()
}

/// The SecretString after creating `pushed`: its signing secret first in
/// `PAGERDUTY_SIGNING_SECRET`, the ones before it kept, and its entry in the record.
pub fn with_created(
    secret_string: &str,
    pushed: Pushed,
    signing_secret: &str,
) -> Result<String, String> {
    let mut secret = object(secret_string)?;
    let mut signing = vec![signing_secret.to_owned()];
    signing.extend(
        listed(&secret, PAGERDUTY_SIGNING_SECRET)
            .into_iter()
            .filter(|value| value != signing_secret),
    );
    set_listed(&mut secret, PAGERDUTY_SIGNING_SECRET, &signing);
    let mut entries: Vec<Pushed> = records_in(&secret)
        .into_iter()
        .filter(|entry| entry.id != pushed.id)
        .collect();
    entries.push(pushed);
    set_records(&mut secret, &entries);
    Ok(Value::Object(secret).to_string())
}

/// The SecretString with the entry of subscription `id` scoped to `kind`/`filter_id`, when it
/// has an entry that says otherwise (an entry written before filters were recorded); `None`
/// when nothing changes.
pub fn with_filter(
    secret_string: &str,
    id: &str,
    kind: &str,
    filter_id: Option<&str>,
) -> Result<Option<String>, String> {
    let mut secret = object(secret_string)?;
    let mut entries = records_in(&secret);
    let Some(entry) = entries.iter_mut().find(|entry| entry.id == id) else {
        return Ok(None);
    };
    let scoped = entry.clone().scoped(kind, filter_id);
    if *entry == scoped {
        return Ok(None);
    }
    *entry = scoped;
    set_records(&mut secret, &entries);
    Ok(Some(Value::Object(secret).to_string()))
}

/// The SecretString after the subscription `id` was deleted: its entry gone, and its signing
/// secret (known by the entry's digest) no longer accepted.
pub fn without_subscription(secret_string: &str, id: &str) -> Result<String, String> {
    let mut secret = object(secret_string)?;
    let entries = records_in(&secret);
    let (gone, kept): (Vec<Pushed>, Vec<Pushed>) =
        entries.into_iter().partition(|entry| entry.id == id);
    let signing: Vec<String> = listed(&secret, PAGERDUTY_SIGNING_SECRET)
        .into_iter()
        .filter(|value| {
            !gone
                .iter()
                .any(|entry| entry.signing_sha256 == digest(value))
        })
        .collect();
    set_listed(&mut secret, PAGERDUTY_SIGNING_SECRET, &signing);
    set_records(&mut secret, &kept);
    Ok(Value::Object(secret).to_string())
}

/// The SecretString with `WEBHOOK_SECRET` set to `values` (first the one to send).
pub fn with_webhook_secrets(secret_string: &str, values: &[String]) -> Result<String, String> {
    let mut secret = object(secret_string)?;
    set_listed(&mut secret, WEBHOOK_SECRET, values);
    Ok(Value::Object(secret).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of `PAGERDUTY_SIGNING_SECRET`.
    fn signing_secrets(secret_string: &str) -> Vec<String> {
        object(secret_string)
            .map(|secret| listed(&secret, PAGERDUTY_SIGNING_SECRET))
            .unwrap_or_default()
    }

    #[test]
    fn a_created_subscription_is_recorded_with_its_signing_secret_and_no_plain_value() {
        let stored =
            r#"{"DEVIN_API_KEY":"cog_1","WEBHOOK_SECRET":"w1","PAGERDUTY_SIGNING_SECRET":"old"}"#;
        let pushed = Pushed::new("PSUB2", "https://x/pagerduty-alert", "w1", "sig2");
        let after = with_created(stored, pushed.clone(), "sig2").unwrap();
        assert_eq!(signing_secrets(&after), ["sig2", "old"]);
        assert_eq!(records(&after), std::slice::from_ref(&pushed));
        assert_eq!(verifiable_records(&after), std::slice::from_ref(&pushed));
        let removed_by_hand = with_created(stored, pushed.clone(), "sig2")
            .unwrap()
            .replace("sig2,old", "old");
        assert_eq!(records(&removed_by_hand).len(), 1);
        assert!(verifiable_records(&removed_by_hand).is_empty());
        assert!(pushed.sends("w1") && !pushed.sends("w2"));
        let record = serde_json::from_str::<Value>(&after).unwrap()[RECORD_KEY].clone();
        assert!(!record.to_string().contains("w1") && !record.to_string().contains("sig2"));
        assert_eq!(
            serde_json::from_str::<Value>(&after).unwrap()["DEVIN_API_KEY"],
            "cog_1"
        );
        // Recording the same id again replaces its entry.
        let again = with_created(&after, pushed.clone(), "sig2").unwrap();
        assert_eq!(records(&again).len(), 1);
        assert_eq!(signing_secrets(&again), ["sig2", "old"]);
    }

    #[test]
    fn a_deleted_subscription_takes_its_entry_and_its_signing_secret_along() {
        let stored = r#"{"WEBHOOK_SECRET":"w2,w1"}"#;
        let first = with_created(stored, Pushed::new("PSUB1", "u", "w1", "sig1"), "sig1").unwrap();
        let both = with_created(&first, Pushed::new("PSUB2", "u", "w2", "sig2"), "sig2").unwrap();
        let after = without_subscription(&both, "PSUB1").unwrap();
        assert_eq!(signing_secrets(&after), ["sig2"]);
        assert_eq!(records(&after).len(), 1);
        assert_eq!(records(&after)[0].id, "PSUB2");
        let none = without_subscription(&after, "PSUB2").unwrap();
        let none: Value = serde_json::from_str(&none).unwrap();
        assert!(none.get(RECORD_KEY).is_none() && none.get(PAGERDUTY_SIGNING_SECRET).is_none());
        // A legacy signing secret (no entry names it) stays.
        let legacy = r#"{"PAGERDUTY_SIGNING_SECRET":"legacy"}"#;
        let after = without_subscription(legacy, "PSUB9").unwrap();
        assert_eq!(signing_secrets(&after), ["legacy"]);
    }

    #[test]
    fn an_entry_records_its_filter_and_an_old_entry_gets_it_once() {
        let old = with_created("{}", Pushed::new("PSUB1", "u", "w1", "sig1"), "sig1").unwrap();
        assert_eq!(
            records(&old)[0].filter,
            None,
            "an entry from before filters"
        );
        assert!(!old.contains("filter"));
        let scoped = with_filter(&old, "PSUB1", "service_reference", Some("PSVC1"))
            .unwrap()
            .unwrap();
        let filter = records(&scoped)[0].filter.clone().unwrap();
        assert_eq!(
            (filter.kind.as_str(), filter.id.as_deref()),
            ("service_reference", Some("PSVC1"))
        );
        assert_eq!(
            with_filter(&scoped, "PSUB1", "service_reference", Some("PSVC1")).unwrap(),
            None,
            "nothing to change"
        );
        assert_eq!(
            with_filter(&scoped, "PSUB9", "account_reference", None).unwrap(),
            None
        );
        let account = Pushed::new("PSUB2", "u", "w1", "sig2").scoped("account_reference", None);
        let both = with_created(&scoped, account.clone(), "sig2").unwrap();
        assert_eq!(records(&both)[1], account);
    }

    #[test]
    fn webhook_secrets_are_a_list_during_a_rotation() {
        let stored = r#"{"WEBHOOK_SECRET":" w1 "}"#;
        assert_eq!(webhook_secrets(stored), ["w1"]);
        let rotating = with_webhook_secrets(stored, &["w2".to_owned(), "w1".to_owned()]).unwrap();
        assert_eq!(webhook_secrets(&rotating), ["w2", "w1"]);
        assert!(with_created("not json", Pushed::new("P", "u", "h", "s"), "s").is_err());
        assert!(records("not json").is_empty() && webhook_secrets("[]").is_empty());
        assert!(records(r#"{"PAGERDUTY_SUBSCRIPTIONS":"garbage"}"#).is_empty());
        assert_ne!(digest("w1"), digest("w2"));
        assert_eq!(digest("w1").len(), 64);
    }
}
