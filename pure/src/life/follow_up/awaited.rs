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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::life::follow_up::{Mark, PostmortemPart};

    const DAY: Duration = Duration::from_secs(24 * 3600);
    const URL: &str = "https://app.devin.ai/sessions/s1";

    fn state(shown: serde_json::Value) -> SessionState {
        serde_json::from_value(shown).unwrap()
    }

    fn step(progress: &Progress, shown: serde_json::Value, now_ms: u64) -> Awaited {
        let state = state(shown);
        awaited_postmortem(progress, (&state, URL), 1_000, now_ms, DAY)
    }

    #[test]
    fn a_draft_is_posted_and_none_is_waited_for_until_the_session_ends_or_the_idle_time() {
        let none = Progress::default();
        let draft = json!({"status": "running", "structured_output":
            {"postmortem": {"summary": "v42 cut the pool.", "root_cause": "v42"}}});
        let Awaited::Post(posts) = step(&none, draft.clone(), 2_000) else {
            panic!("the draft is posted");
        };
        assert_eq!(
            posts.iter().map(|post| &post.mark).collect::<Vec<_>>(),
            [&Mark::Postmortem(PostmortemPart { part: 1, of: 1 })]
        );
        let whole = Progress {
            postmortem: Some(PostmortemPart { part: 1, of: 1 }),
            ..Progress::default()
        };
        assert_eq!(step(&whole, draft, 2_000), Awaited::Leave, "once");

        let at_work = json!({"status": "running", "structured_output": {"summary": "Pool"}});
        assert_eq!(step(&none, at_work.clone(), 2_000), Awaited::Wait);
        let day_later = 1_000 + DAY.as_millis() as u64;
        assert_eq!(step(&none, at_work, day_later), Awaited::Wait);
        let finished = json!({"status": "running", "status_detail": "finished"});
        assert_eq!(
            step(&none, finished.clone(), 2_000),
            Awaited::Wait,
            "a message resumes it"
        );
        assert_eq!(
            step(&none, finished, day_later + 1),
            Awaited::Leave,
            "past the idle time"
        );
        for ended in ["exit", "error"] {
            assert_eq!(step(&none, json!({"status": ended}), 2_000), Awaited::Leave);
        }
    }
}
