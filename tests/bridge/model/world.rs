//! One story's world: the Devin and PagerDuty fakes on loopback, the bridge's instances and the
//! follow-up in process on one ledger (memory, or a fresh table in moto), wall time moved by
//! `clock::WALL_CLOCK_SHIFT_MS`, and what the model knows that the fakes cannot show: which
//! incidents exist and are open, the deliveries PagerDuty will retry, and why an incident may
//! rightly have no session (capped, rejected, ended by Devin or stopped by a person).

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::clock::WALL_CLOCK_SHIFT_MS;
use pagerduty_devin_bridge::follow_up::FollowUp;
use serde_json::Value;

use super::events;
use super::invariants::marker;
use super::ops::{Which, INCIDENTS};
use super::setup::{LedgerKind, Parts, Table};
use crate::support::devin::FakeDevin;
use crate::support::ledger_faults::LedgerFaults;
use crate::support::moto::Moto;
use crate::support::pagerduty::FakePagerDuty;
use crate::support::{handle, now_ms};

/// A person's `devin investigate`, with words of theirs so that the session it starts is told
/// apart by its brief.
pub const ASK: &str = "devin investigate the model's person asks";
/// How those words show in the brief (`pure::text::responder_context`).
const ASKED_IN_PROMPT: &str = "BEGIN RESPONDER CONTEXT";

/// Why an open incident the policy investigates may rightly be without a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excuse {
    Capped,
    Rejected,
    /// Devin ended its session on its own: a person's `devin investigate` or a reopen starts
    /// the next one.
    Ended,
    /// A person stopped it (`devin stop`).
    Stopped,
}

/// A delivery answered for PagerDuty to retry.
#[derive(Debug, Clone)]
pub struct Pending {
    pub body: Value,
    pub what: String,
}

#[derive(Debug, Default, Clone)]
pub struct Known {
    /// When PagerDuty created it (world time), once it exists.
    pub created_ms: Option<u64>,
    pub open: bool,
    pub triggered: bool,
    pub excuse: Option<Excuse>,
    /// How many creates Devin had received for it when it rejected one: none more until a
    /// person asks.
    pub rejected_after: Option<usize>,
    /// Merged into another incident: resolved for good.
    pub merged_away: bool,
    /// From this generation on its sessions are its own, not its group's: a person started one
    /// (`devin investigate`), or it took the session of an incident merged into it when it had
    /// none (the bridge never saw its trigger, so it knows no group for it: docs/policy.md, merges).
    pub alone_from: Option<u32>,
    /// It took the session of an incident merged into it when it had none: alone from its first
    /// generation.
    pub alone_by_merge: bool,
    /// Incidents merged into this one, and whether this one took the merged one's session (it
    /// had none); else the merged one had none, or handed its over to this one's own (then it
    /// stops, or carries on for its group's other open incidents).
    pub merged_in: Vec<(Which, bool)>,
    /// The sessions this incident took from incidents merged into it: they work for it now,
    /// whatever becomes of the incident they were started for (a person may start that one a
    /// session of its own).
    pub adopted: Vec<String>,
    /// Indexes of its notes a person's event (a note command, a reopen) added: they may
    /// rightly repeat.
    pub command_notes: Vec<usize>,
}

pub struct World {
    pub devin: FakeDevin,
    pub pagerduty: FakePagerDuty,
    pub follow_up: FollowUp,
    /// The webhook instances on the table (DynamoDB); empty in memory, where the follow-up's
    /// bridge takes the deliveries.
    pub instances: Vec<Bridge>,
    pub faults: Option<LedgerFaults>,
    /// The ledger's table, read at the end (DynamoDB only: the memory ledger is private).
    pub table: Option<Table>,
    pub shift_ms: u64,
    /// How long a hanging or slow Devin takes.
    pub(super) devin_late: Duration,
    pub known: Vec<Known>,
    pub pending: VecDeque<Pending>,
    /// Verified deliveries answered 4xx (429 aside: PagerDuty retries it, as docs/operations.md says).
    pub refused: Vec<String>,
    /// Every answer, for the report of a failure: step, what, status, body.
    pub log: Vec<String>,
    pub(super) events: u32,
    /// Sessions an incident joined as its group's (`"status": "grouped"`), whatever their brief:
    /// the follow-up that takes over a person's abandoned start records the session that start
    /// made as the rule's, and later incidents of the group join it.
    pub group_sessions: BTreeSet<String>,
}

impl World {
    /// A fresh world; with moto, on a fresh table of it.
    pub async fn new(kind: LedgerKind, moto: Option<&Moto>, case: u64) -> World {
        let devin = FakeDevin::start().await;
        let pagerduty = FakePagerDuty::start().await;
        let parts = Parts::build(kind, moto, case, &devin.url, &pagerduty.url).await;
        World {
            devin,
            pagerduty,
            follow_up: parts.follow_up,
            instances: parts.instances,
            faults: parts.faults,
            table: parts.table,
            shift_ms: 0,
            devin_late: parts.devin_late,
            known: vec![Known::default(); INCIDENTS.len()],
            pending: VecDeque::new(),
            refused: Vec::new(),
            log: Vec::new(),
            events: 0,
            group_sessions: BTreeSet::new(),
        }
    }

    /// Wall time in the world.
    pub fn now_ms(&self) -> u64 {
        now_ms() + self.shift_ms
    }

    pub(super) fn instance(&self, on: usize) -> &Bridge {
        match self.instances.len() {
            0 => self.follow_up.bridge(),
            count => &self.instances[on % count],
        }
    }

    pub(super) fn next_event_id(&mut self, what: &str) -> String {
        self.events += 1;
        format!("EVMODEL{what}{}", self.events)
    }

    pub(super) fn created_ms(&self, incident: Which) -> u64 {
        self.known[incident]
            .created_ms
            .unwrap_or_else(|| self.now_ms())
    }

    pub(super) fn trigger(&self, incident: Which) -> Value {
        events::triggered(incident, self.created_ms(incident))
    }

    /// A responder's resolve or reopen, the incident now `status`.
    pub(super) fn by_responder(
        &mut self,
        incident: Which,
        event_type: &str,
        status: &str,
    ) -> Value {
        let id = self.next_event_id(event_type);
        let created_ms = self.created_ms(incident);
        events::by_responder(&id, incident, created_ms, event_type, status, self.now_ms())
    }

    /// Delivers `body` to instance `on` now, signed as PagerDuty signs it: status and answer.
    /// What a person's event adds (a note command's answers, a reopen's start) may rightly
    /// repeat: each answers its own event.
    pub async fn deliver(&mut self, on: usize, body: &Value, what: &str) -> (u16, Value) {
        let event = events::signed(body, self.now_ms());
        let data = &body["event"]["data"];
        let commanded = match body["event"]["event_type"].as_str() {
            Some("incident.annotated") => data["incident"]["id"].as_str().and_then(which),
            Some("incident.reopened") => data["id"].as_str().and_then(which),
            _ => None,
        };
        let notes =
            |world: &World, incident: Which| world.pagerduty.notes_on(INCIDENTS[incident].id).len();
        let before = commanded.map(|incident| notes(self, incident));
        let (status, answer, _) = WALL_CLOCK_SHIFT_MS
            .scope(self.shift_ms, handle(self.instance(on), &event))
            .await;
        if let (Some(incident), Some(before)) = (commanded, before) {
            let after = notes(self, incident);
            self.known[incident].command_notes.extend(before..after);
        }
        self.answered(body, what, status, &answer);
        (status, answer)
    }

    /// Two deliveries of `body` at once, on both instances (in memory: both on the one).
    pub(super) async fn deliver_twice(&mut self, body: &Value, what: &str) {
        let event = events::signed(body, self.now_ms());
        let shift = self.shift_ms;
        let (first, second) = tokio::join!(
            WALL_CLOCK_SHIFT_MS.scope(shift, handle(self.instance(0), &event)),
            WALL_CLOCK_SHIFT_MS.scope(shift, handle(self.instance(1), &event)),
        );
        for (status, answer, _) in [first, second] {
            self.answered(body, what, status, &answer);
        }
    }

    /// Keeps what an answer tells the model: a retry to come, an excuse.
    pub(super) fn answered(&mut self, body: &Value, what: &str, status: u16, answer: &Value) {
        self.log.push(format!("    {what}: {status} {answer}"));
        self.note_group_session(answer);
        if (400..500).contains(&status) && status != 429 {
            self.refused.push(format!("{what}: {status} {answer}"));
        }
        if status >= 500 || status == 429 {
            self.pending.push_back(Pending {
                body: body.clone(),
                what: what.to_owned(),
            });
        }
        let incident = answer["incident_id"].as_str().and_then(which);
        let final_answer = status < 500 && status != 429;
        let content = body["event"]["data"]["content"].as_str();
        let outcome = answer["status"].as_str().unwrap_or("");
        // The merge counts from its final answer: a person's investigate answered before it
        // (PagerDuty retrying both) came first.
        let reason = &body["event"]["data"]["resolve_reason"];
        let into = reason["incident"]["id"].as_str().and_then(which);
        if let (Some(from), Some(into), true) = (incident, into, final_answer) {
            let known = &mut self.known[into];
            if reason["type"] == "merge_resolve_reason"
                && !known.merged_in.iter().any(|&(merged, _)| merged == from)
            {
                let took = answer["status"] == "merged" && answer["into_session_id"].is_null();
                known.merged_in.push((from, took));
            }
            if answer["status"] == "merged" && answer["into_session_id"].is_null() {
                self.known[into].alone_by_merge = true;
                if let Some(session) = answer["session_id"].as_str() {
                    self.known[into].adopted.push(session.to_owned());
                    // Taken before Devin ended it (a retried merge whose first try took it):
                    // its end is this incident's too, which waits for a person, as for any
                    // session Devin ended.
                    let sessions = self.devin.sessions();
                    let taken = sessions.iter().find(|taken| taken.session_id == session);
                    if taken.is_some_and(super::invariants::ended)
                        && self.known[into].excuse.is_none()
                    {
                        self.known[into].excuse = Some(Excuse::Ended);
                    }
                }
            }
        }
        // A person asked at the first delivery of their `devin investigate`, whatever it was
        // answered: a start it began (and a 503 left to its retry or the follow-up) is theirs,
        // and whatever excused the incident before no longer does. What happens after (Devin
        // ending that session) excuses it again: PagerDuty's retry is not a new ask.
        let noted_on = body["event"]["data"]["incident"]["id"]
            .as_str()
            .and_then(which);
        if let (Some(asked), Some(ASK)) = (noted_on, content) {
            self.known[asked].rejected_after = None;
            if !what.starts_with("retry of ") {
                self.known[asked].excuse = None;
            }
        }
        match (incident, content) {
            (Some(incident), Some(content)) if final_answer => {
                self.commanded(incident, content, answer)
            }
            (Some(incident), None) => self.excuse_by_status(incident, outcome),
            _ => {}
        }
        self.note_asked_sessions();
    }

    /// Keeps the session of an answer (a delivery's, a follow-up action's) that says an incident
    /// joined it as its group's session (`"status": "grouped"`): the group's record holds it.
    /// (A session only started under the grouping rule may have lost its group to another
    /// started at the same time: that incident keeps its own, by design.)
    pub(super) fn note_group_session(&mut self, answer: &Value) {
        if let (Some("grouped"), Some(session)) =
            (answer["status"].as_str(), answer["session_id"].as_str())
        {
            self.group_sessions.insert(session.to_owned());
        }
    }

    /// A session a person asked for is the incident's own from its generation on: its brief
    /// carries the person's words ([`ASK`]), whatever the delivery was answered.
    /// (Unless an incident joined it as its group's: [`World::group_sessions`].)
    pub(super) fn note_asked_sessions(&mut self) {
        for known in &mut self.known {
            known.alone_from = known.alone_by_merge.then_some(1);
        }
        for session in self.devin.sessions() {
            let asked = session.prompt.contains(ASKED_IN_PROMPT)
                && !self.group_sessions.contains(&session.session_id);
            if let (true, Some((incident, generation))) = (asked, marker(&session)) {
                let alone_from = &mut self.known[incident].alone_from;
                *alone_from = Some(alone_from.map_or(generation, |from| from.min(generation)));
            }
        }
    }

    pub(super) fn excuse_by_status(&mut self, incident: Which, status: &str) {
        match status {
            "capped" => self.known[incident].excuse = Some(Excuse::Capped),
            "devin_rejected" => {
                self.known[incident].excuse = Some(Excuse::Rejected);
                self.known[incident].rejected_after = Some(self.creates_for(incident));
            }
            _ => {}
        }
    }

    /// The session creations Devin received for the incident (its title's marker), answered
    /// or not.
    pub fn creates_for(&self, incident: Which) -> usize {
        let received = self.devin.received();
        let titles = received
            .iter()
            .filter_map(|create| create.body["title"].as_str());
        titles
            .filter(|title| {
                super::invariants::title_marker(title).is_some_and(|(of, _)| of == incident)
            })
            .count()
    }

    /// Makes the incident exist at PagerDuty (once).
    pub(super) fn appear(&mut self, incident: Which) {
        if self.known[incident].created_ms.is_none() {
            self.known[incident].created_ms = Some(self.now_ms());
            self.known[incident].open = true;
            let created_ms = self.now_ms();
            let incident = events::incident_json(incident, created_ms, "triggered");
            self.pagerduty.add_incident(incident);
        }
    }
}

/// How a retry of the delivery `what` is logged.
pub fn retry_of(what: &str) -> String {
    match what.starts_with("retry of ") {
        true => what.to_owned(),
        false => format!("retry of {what}"),
    }
}

/// The index of an incident id of the stories.
pub fn which(id: &str) -> Option<Which> {
    INCIDENTS.iter().position(|incident| incident.id == id)
}
