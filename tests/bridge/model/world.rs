//! One story's world: the Devin and PagerDuty fakes on loopback, the bridge's instances and the
//! follow-up in process on one ledger (memory, or a fresh table in moto), wall time moved by
//! `clock::WALL_CLOCK_SHIFT_MS`, and what the model knows that the fakes cannot show: which
//! incidents exist and are open, the deliveries PagerDuty will retry, and why an incident may
//! rightly have no session (capped, rejected, ended by Devin or stopped by a person).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::clock::WALL_CLOCK_SHIFT_MS;
use pagerduty_devin_bridge::follow_up::FollowUp;
use serde_json::{json, Value};

use super::events;
use super::ops::{Command, Fault, Op, Which, INCIDENTS};
use super::setup::{LedgerKind, Parts, PAST_LEASES_AND_DEFERRALS_MIN};
use crate::support::devin::{FakeDevin, Reply};
use crate::support::moto::Moto;
use crate::support::pagerduty::FakePagerDuty;
use crate::support::{handle, now_ms};

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
    /// person asks or it reopens.
    pub rejected_after: Option<usize>,
    /// Incidents merged into this one.
    pub merged_in: Vec<Which>,
    /// Indexes of its notes posted while a command was answered (they may rightly repeat).
    pub command_notes: Vec<usize>,
}

pub struct World {
    pub devin: FakeDevin,
    pub pagerduty: FakePagerDuty,
    pub follow_up: FollowUp,
    /// The webhook instances on the table (DynamoDB); empty in memory, where the follow-up's
    /// bridge takes the deliveries.
    pub instances: Vec<Bridge>,
    /// The ledger's table, read at the end (DynamoDB only: the memory ledger is private).
    pub table: Option<(aws_sdk_dynamodb::Client, String)>,
    pub shift_ms: u64,
    /// How long a hanging or slow Devin takes.
    devin_late: Duration,
    pub known: Vec<Known>,
    pub pending: VecDeque<Pending>,
    /// Verified deliveries answered 4xx (429 aside: PagerDuty retries it, as the README says).
    pub refused: Vec<String>,
    /// Every answer, for the report of a failure: step, what, status, body.
    pub log: Vec<String>,
    events: u32,
    /// Per incident, the count of its notes already seen by [`World::note_new_notes`].
    notes_seen: BTreeMap<Which, usize>,
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
            table: parts.table,
            shift_ms: 0,
            devin_late: parts.devin_late,
            known: vec![Known::default(); INCIDENTS.len()],
            pending: VecDeque::new(),
            refused: Vec::new(),
            log: Vec::new(),
            events: 0,
            notes_seen: BTreeMap::new(),
        }
    }

    /// Wall time in the world.
    pub fn now_ms(&self) -> u64 {
        now_ms() + self.shift_ms
    }

    fn instance(&self, on: usize) -> &Bridge {
        match self.instances.len() {
            0 => self.follow_up.bridge(),
            count => &self.instances[on % count],
        }
    }

    fn next_event_id(&mut self, what: &str) -> String {
        self.events += 1;
        format!("EVMODEL{what}{}", self.events)
    }

    fn created_ms(&self, incident: Which) -> u64 {
        self.known[incident]
            .created_ms
            .unwrap_or_else(|| self.now_ms())
    }

    fn trigger(&self, incident: Which) -> Value {
        events::triggered(incident, self.created_ms(incident))
    }

    /// A responder's resolve or reopen, the incident now `status`.
    fn by_responder(&mut self, incident: Which, event_type: &str, status: &str) -> Value {
        let id = self.next_event_id(event_type);
        let created_ms = self.created_ms(incident);
        events::by_responder(&id, incident, created_ms, event_type, status, self.now_ms())
    }

    /// Delivers `body` to instance `on` now, signed as PagerDuty signs it: status and answer.
    pub async fn deliver(&mut self, on: usize, body: &Value, what: &str) -> (u16, Value) {
        let event = events::signed(body, self.now_ms());
        let (status, answer, _) = WALL_CLOCK_SHIFT_MS
            .scope(self.shift_ms, handle(self.instance(on), &event))
            .await;
        self.answered(body, what, status, &answer);
        (status, answer)
    }

    /// Two deliveries of `body` at once, on both instances (in memory: both on the one).
    async fn deliver_twice(&mut self, body: &Value, what: &str) {
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
    fn answered(&mut self, body: &Value, what: &str, status: u16, answer: &Value) {
        self.log.push(format!("    {what}: {status} {answer}"));
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
        if let Some(incident) = incident {
            self.excuse_by_status(incident, answer["status"].as_str().unwrap_or(""));
        }
    }

    fn excuse_by_status(&mut self, incident: Which, status: &str) {
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
    fn appear(&mut self, incident: Which) {
        if self.known[incident].created_ms.is_none() {
            self.known[incident].created_ms = Some(self.now_ms());
            self.known[incident].open = true;
            let created_ms = self.now_ms();
            let incident = events::incident_json(incident, created_ms, "triggered");
            self.pagerduty.add_incident(incident);
        }
    }

    /// One step of the story.
    pub async fn apply(&mut self, op: Op) {
        match op {
            Op::Trigger { incident, on } => {
                self.appear(incident);
                self.known[incident].triggered = true;
                let body = self.trigger(incident);
                self.deliver(on, &body, &format!("trigger {}", INCIDENTS[incident].id))
                    .await;
            }
            Op::TriggerTwice { incident } => {
                self.appear(incident);
                self.known[incident].triggered = true;
                let body = self.trigger(incident);
                self.deliver_twice(&body, &format!("trigger {}", INCIDENTS[incident].id))
                    .await;
            }
            Op::Appear { incident } => self.appear(incident),
            Op::Retry { on } => {
                if let Some(pending) = self.pending.pop_front() {
                    let what = retry_of(&pending.what);
                    self.deliver(on, &pending.body, &what).await;
                }
            }
            Op::FollowUp => self.run_follow_up().await,
            Op::Command { incident, command } => self.command(incident, command).await,
            Op::Merge { from, into } => {
                if self.known[from].open && self.known[into].created_ms.is_some() {
                    self.known[from].open = false;
                    self.known[into].merged_in.push(from);
                    self.pagerduty.resolve(INCIDENTS[from].id);
                    let id = self.next_event_id("MERGE");
                    let body = events::merged(&id, from, into, self.now_ms());
                    let what = format!("merge {} into {}", INCIDENTS[from].id, INCIDENTS[into].id);
                    self.deliver(0, &body, &what).await;
                }
            }
            Op::Resolve { incident } => {
                if self.known[incident].open {
                    self.known[incident].open = false;
                    self.pagerduty.resolve(INCIDENTS[incident].id);
                    let body = self.by_responder(incident, "incident.resolved", "resolved");
                    self.deliver(0, &body, &format!("resolve {}", INCIDENTS[incident].id))
                        .await;
                }
            }
            Op::Reopen { incident } => {
                if self.known[incident].created_ms.is_some() && !self.known[incident].open {
                    self.known[incident].open = true;
                    self.known[incident].excuse = None;
                    self.known[incident].rejected_after = None;
                    self.pagerduty.reopen(INCIDENTS[incident].id);
                    let body = self.by_responder(incident, "incident.reopened", "triggered");
                    self.deliver(0, &body, &format!("reopen {}", INCIDENTS[incident].id))
                        .await;
                }
            }
            Op::Advance { minutes } => self.advance(minutes),
            Op::DevinEnds { incident } => self.devin_ends(incident),
            Op::DevinObeys => {
                for session in super::invariants::winding_down(self) {
                    self.end_session(&session);
                }
            }
            Op::Fail(fault) => self.fail(fault),
        }
        self.note_new_notes(matches!(op, Op::Command { .. }));
    }

    pub fn advance(&mut self, minutes: u64) {
        self.shift_ms += minutes * 60_000;
        self.devin.shift_clock(self.shift_ms);
    }

    pub async fn run_follow_up(&mut self) {
        let report = WALL_CLOCK_SHIFT_MS
            .scope(self.shift_ms, self.follow_up.run(None))
            .await;
        let report = serde_json::to_value(&report).unwrap();
        self.log.push(format!("    follow-up: {report}"));
        for action in report["actions"].as_array().into_iter().flatten() {
            if let Some(incident) = action["incident_id"].as_str().and_then(which) {
                self.excuse_by_status(incident, action["action"].as_str().unwrap_or(""));
            }
        }
    }

    async fn command(&mut self, incident: Which, command: Command) {
        let word = format!("{command:?}").to_lowercase();
        let id = self.next_event_id("NOTE");
        let body = events::note(&id, incident, &format!("devin {word}"), self.now_ms());
        let what = format!("devin {word} on {}", INCIDENTS[incident].id);
        let (_, answer) = self.deliver(0, &body, &what).await;
        match (command, answer["status"].as_str()) {
            // A person asked: whatever excused it before no longer does.
            (Command::Investigate, status) => {
                self.known[incident].excuse = None;
                self.known[incident].rejected_after = None;
                self.excuse_by_status(incident, status.unwrap_or(""));
            }
            (Command::Stop, Some("command")) => self.known[incident].excuse = Some(Excuse::Stopped),
            _ => {}
        }
    }

    /// Devin ends the active session covering the incident: every open incident it covered
    /// then waits for a person.
    fn devin_ends(&mut self, incident: Which) {
        let covering = super::invariants::active_covering(self, incident);
        if let Some(session) = covering.first() {
            for other in 0..INCIDENTS.len() {
                let covers = super::invariants::active_covering(self, other);
                if covers.contains(session) && self.known[other].excuse.is_none() {
                    self.known[other].excuse = Some(Excuse::Ended);
                }
            }
            self.end_session(&session.clone());
        }
    }

    fn end_session(&mut self, session: &str) {
        self.devin.end_session(session);
        self.devin.show(
            session,
            json!({"status": "exit", "status_detail": "finished"}),
        );
    }

    fn fail(&mut self, fault: Fault) {
        match fault {
            Fault::Devin5xx => self.devin.reply([Reply::Status(502, None)]),
            Fault::DevinSlow => self.devin.reply([Reply::StoredThenHang(self.devin_late)]),
            Fault::DevinHang => self.devin.reply([Reply::Hang(self.devin_late)]),
            Fault::DevinStoredThen502 => self.devin.reply([Reply::StoredThen(502)]),
            Fault::Devin429 => self.devin.reply([Reply::Status(429, Some("30"))]),
            Fault::Devin422 => self.devin.reply([Reply::Status(422, None)]),
            Fault::PagerDuty5xx => self.pagerduty.reply([(500, None)]),
            Fault::PagerDutyStoredThen502 => self.pagerduty.store_then_fail([502]),
            Fault::Ledger => self.fail_ledger(),
        }
    }

    /// The hook for ledger errors and conflicts (see `setup::LEDGER_FAULTS`).
    fn fail_ledger(&mut self) {
        unreachable!("ledger faults are not generated until LEDGER_FAULTS is set")
    }

    /// Notes posted during a command step may rightly repeat: each answers its own command.
    fn note_new_notes(&mut self, during_command: bool) {
        for (incident, known) in self.known.iter_mut().enumerate() {
            let notes = self.pagerduty.notes_on(INCIDENTS[incident].id);
            let seen = self.notes_seen.entry(incident).or_default();
            if during_command {
                known.command_notes.extend(*seen..notes.len());
            }
            *seen = notes.len();
        }
    }

    /// Failures stop: no more faults, PagerDuty's retries delivered (until none is answered
    /// for retrying, a few rounds at most), time past every lease and deferral, one run.
    pub async fn settle(&mut self) {
        self.devin.clear_replies();
        self.pagerduty.clear_replies();
        self.log.push("  failures stop".into());
        for _ in 0..3 {
            self.advance(PAST_LEASES_AND_DEFERRALS_MIN);
            let pending: Vec<Pending> = self.pending.drain(..).collect();
            if pending.is_empty() {
                break;
            }
            for retry in pending {
                let what = retry_of(&retry.what);
                self.deliver(0, &retry.body, &what).await;
            }
        }
        self.advance(PAST_LEASES_AND_DEFERRALS_MIN);
        self.run_follow_up().await;
        self.note_new_notes(false);
    }
}

/// How a retry of the delivery `what` is logged.
fn retry_of(what: &str) -> String {
    match what.starts_with("retry of ") {
        true => what.to_owned(),
        false => format!("retry of {what}"),
    }
}

/// The index of an incident id of the stories.
pub fn which(id: &str) -> Option<Which> {
    INCIDENTS.iter().position(|incident| incident.id == id)
}
