//! The alerts of an incident, as the brief shows them: what the monitoring tool itself said (the
//! summary, the details and CEF fields: the query, the threshold, the firing values, the stack
//! trace) and the links it gave (dashboards, runbooks, with their text), bounded. Everything
//! here is data written by whatever raised the alert: the brief quotes it like every other
//! value from PagerDuty. The links go into the prompt, not into the session's
//! `session_links`: Devin's v3 reference documents those as links to Devin sessions, for
//! advanced sessions only.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::inbound::webhook::null_as_empty;
use crate::text::quote;

/// How many alerts the brief shows, newest first.
pub const MAX_ALERTS: usize = 3;
/// The most the alerts take in the brief, in bytes of JSON.
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024;
/// The most links shown of one alert.
const MAX_LINKS: usize = 10;
const MAX_LINK_BYTES: usize = 500;
/// A link's text is a label: one line, this long at most.
const MAX_LINK_TEXT_CHARS: usize = 120;

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

/// The alerts as the brief carries them, and what PagerDuty correlated with the incident
/// (`crate::text::correlated`), under one cap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// One JSON object per alert (with its `links`), newest first, [`MAX_EVIDENCE_BYTES`] in
    /// all at most; the last says what was cut, when something was.
    pub alerts: Vec<Value>,
    /// The changes PagerDuty correlated, newest first, each with PagerDuty's reason.
    pub changes: Vec<Value>,
    /// Similar past incidents on the service, the most similar first.
    pub past_incidents: Vec<Value>,
    /// Incidents PagerDuty found related, newest first.
    pub related_incidents: Vec<Value>,
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
            ..Evidence::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
            && self.changes.is_empty()
            && self.past_incidents.is_empty()
            && self.related_incidents.is_empty()
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
    let links = links(&body.contexts);
    if !links.is_empty() {
        put("links", Some(Value::Array(links)));
    }
    Value::Object(facts)
}

/// The alert within `room` bytes: its details and CEF fields become one string, cut, with a
/// marker that says how much is missing; its links stay whole when they fit beside that, else
/// they go into the string too (after the details, so cut first); `None` when not even that
/// fits.
fn cut_to(alert: &Alert, room: usize) -> Option<Value> {
    cut_with_links(alert, room, false).or_else(|| cut_with_links(alert, room, true))
}

/// [`cut_to`], with the links folded into the cut string or (`fold_links` false) kept whole.
fn cut_with_links(alert: &Alert, room: usize, fold_links: bool) -> Option<Value> {
    let mut facts = facts(alert);
    let object = facts.as_object_mut()?;
    let mut folded =
        json!({"details": object.remove("details"), "cef_details": object.remove("cef_details")});
    if fold_links {
        folded["links"] = object.remove("links").unwrap_or(Value::Null);
    }
    let details = folded.to_string();
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

/// An alert's (or a change's) web links, once each, bounded: `{"href", "text"}`, the text when
/// it has one.
pub(crate) fn links(contexts: &[Context]) -> Vec<Value> {
    let mut hrefs: Vec<&str> = Vec::new();
    let mut links = Vec::new();
    for context in contexts {
        let Some(href) = context.href.as_deref().map(str::trim) else {
            continue;
        };
        let web = href.starts_with("https://") || href.starts_with("http://");
        let one_word = !href.chars().any(|c| c.is_whitespace() || c.is_control());
        if !web || !one_word || href.len() > MAX_LINK_BYTES || hrefs.contains(&href) {
            continue;
        }
        hrefs.push(href);
        let mut link = json!({ "href": href });
        let text = context
            .text
            .as_deref()
            .map(|text| quote::plain_line(text, MAX_LINK_TEXT_CHARS));
        if let Some(text) = text.filter(|text| !text.is_empty()) {
            link["text"] = text.into();
        }
        links.push(link);
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
        // Only web links, with their text; images and scripts are left out.
        assert_eq!(
            evidence.alerts[0]["links"],
            json!([{"href": "https://grafana.example/d/cpu", "text": "CPU"}])
        );
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
    fn a_cut_alert_keeps_its_links_whole_and_link_texts_are_one_line_labels() {
        let trace = "at com.acme.Checkout.pay(Checkout.java:42)\n".repeat(1000);
        let mut big = alert("2026-11-28T09:10:00Z", json!({"stack": trace}));
        big.body.as_mut().unwrap().contexts.push(Context {
            kind: Some("link".into()),
            href: Some("https://runbooks.example/cpu".into()),
            text: Some(format!("Runbook\n\u{202e}{}", "x".repeat(500))),
        });
        let evidence = Evidence::of(&[big]);
        let shown = &evidence.alerts[0];
        assert!(shown["details_cut"]
            .as_str()
            .unwrap()
            .ends_with("more bytes]"));
        assert_eq!(shown["links"][0]["href"], "https://grafana.example/d/cpu");
        assert_eq!(shown["links"][1]["href"], "https://runbooks.example/cpu");
        let text = shown["links"][1]["text"].as_str().unwrap();
        assert!(
            text.starts_with("Runbook x") && text.ends_with('…'),
            "{text}"
        );
        assert_eq!(text.chars().count(), MAX_LINK_TEXT_CHARS);
        let size = serde_json::to_string(&evidence.alerts).unwrap().len();
        assert!(size <= MAX_EVIDENCE_BYTES, "{size}");
    }

    #[test]
    fn links_that_leave_no_room_are_cut_with_the_details() {
        let first = alert("2026-11-28T09:10:00Z", json!({"stack": "x".repeat(5000)}));
        let mut second = alert("2026-11-28T09:00:00Z", json!({"query": "avg(cpu) > 90"}));
        second.body.as_mut().unwrap().contexts = (0..10)
            .map(|n| Context {
                kind: Some("link".into()),
                href: Some(format!("https://dash.example/{n}/{}", "p".repeat(470))),
                text: Some("t".repeat(120)),
            })
            .collect();
        let evidence = Evidence::of(&[first, second]);
        assert_eq!(evidence.alerts.len(), 2, "{:?}", evidence.alerts);
        assert!(evidence.alerts[0]["details"]["stack"].is_string());
        let shown = &evidence.alerts[1];
        assert!(shown.get("links").is_none(), "{shown}");
        let cut = shown["details_cut"].as_str().unwrap();
        assert!(cut.contains("avg(cpu) > 90") && cut.contains("https://dash.example/0/"));
        assert!(cut.ends_with("more bytes]"));
        let size = serde_json::to_string(&evidence.alerts).unwrap().len();
        assert!(size <= MAX_EVIDENCE_BYTES, "{size}");
    }

    #[test]
    fn no_alerts_no_evidence() {
        assert!(Evidence::of(&[]).is_empty());
        let bare: Alert = serde_json::from_value(json!({"body": null, "summary": null})).unwrap();
        assert_eq!(Evidence::of(&[bare]).alerts, vec![json!({})]);
    }
}
