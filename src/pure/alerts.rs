//! The alerts of an incident, as the brief shows them: what the monitoring tool itself said (the
//! summary, the details and CEF fields: the query, the threshold, the firing values, the stack
//! trace), bounded, and the links it gave (dashboards, runbooks) for the session. Everything
//! here is data written by whatever raised the alert: the brief quotes it like every other
//! value from PagerDuty.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::pure::webhook::null_as_empty;

/// How many alerts the brief shows, newest first.
pub const MAX_ALERTS: usize = 3;
/// The most the alerts take in the brief, in bytes of JSON.
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024;
/// The most links the session gets.
const MAX_LINKS: usize = 10;
const MAX_LINK_BYTES: usize = 500;

/// `GET /incidents/{id}/alerts`: one alert, read leniently.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Alert {
    pub summary: Option<String>,
    pub status: Option<String>,
    pub created_at: Option<String>,
    pub alert_key: Option<String>,
    pub body: Option<AlertBody>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AlertBody {
    pub details: Option<Value>,
    pub cef_details: Option<Value>,
    #[serde(deserialize_with = "null_as_empty")]
    pub contexts: Vec<Context>,
}

/// A link or an image the monitoring tool attached.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Context {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub href: Option<String>,
    pub text: Option<String>,
}

/// The alerts as the brief carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// One JSON object per alert, newest first, [`MAX_EVIDENCE_BYTES`] in all at most; the last
    /// says what was cut, when something was.
    pub alerts: Vec<Value>,
    /// The alerts' links, for the session's `session_links`.
    pub links: Vec<String>,
}

impl Evidence {
    /// The evidence of `alerts` (in any order): the newest [`MAX_ALERTS`], bounded.
    pub fn of(alerts: &[Alert]) -> Evidence {
        let mut newest: Vec<&Alert> = alerts.iter().collect();
        // RFC 3339 times in UTC sort as text; an alert without one goes last.
        newest.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        newest.truncate(MAX_ALERTS);
        let mut shown = Vec::new();
        let mut left = MAX_EVIDENCE_BYTES;
        for (n, alert) in newest.iter().enumerate() {
            let whole = facts(alert);
            let size = whole.to_string().len();
            if size <= left {
                left -= size;
                shown.push(whole);
                continue;
            }
            if let Some(cut) = cut_to(alert, left) {
                shown.push(cut);
            }
            let more = newest.len() - n - 1;
            if more > 0 {
                shown.push(json!({"cut": format!("{more} more alerts left out: the evidence is capped at 8 KB")}));
            }
            break;
        }
        Evidence {
            alerts: shown,
            links: links(&newest),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty() && self.links.is_empty()
    }
}

/// What the brief shows of one alert.
fn facts(alert: &Alert) -> Value {
    let body = alert.body.clone().unwrap_or_default();
    let mut facts = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value.filter(|value| !value.is_null()) {
            facts.insert(name.to_owned(), value);
        }
    };
    put("summary", alert.summary.clone().map(Value::from));
    put("status", alert.status.clone().map(Value::from));
    put("created_at", alert.created_at.clone().map(Value::from));
    put("alert_key", alert.alert_key.clone().map(Value::from));
    put("details", body.details);
    put("cef_details", body.cef_details);
    Value::Object(facts)
}

/// The alert within `room` bytes: its details and CEF fields become one string, cut, with a
/// marker that says how much is missing; `None` when not even that fits.
fn cut_to(alert: &Alert, room: usize) -> Option<Value> {
    let mut facts = facts(alert);
    let object = facts.as_object_mut()?;
    let details =
        json!({"details": object.remove("details"), "cef_details": object.remove("cef_details")})
            .to_string();
    let mut keep = details.chars().count();
    // Escapes make the JSON longer than the text: shrink until it fits.
    loop {
        let kept: String = details.chars().take(keep).collect();
        let missing = details.len() - kept.len();
        let mut cut = object.clone();
        cut.insert(
            "details_cut".into(),
            format!("{kept}… [cut: {missing} more bytes]").into(),
        );
        let cut = Value::Object(cut);
        if cut.to_string().len() <= room {
            return Some(cut);
        }
        if keep == 0 {
            return None;
        }
        keep = keep.min(room) * 3 / 4;
    }
}

/// The alerts' web links, once each, bounded.
fn links(alerts: &[&Alert]) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    let contexts = alerts
        .iter()
        .filter_map(|alert| alert.body.as_ref())
        .flat_map(|body| &body.contexts);
    for context in contexts {
        let Some(href) = context.href.as_deref().map(str::trim) else {
            continue;
        };
        let web = href.starts_with("https://") || href.starts_with("http://");
        let one_word = !href.chars().any(|c| c.is_whitespace() || c.is_control());
        if web && one_word && href.len() <= MAX_LINK_BYTES && !links.iter().any(|l| l == href) {
            links.push(href.to_owned());
        }
        if links.len() == MAX_LINKS {
            break;
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(created_at: &str, details: Value) -> Alert {
        serde_json::from_value(json!({
            "summary": format!("CPU high at {created_at}"), "status": "triggered",
            "created_at": created_at, "alert_key": "cpu-api",
            "body": {"type": "alert_body", "details": details, "cef_details": {"severity": "critical"},
                     "contexts": [{"type": "link", "href": "https://grafana.example/d/cpu", "text": "CPU"},
                                  {"type": "image", "src": "https://x.example/i.png"},
                                  {"type": "link", "href": "javascript:alert(1)"}]}
        }))
        .unwrap()
    }

    #[test]
    fn the_newest_alerts_come_first_with_their_details_and_links() {
        let alerts = [
            alert("2026-11-28T09:00:00Z", json!({"query": "avg(cpu) > 90"})),
            alert("2026-11-28T09:10:00Z", json!({"firing": "97%"})),
            alert("2026-11-28T08:00:00Z", json!({})),
            alert("2026-11-28T09:05:00Z", json!({})),
        ];
        let evidence = Evidence::of(&alerts);
        assert_eq!(evidence.alerts.len(), 3);
        assert_eq!(evidence.alerts[0]["details"]["firing"], "97%");
        assert_eq!(evidence.alerts[2]["details"]["query"], "avg(cpu) > 90");
        assert_eq!(evidence.alerts[0]["cef_details"]["severity"], "critical");
        assert_eq!(evidence.links, ["https://grafana.example/d/cpu"]);
    }

    #[test]
    fn big_alerts_are_cut_to_eight_kilobytes_with_a_marker() {
        let trace = "at com.acme.Checkout.pay(Checkout.java:42)\n".repeat(1000);
        let alerts = [
            alert("2026-11-28T09:10:00Z", json!({"stack": trace})),
            alert("2026-11-28T09:00:00Z", json!({"stack": "short"})),
        ];
        let evidence = Evidence::of(&alerts);
        let size = serde_json::to_string(&evidence.alerts).unwrap().len();
        assert!(size <= MAX_EVIDENCE_BYTES, "{size}");
        let cut = evidence.alerts[0]["details_cut"].as_str().unwrap();
        assert!(cut.ends_with("more bytes]") && cut.contains("Checkout.java:42"));
        assert_eq!(
            evidence.alerts[0]["summary"],
            "CPU high at 2026-11-28T09:10:00Z"
        );
        assert_eq!(
            evidence.alerts[1]["cut"],
            "1 more alerts left out: the evidence is capped at 8 KB"
        );
    }

    #[test]
    fn no_alerts_no_evidence() {
        assert!(Evidence::of(&[]).is_empty());
        let bare: Alert = serde_json::from_value(json!({"body": null, "summary": null})).unwrap();
        assert_eq!(Evidence::of(&[bare]).alerts, vec![json!({})]);
    }
}
