//! The follow-up's decision for one incident of a session: which notes to post, given what the
//! session shows now and what the ledger says was posted already. Each note comes with the mark
//! the ledger records once it is posted, so that a later run never posts it again.

use crate::pure::findings::{self, hash};
use crate::pure::notes::BRIDGE_NOTE_MARKER;
use crate::pure::quote::plain;
use crate::pure::session::{open_question, Phase, SessionMessage, SessionState};

/// The longest question shown, in characters.
const MAX_QUESTION: usize = 2000;
const FINDINGS: &str = "Devin's findings";

/// What the ledger says was posted on an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The hash of the findings last posted.
    pub posted: Option<String>,
    /// The id of the last question posted.
    pub asked: Option<String>,
    /// The quota state last noted.
    pub quota: Option<String>,
}

/// What the ledger records once a note is posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Findings(String),
    Asked(String),
    Quota(String),
    /// The session ended and its final note is posted: the incident leaves the follow-up,
    /// with the hash of the findings that note showed, if it showed them.
    ClosedOut(Option<String>),
}

/// A note to post on an incident, and what to record once it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub content: String,
    pub mark: Mark,
}

/// A session as the follow-up found it.
pub struct Observed<'a> {
    pub state: &'a SessionState,
    pub url: &'a str,
    /// Its messages, read only when it waits for a person.
    pub messages: &'a [SessionMessage],
}

/// The notes an incident needs, in the order to post them.
pub fn posts(progress: &Progress, observed: &Observed<'_>) -> Vec<Post> {
    let mut posts = Vec::new();
    let phase = observed.state.phase();
    if let Phase::Ended(how) = &phase {
        posts.push(final_post(progress, observed, how));
        return posts;
    }
    if let Some(note) = findings::findings_note(observed.state, observed.url, FINDINGS) {
        if progress.posted.as_ref() != Some(&note.hash) {
            let mark = Mark::Findings(note.hash);
            posts.push(Post {
                content: note.content,
                mark,
            });
        }
    }
    match phase {
        Phase::WaitingForPerson => {
            if let Some(question) = open_question(observed.messages) {
                let id = question_id(question);
                if progress.asked.as_ref() != Some(&id) {
                    let content = question_note(&question.message, observed.url);
                    let mark = Mark::Asked(id);
                    posts.push(Post { content, mark });
                }
            }
        }
        Phase::OutOfQuota(detail) if progress.quota.as_ref() != Some(&detail) => {
            let content = quota_note(&detail, observed.url);
            posts.push(Post {
                content,
                mark: Mark::Quota(detail),
            });
        }
        _ => {}
    }
    posts
}

/// The last note of an ended session: its final findings when they are new, else a line that
/// says it ended.
fn final_post(progress: &Progress, observed: &Observed<'_>, how: &str) -> Post {
    let title = format!("Devin's session ended ({how}). Final findings");
    let note = findings::findings_note(observed.state, observed.url, &title);
    match note {
        Some(note) if progress.posted.as_ref() != Some(&note.hash) => Post {
            content: note.content,
            mark: Mark::ClosedOut(Some(note.hash)),
        },
        Some(_) => Post {
            content: format!(
                "{BRIDGE_NOTE_MARKER} Devin's session ended ({how}); its findings are the last \
                 ones noted here. Session: {}",
                observed.url
            ),
            mark: Mark::ClosedOut(None),
        },
        None => Post {
            content: format!(
                "{BRIDGE_NOTE_MARKER} Devin's session ended ({how}) without findings: the \
                 session shows what it did. Session: {}",
                observed.url
            ),
            mark: Mark::ClosedOut(None),
        },
    }
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

fn quota_note(detail: &str, session_url: &str) -> String {
    let why = match detail {
        "usage_limit_exceeded" | "org_usage_limit_exceeded" => "a usage limit is reached",
        "total_session_limit_exceeded" => "the organization's session limit is reached",
        "out_of_credits" | "out_of_quota" | "no_quota_allocation" => "it is out of credits",
        "payment_declined" => "the organization's payment was declined",
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

    fn marks(progress: &Progress, state: &SessionState, messages: &[SessionMessage]) -> Vec<Mark> {
        let observed = Observed {
            state,
            url: URL,
            messages,
        };
        posts(progress, &observed)
            .into_iter()
            .map(|p| p.mark)
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
        let observed = Observed {
            state: &waiting,
            url: URL,
            messages: &asked,
        };
        let posts = posts(&Progress::default(), &observed);
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
        let observed = Observed {
            state: &ended,
            url: URL,
            messages: &[],
        };
        let note = &posts(&Progress::default(), &observed)[0].content;
        assert!(note.starts_with(
            "[pagerduty-devin-bridge] Devin's session ended (exit). Final findings\nSummary: Pool"
        ));
        let posted = Progress {
            posted: Some(hash.clone()),
            ..Progress::default()
        };
        assert_eq!(marks(&posted, &ended, &[]), vec![Mark::ClosedOut(None)]);
        let bare = state(json!({"status": "running", "status_detail": "finished"}));
        let observed = Observed {
            state: &bare,
            url: URL,
            messages: &[],
        };
        let note = &posts(&Progress::default(), &observed)[0];
        assert_eq!(note.mark, Mark::ClosedOut(None));
        assert!(note.content.contains("ended (finished) without findings"));
    }
}
