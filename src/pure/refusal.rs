//! What the responders read when Devin refuses to start an incident's session: Devin's own
//! words, short and readable, and how to try again. PagerDuty does not retry such a delivery
//! (it is answered 2xx so one bad incident never blocks the subscription), so without the note
//! the responders would never learn of it.

use serde_json::Value;

use crate::pure::notes::BRIDGE_NOTE_MARKER;
use crate::pure::quote;

/// The most of Devin's words a note carries.
pub const MAX_DETAIL_CHARS: usize = 300;

/// The note on an incident whose session Devin refused with `status`; `detail` is Devin's
/// answer, already without any secret.
pub fn devin_rejected_note(status: u16, detail: &str) -> String {
    let said = readable(detail);
    let said = if said.is_empty() {
        "(no detail)".to_owned()
    } else {
        said
    };
    format!(
        "{BRIDGE_NOTE_MARKER} Devin refused to start a session for this incident (HTTP {status}): \
         {said}\nWrite `devin investigate` in a note on this incident to try again (after \
         fixing what Devin names, often the routing policy)."
    )
}

/// Devin's answer on one line, at most [`MAX_DETAIL_CHARS`]: a validation error's
/// `{"detail": [{"loc", "msg"}]}` as `body.field: message; ...`, a `{"detail": "..."}` as its
/// text, anything else as it came.
fn readable(detail: &str) -> String {
    let text = match serde_json::from_str::<Value>(detail) {
        Ok(Value::Object(answer)) => match answer.get("detail") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(problems)) => {
                problems.iter().map(problem).collect::<Vec<_>>().join("; ")
            }
            _ => detail.to_owned(),
        },
        _ => detail.to_owned(),
    };
    quote::plain_line(&text, MAX_DETAIL_CHARS)
}

/// One problem of a validation error: `body.session_links.0: Value error, ...`.
fn problem(problem: &Value) -> String {
    let at = problem["loc"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|part| match part {
            Value::String(name) => name.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".");
    let msg = problem["msg"].as_str().unwrap_or("refused");
    match at.as_str() {
        "" => msg.to_owned(),
        at => format!("{at}: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_reads_as_fields_and_messages() {
        let detail = r#"{"detail": [{"loc": ["body", "session_links", 0], "msg": "Value error, not a Devin session URL", "type": "value_error"},
                        {"loc": ["body", "tags"], "msg": "Tag not allowed: service:api", "type": "value_error"}]}"#;
        let note = devin_rejected_note(422, detail);
        assert!(note.starts_with(
            "[pagerduty-devin-bridge] Devin refused to start a session for this incident (HTTP 422): \
             body.session_links.0: Value error, not a Devin session URL; body.tags: Tag not allowed: service:api\n"
        ), "{note}");
        assert!(note.contains("`devin investigate`"));
    }

    #[test]
    fn other_answers_are_cut_to_one_short_line() {
        let note = devin_rejected_note(409, r#"{"detail": "Conflict:\nalready exists"}"#);
        assert!(
            note.contains("(HTTP 409): Conflict: already exists\n"),
            "{note}"
        );
        let long = format!("<html>{}\u{202e}</html>", "x".repeat(2000));
        let said = readable(&long);
        assert_eq!(said.chars().count(), MAX_DETAIL_CHARS);
        assert!(said.ends_with('…') && !said.contains('\u{202e}'));
        assert!(devin_rejected_note(400, "  ").contains("(HTTP 400): (no detail)\n"));
    }
}
