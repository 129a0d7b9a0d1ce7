//! The follow-up's decision for one incident of a session: which notes to post, given what the
//! session shows now and what the ledger says was posted already. Each note comes with the mark
//! the ledger records once it is posted, so that a later run never posts it again.
//!
//! How a Devin turn ends: a session that has said its piece sits in `running` +
//! `waiting_for_user` (not `finished`). That is a question only when the findings' `state` is
//! `blocked` or Devin's last message ends with a question mark; otherwise Devin is waiting for a
//! reply. Findings that say `concluded`, once the turn is over, get the final note and close the
//! session out, as does a session that shows no change for the idle time.
//!
//! Here the ledger's side ([`Progress`], [`Mark`]) and the note's reference; `decision` chooses
//! which notes an incident needs ([`posts`]), and `wording` says them.

mod awaited;
mod decision;
mod wording;

use std::time::Duration;

pub use awaited::{awaited_postmortem, Awaited};
pub use decision::{needs_messages, posts, seen_mark};

use crate::life::session::{SessionMessage, SessionState};
use crate::text::findings::hash;
use crate::text::notes::BRIDGE_NOTE_MARKER;

/// What the ledger says was posted on an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The hash of the findings last posted.
    pub posted: Option<String>,
    /// The id of Devin's last word noted as a question ("Devin asks").
    pub asked: Option<String>,
    /// The id of Devin's last word noted as the end of a turn that waits for a reply (or the
    /// session's print, when Devin said nothing). Kept apart from `asked`: the same message may
    /// turn into a question when the findings change to `blocked`, and that note must follow.
    pub waiting: Option<String>,
    /// The quota state last noted.
    pub quota: Option<String>,
    /// The session's activity when the follow-up last saw it change.
    pub seen: Option<Seen>,
    /// When the follow-up last read the session (Devin showed it, or answered 404): sessions
    /// are read oldest-followed first, so that none starves when a run's time is short.
    pub followed_at: Option<u64>,
    /// When Devin first answered 404 for the session, in the run before this one: a second 404
    /// in a row closes it out (one 404, such as a misrouted URL, does not). A read clears it.
    pub missing_since: Option<u64>,
    /// The reference of a note whose post got an ambiguous answer (a 5xx, a timeout): PagerDuty
    /// may have stored it, so the next run looks for it on the incident before posting it.
    pub unsure: Option<String>,
    /// The hash of the findings last set into the incident's custom fields
    /// (`pure::text::custom_fields`), once PagerDuty took them (or refused them for good): the
    /// same findings are not set again, changed ones are.
    pub fields: Option<String>,
    /// The postmortem draft's parts posted so far.
    pub postmortem: Option<PostmortemPart>,
}

/// The postmortem draft's notes posted on an incident: the last part posted, of how many. Once
/// the last is posted, no later draft is (one postmortem per incident).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostmortemPart {
    pub part: u32,
    pub of: u32,
}

impl PostmortemPart {
    /// What an incident merged away records: its session's postmortem is the incident's it
    /// went into, never this one's.
    pub const NONE: PostmortemPart = PostmortemPart { part: 0, of: 0 };

    /// Whether every part is posted (or none is to be).
    pub fn is_whole(&self) -> bool {
        self.part >= self.of
    }

    /// As the ledger stores it: `2/3`.
    pub fn stored(&self) -> String {
        format!("{}/{}", self.part, self.of)
    }

    /// Read back from [`PostmortemPart::stored`]; `None` for anything else.
    pub fn from_stored(text: &str) -> Option<PostmortemPart> {
        let (part, of) = text.split_once('/')?;
        Some(PostmortemPart {
            part: part.parse().ok()?,
            of: of.parse().ok()?,
        })
    }
}

/// A session's activity print, and since when it has shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub print: String,
    pub since_ms: u64,
}

/// What the ledger records once a note is posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Findings(String),
    Asked(String),
    /// Devin ended its turn without a question: noted once per last message.
    Waiting(String),
    Quota(String),
    /// A part of the postmortem draft, posted once.
    Postmortem(PostmortemPart),
    /// The session ended (or concluded, or went idle) and its final note is posted: the
    /// incident leaves the follow-up, with the hash of the findings that note showed, if it
    /// showed them.
    ClosedOut(Option<String>),
}

/// A note to post on an incident, and what to record once it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub content: String,
    pub mark: Mark,
}

/// The short reference a note carries (`3fa9c1`): the same for the same note on the same
/// incident, so that a run unsure whether PagerDuty stored it can find it there.
pub fn note_ref(incident_id: &str, session_id: &str, mark: &Mark) -> String {
    let (kind, value) = match mark {
        Mark::Findings(hash) => ("findings", Some(hash.clone())),
        Mark::Asked(id) => ("asked", Some(id.clone())),
        Mark::Waiting(id) => ("waiting", Some(id.clone())),
        Mark::Quota(detail) => ("quota", Some(detail.clone())),
        Mark::Postmortem(part) => ("postmortem", Some(part.stored())),
        Mark::ClosedOut(hash) => ("closed", hash.clone()),
    };
    let value = value.unwrap_or_default();
    hash(&format!("{incident_id}\0{session_id}\0{kind}\0{value}"))[..6].to_owned()
}

/// The note as posted: its text, and its reference on a line of its own.
pub fn with_ref(content: &str, reference: &str) -> String {
    format!("{content}\n(ref {reference})")
}

/// Whether a note on the incident is the bridge's note with this reference.
pub fn carries_ref(content: &str, reference: &str) -> bool {
    content.starts_with(BRIDGE_NOTE_MARKER)
        && content.trim_end().ends_with(&format!("(ref {reference})"))
}

/// A session as the follow-up found it.
pub struct Observed<'a> {
    pub state: &'a SessionState,
    pub url: &'a str,
    /// Its messages, read only when [`needs_messages`]; `None` when they were not read.
    pub messages: Option<&'a [SessionMessage]>,
    /// Wall-clock time of the run, in milliseconds since the epoch.
    pub now_ms: u64,
    /// How long a session may show no change before it is closed out.
    pub idle_after: Duration,
    /// The state's activity print, hashed once for every incident of the session.
    print: String,
}

impl<'a> Observed<'a> {
    pub fn new(
        state: &'a SessionState,
        url: &'a str,
        messages: Option<&'a [SessionMessage]>,
        now_ms: u64,
        idle_after: Duration,
    ) -> Self {
        Observed {
            state,
            url,
            messages,
            now_ms,
            idle_after,
            print: activity_print(state),
        }
    }
}

/// Everything a session shows that moves while anything happens in it: the same print run after
/// run means it sits idle.
fn activity_print(state: &SessionState) -> String {
    let shown = serde_json::json!([
        state.status,
        state.status_detail,
        state.structured_output,
        state.pull_requests,
        state.acus_consumed,
        state.updated_at,
    ]);
    hash(&shown.to_string())
}

#[cfg(test)]
mod tests;
