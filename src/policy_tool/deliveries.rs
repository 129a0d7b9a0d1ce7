//! A delivery file as the policy tool reads it: a PagerDuty webhook body (`{"event": ...}`),
//! or a Function URL event (its `body`, base64 or not) like those in `events/`.

use base64::Engine;
use serde_json::Value;

use pure::inbound::webhook::{self, Event};

pub fn delivery(text: &str) -> Result<Event, String> {
    let json: Value = serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
    let body = match json.get("body").and_then(Value::as_str) {
        None => text.as_bytes().to_vec(),
        Some(body) if json["isBase64Encoded"] == true => base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| "its body is marked base64 and is not".to_owned())?,
        Some(body) => body.as_bytes().to_vec(),
    };
    webhook::parse(&body)
        .map(|delivery| delivery.event)
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_body_and_a_function_url_event_read_alike() {
        let raw = r#"{"event":{"id":"E1","event_type":"pagey.ping"}}"#;
        assert_eq!(delivery(raw).unwrap().event_type, "pagey.ping");
        let wrapped = serde_json::json!({"body": raw, "isBase64Encoded": false}).to_string();
        assert_eq!(delivery(&wrapped).unwrap().id, "E1");
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        let wrapped = serde_json::json!({"body": encoded, "isBase64Encoded": true}).to_string();
        assert_eq!(delivery(&wrapped).unwrap().id, "E1");
        assert!(delivery("nope").unwrap_err().starts_with("not JSON"));
    }
}
