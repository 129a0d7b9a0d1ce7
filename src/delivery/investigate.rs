//! A triggered incident: the routing policy decides; a deferred one is recorded to start later;
//! the incident is claimed in the ledger; an incident of an open group joins its session;
//! otherwise the holder of the claim starts one (within the limits, and once: a create that
//! may have happened is never repeated), records it, and notes it on the incident. Whoever finds
//! the session recorded answers at once. The follow-up's sweep comes in here too.

use std::sync::Arc;

use tracing::{info, warn, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::outcome::{Done, NoteStatus, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::delivery::start::Unstarted;
use crate::edge::clock;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::timestamp;
use pure::inbound::webhook::{Event, Incident, INCIDENT_REOPENED, INCIDENT_TRIGGERED};
use pure::life::follow_up::Mark;
use pure::life::lookup;
use pure::life::records::OpenGroup;
use pure::life::session::{Phase, Session};
use pure::life::sweep;
use pure::life::Start;
use pure::metrics::Tally;
use pure::policy::route::{self, Shaped};
use pure::policy::template::Facts;
use pure::policy::Action;
use pure::text::brief;
use pure::text::notes;
use pure::text::responder_context::{self, ResponderContext};

/// The rule a session started by `devin investigate` reports.
const ASKED: &str = "devin investigate";

/// What happened to the incident, as the routing policy judges it: the event and when, and
/// what kind of start it is for the incident's record (`pure::life`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Happened<'a> {
    pub event_type: &'a str,
    pub occurred_at: Option<&'a str>,
    pub start: Start,
}

impl<'a> Happened<'a> {
    /// A delivery's trigger, or its reopen (which may start the incident's next session).
    pub(super) fn of(event: &'a Event) -> Self {
        let start = if event.event_type == INCIDENT_REOPENED {
            Start::Reopen
        } else {
            Start::Trigger
        };
        Happened {
            event_type: &event.event_type,
            occurred_at: event.occurred_at.as_deref(),
            start,
        }
    }
}

impl Bridge {
    /// Starts the session of an incident no delivery started (the follow-up's sweep, or a
    /// record the follow-up found due: a deferral, a cap, a pending start, an abandoned claim),
    /// exactly as a delivery of its trigger would. Whatever it decides is recorded, so a refusal
    /// or a cap is noted once, not on every run.
    pub async fn investigate_missed(
        &self,
        event_type: &str,
        incident: &Incident,
        start: Start,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let secrets = self.secrets.current().await;
        let occurred_at = incident.created_at.as_deref();
        let happened = Happened {
            event_type,
            occurred_at,
            start,
        };
        self.investigate(happened, incident, secrets, budget, tally)
            .await
    }

    /// Starts (or finds, or joins) the incident's session as the routing policy decides, and
    /// notes it on the incident; or shows what it would do (shadow mode, dry run), or defers it.
    pub(super) async fn investigate(
        &self,
        event: Happened<'_>,
        incident: &Incident,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let decision = self.policy.decide(event.event_type, incident);
        Span::current().record("rule", decision.rule);
        let (rule, incident_id) = (decision.rule.to_owned(), incident.id.clone());
        if decision.action == Action::Ignore {
            return Done::IgnoredByRule { rule, incident_id }.into();
        }
        let now_ms = clock::epoch_ms();
        // Only a first start defers: the follow-up starts a record when the record says it is
        // due, and a reopen is trouble again now.
        let deferred_until = matches!(event.start, Start::Trigger | Start::Sweep)
            .then(|| sweep::deferral(decision.start_after, incident, event.occurred_at, now_ms))
            .flatten();
        if let (Some(until_ms), false, Action::Investigate) =
            (deferred_until, self.options.dry_run, decision.action)
        {
            // Nothing more now: the alerts are read when the session starts.
            return self
                .defer(&rule, &incident_id, until_ms, &secrets, budget)
                .await;
        }
        let alerts = self.alert_evidence(&secrets, &incident_id, budget).await;
        let facts = Facts {
            incident,
            event_type: event.event_type,
            occurred_at: event.occurred_at,
            alerts: alerts.as_ref(),
        };
        let Shaped {
            request,
            group,
            slots,
        } = route::shape(&self.policy, &decision, &facts, now_ms);
        if decision.action == Action::Shadow {
            let note = notes::shadow_note(&decision, &request, group.as_deref());
            let note = self
                .note_or_log(&secrets, &incident_id, &note, budget)
                .await;
            return Done::Shadow {
                rule,
                incident_id,
                group,
                note,
            }
            .into();
        }
        if self.options.dry_run {
            let request = self.devin.shown_create(&request);
            let limits = slots.iter().map(route::shown_slot).collect();
            let deferred_until = deferred_until.map(timestamp::rfc3339);
            return Done::DryRunSession {
                rule,
                incident_id,
                request,
                group,
                limits,
                deferred_until,
            }
            .into();
        }
        let plan = Plan {
            rule,
            incident,
            decision,
            request,
            group,
            slots,
            alerts,
            start: event.start,
        };
        self.start_or_join(plan, secrets, budget, tally).await
    }

    /// Starts the incident's session because a responder asked (`devin investigate`): whatever
    /// the policy would ignore, group, defer or cap, with the rule's brief otherwise and the
    /// responder's `context` after it. An incident that has a session gets a note with its link.
    pub(super) async fn investigate_as_asked(
        &self,
        incident: &Incident,
        context: Option<ResponderContext<'_>>,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let mut decision = self.policy.decide(INCIDENT_TRIGGERED, incident);
        decision.rule = ASKED;
        decision.action = Action::Investigate;
        decision.group_by = None;
        decision.start_after = None;
        let alerts = self.alert_evidence(&secrets, &incident.id, budget).await;
        let facts = Facts {
            incident,
            event_type: INCIDENT_TRIGGERED,
            occurred_at: incident.created_at.as_deref(),
            alerts: alerts.as_ref(),
        };
        let request = responder_context::session_request(&facts, &decision, context);
        let plan = Plan {
            rule: ASKED.to_owned(),
            incident,
            decision,
            request,
            group: None,
            slots: Vec::new(),
            alerts,
            start: Start::Asked,
        };
        let outcome = self
            .start_or_join(plan, secrets.clone(), budget, tally)
            .await;
        if let Outcome::Done(Done::SessionExists { session, .. }) = &outcome {
            let mut secrets = secrets.clone();
            if self
                .closed_out_if_ended(&incident.id, session, &mut secrets, budget, tally)
                .await
            {
                // Its record says ended now: this starts the incident's next session.
                let asked = self.investigate_as_asked(incident, context, secrets, budget, tally);
                return Box::pin(asked).await;
            }
            let note = notes::already_investigating_note(session);
            self.note_or_log(&secrets, &incident.id, &note, budget)
                .await;
        }
        outcome
    }

    /// Whether the incident's recorded session has ended in Devin though the follow-up has not
    /// closed it out yet; if so, it is closed out now (a responder asking for an investigation
    /// must not be answered with a dead link). A failure to read it says no: the link stands.
    async fn closed_out_if_ended(
        &self,
        incident_id: &str,
        session: &Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> bool {
        let state = self
            .session_state(&session.session_id, secrets, budget, tally)
            .await;
        if !state.is_ok_and(|state| matches!(state.phase(), Phase::Ended(_))) {
            return false;
        }
        let (now_ms, left) = (clock::epoch_ms(), budget.remaining(clock::now()));
        let closed = Mark::ClosedOut(None);
        let mark = self
            .ledger
            .mark(incident_id, &session.session_id, &closed, now_ms, left);
        match mark.await {
            Ok(()) => true,
            Err(err) => {
                warn!(error = %err, "the ended session was not closed out: its link stands");
                false
            }
        }
    }

    /// Claims the incident, joins its group's open session or leads a new one, and starts it.
    async fn start_or_join(
        &self,
        mut plan: Plan<'_>,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let incident_id = &plan.incident.id;
        let claimed = self
            .claim_incident(incident_id, plan.start, &plan.rule, budget)
            .await;
        let mut held = match claimed {
            Ok(held) => held,
            Err(outcome) => return outcome,
        };
        // The incident's next session after one ended: its title says which.
        if let Some(title) = &mut plan.request.title {
            *title = lookup::with_generation_marker(
                title,
                incident_id,
                held.claimed.generation,
                brief::MAX_TITLE_CHARS,
            );
        }
        if let Some(outcome) = self
            .took_over_in_group(&mut held, &plan, &mut secrets, budget, tally)
            .await
        {
            return outcome;
        }
        let leader = match &plan.group {
            None => None,
            Some(group) => match self
                .lead_or_join((group, &plan, &held), &mut secrets, budget, tally)
                .await
            {
                Ok(holder) => Some(holder),
                Err(outcome) => return outcome,
            },
        };
        let started = self
            .start_session(&held, &plan, &mut secrets, budget, tally)
            .await;
        match started {
            Ok(session) => {
                self.started(&held, &plan, leader.as_deref(), session, &secrets, budget)
                    .await
            }
            Err(unstarted) => {
                if let (Some(group), Some(holder), true) =
                    (&plan.group, &leader, unstarted.nothing_made())
                {
                    self.release_group(group, holder, budget).await;
                }
                self.unstarted(&held, &plan, unstarted, &secrets, budget)
                    .await
            }
        }
    }

    /// A group's incident that took over its own claim looks its session up before the group
    /// (its earlier delivery may have led and created it): how the delivery ends when found (or
    /// when the lookup failed); else `None`, and the claim is started as new.
    async fn took_over_in_group(
        &self,
        held: &mut Held,
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Option<Outcome> {
        let (Some(group), Some(earlier)) = (&plan.group, held.took_over()) else {
            return None;
        };
        let own = (plan.incident.id.as_str(), held.claimed.generation, earlier);
        match self
            .own_session_first(own, group, secrets, budget, tally)
            .await
        {
            Ok(Some((session, leads))) => Some(
                self.started(held, plan, leads.as_deref(), session, secrets, budget)
                    .await,
            ),
            Ok(None) => {
                // Not made: the start goes on as a new one, without looking it up again.
                held.claimed.took_over = None;
                None
            }
            Err(failure) => {
                let unstarted = Unstarted::LookupFailed(failure);
                Some(self.unstarted(held, plan, unstarted, secrets, budget).await)
            }
        }
    }

    /// Records the session this delivery started (and opens its group), and notes it on the
    /// incident.
    async fn started(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        group_holder: Option<&str>,
        session: Session,
        secrets: &Secrets,
        budget: Budget,
    ) -> Outcome {
        let incident_id = &plan.incident.id;
        if let Err(err) = self
            .record_session(incident_id, held, &session, budget)
            .await
        {
            info!(session_id = %session.session_id, "the session started but is not recorded: a retry after the lease records it");
            return Retry::LedgerUnavailable(err).into();
        }
        if let (Some(group), Some(holder)) = (&plan.group, group_holder) {
            let open = OpenGroup {
                session: session.clone(),
                leader_id: incident_id.clone(),
                leader_number: plan.incident.number,
                incidents: 1,
                window_until_ms: clock::epoch_ms() + plan.decision.group_window.as_millis() as u64,
                tags: plan.request.tags.len() as u32,
            };
            self.open_group(group, holder, &open, budget).await;
        }
        let note = notes::session_started_note(&session, &plan.request, &plan.decision);
        let note = self
            .add_incident_note(secrets, incident_id, &note, budget)
            .await;
        Done::SessionStarted {
            rule: plan.rule.clone(),
            incident_id: incident_id.clone(),
            session,
            note,
        }
        .into()
    }

    /// Records that the incident's session waits until `until_ms`, and notes it on the
    /// incident; or how the incident's record stands when it has one.
    async fn defer(
        &self,
        rule: &str,
        incident_id: &str,
        until_ms: u64,
        secrets: &Secrets,
        budget: Budget,
    ) -> Outcome {
        let (left, now_ms) = (budget.remaining(clock::now()), clock::epoch_ms());
        match self.ledger.defer(incident_id, until_ms, now_ms, left).await {
            Ok(None) => {
                let note = notes::deferred_note(rule, until_ms);
                let note = self.note_or_log(secrets, incident_id, &note, budget).await;
                Done::Deferred {
                    rule: rule.to_owned(),
                    incident_id: incident_id.to_owned(),
                    until_ms,
                    note,
                }
                .into()
            }
            Ok(Some(record)) => self.as_recorded(rule, incident_id, record, budget).await,
            Err(err) => Retry::LedgerUnavailable(err).into(),
        }
    }

    /// Adds `note` on the incident; without notes (no PagerDuty token), logs it instead.
    pub(crate) async fn note_or_log(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        note: &str,
        budget: Budget,
    ) -> NoteStatus {
        self.note_once_or_log(secrets, incident_id, note, false, budget)
            .await
    }

    /// [`Bridge::note_or_log`], looking for the note on the incident first when `look_first`.
    pub(crate) async fn note_once_or_log(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        note: &str,
        look_first: bool,
        budget: Budget,
    ) -> NoteStatus {
        let status = self
            .add_incident_note_once(secrets, incident_id, note, look_first, budget)
            .await;
        if status == NoteStatus::Off {
            info!(note = %note, "no PagerDuty notes: the note is here instead");
        }
        status
    }
}
