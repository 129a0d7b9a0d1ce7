//! The postmortem draft of an incident whose record was closed out before it resolved: the
//! resolve asked the session all the same, and the record waits in the postmortem queue until
//! the follow-up posts the draft, or gives up on it.

use std::time::Duration;

use super::decision::postmortem_posts;
use super::{Post, Progress};
use crate::life::session::SessionState;

/// What the follow-up does with an awaited draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaited {
    /// Post these parts, in order (the last one takes the record out of the queue).
    Post(Vec<Post>),
    /// No draft yet: the next run looks again.
    Wait,
    /// Leave the queue, no note: every part is posted, the session ended (`exit`, `error`: no
    /// message resumes it) without a draft, or the ask is older than the idle time.
    Leave,
}

/// What to do with the draft of a session that shows `state`, asked at `asked_at_ms`.
pub fn awaited_postmortem(
    progress: &Progress,
    (state, url): (&SessionState, &str),
    asked_at_ms: u64,
    now_ms: u64,
    idle_after: Duration,
) -> Awaited {
    let posts = postmortem_posts(progress, state, url);
    if !posts.is_empty() {
        return Awaited::Post(posts);
    }
    let whole = progress.postmortem.is_some_and(|posted| posted.is_whole());
    // `finished` is not the end here: the resolve's message resumes such a session.
    let ended = matches!(state.status.as_deref(), Some("exit" | "error"));
    let aged = now_ms.saturating_sub(asked_at_ms) > idle_after.as_millis() as u64;
    if whole || ended || aged {
        Awaited::Leave
    } else {
        Awaited::Wait
    }
}
