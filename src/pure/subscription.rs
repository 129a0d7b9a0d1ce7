//! The PagerDuty webhook subscription the bridge needs, as data: its scope, its event filter
//! (what the routing policy acts on), the delivery method with the `X-Webhook-Secret` header,
//! how to recognise it among the account's subscriptions, and the signing secret PagerDuty
//! returns, kept next to the one before it during rotation. Used by `connect-pagerduty`.

use serde_json::{json, Map, Value};

/// Where PagerDuty's deliveries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Account,
    /// A service, by id or name.
    Service(String),
    /// A team, by id or name.
    Team(String),
}

impl Scope {
    /// `account`, `service:<id or name>` or `team:<id or name>`.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("account") {
            return Ok(Scope::Account);
        }
        let (kind, name) = text.split_once(':').ok_or_else(|| text.to_owned())?;
        let name = name.trim();
        if name.is_empty() {
            return Err(text.to_owned());
        }
        match kind.trim().to_ascii_lowercase().as_str() {
            "service" => Ok(Scope::Service(name.to_owned())),
            "team" => Ok(Scope::Team(name.to_owned())),
            _ => Err(text.to_owned()),
        }
    }
}

/// A subscription's `filter`: the account, or one service or team by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub kind: &'static str,
    pub id: Option<String>,
}

impl Filter {
    pub fn account() -> Filter {
        Filter {
            kind: "account_reference",
            id: None,
        }
    }

    pub fn service(id: &str) -> Filter {
        Filter {
            kind: "service_reference",
            id: Some(id.to_owned()),
        }
    }

    pub fn team(id: &str) -> Filter {
        Filter {
            kind: "team_reference",
            id: Some(id.to_owned()),
        }
    }

    fn json(&self) -> Value {
        match &self.id {
            Some(id) => json!({"type": self.kind, "id": id}),
            None => json!({"type": self.kind}),
        }
    }
}

/// Whether `text` reads as a PagerDuty object id (`PF9KMXH`) rather than a name.
pub fn looks_like_id(text: &str) -> bool {
    text.len() == 7
        && text.starts_with('P')
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The custom header name the bridge checks (`WEBHOOK_SECRET`).
pub const WEBHOOK_SECRET_HEADER: &str = "X-Webhook-Secret";
/// How the bridge's subscriptions describe themselves.
pub const DESCRIPTION: &str = "pagerduty-devin-bridge: incidents to Devin investigations";

/// The `webhook_subscription` to create or update.
pub fn subscription(url: &str, events: &[String], filter: &Filter, webhook_secret: &str) -> Value {
    json!({"webhook_subscription": {
        "type": "webhook_subscription",
        "description": DESCRIPTION,
        "events": events,
        "filter": filter.json(),
        "delivery_method": {
            "type": "http_delivery_method",
            "url": url,
            "custom_headers": [{"name": WEBHOOK_SECRET_HEADER, "value": webhook_secret}],
        },
    }})
}

/// [`subscription`] as `--dry-run` shows it: the header's value is not shown.
pub fn shown(body: &Value) -> Value {
    let mut shown = body.clone();
    if let Some(headers) = shown.pointer_mut("/webhook_subscription/delivery_method/custom_headers")
    {
        for header in headers.as_array_mut().into_iter().flatten() {
            header["value"] = "<WEBHOOK_SECRET, from the bridge's secret>".into();
        }
    }
    shown
}

/// Whether an existing subscription is the bridge's for this URL and filter: the one to update.
pub fn is_ours(existing: &Value, url: &str, filter: &Filter) -> bool {
    let delivers_to = existing
        .pointer("/delivery_method/url")
        .and_then(Value::as_str)
        == Some(url);
    let scoped = existing.pointer("/filter/type").and_then(Value::as_str) == Some(filter.kind)
        && existing.pointer("/filter/id").and_then(Value::as_str) == filter.id.as_deref();
    delivers_to && scoped
}

/// The first `WEBHOOK_SECRET` of the bridge's SecretString, for the custom header.
pub fn webhook_secret(secret_string: &str) -> Option<String> {
    let secret: Map<String, Value> = serde_json::from_str(secret_string).ok()?;
    secret
        .get("WEBHOOK_SECRET")?
        .as_str()?
        .split(',')
        .map(str::trim)
        .find(|value| !value.is_empty())
        .map(str::to_owned)
}

/// The SecretString with PagerDuty's new signing secret first, the ones before it kept after
/// it (the bridge accepts each while PagerDuty's subscriptions move over); other keys as they
/// were. `Err` when the SecretString is not a JSON object.
pub fn with_signing_secret(secret_string: &str, signing_secret: &str) -> Result<String, String> {
    let mut secret: Map<String, Value> = serde_json::from_str(secret_string)
        .map_err(|_| "the bridge's secret is not a JSON object".to_owned())?;
    let before = secret
        .get("PAGERDUTY_SIGNING_SECRET")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut values = vec![signing_secret.to_owned()];
    values.extend(
        before
            .split(',')
            .map(str::trim)
            .filter(|value| !value.is_empty() && *value != signing_secret)
            .map(str::to_owned),
    );
    secret.insert("PAGERDUTY_SIGNING_SECRET".into(), values.join(",").into());
    Ok(Value::Object(secret).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_from_the_command_line() {
        assert_eq!(Scope::parse("account"), Ok(Scope::Account));
        assert_eq!(
            Scope::parse("service:checkout-api"),
            Ok(Scope::Service("checkout-api".into()))
        );
        assert_eq!(
            Scope::parse(" Team: Payments "),
            Ok(Scope::Team("Payments".into()))
        );
        for bad in ["", "service:", "svc:x", "checkout-api"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert!(looks_like_id("PF9KMXH") && !looks_like_id("checkout") && !looks_like_id("P1"));
    }

    #[test]
    fn the_subscription_carries_the_events_the_filter_and_the_header() {
        let events = vec![
            "incident.annotated".to_owned(),
            "incident.triggered".to_owned(),
        ];
        let body = subscription(
            "https://x.on.aws/pagerduty-alert",
            &events,
            &Filter::service("PS1"),
            "s3cret",
        );
        let sub = &body["webhook_subscription"];
        assert_eq!(
            sub["events"],
            json!(["incident.annotated", "incident.triggered"])
        );
        assert_eq!(
            sub["filter"],
            json!({"type": "service_reference", "id": "PS1"})
        );
        assert_eq!(
            sub["delivery_method"]["custom_headers"],
            json!([{"name": "X-Webhook-Secret", "value": "s3cret"}])
        );
        assert!(!shown(&body).to_string().contains("s3cret"));
        let existing = json!({"id": "PSUB1", "delivery_method": {"url": "https://x.on.aws/pagerduty-alert"},
                              "filter": {"type": "service_reference", "id": "PS1"}});
        assert!(is_ours(
            &existing,
            "https://x.on.aws/pagerduty-alert",
            &Filter::service("PS1")
        ));
        assert!(!is_ours(
            &existing,
            "https://x.on.aws/pagerduty-alert",
            &Filter::service("PS2")
        ));
        assert!(!is_ours(
            &existing,
            "https://y.on.aws/pagerduty-alert",
            &Filter::service("PS1")
        ));
        assert!(!is_ours(
            &existing,
            "https://x.on.aws/pagerduty-alert",
            &Filter::account()
        ));
    }

    #[test]
    fn the_new_signing_secret_comes_first_and_the_old_stays() {
        let stored = r#"{"DEVIN_API_KEY":"cog_1","WEBHOOK_SECRET":"w1, w0"}"#;
        assert_eq!(webhook_secret(stored).as_deref(), Some("w1"));
        let first = with_signing_secret(stored, "new1").unwrap();
        let first: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(first["PAGERDUTY_SIGNING_SECRET"], "new1");
        assert_eq!(first["DEVIN_API_KEY"], "cog_1");
        let second = with_signing_secret(&first.to_string(), "new2").unwrap();
        let second: Value = serde_json::from_str(&second).unwrap();
        assert_eq!(second["PAGERDUTY_SIGNING_SECRET"], "new2,new1");
        assert!(with_signing_secret("not json", "x").is_err());
        assert_eq!(webhook_secret(r#"{"WEBHOOK_SECRET": " "}"#), None);
    }
}
