//! Devin's findings on an incident: the structured output schema sessions are created with, the
//! findings read back from whatever Devin wrote (it may not follow the schema), and the notes
//! that put them on the PagerDuty incident. Devin's text is shown as plain text, bounded, with
//! nothing that could deceive a reader; a note is recognised by the hash of what it says.

use std::sync::OnceLock;

use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::life::session::{Schema, SessionState};
use crate::text::notes::BRIDGE_NOTE_MARKER;
use crate::text::quote::{plain, plain_line};

/// The schema of the findings (JSON Schema draft 7, self-contained): what the follow-up writes
/// on the incident, field for field.
const SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Incident findings",
  "description": "What the investigation of a PagerDuty incident has found so far. Keep it current at each milestone: the on-call responders read it on the incident.",
  "type": "object",
  "properties": {
    "state": {
      "type": "string",
      "enum": ["investigating", "concluded", "blocked"],
      "description": "investigating: still looking; concluded: the root cause is found (or ruled out as far as it can be); blocked: you need something from a person or a system you cannot reach (ask for it in your last message: the responders read it on the incident)."
    },
    "summary": {"type": "string", "description": "What is happening and what you found, in two or three sentences."},
    "root_cause": {"type": ["string", "null"], "description": "The root cause, when you know it."},
    "confidence": {"type": "string", "enum": ["high", "medium", "low"], "description": "How sure you are of the root cause."},
    "evidence": {
      "type": "array",
      "description": "What supports the root cause: each claim with a link to the log query, dashboard, trace, commit or deploy that shows it.",
      "items": {
        "type": "object",
        "properties": {
          "claim": {"type": "string"},
          "link": {"type": ["string", "null"]}
        },
        "required": ["claim"],
        "additionalProperties": false
      }
    },
    "next_steps": {"type": "array", "items": {"type": "string"}, "description": "What the responders should do next."},
    "pull_request_url": {"type": ["string", "null"], "description": "The hotfix pull request, if you opened one."},
    "postmortem": {
      "type": "object",
      "description": "Fill only when the bridge asks for a postmortem (once the incident is resolved); leave it out until then.",
      "properties": {
        "summary": {"type": "string"},
        "impact": {"type": "string", "description": "Who and what was affected, and for how long."},
        "timeline": {
          "type": "array",
          "items": {
            "type": "object",
            "properties": {"at": {"type": "string", "description": "UTC time"}, "what": {"type": "string"}},
            "required": ["at", "what"],
            "additionalProperties": false
          }
        },
        "root_cause": {"type": "string"},
        "what_fixed_it": {"type": "string"},
        "went_well": {"type": "array", "items": {"type": "string"}},
        "went_badly": {"type": "array", "items": {"type": "string"}},
        "action_items": {
          "type": "array",
          "items": {
            "type": "object",
            "properties": {"item": {"type": "string"}, "owner": {"type": "null", "description": "Left blank: the responders assign owners."}},
            "required": ["item"],
            "additionalProperties": false
          }
        }
      },
      "required": ["summary", "impact", "timeline", "root_cause", "what_fixed_it", "went_well", "went_badly", "action_items"],
      "additionalProperties": false
    }
  },
  "required": ["state", "summary", "confidence"],
  "additionalProperties": false
}"#;

/// What the prompt adds so that Devin keeps the findings current (it fills the structured output
/// on its own schedule; asking for it in the prompt too is what Devin's documentation advises).
pub const KEEP_FINDINGS_CURRENT: &str = "\
Keep your structured output (the findings: state, summary, root_cause, confidence, evidence with \
links, next_steps, pull_request_url) current: update it at each milestone (when you have a first \
picture, when you find or rule out a cause, when you open a pull request, when you conclude, and \
when you are blocked). The responders read it on the PagerDuty incident.";

/// The longest each part of a note may be, in characters: a note is read on a phone, mid-incident.
const MAX_SUMMARY: usize = 1200;
const MAX_ROOT_CAUSE: usize = 800;
const MAX_ITEM: usize = 300;
const MAX_LINK: usize = 500;
const MAX_EVIDENCE: usize = 8;
const MAX_NEXT_STEPS: usize = 6;
const MAX_PULL_REQUESTS: usize = 5;

/// The schema sessions are created with, checked once and then sent as written (no tree to
/// build per session request).
pub fn schema() -> Schema {
    static CHECKED: OnceLock<&'static RawValue> = OnceLock::new();
    Schema(
        CHECKED.get_or_init(|| serde_json::from_str(SCHEMA).expect("the findings schema is JSON")),
    )
}

/// Devin's findings, read leniently: a field of the wrong shape is left out, not fatal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub state: Option<String>,
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub confidence: Option<String>,
    pub evidence: Vec<(String, Option<String>)>,
    pub next_steps: Vec<String>,
    pub pull_request_url: Option<String>,
}

impl Findings {
    pub fn read(output: &Value) -> Findings {
        let text = |name: &str| {
            output
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let evidence = list(output.get("evidence"))
            .filter_map(|item| match item {
                Value::String(claim) => Some((claim.clone(), None)),
                Value::Object(fields) => {
                    let claim = fields.get("claim")?.as_str()?.to_owned();
                    let link = fields
                        .get("link")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    Some((claim, link))
                }
                _ => None,
            })
            .filter(|(claim, _)| !claim.trim().is_empty())
            .collect();
        let next_steps = list(output.get("next_steps"))
            .filter_map(Value::as_str)
            .filter(|step| !step.trim().is_empty())
            .map(str::to_owned)
            .collect();
        Findings {
            state: text("state"),
            summary: text("summary"),
            root_cause: text("root_cause"),
            confidence: text("confidence"),
            evidence,
            next_steps,
            pull_request_url: text("pull_request_url"),
        }
    }

    /// Whether there is anything a responder would want to read.
    pub fn says_something(&self) -> bool {
        self.summary.is_some()
            || self.root_cause.is_some()
            || !self.evidence.is_empty()
            || self.pull_request_url.is_some()
    }
}

/// A list, or one item standing for a list of one.
fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    let items: &[Value] = match value {
        Some(Value::Array(items)) => items,
        Some(one @ (Value::String(_) | Value::Object(_))) => std::slice::from_ref(one),
        _ => &[],
    };
    items.iter()
}

/// The note of a session's findings, and its hash: the same findings give the same hash, so
/// they are posted once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingsNote {
    pub content: String,
    pub hash: String,
}

/// The note for a session's current findings, when they say something. `title` opens it
/// ("Devin's findings", or the final note's).
pub fn findings_note(state: &SessionState, session_url: &str, title: &str) -> Option<FindingsNote> {
    let findings = current_findings(state)?;
    if !findings.says_something() {
        return None;
    }
    let body = findings_body(&findings, state);
    let hash = hash(&body);
    let content = format!(
        "{BRIDGE_NOTE_MARKER} {title}{}\n{body}Session: {session_url}",
        headline(&findings)
    );
    Some(FindingsNote { content, hash })
}

/// The findings the session's structured output holds now, if it has one.
pub fn current_findings(state: &SessionState) -> Option<Findings> {
    Some(Findings::read(&structured_output(state)?))
}

/// The session's structured output, if it has one.
pub fn structured_output(state: &SessionState) -> Option<Value> {
    let output = state.structured_output.as_ref()?;
    // Some clients store the output as a JSON string: read what it holds.
    let parsed = output
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok());
    Some(parsed.unwrap_or_else(|| output.clone()))
}

/// What the findings say of the investigation (the schema's `state`): `concluded`, `blocked`
/// or `investigating`; `None` when the output does not say, or says something else.
pub fn declared_state(state: &SessionState) -> Option<Declared> {
    match current_findings(state)?.state?.as_str() {
        "concluded" => Some(Declared::Concluded),
        "blocked" => Some(Declared::Blocked),
        "investigating" => Some(Declared::Investigating),
        _ => None,
    }
}

/// The schema's `state`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    Investigating,
    /// The root cause is found or ruled out: the investigation is over.
    Concluded,
    /// Devin needs something from a person: its last message asks for it.
    Blocked,
}

/// `: concluded, high confidence`, from what the findings say of themselves.
fn headline(findings: &Findings) -> String {
    let state = findings.state.as_deref().map(|state| plain_line(state, 40));
    let confidence = findings
        .confidence
        .as_deref()
        .map(|confidence| format!("{} confidence", plain_line(confidence, 20)));
    let parts: Vec<String> = state.into_iter().chain(confidence).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

/// Everything the note says of the findings, one part a line or a list.
fn findings_body(findings: &Findings, state: &SessionState) -> String {
    let mut body = String::new();
    if let Some(summary) = &findings.summary {
        body.push_str(&format!("Summary: {}\n", plain(summary, MAX_SUMMARY)));
    }
    if let Some(cause) = &findings.root_cause {
        body.push_str(&format!("Root cause: {}\n", plain(cause, MAX_ROOT_CAUSE)));
    }
    if !findings.evidence.is_empty() {
        body.push_str("Evidence:\n");
        for (claim, link) in findings.evidence.iter().take(MAX_EVIDENCE) {
            body.push_str(&format!("- {}", plain_line(claim, MAX_ITEM)));
            if let Some(link) = link.as_deref().and_then(web_link) {
                body.push_str(&format!(" ({link})"));
            }
            body.push('\n');
        }
    }
    if !findings.next_steps.is_empty() {
        body.push_str("Next steps:\n");
        for step in findings.next_steps.iter().take(MAX_NEXT_STEPS) {
            body.push_str(&format!("- {}\n", plain_line(step, MAX_ITEM)));
        }
    }
    let pull_requests = pull_requests(findings, state);
    if !pull_requests.is_empty() {
        body.push_str(&format!("Pull requests: {}\n", pull_requests.join(", ")));
    }
    body
}

/// The session's pull requests (with their state) and the one the findings name, once each.
fn pull_requests(findings: &Findings, state: &SessionState) -> Vec<String> {
    let mut shown: Vec<(String, Option<String>)> = Vec::new();
    let devins = state
        .pull_requests
        .iter()
        .filter_map(|pr| Some((pr.pr_url.as_deref()?, pr.pr_state.as_deref())));
    let named = findings.pull_request_url.as_deref().map(|url| (url, None));
    for (url, pr_state) in devins.chain(named) {
        let Some(url) = web_link(url) else { continue };
        if shown.iter().any(|(seen, _)| *seen == url) {
            continue;
        }
        shown.push((url, pr_state.map(|s| plain_line(s, 20))));
    }
    shown
        .into_iter()
        .take(MAX_PULL_REQUESTS)
        .map(|(url, pr_state)| match pr_state {
            Some(pr_state) => format!("{url} ({pr_state})"),
            None => url,
        })
        .collect()
}

/// A link a responder may follow: http(s), one word, bounded.
fn web_link(link: &str) -> Option<String> {
    let link = link.trim();
    let web = link.starts_with("https://") || link.starts_with("http://");
    let one_word = !link.chars().any(|c| c.is_whitespace() || c.is_control());
    (web && one_word && link.len() <= MAX_LINK).then(|| link.to_owned())
}

/// The note `devin status` answers with: the session's state, and its latest findings.
pub fn status_note(state: &SessionState, session_url: &str) -> String {
    let status = state.status.as_deref().unwrap_or("unknown");
    let how = match state.status_detail.as_deref() {
        Some(detail) => format!("{}, {}", plain_line(status, 40), plain_line(detail, 40)),
        None => plain_line(status, 40),
    };
    let title = format!("Devin's status: {how}. Latest findings");
    match findings_note(state, session_url, &title) {
        Some(note) => note.content,
        None => format!(
            "{BRIDGE_NOTE_MARKER} Devin's status: {how}. No findings yet. Session: {session_url}"
        ),
    }
}

/// A short, stable hash of what a note says.
pub fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests;
