//! Text from PagerDuty as quoted data: JSON, with the characters that could make it look like
//! more than one line of the prompt, or reorder what a reader sees, escaped too. `serde_json`
//! leaves the Unicode line and paragraph separators and the bidirectional controls raw inside
//! strings; a model (or a person) may read them as a new line or as text running backwards.

use serde::Serialize;

/// Characters escaped as `\uXXXX` beyond what JSON requires: next line, line and paragraph
/// separators, and the bidirectional marks, embeddings, overrides and isolates.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{0085}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}'
            | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `value` as one line of JSON, quoted as data.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    escape(serde_json::to_string(value).expect("plain data serializes"))
}

/// `value` as indented JSON, quoted as data.
pub fn json_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    escape(serde_json::to_string_pretty(value).expect("plain data serializes"))
}

/// Outside its strings, JSON from `serde_json` is ASCII: every such character is inside one, where
/// its escape reads back as the same character.
fn escape(json: String) -> String {
    if !json.chars().any(needs_escape) {
        return json;
    }
    let mut escaped = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs_escape(c) {
            escaped.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            escaped.push(c);
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_bidi_controls_are_escaped_and_read_back() {
        let hostile = "a\u{2028}b\u{2029}c\u{202e}d\u{2066}e\u{85}f\"g\nh café 🚨";
        let quoted = json(hostile);
        assert!(!quoted.chars().any(needs_escape), "{quoted}");
        assert!(quoted.contains("\\u2028") && quoted.contains("\\u202e"));
        assert_eq!(serde_json::from_str::<String>(&quoted).unwrap(), hostile);
        assert_eq!(json("plain"), "\"plain\"");
        let pretty = json_pretty(&serde_json::json!({"title": hostile}));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&pretty).unwrap()["title"],
            hostile
        );
    }
}
