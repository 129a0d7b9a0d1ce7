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

/// Text written by someone else (Devin's findings, its questions) for a note people read: no
/// control characters but line breaks, no separators or bidirectional controls, no more than
/// one blank line at a time, trimmed, and cut to `max_chars` with an ellipsis.
pub fn plain(text: &str, max_chars: usize) -> String {
    let mut cleaned = String::with_capacity(text.len().min(max_chars * 4));
    let mut newlines = 0;
    for c in text.trim().chars() {
        let c = match c {
            '\r' => continue,
            '\t' => ' ',
            '\n' => '\n',
            c if c.is_control() || needs_escape(c) => continue,
            c => c,
        };
        newlines = if c == '\n' { newlines + 1 } else { 0 };
        if newlines <= 2 {
            cleaned.push(c);
        }
    }
    cut(cleaned.trim_end(), max_chars)
}

/// `text` at most `max_chars` long: cut, when longer, with an ellipsis as its last character.
pub fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// [`plain`] on one line: line breaks become spaces.
pub fn plain_line(text: &str, max_chars: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    plain(&one_line, max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_keeps_lines_and_drops_what_could_deceive_a_reader() {
        let text = "  Root\u{202e} cause:\u{0}\tpool\r\n\n\n\n\nexhausted\u{2028}  ";
        assert_eq!(plain(text, 100), "Root cause: pool\n\nexhausted");
        assert_eq!(plain("abcdef", 4), "abc…");
        assert_eq!(plain("abcd", 4), "abcd");
        assert_eq!(plain_line("a\n b\n\nc", 10), "a b c");
    }

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
