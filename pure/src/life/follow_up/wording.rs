//! What the follow-up's notes say: Devin's question, that it waits for a reply, its quota, and
//! why a note is the last. Devin's words are quoted as data ([`plain`]).

use std::time::Duration;

use super::Observed;
use crate::life::session::SessionState;
use crate::text::notes::BRIDGE_NOTE_MARKER;
use crate::text::quote::{plain, plain_line};

/// The longest question shown, in characters.
const MAX_QUESTION: usize = 2000;
pub(super) const FINDINGS: &str = "Devin's findings";
/// What a note that closes out a session Devin has not ended adds: the incident keeps its way
/// to Devin.
const NO_LONGER_FOLLOWED: &str = " The bridge no longer follows the session: a note on this \
incident still reaches Devin, and `devin status` shows its latest findings.";

/// Why a session leaves the follow-up.
pub(super) enum Closing<'a> {
    Ended(&'a str),
    Concluded,
    Idle,
}

impl Closing<'_> {
    /// Why the note is the last, and what it adds after that.
    pub(super) fn words(&self, observed: &Observed<'_>) -> (String, &'static str) {
        match self {
            Closing::Ended(how) => (format!("Devin's session ended ({how})"), ""),
            Closing::Concluded => ("Devin concluded".to_owned(), NO_LONGER_FOLLOWED),
            Closing::Idle => (
                format!(
                    "Devin's session has shown no change for {} ({})",
                    span(observed.idle_after),
                    shown_status(observed.state)
                ),
                NO_LONGER_FOLLOWED,
            ),
        }
    }
}

/// The last note when its findings were noted already.
pub(super) fn findings_already_noted(why: &str, after: &str, url: &str) -> String {
    format!(
        "{BRIDGE_NOTE_MARKER} {why}; its findings are the last ones noted here.{after} \
         Session: {url}"
    )
}

/// The last note of a session that shows no findings.
pub(super) fn without_findings(why: &str, after: &str, url: &str) -> String {
    format!(
        "{BRIDGE_NOTE_MARKER} {why} without findings: the session shows what it \
         did.{after} Session: {url}"
    )
}

/// `24 hours`, or minutes when it is not whole hours.
fn span(time: Duration) -> String {
    let minutes = time.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (1, 0) => "1 hour".to_owned(),
        (hours, 0) => format!("{hours} hours"),
        _ => format!("{minutes} minutes"),
    }
}

/// `suspended, inactivity`: Devin's words for the session's state, plain and short.
fn shown_status(state: &SessionState) -> String {
    let words = [&state.status, &state.status_detail];
    let shown: Vec<String> = words
        .into_iter()
        .flatten()
        .map(|word| plain_line(word, 40))
        .collect();
    if shown.is_empty() {
        "no status".to_owned()
    } else {
        shown.join(", ")
    }
}

pub(super) fn question_note(question: &str, session_url: &str) -> String {
    format!(
        "{BRIDGE_NOTE_MARKER} Devin asks: {}\nReply with a note on this incident. (Session: \
         {session_url})",
        plain(question, MAX_QUESTION)
    )
}

pub(super) fn waiting_note(last_message: Option<&str>, session_url: &str) -> String {
    let said = match last_message {
        Some(message) => format!(". Its last message: {}\n", plain(message, MAX_QUESTION)),
        None => ": the session shows where it stopped. ".to_owned(),
    };
    format!(
        "{BRIDGE_NOTE_MARKER} Devin is waiting for a reply{said}A note on this incident reaches \
         the session. (Session: {session_url})"
    )
}

pub(super) fn quota_note(detail: &str, session_url: &str) -> String {
    let why = match detail {
        "usage_limit_exceeded" | "org_usage_limit_exceeded" | "user_usage_limit_exceeded" => {
            "a usage limit is reached"
        }
        "total_session_limit_exceeded" => "the organization's session limit is reached",
        "out_of_credits" | "out_of_quota" | "no_quota_allocation" => "it is out of credits",
        "payment_declined" => "the organization's payment was declined",
        _ if detail.ends_with("_exceeded") => "a limit is reached",
        _ => "of its quota",
    };
    format!(
        "{BRIDGE_NOTE_MARKER} Devin stopped investigating this incident because {why} \
         ({detail}). An administrator of the Devin organization can lift it; a note on this \
         incident then resumes the session. Session: {session_url}"
    )
}
