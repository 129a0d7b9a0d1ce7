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
    fn the_list_takes_the_openapis_filter_types() {
        assert_eq!(Filter::account().list_type(), "account");
        assert_eq!(Filter::service("PS1").list_type(), "service");
        assert_eq!(Filter::team("PT1").list_type(), "team");
        // An account filter comes back with "id": null.
        let listed = json!({"filter": {"type": "account_reference", "id": null}});
        assert!(Filter::account().matches(&listed));
        assert!(!Filter::service("PS1").matches(&listed));
        assert_eq!(
            update(&["incident.triggered".to_owned()]),
            json!({"webhook_subscription": {"events": ["incident.triggered"], "active": true}})
        );
    }

    #[test]
    fn the_plan_keeps_what_sends_the_header_and_replaces_the_rest_new_first() {
        const URL: &str = "https://x.on.aws/pagerduty-alert";
        let events = vec!["incident.triggered".to_owned()];
        let filter = Filter::service("PS1");
        let listed = |id: &str, url: &str, disabled: bool| {
            json!({"id": id, "active": true, "events": ["incident.triggered"],
                   "filter": {"type": "service_reference", "id": "PS1"},
                   "delivery_method": {"url": url, "temporarily_disabled": disabled,
                       "custom_headers": [{"name": "X-Webhook-Secret", "value": "-- redacted --"}]}})
        };
        let sends_w1 = Pushed::new("PSUB1", URL, "w1", "sig1");
        let records = [sends_w1.clone()];
        let one = [listed("PSUB1", URL, false)];

        // Nothing changed: nothing to do.
        let plan = plan(&one, &records, &records, URL, &filter, "w1", &events);
        assert_eq!(
            plan,
            Plan {
                keep: Some("PSUB1".into()),
                ..Plan::default()
            }
        );
        // Other events, a disabled subscription: a PUT of the events, and an enable.
        let more = vec![
            "incident.triggered".to_owned(),
            "incident.resolved".to_owned(),
        ];
        let disabled = [listed("PSUB1", URL, true)];
        let got = super::plan(&disabled, &records, &records, URL, &filter, "w1", &more);
        assert!(got.update && got.enable && !got.create && got.delete.is_empty());
        // A new header value, or no record of the one it sends, or its signing secret gone:
        // create first, then delete.
        for (records, verifiable, header) in [
            (&records[..], &records[..], "w2"),
            (&[][..], &[][..], "w1"),
            (&records[..], &[][..], "w1"),
        ] {
            let got = super::plan(&one, records, verifiable, URL, &filter, header, &events);
            assert_eq!(
                got,
                Plan {
                    create: true,
                    delete: vec!["PSUB1".into()],
                    ..Plan::default()
                }
            );
        }
        // A new URL: the recorded subscription at the old URL is the bridge's, and goes.
        let got = super::plan(
            &one,
            &records,
            &records,
            "https://y.on.aws/p",
            &filter,
            "w1",
            &events,
        );
        assert_eq!(got.delete, ["PSUB1"]);
        assert!(got.create);
        // Somebody else's subscription in the scope is left alone.
        let theirs = [listed("PSUB7", "https://elsewhere.example/hook", false)];
        let got = super::plan(&theirs, &records, &records, URL, &filter, "w1", &events);
        assert!(got.create && got.delete.is_empty());
        // Two that send the header: one is kept, the other deleted.
        let two = [listed("PSUB1", URL, false), listed("PSUB1", URL, false)];
        let got = super::plan(&two, &records, &records, URL, &filter, "w1", &events);
        assert_eq!((got.keep.as_deref(), got.delete.len()), (Some("PSUB1"), 1));
    }

    #[test]
    fn an_old_value_is_kept_for_what_the_record_says_sends_it_and_for_unknown_ones_with_the_header()
    {
        const URL: &str = "https://x.on.aws/pagerduty-alert";
        let listed = |id: &str, filter: Value, url: &str, header: bool| {
            let headers = if header {
                json!([{"name": "x-webhook-secret", "value": "-- redacted --"}])
            } else {
                json!([])
            };
            json!({"id": id, "filter": filter,
                   "delivery_method": {"url": url, "custom_headers": headers}})
        };
        let service = json!({"type": "service_reference", "id": "PS1"});
        let team = json!({"type": "team_reference", "id": "PT1"});
        let account = json!({"type": "account_reference", "id": null});
        let records = [
            Pushed::new("PSUB1", "https://old.on.aws/p", "w1", "sig1"),
            Pushed::new("PSUB2", URL, "w2", "sig2"),
        ];
        let all = [
            // Recorded: sends w1 (at an old URL), sends w2.
            listed("PSUB1", service.clone(), "https://old.on.aws/p", true),
            listed("PSUB2", service, URL, true),
            // Made by hand: to the URL with the header, without it, elsewhere with it.
            listed("PSUB3", team, URL, true),
            listed("PSUB4", account.clone(), URL, false),
            listed("PSUB5", account, "https://elsewhere.example/hook", true),
        ];
        let sender = |id: &str, scope: &str, recorded| Sender {
            id: id.into(),
            scope: scope.into(),
            recorded,
        };
        assert_eq!(
            may_send(&all, &records, URL, "w1"),
            [
                sender("PSUB1", "service:PS1", true),
                sender("PSUB3", "team:PT1", false)
            ]
        );
        assert_eq!(
            may_send(&all, &records, URL, "w2"),
            [
                sender("PSUB2", "service:PS1", true),
                sender("PSUB3", "team:PT1", false)
            ]
        );
        // A record whose subscription is gone keeps nothing.
        assert!(may_send(&all[3..], &records, URL, "w1").is_empty());
        assert_eq!(scope_argument(&all[4]), "account");
    }
}
