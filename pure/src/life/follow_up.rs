//! The follow-up's decision for one incident of a session: which notes to post, given what the
//! session shows now and what the ledger says was posted already. Each note comes with the mark
//! the ledger records once it is posted, so that a later run never posts it again.
//!
//! How a Devin turn ends: a session that has said its piece sits in `running` +
//! `waiting_for_user` (not `finished`). That is a question only when the findings' `state` is
//! `blocked` or Devin's last message ends with a question mark; otherwise Devin is waiting for a
//! reply. Findings that say `concluded`, once the turn is over, get the final note and close the
//! session out, as does a session that shows no change for the idle time.

use std::time::Duration;

use crate::life::session::{last_word, Phase, SessionMessage, SessionState};
use crate::text::findings::{self, hash, Declared};
use crate::text::notes::BRIDGE_NOTE_MARKER;
use crate::text::quote::{plain, plain_line};

/// The longest question shown, in characters.
const MAX_QUESTION: usize = 2000;
const FINDINGS: &str = "Devin's findings";
/// What a note that closes out a session Devin has not ended adds: the incident keeps its way
/// to Devin.
const NO_LONGER_FOLLOWED: &str = " The bridge no longer follows the session: a note on this \
incident still reaches Devin, and `devin status` shows its latest findings.";

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
        Mark::Findings(hash) => ("findings", Some(hash)),
        Mark::Asked(id) => ("asked", Some(id)),
        Mark::Waiting(id) => ("waiting", Some(id)),
        Mark::Quota(detail) => ("quota", Some(detail)),
        Mark::ClosedOut(hash) => ("closed", hash.as_ref()),
    };
    let value = value.map(String::as_str).unwrap_or_default();
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

/// Why a session leaves the follow-up.
enum Closing<'a> {
    Ended(&'a str),
    Concluded,
    Idle,
}

/// The notes an incident needs, in the order to post them.
pub fn posts(progress: &Progress, observed: &Observed<'_>) -> Vec<Post> {
    let state = observed.state;
    let phase = state.phase();
    if let Phase::Ended(how) = &phase {
        return vec![final_post(progress, observed, &Closing::Ended(how))];
    }
    let declared = findings::declared_state(state);
    // Devin may keep working once it has concluded (a pull request): the end is when its turn
    // is over. Not while it waits for an approval: that is a question the responders must see.
    if declared == Some(Declared::Concluded) && concluded_turn_over(&phase) {
        return vec![final_post(progress, observed, &Closing::Concluded)];
    }
    if is_idle(progress, observed) {
        return vec![final_post(progress, observed, &Closing::Idle)];
    }
    let mut posts = Vec::new();
    if let Some(note) = findings::findings_note(state, observed.url, FINDINGS) {
        if progress.posted.as_ref() != Some(&note.hash) {
            let mark = Mark::Findings(note.hash);
            posts.push(Post {
                content: note.content,
                mark,
            });
        }
    }
    let turn_end = match phase {
        Phase::TurnEnded | Phase::Asleep => {
            turn_end_post(observed, declared == Some(Declared::Blocked))
        }
        Phase::WaitingForApproval => turn_end_post(observed, true),
        Phase::OutOfQuota(detail) if progress.quota.as_ref() != Some(&detail) => Some(Post {
            content: quota_note(&detail, observed.url),
            mark: Mark::Quota(detail),
        }),
        _ => None,
    };
    posts.extend(turn_end.filter(|post| match &post.mark {
        Mark::Asked(id) => progress.asked.as_ref() != Some(id),
        // Once Devin's message was noted as a question, that it waits adds nothing.
        Mark::Waiting(id) => {
            let this = Some(id);
            progress.asked.as_ref() != this && progress.waiting.as_ref() != this
        }
        // A quota note is new by construction (its detail was compared above).
        _ => true,
    }));
    posts
}

/// Whether a session whose findings say `concluded` is done: its turn is over, and it does not
/// wait for an approval.
fn concluded_turn_over(phase: &Phase) -> bool {
    matches!(
        phase,
        Phase::TurnEnded | Phase::Asleep | Phase::OutOfQuota(_)
    )
}

/// Whether the session's turn-end note needs its messages: Devin's turn is over, and neither for
/// good nor for want of quota (those notes say why, not what Devin said last), nor concluded (the
/// final note is its findings).
pub fn needs_messages(state: &SessionState) -> bool {
    let concluded = findings::declared_state(state) == Some(Declared::Concluded);
    match state.phase() {
        Phase::WaitingForApproval => true,
        Phase::TurnEnded | Phase::Asleep => !concluded,
        _ => false,
    }
}

/// What to record of the session's activity: its print, when it is not the one last seen.
pub fn seen_mark(progress: &Progress, observed: &Observed<'_>) -> Option<String> {
    let seen = progress.seen.as_ref().map(|seen| &seen.print);
    (seen != Some(&observed.print)).then(|| observed.print.clone())
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

/// Whether the session has shown the same activity for the idle time.
fn is_idle(progress: &Progress, observed: &Observed<'_>) -> bool {
    progress.seen.as_ref().is_some_and(|seen| {
        seen.print == observed.print
            && observed.now_ms.saturating_sub(seen.since_ms)
                >= observed.idle_after.as_millis() as u64
    })
}

/// The last note of a session: its final findings when they are new, else a line that says
/// why it is the last.
fn final_post(progress: &Progress, observed: &Observed<'_>, closing: &Closing<'_>) -> Post {
    let (why, after) = match closing {
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
    };
    let title = format!("{why}. Final findings");
    let note = findings::findings_note(observed.state, observed.url, &title);
    let url = observed.url;
    match note {
        Some(note) if progress.posted.as_ref() != Some(&note.hash) => Post {
            content: note.content,
            mark: Mark::ClosedOut(Some(note.hash)),
        },
        Some(_) => Post {
            content: format!(
                "{BRIDGE_NOTE_MARKER} {why}; its findings are the last ones noted here.{after} \
                 Session: {url}"
            ),
            mark: Mark::ClosedOut(None),
        },
        None => Post {
            content: format!(
                "{BRIDGE_NOTE_MARKER} {why} without findings: the session shows what it \
                 did.{after} Session: {url}"
            ),
            mark: Mark::ClosedOut(None),
        },
    }
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

/// The note of a turn that ended: Devin's question when it `asks` (the findings say it is
/// blocked, or Devin waits for an approval) or its last message ends with a question mark; else
/// that it waits for a reply. Nothing while its messages are unread, or when the last word is
/// not Devin's (a reply it has not taken up yet).
fn turn_end_post(observed: &Observed<'_>, asks: bool) -> Option<Post> {
    let messages = observed.messages?;
    let Some(last) = last_word(messages) else {
        if !messages.is_empty() {
            return None;
        }
        // Devin said nothing: the turn is told apart by what the session shows.
        return Some(Post {
            content: waiting_note(None, observed.url),
            mark: Mark::Waiting(observed.print.clone()),
        });
    };
    let id = question_id(last);
    if asks || is_question(&last.message) {
        let content = question_note(&last.message, observed.url);
        return Some(Post {
            content,
            mark: Mark::Asked(id),
        });
    }
    Some(Post {
        content: waiting_note(Some(&last.message), observed.url),
        mark: Mark::Waiting(id),
    })
}

/// Whether Devin's message is a question: it ends with a question mark, once trailing closing
/// marks (quotes, brackets, emphasis) are set aside. Devin ends a report or a conclusion with a
/// full stop, and a question with a question mark; a question mark inside the text (a quoted
/// log line, an aside) does not make the message a question. Getting it wrong costs little:
/// the waiting note quotes the message too.
fn is_question(message: &str) -> bool {
    message
        .trim_end_matches(|c: char| c.is_whitespace() || "\"')]}*_`»”’".contains(c))
        .ends_with(['?', '？'])
}

/// A question's id: Devin's event id, or the hash of its text when it gave none.
fn question_id(question: &SessionMessage) -> String {
    question
        .event_id
        .clone()
        .filter(|id| !id.is_empty() && id.len() <= 200)
        .unwrap_or_else(|| hash(&question.message))
}

fn question_note(question: &str, session_url: &str) -> String {
    format!(
        "{BRIDGE_NOTE_MARKER} Devin asks: {}\nReply with a note on this incident. (Session: \
         {session_url})",
        plain(question, MAX_QUESTION)
    )
}

fn waiting_note(last_message: Option<&str>, session_url: &str) -> String {
    let said = match last_message {
        Some(message) => format!(". Its last message: {}\n", plain(message, MAX_QUESTION)),
        None => ": the session shows where it stopped. ".to_owned(),
    };
    format!(
        "{BRIDGE_NOTE_MARKER} Devin is waiting for a reply{said}A note on this incident reaches \
         the session. (Session: {session_url})"
    )
}

fn quota_note(detail: &str, session_url: &str) -> String {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const URL: &str = "https://app.devin.ai/sessions/abc";

    fn state(value: serde_json::Value) -> SessionState {
        serde_json::from_value(value).unwrap()
    }

    const NOW_MS: u64 = 1_800_000_000_000;
    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn observed<'a>(state: &'a SessionState, messages: &'a [SessionMessage]) -> Observed<'a> {
        Observed::new(state, URL, Some(messages), NOW_MS, DAY)
    }

    fn marks(progress: &Progress, state: &SessionState, messages: &[SessionMessage]) -> Vec<Mark> {
        posts(progress, &observed(state, messages))
            .into_iter()
            .map(|p| p.mark)
            .collect()
    }

    fn contents(
        progress: &Progress,
        state: &SessionState,
        messages: &[SessionMessage],
    ) -> Vec<String> {
        posts(progress, &observed(state, messages))
            .into_iter()
            .map(|p| p.content)
            .collect()
    }

    fn question(id: &str, text: &str) -> Vec<SessionMessage> {
        vec![SessionMessage {
            event_id: Some(id.into()),
            message: text.into(),
            source: Some("devin".into()),
            created_at: None,
        }]
    }

    #[test]
    fn findings_are_posted_once_and_again_when_they_change() {
        let working = state(json!({"status": "running", "structured_output": {"summary": "Pool"}}));
        let first = marks(&Progress::default(), &working, &[]);
        let [Mark::Findings(hash)] = first.as_slice() else {
            panic!("{first:?}")
        };
        let posted = Progress {
            posted: Some(hash.clone()),
            ..Progress::default()
        };
        assert_eq!(marks(&posted, &working, &[]), vec![]);
        let changed = state(json!({"status": "running", "structured_output": {"summary": "Disk"}}));
        assert!(matches!(
            marks(&posted, &changed, &[])[..],
            [Mark::Findings(_)]
        ));
        let silent =
            state(json!({"status": "running", "structured_output": {"state": "investigating"}}));
        assert_eq!(marks(&Progress::default(), &silent, &[]), vec![]);
    }

    #[test]
    fn a_question_is_posted_once_per_message() {
        let waiting = state(json!({"status": "running", "status_detail": "waiting_for_user"}));
        let asked = question("e7", "Can I restart the pods?");
        let posts = posts(&Progress::default(), &observed(&waiting, &asked));
        assert_eq!(posts.len(), 1);
        assert_eq!(
            posts[0].content,
            "[pagerduty-devin-bridge] Devin asks: Can I restart the pods?\nReply with a note on \
             this incident. (Session: https://app.devin.ai/sessions/abc)"
        );
        assert_eq!(posts[0].mark, Mark::Asked("e7".into()));
        let progress = Progress {
            asked: Some("e7".into()),
            ..Progress::default()
        };
        assert_eq!(marks(&progress, &waiting, &asked), vec![]);
        let next = question("e9", "And the database?");
        assert_eq!(
            marks(&progress, &waiting, &next),
            vec![Mark::Asked("e9".into())]
        );
        let working = state(json!({"status": "running", "status_detail": "working"}));
        assert_eq!(marks(&Progress::default(), &working, &asked), vec![]);
    }

    #[test]
    fn a_quota_state_is_noted_once() {
        let stopped = state(json!({"status": "suspended", "status_detail": "out_of_credits"}));
        assert_eq!(
            marks(&Progress::default(), &stopped, &[]),
            vec![Mark::Quota("out_of_credits".into())]
        );
        let noted = Progress {
            quota: Some("out_of_credits".into()),
            ..Progress::default()
        };
        assert_eq!(marks(&noted, &stopped, &[]), vec![]);
    }

    #[test]
    fn an_ended_session_gets_one_final_note() {
        let ended = state(json!({"status": "exit", "structured_output": {"summary": "Pool"}}));
        let fresh = marks(&Progress::default(), &ended, &[]);
        let [Mark::ClosedOut(Some(hash))] = fresh.as_slice() else {
            panic!("{fresh:?}")
        };
        let note = &posts(&Progress::default(), &observed(&ended, &[]))[0].content;
        assert!(note.starts_with(
            "[pagerduty-devin-bridge] Devin's session ended (exit). Final findings\nSummary: Pool"
        ));
        let posted = Progress {
            posted: Some(hash.clone()),
            ..Progress::default()
        };
        assert_eq!(marks(&posted, &ended, &[]), vec![Mark::ClosedOut(None)]);
        let bare = state(json!({"status": "running", "status_detail": "finished"}));
        let note = &posts(&Progress::default(), &observed(&bare, &[]))[0];
        assert_eq!(note.mark, Mark::ClosedOut(None));
        assert!(note.content.contains("ended (finished) without findings"));
    }

    fn said(id: &str, text: &str) -> Vec<SessionMessage> {
        question(id, text)
    }

    #[test]
    fn a_turn_that_ends_without_a_question_waits_for_a_reply_once() {
        let waiting = state(json!({"status": "running", "status_detail": "waiting_for_user"}));
        let report = said("e4", "I rolled back the deploy; errors are down.");
        assert_eq!(
            contents(&Progress::default(), &waiting, &report),
            ["[pagerduty-devin-bridge] Devin is waiting for a reply. Its last message: I rolled \
              back the deploy; errors are down.\nA note on this incident reaches the session. \
              (Session: https://app.devin.ai/sessions/abc)"]
        );
        assert_eq!(
            marks(&Progress::default(), &waiting, &report),
            vec![Mark::Waiting("e4".into())]
        );
        let noted = Progress {
            waiting: Some("e4".into()),
            ..Progress::default()
        };
        assert_eq!(marks(&noted, &waiting, &report), vec![]);
        // Devin said nothing: once, by what the session shows.
        let silent = marks(&Progress::default(), &waiting, &[]);
        let [Mark::Waiting(print)] = silent.as_slice() else {
            panic!("{silent:?}")
        };
        assert!(contents(&Progress::default(), &waiting, &[])[0]
            .contains("Devin is waiting for a reply: the session shows where it stopped."));
        let noted = Progress {
            waiting: Some(print.clone()),
            ..Progress::default()
        };
        assert_eq!(marks(&noted, &waiting, &[]), vec![]);
        // Unread messages, or a reply Devin has not taken up: nothing yet.
        let unread = Observed {
            messages: None,
            ..observed(&waiting, &[])
        };
        assert!(posts(&Progress::default(), &unread).is_empty());
        let replied = vec![SessionMessage {
            source: Some("user".into()),
            message: "Go ahead".into(),
            ..SessionMessage::default()
        }];
        assert_eq!(marks(&Progress::default(), &waiting, &replied), vec![]);
    }

    #[test]
    fn devin_asks_when_its_findings_are_blocked_or_its_last_message_is_a_question() {
        let waiting = json!({"status": "running", "status_detail": "waiting_for_user"});
        let blocked = state(
            json!({"status": "running", "status_detail": "waiting_for_user",
            "structured_output": {"state": "blocked", "summary": "Need access"}}),
        );
        let need = said("e5", "I need read access to the prod database.");
        let posted = contents(&Progress::default(), &blocked, &need);
        assert_eq!(posted.len(), 2, "{posted:?}");
        assert!(posted[0].starts_with("[pagerduty-devin-bridge] Devin's findings: blocked"));
        assert!(posted[1].starts_with(
            "[pagerduty-devin-bridge] Devin asks: I need read access to the prod database.\n"
        ));
        for text in [
            "Shall I roll back?",
            "Shall I roll back? ",
            "Which region (eu or us)?)",
            "**Shall I roll back?**",
            "\"Roll back?\"",
        ] {
            assert_eq!(
                marks(
                    &Progress::default(),
                    &state(waiting.clone()),
                    &said("e6", text)
                ),
                vec![Mark::Asked("e6".into())],
                "{text}"
            );
        }
        for text in [
            "Why? The pool was cut to 5.",
            "Done.",
            "Rolled back (why? the pool).",
        ] {
            assert_eq!(
                marks(
                    &Progress::default(),
                    &state(waiting.clone()),
                    &said("e6", text)
                ),
                vec![Mark::Waiting("e6".into())],
                "{text}"
            );
        }
        let approval =
            state(json!({"status": "suspended", "status_detail": "waiting_for_approval"}));
        assert_eq!(
            marks(
                &Progress::default(),
                &approval,
                &said("e8", "Running the migration.")
            ),
            vec![Mark::Asked("e8".into())]
        );
    }

    #[test]
    fn a_message_noted_as_waiting_is_asked_once_the_findings_turn_blocked() {
        let need = said("e4", "I need read access to the prod database.");
        let findings = |declared: &str| {
            state(
                json!({"status": "running", "status_detail": "waiting_for_user",
                "structured_output": {"state": declared, "summary": "Orders DB errors"}}),
            )
        };
        let (waiting, blocked) = (findings("investigating"), findings("blocked"));
        let posted = findings::findings_note(&waiting, URL, FINDINGS)
            .unwrap()
            .hash;
        let noted = Progress {
            posted: Some(posted),
            waiting: Some("e4".into()),
            ..Progress::default()
        };
        assert_eq!(marks(&noted, &waiting, &need), vec![]);
        // Only the findings' state changed: no findings note, but Devin now asks.
        assert_eq!(
            contents(&noted, &blocked, &need),
            [
                "[pagerduty-devin-bridge] Devin asks: I need read access to the prod database.\n\
              Reply with a note on this incident. (Session: https://app.devin.ai/sessions/abc)"
            ]
        );
        assert_eq!(
            marks(&noted, &blocked, &need),
            vec![Mark::Asked("e4".into())]
        );
        // Asked, and no longer blocked: that it waits on the same message adds nothing.
        let asked = Progress {
            asked: Some("e4".into()),
            ..noted
        };
        assert_eq!(marks(&asked, &waiting, &need), vec![]);
        assert_eq!(
            marks(&asked, &waiting, &said("e5", "Access granted, looking.")),
            vec![Mark::Waiting("e5".into())]
        );
    }

    #[test]
    fn a_session_asleep_gets_its_turn_end_note_from_its_last_message() {
        let asleep = state(json!({"status": "suspended", "status_detail": "inactivity"}));
        assert!(needs_messages(&asleep));
        assert_eq!(
            contents(
                &Progress::default(),
                &asleep,
                &said("e3", "Rolled back to v41.")
            ),
            [
                "[pagerduty-devin-bridge] Devin is waiting for a reply. Its last message: Rolled \
              back to v41.\nA note on this incident reaches the session. (Session: \
              https://app.devin.ai/sessions/abc)"
            ]
        );
        assert_eq!(
            marks(
                &Progress::default(),
                &asleep,
                &said("e3", "May I roll back?")
            ),
            vec![Mark::Asked("e3".into())]
        );
        for busy_or_gone in [
            json!({"status": "running", "status_detail": "working"}),
            json!({"status": "suspended", "status_detail": "out_of_credits"}),
            json!({"status": "exit"}),
        ] {
            assert!(
                !needs_messages(&state(busy_or_gone.clone())),
                "{busy_or_gone}"
            );
        }
        for turn_over in [
            json!({"status": "running", "status_detail": "waiting_for_user"}),
            json!({"status": "suspended", "status_detail": "waiting_for_approval"}),
        ] {
            assert!(needs_messages(&state(turn_over.clone())), "{turn_over}");
        }
    }

    #[test]
    fn concluded_findings_waiting_for_an_approval_ask_for_it_and_stay_followed() {
        let output = json!({"state": "concluded", "confidence": "high", "summary": "Pool size 5"});
        let approval = state(
            json!({"status": "suspended", "status_detail": "waiting_for_approval",
            "structured_output": output}),
        );
        assert!(needs_messages(&approval));
        let ask = said("e7", "I will push the hotfix branch.");
        let marks = marks(&Progress::default(), &approval, &ask);
        assert!(marks.contains(&Mark::Asked("e7".into())), "{marks:?}");
        assert!(
            !marks.iter().any(|mark| matches!(mark, Mark::ClosedOut(_))),
            "{marks:?}"
        );
        let waiting = state(
            json!({"status": "running", "status_detail": "waiting_for_user",
            "structured_output": output}),
        );
        assert!(
            !needs_messages(&waiting),
            "the final note does not quote Devin's last message"
        );
    }

    #[test]
    fn concluded_findings_close_the_session_out_once_its_turn_is_over() {
        let output = json!({"state": "concluded", "confidence": "high", "summary": "Pool size 5"});
        let at_work = state(json!({"status": "running", "status_detail": "working",
            "structured_output": output}));
        assert!(matches!(
            marks(&Progress::default(), &at_work, &[])[..],
            [Mark::Findings(_)]
        ));
        let done = state(
            json!({"status": "running", "status_detail": "waiting_for_user",
            "structured_output": output}),
        );
        // Its last message asks something, but the findings say it is over.
        let offer = said("e9", "Shall I open a pull request?");
        let fresh = posts(&Progress::default(), &observed(&done, &offer));
        let [Post {
            content,
            mark: Mark::ClosedOut(Some(hash)),
        }] = fresh.as_slice()
        else {
            panic!("{fresh:?}")
        };
        assert!(content.starts_with(
            "[pagerduty-devin-bridge] Devin concluded. Final findings: concluded, high \
             confidence\nSummary: Pool size 5\n"
        ));
        let posted = Progress {
            posted: Some(hash.clone()),
            ..Progress::default()
        };
        assert_eq!(
            contents(&posted, &done, &offer),
            [
                "[pagerduty-devin-bridge] Devin concluded; its findings are the last ones noted \
              here. The bridge no longer follows the session: a note on this incident still \
              reaches Devin, and `devin status` shows its latest findings. Session: \
              https://app.devin.ai/sessions/abc"
            ]
        );
        let asleep = state(json!({"status": "suspended", "status_detail": "inactivity",
            "structured_output": output}));
        assert_eq!(marks(&posted, &asleep, &[]), vec![Mark::ClosedOut(None)]);
    }

    #[test]
    fn a_session_unchanged_for_the_idle_time_is_closed_out() {
        let asleep = state(json!({"status": "suspended", "status_detail": "inactivity",
            "updated_at": 1795857125}));
        let Some(print) = seen_mark(&Progress::default(), &observed(&asleep, &[])) else {
            panic!("a first sight is a change")
        };
        let seen_since = |since_ms: u64| Progress {
            seen: Some(Seen {
                print: print.clone(),
                since_ms,
            }),
            ..Progress::default()
        };
        let day_ms = DAY.as_millis() as u64;
        assert_eq!(seen_mark(&seen_since(0), &observed(&asleep, &[])), None);
        // Its turn-end note is posted already: nothing before the idle time.
        let noted = |since_ms: u64| Progress {
            waiting: Some(print.clone()),
            ..seen_since(since_ms)
        };
        assert_eq!(marks(&noted(NOW_MS - day_ms + 1), &asleep, &[]), vec![]);
        assert_eq!(
            contents(&seen_since(NOW_MS - day_ms), &asleep, &[]),
            [
                "[pagerduty-devin-bridge] Devin's session has shown no change for 24 hours \
              (suspended, inactivity) without findings: the session shows what it did. The \
              bridge no longer follows the session: a note on this incident still reaches \
              Devin, and `devin status` shows its latest findings. Session: \
              https://app.devin.ai/sessions/abc"
            ]
        );
        // Anything that moves is a change: the clock starts again.
        for changed in [
            json!({"status": "suspended", "status_detail": "inactivity", "updated_at": 1795857999}),
            json!({"status": "running", "status_detail": "working", "updated_at": 1795857125}),
            json!({"status": "suspended", "status_detail": "inactivity", "updated_at": 1795857125,
                   "acus_consumed": 2.5}),
            json!({"status": "suspended", "status_detail": "inactivity", "updated_at": 1795857125,
                   "structured_output": {"summary": "x"}}),
        ] {
            let changed = state(changed);
            assert!(
                seen_mark(&seen_since(0), &observed(&changed, &[])).is_some(),
                "{changed:?}"
            );
            assert!(
                !marks(&seen_since(0), &changed, &[]).contains(&Mark::ClosedOut(None)),
                "{changed:?}"
            );
        }
        let hour = Observed {
            idle_after: Duration::from_secs(3600),
            ..observed(&asleep, &[])
        };
        assert!(posts(&seen_since(NOW_MS - 3_600_000), &hour)[0]
            .content
            .contains("no change for 1 hour (suspended, inactivity)"));
    }

    #[test]
    fn a_note_carries_a_short_reference_of_its_incident_and_mark() {
        let findings = Mark::Findings("abc".into());
        let reference = note_ref("Q1", "devin-1", &findings);
        assert_eq!(reference.len(), 6);
        assert_eq!(reference, note_ref("Q1", "devin-1", &findings), "stable");
        for other in [
            note_ref("Q2", "devin-1", &findings),
            note_ref("Q1", "devin-2", &findings),
            note_ref("Q1", "devin-1", &Mark::Findings("abd".into())),
            note_ref("Q1", "devin-1", &Mark::Asked("abc".into())),
            note_ref("Q1", "devin-1", &Mark::ClosedOut(None)),
        ] {
            assert_ne!(other, reference);
        }
        let note = with_ref(
            "[pagerduty-devin-bridge] Devin asks: Roll back?",
            &reference,
        );
        assert!(note.ends_with(&format!("\n(ref {reference})")));
        assert!(carries_ref(&note, &reference));
        assert!(carries_ref(&format!("{note}\n"), &reference));
        assert!(!carries_ref(&note, "000000"));
        let quoted = format!("Responder: see (ref {reference})");
        assert!(
            !carries_ref(&quoted, &reference),
            "only the bridge's own notes"
        );
    }

    #[test]
    fn an_unknown_quota_state_is_noted_plainly() {
        let stopped =
            state(json!({"status": "suspended", "status_detail": "user_usage_limit_exceeded"}));
        assert!(contents(&Progress::default(), &stopped, &[])[0]
            .contains("because a usage limit is reached (user_usage_limit_exceeded)"));
        let unknown = state(json!({"status": "suspended", "status_detail": "seat_cap_exceeded"}));
        assert!(contents(&Progress::default(), &unknown, &[])[0]
            .contains("because a limit is reached (seat_cap_exceeded)"));
    }
}
