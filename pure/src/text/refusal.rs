//! Devin's refusals, read in one place: what the responders read when Devin refuses to start an
//! incident's session (Devin's own words, short and readable, and how to try again), what a log
//! line shows of a refusal, and whether a refusal is about the request's tags (an organization
//! with tag validation). PagerDuty does not retry a delivery Devin refused for the incident (it
//! is answered 2xx so one bad incident never blocks the subscription), so without the note the
//! responders would never learn of it.

use serde_json::Value;

use crate::text::notes::BRIDGE_NOTE_MARKER;
use crate::text::quote;

/// The most of a refusal's words a note or a log line carries. The body is read whole first
/// (a validation error cut short no longer parses), and cut only once readable.
const MAX_DETAIL_CHARS: usize = 300;

/// The note on an incident whose session Devin refused with `status`; `said` is Devin's
/// answer as [`Reading::said`] has it (readable, without any secret).
pub fn devin_rejected_note(status: u16, said: &str) -> String {
    let said = if said.is_empty() { "(no detail)" } else { said };
    format!(
        "{BRIDGE_NOTE_MARKER} Devin refused to start a session for this incident (HTTP {status}): \
         {said}\nWrite `devin investigate` in a note on this incident to try again (after \
         fixing what Devin names, often the routing policy)."
    )
}

/// A refusal's body on one line, at most `MAX_DETAIL_CHARS`: a validation error's
/// `{"detail": [{"loc", "msg"}]}` as `body.field: message; ...`, a `{"detail": "..."}` as its
/// text, anything else as it came.
pub fn readable(body: &str) -> String {
    readable_of(&parse(body), body)
}

/// A refusal read once, as it arrives: its body (up to 64 KiB) is parsed here and not again
/// each time the error is shown or asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Devin's words on one short line ([`readable`]).
    pub said: String,
    /// Whether the request was refused for its tags.
    pub refused_tags: bool,
}

/// Devin's refusal `status` with its `body` (already without any secret), read once.
///
/// It refused the request for its tags when it is a 400 or 422 whose validation error names the
/// `tags` field in a problem's `loc` (`["body", "tags", 1]`). Only when the body is not such a
/// validation error (its wording is not documented) is `tag` or `tags` looked for as a word of
/// it, and not inside another (`stage`). A problem elsewhere whose echoed `input` holds the tags
/// is not about them. A 403 is a missing permission (Devin's reference), whatever its words.
pub fn read(status: u16, body: &str) -> Reading {
    let said = parse(body);
    let refused_tags = matches!(status, 400 | 422)
        && match &said {
            Said::Problems(problems) => problems.iter().any(Problem::is_about_tags),
            Said::Text(text) => names_tags(text),
            Said::Other => names_tags(body),
        };
    Reading {
        said: readable_of(&said, body),
        refused_tags,
    }
}

/// What `said` (parsed from `body`) reads as, on one line.
fn readable_of(said: &Said, body: &str) -> String {
    let text = match said {
        Said::Problems(problems) => problems
            .iter()
            .map(Problem::readable)
            .collect::<Vec<_>>()
            .join("; "),
        Said::Text(text) => text.clone(),
        Said::Other => body.to_owned(),
    };
    quote::plain_line(&text, MAX_DETAIL_CHARS)
}

/// What a refusal's body says, in Devin's `{"detail": ...}` form or not.
enum Said {
    /// A validation error: `{"detail": [{"loc": [...], "msg": "..."}, ...]}`.
    Problems(Vec<Problem>),
    /// `{"detail": "..."}`.
    Text(String),
    /// Anything else.
    Other,
}

/// One problem of a validation error.
struct Problem {
    /// Where: `["body", "session_links", "0"]` (indexes as text).
    loc: Vec<String>,
    msg: String,
}

impl Problem {
    fn of(problem: &Value) -> Self {
        let loc = problem["loc"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|part| match part {
                Value::String(name) => name.clone(),
                other => other.to_string(),
            })
            .collect();
        let msg = problem["msg"].as_str().unwrap_or("refused").to_owned();
        Problem { loc, msg }
    }

    /// `body.session_links.0: Value error, ...`.
    fn readable(&self) -> String {
        match self.loc.join(".").as_str() {
            "" => self.msg.clone(),
            at => format!("{at}: {}", self.msg),
        }
    }

    fn is_about_tags(&self) -> bool {
        self.loc.iter().any(|part| part == "tags")
    }
}

/// The one reader of refusal bodies.
fn parse(body: &str) -> Said {
    let Ok(Value::Object(answer)) = serde_json::from_str::<Value>(body) else {
        return Said::Other;
    };
    match answer.get("detail") {
        Some(Value::String(text)) => Said::Text(text.clone()),
        Some(Value::Array(problems)) => Said::Problems(problems.iter().map(Problem::of).collect()),
        _ => Said::Other,
    }
}

/// Whether `text` has `tag` or `tags` as a word.
fn names_tags(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("tag") || word.eq_ignore_ascii_case("tags"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_for_tags(status: u16, body: &str) -> bool {
        read(status, body).refused_tags
    }

    #[test]
    fn a_validation_error_reads_as_fields_and_messages() {
        let detail = r#"{"detail": [{"loc": ["body", "session_links", 0], "msg": "Value error, not a Devin session URL", "type": "value_error"},
                        {"loc": ["body", "tags"], "msg": "Tag not allowed: service:api", "type": "value_error"}]}"#;
        let note = devin_rejected_note(422, &readable(detail));
        assert!(note.starts_with(
            "[pagerduty-devin-bridge] Devin refused to start a session for this incident (HTTP 422): \
             body.session_links.0: Value error, not a Devin session URL; body.tags: Tag not allowed: service:api\n"
        ), "{note}");
        assert!(note.contains("`devin investigate`"));
    }

    #[test]
    fn other_answers_are_cut_to_one_short_line() {
        let note =
            devin_rejected_note(409, &readable(r#"{"detail": "Conflict:\nalready exists"}"#));
        assert!(
            note.contains("(HTTP 409): Conflict: already exists\n"),
            "{note}"
        );
        let long = format!("<html>{}\u{202e}</html>", "x".repeat(2000));
        let said = readable(&long);
        assert_eq!(said.chars().count(), MAX_DETAIL_CHARS);
        assert!(said.ends_with('…') && !said.contains('\u{202e}'));
        assert!(devin_rejected_note(400, &readable("  ")).contains("(HTTP 400): (no detail)\n"));
    }

    #[test]
    fn a_long_validation_error_is_parsed_whole_then_cut() {
        let echoed = "x".repeat(5000);
        let body = format!(
            r#"{{"detail": [{{"input": "{echoed}", "loc": ["body", "repos", 0], "msg": "Repository not found"}}]}}"#
        );
        assert_eq!(readable(&body), "body.repos.0: Repository not found");
    }

    #[test]
    fn a_problem_located_at_the_tags_is_a_tag_refusal() {
        for (status, body) in [
            (
                422,
                r#"{"detail":[{"loc":["body","tags",1],"msg":"not in the organization's allowed list","type":"value_error"}]}"#,
            ),
            (
                400,
                r#"{"detail":[{"loc":["body","repos",0],"msg":"bad"},{"loc":["body","tags"],"msg":"x"}]}"#,
            ),
            // Not a validation error: its words are searched.
            (
                400,
                "Tag validation is enabled: pagerduty-incident:Q1 is not allow-listed",
            ),
            (422, r#"{"detail":"TAGS not allowed"}"#),
        ] {
            assert!(refused_for_tags(status, body), "{status} {body}");
        }
    }

    #[test]
    fn a_refusal_elsewhere_or_a_403_is_no_tag_refusal() {
        for (status, body) in [
            // A missing prompt, the request echoed back with its tags: not about the tags.
            (
                422,
                r#"{"detail":[{"type":"missing","loc":["body","prompt"],"msg":"Field required","input":{"title":"t","tags":["pagerduty-incident:Q1"]}}]}"#,
            ),
            (
                422,
                r#"{"detail":[{"loc":["body","max_acu_limit"],"msg":"tags and limits"}]}"#,
            ),
            (422, "unknown stage"),
            // Devin documents 403 as a missing permission.
            (403, r#"{"detail":"TAGS not allowed"}"#),
            (403, "tag"),
            (404, "tags"),
            (500, "tag store down"),
        ] {
            assert!(!refused_for_tags(status, body), "{status} {body}");
        }
    }
}
