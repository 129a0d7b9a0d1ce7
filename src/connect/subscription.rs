//! The PagerDuty webhook subscription the bridge needs, as data: its scope, its event filter
//! (what the routing policy acts on), the delivery method with the `X-Webhook-Secret` header,
//! how to recognise the bridge's among the account's subscriptions, and the plan that makes
//! one of them right (keep, update the events, enable, or create a new one before deleting the
//! others), given the tool's record of what each sends (`pure::inbound::pushed`). Used by
//! `connect-pagerduty`.

use std::fmt;

use serde_json::{json, Value};

use pure::inbound::pushed::Pushed;

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

/// As `--scope` takes it: [`Scope::parse`] reads it back.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Account => f.write_str("account"),
            Scope::Service(name) => write!(f, "service:{name}"),
            Scope::Team(name) => write!(f, "team:{name}"),
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

    /// The `filter_type` of `GET /webhook_subscriptions` for this filter: the OpenAPI's
    /// `webhooks_filter_type` parameter takes `account`, `service` or `team`, not the
    /// `*_reference` types a subscription's own `filter` carries.
    pub fn list_type(&self) -> &'static str {
        self.kind.trim_end_matches("_reference")
    }

    /// Whether a listed subscription has this filter (an account filter comes back with
    /// `"id": null`).
    pub fn matches(&self, existing: &Value) -> bool {
        existing.pointer("/filter/type").and_then(Value::as_str) == Some(self.kind)
            && existing.pointer("/filter/id").and_then(Value::as_str) == self.id.as_deref()
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

/// Whether an existing subscription is the bridge's for this URL and filter.
pub fn is_ours(existing: &Value, url: &str, filter: &Filter) -> bool {
    delivers_to(existing, url) && filter.matches(existing)
}

/// The `PUT /webhook_subscriptions/{id}` body: the events, and active again. Never the
/// `delivery_method`: the OpenAPI's `updateWebhookSubscription` "does not support updating the
/// `delivery_method`" (its URL and headers); those change by a new subscription.
pub fn update(events: &[String]) -> Value {
    json!({"webhook_subscription": {"events": events, "active": true}})
}

/// What `connect-pagerduty` does with the subscriptions listed in its filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The subscription that already delivers to the URL with the header, per the record: kept.
    pub keep: Option<String>,
    /// The kept one's events (or `active`) differ from what the bridge needs: PUT them.
    pub update: bool,
    /// PagerDuty disabled the kept one after refused deliveries: enable it.
    pub enable: bool,
    /// None delivers what it should: a new one is created (before any is deleted).
    pub create: bool,
    /// The bridge's other subscriptions (an old URL, an old header, or unknown to the record:
    /// their signing secret is lost), deleted once the right one exists.
    pub delete: Vec<String>,
}

/// The plan for `listed` (the subscriptions in `filter`), given the tool's `records`: the
/// bridge's subscriptions are the ones delivering to `url` and the ones the record names; one
/// is kept when it delivers to `url` and a `verifiable` entry (its signing secret still stored)
/// says it sends `header`.
pub fn plan(
    listed: &[Value],
    records: &[Pushed],
    verifiable: &[Pushed],
    url: &str,
    filter: &Filter,
    header: &str,
    events: &[String],
) -> Plan {
    let id = |existing: &Value| existing["id"].as_str().unwrap_or_default().to_owned();
    let ours = listed.iter().filter(|existing| {
        is_ours(existing, url, filter)
            || (filter.matches(existing) && records.iter().any(|entry| entry.id == id(existing)))
    });
    let mut plan = Plan::default();
    for existing in ours {
        let current = is_ours(existing, url, filter)
            && verifiable
                .iter()
                .any(|entry| entry.id == id(existing) && entry.url == url && entry.sends(header));
        if current && plan.keep.is_none() {
            plan.keep = Some(id(existing));
            plan.update = !same_events(existing, events) || existing["active"] == false;
            plan.enable = is_disabled(existing);
        } else {
            plan.delete.push(id(existing));
        }
    }
    plan.create = plan.keep.is_none();
    plan
}

/// Whether PagerDuty disabled the subscription (`delivery_method.temporarily_disabled`).
pub fn is_disabled(existing: &Value) -> bool {
    existing.pointer("/delivery_method/temporarily_disabled") == Some(&Value::Bool(true))
}

/// Whether the subscription receives exactly `events`.
fn same_events(existing: &Value, events: &[String]) -> bool {
    let mut listed: Vec<&str> = existing["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut wanted: Vec<&str> = events.iter().map(String::as_str).collect();
    listed.sort_unstable();
    wanted.sort_unstable();
    listed == wanted
}

/// The `--scope` argument that reaches a listed subscription (by its filter's id).
pub fn scope_argument(existing: &Value) -> String {
    let id = existing
        .pointer("/filter/id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let scope = match existing.pointer("/filter/type").and_then(Value::as_str) {
        Some("service_reference") => Scope::Service(id),
        Some("team_reference") => Scope::Team(id),
        _ => Scope::Account,
    };
    scope.to_string()
}

/// A subscription that may still send a `WEBHOOK_SECRET` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub id: String,
    /// The `--scope` that reaches it.
    pub scope: String,
    /// Whether the tool's record says it sends the value; else it is a subscription the tool
    /// did not make, delivering to the stack's URL with the header, whose value PagerDuty
    /// redacts: it may send it.
    pub recorded: bool,
}

/// The subscriptions among `listed` (every subscription of the account, whatever its filter)
/// that may still send `value`: the record's that do, and the ones delivering to `url` with an
/// `X-Webhook-Secret` header that the record does not know. (One without the header sends no
/// value at all: the bridge refuses it whatever the secret lists.)
pub fn may_send(listed: &[Value], records: &[Pushed], url: &str, value: &str) -> Vec<Sender> {
    listed
        .iter()
        .filter_map(|existing| {
            let id = existing["id"].as_str().unwrap_or_default();
            let recorded = match records.iter().find(|entry| entry.id == id) {
                Some(entry) if entry.sends(value) => true,
                Some(_) => return None,
                None if delivers_to(existing, url) && has_header(existing) => false,
                None => return None,
            };
            Some(Sender {
                id: id.to_owned(),
                scope: scope_argument(existing),
                recorded,
            })
        })
        .collect()
}

/// Whether the subscription delivers to `url`.
pub fn delivers_to(existing: &Value, url: &str) -> bool {
    existing
        .pointer("/delivery_method/url")
        .and_then(Value::as_str)
        == Some(url)
}

/// Whether the subscription sends the `X-Webhook-Secret` header (whatever its value).
pub fn has_header(existing: &Value) -> bool {
    existing
        .pointer("/delivery_method/custom_headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|header| {
            header["name"]
                .as_str()
                .is_some_and(|name| name.eq_ignore_ascii_case(WEBHOOK_SECRET_HEADER))
        })
}

#[cfg(test)]
mod tests;
