//! Finding an incident's session again without tags.
//!
//! The ledger is the record of which session investigates an incident. When that record is
//! missing (a create that timed out or answered 5xx after Devin stored the session, or a claim
//! whose holder died), the session must be found in Devin. Tags cannot be relied on for this:
//! a Devin organization with tag validation accepts only allow-listed tags, and a
//! `pagerduty-incident:<id>` tag can never be allow-listed in advance. So every title the bridge
//! sends ends with a marker naming the incident (`… [Q3VQH2T8RZK1MN]`), and a lookup lists the
//! sessions created since the claim and matches that marker exactly.
//!
//! The marker comes last, after whatever a title template rendered from the payload, so the
//! end of a title is always the bridge's own: an incident title crafted to read `[P1]` is
//! followed by its own incident's marker and never ends with `P1`'s. Ids outside PagerDuty's
//! alphabet (letters, digits) get no marker and are never matched: such an id could spell
//! another incident's marker (`x [P1`).

use crate::life::records::MAX_CLAIM_LEASE_SECONDS;
use crate::life::session::{ListedSession, Session};
use crate::text::quote;

/// An epoch number at or above this is read as milliseconds: as seconds it would be the year
/// 5138, as milliseconds it is March 1973. Devin documents `created_at` and `created_after` as
/// integers "epoch time", without saying which unit.
const MILLISECONDS_FROM: f64 = 100_000_000_000.0;

/// How far Devin's clock may be behind ours when a window of creation times is asked for.
const CLOCK_SKEW_S: u64 = 300;

/// The marker that ends the title of `incident_id`'s session, when the id is in PagerDuty's
/// alphabet: ` [<id>]` for its first session, ` [<id>/<n>]` for the n-th (`pure::life`'s
/// generations: a reopen or `devin investigate` after a session ended).
fn title_marker(incident_id: &str, generation: u32) -> Option<String> {
    let plain = !incident_id.is_empty() && incident_id.chars().all(|c| c.is_ascii_alphanumeric());
    plain.then(|| match generation {
        0 | 1 => format!(" [{incident_id}]"),
        n => format!(" [{incident_id}/{n}]"),
    })
}

/// `title` (one line) ended with the incident's marker, the whole at most `max_chars`: the
/// title is cut once (with `…`) to the room the marker leaves, the marker never is. An id
/// without a marker leaves the title the whole room.
pub fn with_incident_marker(title: &str, incident_id: &str, max_chars: usize) -> String {
    with_generation_marker(title, incident_id, 1, max_chars)
}

/// [`with_incident_marker`] for the incident's `generation`-th session: a first session's
/// marker already on `title` is replaced.
pub fn with_generation_marker(
    title: &str,
    incident_id: &str,
    generation: u32,
    max_chars: usize,
) -> String {
    let first = title_marker(incident_id, 1).unwrap_or_default();
    let title = title.strip_suffix(first.as_str()).unwrap_or(title);
    let marker = title_marker(incident_id, generation).unwrap_or_default();
    let room = max_chars.saturating_sub(marker.chars().count());
    let mut titled = quote::cut(title, room);
    titled.push_str(&marker);
    titled
}

/// Whether `title` is the title of `incident_id`'s session: it ends with exactly that
/// incident's marker (so `P1` never matches `P12`'s title, nor a title that merely mentions it).
fn names_incident(title: &str, incident_id: &str, generation: u32) -> bool {
    title_marker(incident_id, generation).is_some_and(|marker| title.ends_with(&marker))
}

/// An epoch number in seconds, whichever unit it came in.
pub fn epoch_seconds(value: f64) -> f64 {
    if value >= MILLISECONDS_FROM {
        value / 1000.0
    } else {
        value
    }
}

/// The `created_after` to list a taken-over claim's session with, in epoch **seconds**: the
/// earliest its holder can have created it (its lease's end less the longest lease), less the
/// clocks' skew.
///
/// Seconds, because the unit is not documented and seconds are safe either way: if Devin reads
/// it as seconds the window is right; if as milliseconds it reaches back to 1970 and the list
/// only grows ([`listed_before`] tells, and the client asks again in milliseconds).
/// Milliseconds read as seconds would ask for the year 58000 and find nothing.
/// [`incident_session`] applies the window itself, in either unit.
pub fn created_after_s(earlier_lease_until_ms: u64) -> u64 {
    (earlier_lease_until_ms / 1000).saturating_sub(MAX_CLAIM_LEASE_SECONDS + CLOCK_SKEW_S)
}

/// Whether Devin listed a session created before `created_after_s` (epoch seconds): then it did
/// not read the `created_after` it was sent as seconds (it counts in milliseconds, or ignores
/// the filter), and the list reaches back to the organization's first session.
pub fn listed_before(items: &[ListedSession], created_after_s: u64) -> bool {
    items.iter().any(|listed| {
        listed
            .created_at
            .is_some_and(|at| epoch_seconds(at) < created_after_s as f64)
    })
}

/// The `generation`-th session of `incident_id` among those Devin listed: titled for it, created
/// at or after `created_after_s` (epoch seconds; the items' `created_at` read in either unit;
/// one without it is kept, since the window is only a narrowing), neither archived nor ended in
/// an error. The list's order is not documented: the newest wins.
pub fn incident_session(
    items: &[ListedSession],
    incident_id: &str,
    generation: u32,
    created_after_s: u64,
) -> Option<Session> {
    let created = |listed: &ListedSession| listed.created_at.map(epoch_seconds);
    items
        .iter()
        .filter(|listed| {
            listed
                .title
                .as_deref()
                .is_some_and(|title| names_incident(title, incident_id, generation))
        })
        .filter(|listed| !listed.is_archived && listed.status.as_deref() != Some("error"))
        .filter(|listed| created(listed).is_none_or(|at| at >= created_after_s as f64))
        .max_by(|a, b| {
            let (a, b) = (created(a).unwrap_or(0.0), created(b).unwrap_or(0.0));
            a.total_cmp(&b)
        })
        .map(|listed| listed.session.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(json: &str) -> ListedSession {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_marker_ends_the_title_and_is_never_cut() {
        assert_eq!(
            with_incident_marker("PagerDuty #7 · api: down", "Q1", 120),
            "PagerDuty #7 · api: down [Q1]"
        );
        let long = "x".repeat(200);
        let titled = with_incident_marker(&long, "Q3VQH2T8RZK1MN", 120);
        assert_eq!(titled.chars().count(), 120);
        assert!(titled.ends_with("x… [Q3VQH2T8RZK1MN]"), "{titled}");
        assert_eq!(with_incident_marker("t", "x [P1", 120), "t");
        let first = with_incident_marker("api: down", "Q1", 120);
        assert_eq!(
            with_generation_marker(&first, "Q1", 2, 120),
            "api: down [Q1/2]"
        );
        assert_eq!(with_generation_marker(&first, "Q1", 1, 120), first);
    }

    #[test]
    fn only_the_exact_incident_matches() {
        assert!(names_incident("PagerDuty #1 · api: down [P1]", "P1", 1));
        assert!(names_incident("PagerDuty #1 · api: down [P1/2]", "P1", 2));
        assert!(!names_incident("PagerDuty #1 · api: down [P1]", "P1", 2));
        assert!(!names_incident("PagerDuty #1 · api: down [P1/2]", "P1", 1));
        for (title, id) in [
            ("PagerDuty #12 · api: down [P12]", "P1"),
            ("PagerDuty #1 · api: down [P1]", "P12"),
            ("PagerDuty #1 · api: down [XP1]", "P1"),
            ("a title that mentions [P1] [P2]", "P1"),
            ("[P1] in front", "P1"),
            ("PagerDuty #1 · api: down [p1]", "P1"),
            ("anything [x [P1]", "x [P1"),
            ("no marker", ""),
        ] {
            assert!(!names_incident(title, id, 1), "{title} named {id}");
        }
    }

    #[test]
    fn a_list_reaching_before_the_window_is_seen() {
        let at = |created_at: u64| {
            listed(&format!(
                r#"{{"session_id":"d","url":"u","created_at":{created_at}}}"#
            ))
        };
        assert!(!listed_before(&[at(2_000), at(1_000)], 1_000));
        assert!(listed_before(&[at(2_000), at(999)], 1_000));
        const T: u64 = 1_795_857_125;
        assert!(listed_before(&[at((T - 10) * 1000)], T), "in milliseconds");
        assert!(!listed_before(&[at(T * 1000)], T));
        assert!(!listed_before(&[], 1_000));
    }

    #[test]
    fn epoch_numbers_are_read_in_either_unit() {
        assert_eq!(epoch_seconds(1_795_857_125.0), 1_795_857_125.0);
        assert_eq!(epoch_seconds(1_795_857_125_000.0), 1_795_857_125.0);
        assert_eq!(created_after_s(1_795_857_125_999), 1_795_857_125 - 1200);
        assert_eq!(created_after_s(0), 0);
    }

    #[test]
    fn the_newest_live_session_titled_for_the_incident_inside_the_window_is_found() {
        let item = |id: &str, title: &str, at: u64, extra: &str| {
            listed(&format!(
                r#"{{"session_id":"{id}","url":"u","title":"{title}","created_at":{at}{extra}}}"#
            ))
        };
        const T: u64 = 1_795_857_000;
        let items = [
            item("devin-old", "t [P1]", T - 10, ""),
            item("devin-a", "t [P1]", T + 10, ""),
            item("devin-b", "t [P1]", (T + 20) * 1000, ""),
            item("devin-c", "t [P12]", T + 30, ""),
            item("devin-d", "t [P1]", T + 40, r#","status":"error""#),
            item("devin-e", "t [P1]", T + 50, r#","is_archived":true"#),
            listed(r#"{"session_id":"devin-f","url":"u","created_at":1795857060}"#),
        ];
        let found = incident_session(&items, "P1", 1, T).unwrap();
        assert_eq!(found.session_id, "devin-b", "created_at in milliseconds");
        assert_eq!(
            incident_session(&items[..2], "P1", 1, T)
                .unwrap()
                .session_id,
            "devin-a"
        );
        assert_eq!(incident_session(&items, "P2", 1, 0), None);
        assert_eq!(
            incident_session(&items[..1], "P1", 1, T),
            None,
            "before the window"
        );
        let undated = [listed(
            r#"{"session_id":"devin-u","url":"u","title":"t [P1]"}"#,
        )];
        assert!(incident_session(&undated, "P1", 1, T).is_some());
    }
}
