//! Which notes an incident needs: the session's findings when they change, the end of Devin's
//! turn (a question, or that it waits for a reply), its quota, and the last note that closes
//! the session out.

use super::wording::{self, Closing};
use super::{Mark, Observed, Post, PostmortemPart, Progress};
use crate::life::session::{last_word, Phase, SessionMessage, SessionState};
use crate::text::findings::{self, hash, Declared};
use crate::text::postmortem;

/// The notes an incident needs, in the order to post them: the postmortem draft's first, so
/// that it is on the incident before any note that closes the incident out.
pub fn posts(progress: &Progress, observed: &Observed<'_>) -> Vec<Post> {
    let mut posts = postmortem_posts(progress, observed.state, observed.url);
    posts.extend(session_posts(progress, observed));
    posts
}

/// The postmortem draft's parts not posted yet, once the structured output carries one; none
/// once the last part was posted, whatever the draft says later.
pub(super) fn postmortem_posts(progress: &Progress, state: &SessionState, url: &str) -> Vec<Post> {
    if progress.postmortem.is_some_and(|posted| posted.is_whole()) {
        return Vec::new();
    }
    let Some(parts) = postmortem::notes(state, url) else {
        return Vec::new();
    };
    let of = parts.len() as u32;
    let done = progress.postmortem.map_or(0, |posted| posted.part);
    (1..)
        .zip(parts)
        .skip(done as usize)
        .map(|(part, content)| Post {
            content,
            mark: Mark::Postmortem(PostmortemPart { part, of }),
        })
        .collect()
}

/// The notes of what the session shows: its findings, the end of its turn, its quota, or the
/// note that closes it out.
fn session_posts(progress: &Progress, observed: &Observed<'_>) -> Vec<Post> {
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
    if let Some(note) = findings::findings_note(state, observed.url, wording::FINDINGS) {
        if progress.posted.as_ref() != Some(&note.hash) {
            let mark = Mark::Findings(note.hash);
            posts.push(Post {
                content: note.content,
                mark,
            });
        }
    }
    let turn_end = match phase {
        Phase::TurnEnded | Phase::Asleep | Phase::PausedByPerson => {
            turn_end_post(observed, declared == Some(Declared::Blocked))
        }
        Phase::WaitingForApproval => turn_end_post(observed, true),
        Phase::OutOfQuota(detail) if progress.quota.as_ref() != Some(&detail) => Some(Post {
            content: wording::quota_note(&detail, observed.url),
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
        Phase::TurnEnded | Phase::Asleep | Phase::PausedByPerson | Phase::OutOfQuota(_)
    )
}

/// Whether the session's turn-end note needs its messages: Devin's turn is over, and neither for
/// good nor for want of quota (those notes say why, not what Devin said last), nor concluded (the
/// final note is its findings).
pub fn needs_messages(state: &SessionState) -> bool {
    let concluded = findings::declared_state(state) == Some(Declared::Concluded);
    match state.phase() {
        Phase::WaitingForApproval => true,
        Phase::TurnEnded | Phase::Asleep | Phase::PausedByPerson => !concluded,
        _ => false,
    }
}

/// What to record of the session's activity: its print, when it is not the one last seen.
pub fn seen_mark(progress: &Progress, observed: &Observed<'_>) -> Option<String> {
    let seen = progress.seen.as_ref().map(|seen| &seen.print);
    (seen != Some(&observed.print)).then(|| observed.print.clone())
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
    let (why, after) = closing.words(observed);
    let title = format!("{why}. Final findings");
    let note = findings::findings_note(observed.state, observed.url, &title);
    let url = observed.url;
    match note {
        Some(note) if progress.posted.as_ref() != Some(&note.hash) => Post {
            content: note.content,
            mark: Mark::ClosedOut(Some(note.hash)),
        },
        Some(_) => Post {
            content: wording::findings_already_noted(&why, after, url),
            mark: Mark::ClosedOut(None),
        },
        None => Post {
            content: wording::without_findings(&why, after, url),
            mark: Mark::ClosedOut(None),
        },
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
            content: wording::waiting_note(None, observed.url),
            mark: Mark::Waiting(observed.print.clone()),
        });
    };
    let id = question_id(last);
    if asks || is_question(&last.message) {
        let content = wording::question_note(&last.message, observed.url);
        return Some(Post {
            content,
            mark: Mark::Asked(id),
        });
    }
    Some(Post {
        content: wording::waiting_note(Some(&last.message), observed.url),
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
