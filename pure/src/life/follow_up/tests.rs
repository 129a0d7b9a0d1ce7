use serde_json::json;

use super::wording::FINDINGS;
use super::*;
use crate::text::findings;

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

fn contents(progress: &Progress, state: &SessionState, messages: &[SessionMessage]) -> Vec<String> {
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
        [
            "[pagerduty-devin-bridge] Devin is waiting for a reply. Its last message: I rolled \
              back the deploy; errors are down.\nA note on this incident reaches the session. \
              (Session: https://app.devin.ai/sessions/abc)"
        ]
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
    let approval = state(json!({"status": "suspended", "status_detail": "waiting_for_approval"}));
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

fn draft(summary: &str) -> serde_json::Value {
    json!({"summary": summary, "impact": "Checkout down 20 min", "timeline":
        [{"at": "2026-11-30T09:05:00Z", "what": "Deploy"}], "root_cause": "Pool cut to 5",
        "what_fixed_it": "The revert", "went_well": ["Fast page"], "went_badly": [],
        "action_items": [{"item": "Alert on pool waits", "owner": null}]})
}

#[test]
fn the_postmortem_draft_is_posted_once_before_the_note_that_closes_out() {
    let concluded = state(
        json!({"status": "running", "status_detail": "waiting_for_user",
        "structured_output": {"state": "concluded", "summary": "Pool", "postmortem": draft("Pool")}}),
    );
    let first = posts(&Progress::default(), &observed(&concluded, &[]));
    let one = PostmortemPart { part: 1, of: 1 };
    assert_eq!(first[0].mark, Mark::Postmortem(one));
    assert!(first[0]
        .content
        .starts_with("[pagerduty-devin-bridge] Devin's postmortem draft\n"));
    assert!(
        matches!(first[1].mark, Mark::ClosedOut(Some(_))),
        "{first:?}"
    );
    assert_eq!(first.len(), 2);
    // Posted: a changed draft is not posted again.
    let posted = Progress {
        postmortem: Some(one),
        ..Progress::default()
    };
    let changed = state(json!({"status": "running", "structured_output":
        {"summary": "Pool", "postmortem": draft("Something else entirely")}}));
    assert!(!marks(&posted, &changed, &[])
        .iter()
        .any(|mark| matches!(mark, Mark::Postmortem(_))));
    // An ended session's draft comes before its final note too.
    let ended =
        state(json!({"status": "exit", "structured_output": {"postmortem": draft("Pool")}}));
    assert_eq!(
        marks(&Progress::default(), &ended, &[]),
        vec![Mark::Postmortem(one), Mark::ClosedOut(None)]
    );
    // No draft, or an empty one: nothing.
    let empty = state(json!({"status": "running", "structured_output": {"postmortem": {}}}));
    assert_eq!(marks(&Progress::default(), &empty, &[]), vec![]);
}

#[test]
fn a_long_draft_is_posted_part_by_part_each_once() {
    let long = "The pool was cut. ".repeat(80);
    let mut long_draft = draft(&long);
    long_draft["impact"] = json!(long);
    long_draft["root_cause"] = json!(long);
    let s = state(json!({"status": "running", "structured_output": {"postmortem": long_draft}}));
    let all = marks(&Progress::default(), &s, &[]);
    assert!(all.len() >= 2, "{all:?}");
    let of = all.len() as u32;
    for (n, mark) in (1..).zip(&all) {
        assert_eq!(*mark, Mark::Postmortem(PostmortemPart { part: n, of }));
    }
    let halfway = Progress {
        postmortem: Some(PostmortemPart { part: 1, of }),
        ..Progress::default()
    };
    assert_eq!(marks(&halfway, &s, &[]), all[1..].to_vec());
    let refs: Vec<String> = all.iter().map(|m| note_ref("Q1", "s1", m)).collect();
    assert_ne!(refs[0], refs[1], "each part has its own reference");
}

#[test]
fn the_stored_postmortem_part_reads_back() {
    let part = PostmortemPart { part: 2, of: 3 };
    assert_eq!(PostmortemPart::from_stored(&part.stored()), Some(part));
    assert!(!part.is_whole() && PostmortemPart { part: 3, of: 3 }.is_whole());
    for bad in ["", "2", "a/b", "2/3/4"] {
        assert_eq!(PostmortemPart::from_stored(bad), None, "{bad}");
    }
}
