//! One story's world: the Devin and PagerDuty fakes on loopback, the bridge's instances and the
//! follow-up in process on one ledger (memory, or a fresh table in moto), wall time moved by
//! `clock::WALL_CLOCK_SHIFT_MS`, and what the model knows that the fakes cannot show: which
//! incidents exist and are open, the deliveries PagerDuty will retry, and why an incident may
//! rightly have no session (capped, rejected, ended by Devin or stopped by a person).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::clock::WALL_CLOCK_SHIFT_MS;
use pagerduty_devin_bridge::edge::ledger::{DynamoLedger, Ledger};
use pagerduty_devin_bridge::edge::secrets_store::SecretStore;
use pagerduty_devin_bridge::follow_up::{FollowUp, FollowUpOptions};
use pagerduty_devin_bridge::pure::secret::Secrets;
use pagerduty_devin_bridge::pure::timestamp;
use pagerduty_devin_bridge::startup::assemble::{assemble, http_client};
use pagerduty_devin_bridge::startup::settings::Settings;
use serde_json::{json, Value};

use super::ops::{Command, Fault, Incident, Op, Which, INCIDENTS};
use crate::support::devin::{FakeDevin, Reply};
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::pagerduty::FakePagerDuty;
use crate::support::{bridge_with_env, function_url_event, handle, now_ms};

/// The routing policy of every story: the api incidents share one session (the window lasts
/// a day, longer than any story), db's start 5 minutes late, web's at most one an hour, batch's
/// never.
pub const POLICY: &str = r#"{
  "defaults": {"group_window_minutes": 1440},
  "rules": [
    {"name": "grouped", "when": {"services": ["api"]}, "group_by": "{service}"},
    {"name": "later", "when": {"services": ["db"]}, "start_after_minutes": 5},
    {"name": "scarce", "when": {"services": ["web"]}, "limits": {"sessions_per_hour": 1}},
    {"name": "quiet", "when": {"services": ["batch"]}, "action": "ignore"}
  ]
}"#;
/// Which incidents the policy investigates.
pub fn investigated(incident: Which) -> bool {
    INCIDENTS[incident].service != "batch"
}
/// Each delivery's budget: short, so that a story with timeouts (and deliveries waiting for
/// another's claim) stays short; on moto longer, for its slower calls.
fn delivery_budget_ms(kind: LedgerKind) -> u64 {
    match kind {
        LedgerKind::Memory => 300,
        LedgerKind::Dynamo => 600,
    }
}
/// How long a hanging or slow Devin takes past a delivery's budget: inside a run's step (4 s).
const DEVIN_LATE_BY: Duration = Duration::from_millis(300);
/// Past every claim's lease (120 s), a deferral (5 min) and the sweep's grace (2 min).
pub const PAST_LEASES_AND_DEFERRALS_MIN: u64 = 6;

/// Ledger faults: the fault-injecting proxy in front of moto (`support/ledger_faults.rs` on the
/// branch `ledger`) is not merged yet. Until it is, [`Fault::Ledger`] is never generated; once
/// merged, set this to true and fill in [`World::fail_ledger`].
pub const LEDGER_FAULTS: bool = false;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    Memory,
    Dynamo,
}

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
        let mut env = Env::local(&devin.url)
            .set("PAGERDUTY_API_URL", &pagerduty.url)
            .set("PAGERDUTY_API_TOKEN", "pd_model_token")
            .set("PAGERDUTY_FROM_EMAIL", "bridge@acme.example")
            .set("DELIVERY_BUDGET_MS", &delivery_budget_ms(kind).to_string())
            .set("ROUTING_CONFIG", POLICY);
        let mut instances = Vec::new();
        let (follow_up, table) = match (kind, moto) {
            (LedgerKind::Dynamo, Some(moto)) => {
                let table = moto.create_ledger_table(&format!("model-{case}")).await;
                env = env.set("LEDGER_TABLE", &table);
                for _ in 0..2 {
                    instances.push(on_table(&env, moto, &table).await);
                }
                let follow_up = on_table(&env, moto, &table).await;
                (follow_up, Some((moto.dynamodb(), table)))
            }
            _ => (bridge_with_env(env).await, None),
        };
        let follow_up = FollowUp::new(follow_up, FollowUpOptions::default());
        World {
            devin,
            pagerduty,
            follow_up,
            instances,
            table,
            shift_ms: 0,
            devin_late: Duration::from_millis(delivery_budget_ms(kind)) + DEVIN_LATE_BY,
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

    /// The incident as PagerDuty shows it (a delivery's `data`, the REST fake's record).
    fn incident_json(&self, incident: Which, status: &str) -> Value {
        let Incident { id, service } = INCIDENTS[incident];
        let created = self.known[incident]
            .created_ms
            .unwrap_or_else(|| self.now_ms());
        json!({"id": id, "type": "incident", "number": 100 + incident,
               "status": status, "title": format!("Errors on {service}"),
               "urgency": "high", "created_at": timestamp::rfc3339(created),
               "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
               "service": {"id": format!("PS{}", service.to_uppercase()), "summary": service},
               "teams": [], "assignees": [], "priority": null})
    }

    fn next_event_id(&mut self, what: &str) -> String {
        self.events += 1;
        format!("EVMODEL{what}{}", self.events)
    }

    /// Delivers `body` to instance `on` now, signed as PagerDuty signs it: status and answer.
    pub async fn deliver(&mut self, on: usize, body: &Value, what: &str) -> (u16, Value) {
        let mut event: Value = serde_json::from_str(&function_url_event(
            "POST",
            "/pagerduty-alert",
            &body.to_string(),
        ))
        .unwrap();
        event["requestContext"]["timeEpoch"] = self.now_ms().into();
        let event = event.to_string();
        let (status, answer, _) = WALL_CLOCK_SHIFT_MS
            .scope(self.shift_ms, handle(self.instance(on), &event))
            .await;
        self.answered(body, what, status, &answer);
        (status, answer)
    }

    /// Two deliveries of `body` at once, on both instances (in memory: both on the one).
    async fn deliver_twice(&mut self, body: &Value, what: &str) {
        let mut event: Value = serde_json::from_str(&function_url_event(
            "POST",
            "/pagerduty-alert",
            &body.to_string(),
        ))
        .unwrap();
        event["requestContext"]["timeEpoch"] = self.now_ms().into();
        let event = event.to_string();
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
        let excuse = match status {
            "capped" => Some(Excuse::Capped),
            "devin_rejected" => Some(Excuse::Rejected),
            _ => None,
        };
        if excuse.is_some() {
            self.known[incident].excuse = excuse;
        }
    }

    /// Makes the incident exist at PagerDuty (once).
    fn appear(&mut self, incident: Which) {
        if self.known[incident].created_ms.is_none() {
            self.known[incident].created_ms = Some(self.now_ms());
            self.known[incident].open = true;
            self.pagerduty
                .add_incident(self.incident_json(incident, "triggered"));
        }
    }

    fn trigger_body(&self, incident: Which) -> Value {
        let data = self.incident_json(incident, "triggered");
        json!({"event": {"id": format!("EVMODELTRIGGER{}", INCIDENTS[incident].id),
            "event_type": "incident.triggered", "resource_type": "incident",
            "occurred_at": data["created_at"], "agent": null, "data": data}})
    }

    fn incident_event(&mut self, incident: Which, event_type: &str, status: &str) -> Value {
        let id = self.next_event_id(event_type);
        let mut data = self.incident_json(incident, status);
        data["status"] = status.into();
        json!({"event": {"id": id, "event_type": event_type, "resource_type": "incident",
            "occurred_at": timestamp::rfc3339(self.now_ms()),
            "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
            "data": data}})
    }

    fn note_event(&mut self, incident: Which, content: &str) -> Value {
        let id = self.next_event_id("NOTE");
        json!({"event": {"id": id, "event_type": "incident.annotated", "resource_type": "incident",
            "occurred_at": timestamp::rfc3339(self.now_ms()),
            "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
            "data": {"type": "incident_note", "id": format!("P{id}"), "content": content,
                     "incident": {"id": INCIDENTS[incident].id, "type": "incident_reference"}}}})
    }

    fn merge_event(&mut self, from: Which, into: Which) -> Value {
        let id = self.next_event_id("MERGE");
        json!({"event": {"id": id, "event_type": "incident.resolved", "resource_type": "incident",
            "occurred_at": timestamp::rfc3339(self.now_ms()),
            "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
            "data": {"type": "incident", "id": INCIDENTS[from].id, "status": "resolved",
                     "resolve_reason": {"type": "merge_resolve_reason",
                         "incident": {"id": INCIDENTS[into].id, "type": "incident_reference"}}}}})
    }

    /// One step of the story.
    pub async fn apply(&mut self, op: Op) {
        match op {
            Op::Trigger { incident, on } => {
                self.appear(incident);
                self.known[incident].triggered = true;
                let body = self.trigger_body(incident);
                self.deliver(on, &body, &format!("trigger {}", INCIDENTS[incident].id))
                    .await;
            }
            Op::TriggerTwice { incident } => {
                self.appear(incident);
                self.known[incident].triggered = true;
                let body = self.trigger_body(incident);
                self.deliver_twice(&body, &format!("trigger {}", INCIDENTS[incident].id))
                    .await;
            }
            Op::Appear { incident } => self.appear(incident),
            Op::Retry { on } => {
                if let Some(pending) = self.pending.pop_front() {
                    let what = format!("retry of {}", pending.what);
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
                    let body = self.merge_event(from, into);
                    let what = format!("merge {} into {}", INCIDENTS[from].id, INCIDENTS[into].id);
                    self.deliver(0, &body, &what).await;
                }
            }
            Op::Resolve { incident } => {
                if self.known[incident].open {
                    self.known[incident].open = false;
                    self.pagerduty.resolve(INCIDENTS[incident].id);
                    let body = self.incident_event(incident, "incident.resolved", "resolved");
                    self.deliver(0, &body, &format!("resolve {}", INCIDENTS[incident].id))
                        .await;
                }
            }
            Op::Reopen { incident } => {
                if self.known[incident].created_ms.is_some() && !self.known[incident].open {
                    self.known[incident].open = true;
                    self.known[incident].excuse = None;
                    self.pagerduty.reopen(INCIDENTS[incident].id);
                    let body = self.incident_event(incident, "incident.reopened", "triggered");
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
        let body = self.note_event(incident, &format!("devin {word}"));
        let what = format!("devin {word} on {}", INCIDENTS[incident].id);
        let (_, answer) = self.deliver(0, &body, &what).await;
        match (command, answer["status"].as_str()) {
            // A person asked: whatever excused it before no longer does.
            (Command::Investigate, status) => {
                self.known[incident].excuse = None;
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

    /// The hook for ledger errors and conflicts (see [`LEDGER_FAULTS`]).
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
                let what = format!("retry of {}", retry.what);
                self.deliver(0, &retry.body, &what).await;
            }
        }
        self.advance(PAST_LEASES_AND_DEFERRALS_MIN);
        self.run_follow_up().await;
        self.note_new_notes(false);
    }
}

/// A bridge on `table` in `moto`, in process: the cold start's own parts, with a DynamoDB client
/// configured as the cold start configures its own (`startup::assemble::aws_config`: 800 ms an
/// attempt, 1.5 s in all, two attempts), but pointed at moto (the cold start's client reads the
/// process's environment, which in-process tests share).
async fn on_table(env: &Env, moto: &Moto, table: &str) -> Bridge {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let settings = Settings::from_lookup(env.lookup()).expect("the model's settings");
    let secrets = SecretStore::fixed(Secrets::from_lookup(env.lookup()).expect("the secrets"));
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(1500))
        .build();
    let config = moto
        .dynamodb()
        .config()
        .to_builder()
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let ledger = Ledger::Dynamo(DynamoLedger::new(client, table));
    let http = http_client().expect("the HTTP client");
    assemble(settings, secrets, ledger, http, "model".into())
        .await
        .expect("the bridge assembles")
}

/// The index of an incident id of the stories.
pub fn which(id: &str) -> Option<Which> {
    INCIDENTS.iter().position(|incident| incident.id == id)
}
