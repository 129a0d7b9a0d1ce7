//! The steps of a story, played on the world: what each op does at PagerDuty, Devin and the
//! bridge, and the end of a story (failures stop, PagerDuty's retries, one follow-up run).

use pagerduty_devin_bridge::edge::clock::WALL_CLOCK_SHIFT_MS;
use serde_json::{json, Value};

use super::events;
use super::ops::{Command, Fault, Op, Which, INCIDENTS};
use super::setup::PAST_LEASES_AND_DEFERRALS_MIN;
use super::world::{retry_of, which, Excuse, Pending, World, ASK};
use crate::support::devin::Reply;
use crate::support::ledger_faults::Fault as LedgerFault;

impl World {
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
                // PagerDuty merges open incidents into open ones.
                if self.known[from].open && self.known[into].open {
                    self.known[from].open = false;
                    self.known[from].merged_away = true;
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
                // A merged-away incident stays resolved.
                let known = &self.known[incident];
                if known.created_ms.is_some() && !known.open && !known.merged_away {
                    // A reopen moves every decision on but Devin's rejection, which only a
                    // person undoes (`pure::life`: rejected, owner a person).
                    self.known[incident].open = true;
                    if self.known[incident].excuse != Some(Excuse::Rejected) {
                        self.known[incident].excuse = None;
                    }
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
            self.note_group_session(&action["detail"]);
        }
        self.note_asked_sessions();
        for action in report["actions"].as_array().into_iter().flatten() {
            if let Some(incident) = action["incident_id"].as_str().and_then(which) {
                self.excuse_by_status(incident, action["action"].as_str().unwrap_or(""));
            }
        }
    }

    async fn command(&mut self, incident: Which, command: Command) {
        let word = format!("{command:?}").to_lowercase();
        let id = self.next_event_id("NOTE");
        let content = match command {
            Command::Investigate => ASK.to_owned(),
            _ => format!("devin {word}"),
        };
        let body = events::note(&id, incident, &content, self.now_ms());
        let what = format!("devin {word} on {}", INCIDENTS[incident].id);
        self.deliver(0, &body, &what).await;
    }

    /// What a note command's final answer (not one PagerDuty retries) tells the model.
    pub(super) fn commanded(&mut self, incident: Which, content: &str, answer: &Value) {
        match (content, answer["status"].as_str().unwrap_or("")) {
            // A person asked (what that undoes: `World::answered`, at its first delivery). A
            // session a person asked for is the incident's own, outside its group; asked on a
            // merged-away incident, no longer part of the incident it went into (whether the
            // ask started it, or the follow-up did after the ask's first delivery failed and its
            // retry found it).
            (ASK, status) => {
                if matches!(status, "session_started" | "session_exists") {
                    for known in &mut self.known {
                        known.merged_in.retain(|&(merged, _)| merged != incident);
                    }
                }
                self.excuse_by_status(incident, status);
            }
            ("devin stop", "command") => self.known[incident].excuse = Some(Excuse::Stopped),
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
            Fault::PagerDutyStoredThen502 => self.pagerduty.stored_then(502, 1),
            Fault::LedgerConflict => {
                self.fail_ledger("TransactWriteItems", LedgerFault::Conflict, 1)
            }
            Fault::LedgerThrottled => {
                self.fail_ledger("TransactWriteItems", LedgerFault::Throttling, 2)
            }
            Fault::LedgerLostPut => self.fail_ledger("PutItem", LedgerFault::LandedThenLost, 1),
            Fault::LedgerDown => self.fail_ledger("UpdateItem", LedgerFault::ServerError, 2),
        }
    }

    /// DynamoDB's bad moment, through the fault injector in front of moto; the memory ledger
    /// has none (the step does nothing there).
    fn fail_ledger(&mut self, operation: &str, fault: LedgerFault, times: usize) {
        if let Some(faults) = &self.faults {
            faults.inject(operation, fault, times);
        }
    }

    /// Failures stop: no more faults, PagerDuty's retries delivered (until none is answered
    /// for retrying, a few rounds at most), time past every lease and deferral, one run.
    pub async fn settle(&mut self) {
        self.devin.clear_replies();
        self.pagerduty.clear_replies();
        if let Some(faults) = &self.faults {
            faults.clear();
        }
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
    }
}
