//! What must hold, read from the fakes (Devin's sessions and what each was told, PagerDuty's
//! notes) and the model's answers:
//!
//! - after every step: never two active sessions for one incident or its group; no note twice
//!   on an incident; no verified delivery answered 4xx; no create for an incident Devin
//!   rejected until a person asks (`devin investigate`);
//! - at the end, once failures stop: every open incident the policy investigates, not capped,
//!   rejected, ended by Devin or stopped by a person, has exactly one active session, counting
//!   those of the incidents merged into it (a merge answered 503 is retried: until then two
//!   may run, and only then must be one); every active session is recorded in the ledger; and
//!   every record of the ledger has an owner: no claim past its lease, no deferral past its time
//!   (DynamoDB: read from the table; the memory ledger's records are private to the crate).
//!
//! A session is *live* until it ends (Devin's `exit`/`error`/`finished`, or `DELETE`), and
//! *active* while live and not told to finish or stop (a resolve, a merge's hand-over), unless
//! told since to resume (a reopen, a joining incident, a merge's carry-on): a session winding
//! down after a hand-over is the design, not a double.
//!
//! Notes that may rightly repeat: those a person's event added (a note command's delivery, a
//! reopen's, or PagerDuty's retry of one): each answers its own event (`devin status` twice is
//! two status notes, `devin stop` twice two refusals, a reopen while the budget is spent the
//! capped note again).
//! Every other note, findings and session notes included, must differ from every note before it.

use std::collections::BTreeSet;
use std::time::Duration;

use pure::life;

use super::ops::{Incident, Which, INCIDENTS};
use super::setup::investigated;
use super::world::World;
use crate::support::devin::StoredSession;

/// The sweep looks back 60 minutes (`SWEEP_LOOKBACK_MINUTES`): an incident whose trigger never
/// arrived and that no run saw inside that window is beyond the bridge's reach by design. When
/// false, such incidents are excused at the end.
const SWEEP_SEES_EVERY_UNDELIVERED_INCIDENT: bool = false;
const SWEEP_LOOKBACK_MS: u64 = 60 * 60_000;

/// The incident (index) and generation a session's title names: ` [<id>]`, ` [<id>/<n>]`.
pub fn marker(session: &StoredSession) -> Option<(Which, u32)> {
    title_marker(session.title.as_deref()?)
}

pub fn title_marker(title: &str) -> Option<(Which, u32)> {
    let inside = title.strip_suffix(']')?.rsplit_once(" [")?.1;
    let (id, generation) = match inside.split_once('/') {
        Some((id, n)) => (id, n.parse().ok()?),
        None => (inside, 1),
    };
    Some((super::world::which(id)?, generation))
}

pub fn ended(session: &StoredSession) -> bool {
    let shown = &session.shown;
    session.ended
        || matches!(shown["status"].as_str(), Some("exit" | "error"))
        || shown["status_detail"] == "finished"
}

/// What Devin was told last that decides whether it goes on: stop (true) or resume (false), in
/// the words of `pure::text::messages` (a resolve's or a hand-over's "then stop"; a reopen's "resume
/// the investigation", a merge's or a group member's "carry on", a joining incident's "as part
/// of the same problem").
fn told_to_stop(world: &World, session: &str) -> bool {
    let mut stop = false;
    for message in world
        .devin
        .messages()
        .iter()
        .filter(|m| m.devin_id == session)
    {
        let text = message.message.to_lowercase();
        if text.contains("then stop") {
            stop = true;
        } else if text.contains("resume the investigation")
            || text.contains("carry on")
            || text.contains("as part of the same problem")
        {
            stop = false;
        }
    }
    stop
}

/// Live sessions told to finish or stop.
pub fn winding_down(world: &World) -> Vec<String> {
    world
        .devin
        .sessions()
        .iter()
        .filter(|session| !ended(session) && told_to_stop(world, &session.session_id))
        .map(|session| session.session_id.clone())
        .collect()
}

/// The incidents whose sessions count for `incident`: its group, and what was merged into any
/// of those, transitively: a merged incident whose session the incident took brings its group
/// along (that session is now the group's too); any other brings itself only (it had no
/// session, or its session stops, or carries on for its group's other open incidents, by
/// design: "#N merged, M still open"; a later incident of its group is new work).
fn covered(world: &World, incident: Which) -> BTreeSet<Which> {
    let mut set: BTreeSet<Which> = group(world, incident);
    loop {
        let more: BTreeSet<Which> = set
            .iter()
            .flat_map(|&member| world.known[member].merged_in.iter())
            .flat_map(|&(merged, took)| match took {
                true => group(world, merged),
                false => BTreeSet::from([merged]),
            })
            .collect();
        if more.is_subset(&set) {
            return set;
        }
        set.extend(more);
    }
}

/// Whether the incident's `generation` belongs to its group (the api incidents share one
/// session), not to itself alone.
fn grouped(world: &World, incident: Which, generation: u32) -> bool {
    INCIDENTS[incident].service == "api"
        && world.known[incident]
            .alone_from
            .is_none_or(|alone| generation < alone)
}

/// The incidents that share the incident's session now: its group's, or itself alone.
fn group(world: &World, incident: Which) -> BTreeSet<Which> {
    let now = |which: Which| grouped(world, which, u32::MAX);
    match now(incident) {
        true => (0..INCIDENTS.len()).filter(|&other| now(other)).collect(),
        false => BTreeSet::from([incident]),
    }
}

/// The incidents a session counts for: those of its incident's group when it was started for
/// the group (a group session led by an incident that has since gone alone still serves the
/// others), else its incident's; and those that took it in a merge.
fn counts_for(world: &World, session: &StoredSession) -> BTreeSet<Which> {
    let adopters: BTreeSet<Which> = (0..INCIDENTS.len())
        .filter(|&incident| world.known[incident].adopted.contains(&session.session_id))
        .collect();
    let mut counts_for = started_for(world, session);
    // Taken in a merge, the session works for the incident that took it, no longer for the
    // merged-away ones it was started for (a person may start one of those a session of its
    // own).
    if !adopters.is_empty() {
        counts_for.retain(|&incident| !world.known[incident].merged_away);
    }
    counts_for.extend(adopters);
    counts_for
}

/// The incidents of [`counts_for`] by the session's title alone.
fn started_for(world: &World, session: &StoredSession) -> BTreeSet<Which> {
    match marker(session) {
        // Not for those merged away without their session: their work went to another.
        Some((of, generation)) if grouped(world, of, generation) => (0..INCIDENTS.len())
            .filter(|&member| grouped(world, member, u32::MAX))
            .filter(|&member| !merged_without_session(world, member))
            .collect(),
        Some((of, _)) => BTreeSet::from([of]),
        None => BTreeSet::new(),
    }
}

/// Whether the incident was merged into one that did not take its session.
fn merged_without_session(world: &World, incident: Which) -> bool {
    world
        .known
        .iter()
        .any(|known| known.merged_in.contains(&(incident, false)))
}

fn active_among(world: &World, incidents: &BTreeSet<Which>) -> Vec<String> {
    world
        .devin
        .sessions()
        .iter()
        .filter(|session| !counts_for(world, session).is_disjoint(incidents))
        .filter(|session| !ended(session) && !told_to_stop(world, &session.session_id))
        .map(|session| session.session_id.clone())
        .collect()
}

/// The active sessions that count for the incident.
pub fn active_covering(world: &World, incident: Which) -> Vec<String> {
    active_among(world, &covered(world, incident))
}

/// After every step.
pub fn after_step(world: &World) -> Result<(), String> {
    if let Some(refused) = world.refused.first() {
        return Err(format!("a verified delivery was answered 4xx: {refused}"));
    }
    for (incident, Incident { id, .. }) in INCIDENTS.iter().enumerate() {
        let own = active_among(world, &group(world, incident));
        if own.len() > 1 {
            return Err(format!(
                "two active sessions for {id} (or its group): {own:?}"
            ));
        }
        notes_once(world, incident)?;
        if let Some(creates) = world.known[incident].rejected_after {
            let now = world.creates_for(incident);
            if now > creates {
                return Err(format!(
                    "{id} was started again after Devin rejected it, and nobody asked \
                     (`devin investigate`): {} creates after the rejection",
                    now - creates
                ));
            }
        }
    }
    Ok(())
}

fn notes_once(world: &World, incident: Which) -> Result<(), String> {
    let id = INCIDENTS[incident].id;
    let notes = world.pagerduty.notes_on(id);
    let answers = &world.known[incident].command_notes;
    for (n, note) in notes.iter().enumerate() {
        if answers.contains(&n) {
            continue;
        }
        if let Some(earlier) = notes[..n].iter().position(|before| before == note) {
            return Err(format!(
                "note {} on {id} is note {} again: {note:?}",
                n + 1,
                earlier + 1
            ));
        }
    }
    Ok(())
}

/// After the failures stopped and one follow-up run.
pub fn at_the_end(world: &World) -> Result<(), String> {
    let now_ms = world.now_ms();
    for (incident, known) in world.known.iter().enumerate() {
        let id = INCIDENTS[incident].id;
        let Some(created_ms) = known.created_ms else {
            continue;
        };
        let beyond_the_sweep = !known.triggered
            && now_ms.saturating_sub(created_ms) > SWEEP_LOOKBACK_MS
            && !SWEEP_SEES_EVERY_UNDELIVERED_INCIDENT;
        if !known.open || !investigated(incident) || known.excuse.is_some() || beyond_the_sweep {
            continue;
        }
        let active = active_covering(world, incident);
        if active.len() > 1 {
            return Err(format!(
                "two active sessions for {id} with the incidents merged into it, after the \
                 failures stopped and one follow-up run: {active:?}"
            ));
        }
        if active.is_empty() {
            return Err(format!(
                "open incident {id} has no active session after the failures stopped and one \
                 follow-up run"
            ));
        }
    }
    Ok(())
}

/// Every active session is recorded in the ledger (else nothing follows it), and no record is
/// left due after the last run: its owner (`pure::life::owner`) was the follow-up (a claim past
/// its lease, a pending start, a deferral or a cap whose time came) and the run did not move it.
/// Read straight from the table in moto; the memory ledger's records are private to the crate.
pub async fn ledger_owners(world: &World) -> Result<(), String> {
    let Some(table) = &world.table else {
        return Ok(());
    };
    let items = table
        .client
        .scan()
        .table_name(&table.name)
        .consistent_read(true)
        .send()
        .await
        .map_err(|err| format!("the ledger's table could not be read: {err:?}"))?
        .items
        .unwrap_or_default();
    let recorded: BTreeSet<&str> = items
        .iter()
        .filter_map(|item| item.get("session_id")?.as_s().ok())
        .map(String::as_str)
        .collect();
    for session in world.devin.sessions() {
        let active = !ended(&session) && !told_to_stop(world, &session.session_id);
        if active && !recorded.contains(session.session_id.as_str()) {
            return Err(format!(
                "session {} ({}) runs recorded nowhere in the ledger: followed by no one",
                session.session_id,
                session.title.as_deref().unwrap_or_default()
            ));
        }
    }
    let now_ms = world.now_ms();
    for Incident { id, .. } in INCIDENTS {
        let record = table
            .ledger
            .get(id, Duration::from_secs(2))
            .await
            .map_err(|err| format!("the ledger's record of {id} could not be read: {err}"))?;
        if let Some(record) = record.filter(|record| life::due(record, now_ms)) {
            return Err(format!(
                "the ledger's record of {id} is {} and due after the last run: its owner ({:?}) \
                 did not move it: {record:?}",
                life::state_name(&record),
                life::owner(&record)
            ));
        }
    }
    Ok(())
}
