//! A triggered incident: the routing policy decides; a deferred one is recorded to start later;
//! the incident is claimed in the ledger; an incident of an open group joins its session;
//! otherwise the holder of the claim starts one (within the limits, and once: a create that
//! may have happened is never repeated), records it, and notes it on the incident. Whoever finds
//! the session recorded answers at once. The follow-up's sweep comes in here too.

use std::sync::Arc;

use tracing::{warn, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::timestamp;
use pure::inbound::webhook::{Event, Incident, INCIDENT_REOPENED, INCIDENT_TRIGGERED};
use pure::life::session::{Phase, Session};
use pure::life::sweep;
use pure::life::Start;
use pure::metrics::Tally;
use pure::policy::route::{self, Shaped};
use pure::policy::template::Facts;
use pure::policy::Action;
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
            // Nothing more now: the evidence is read when the session starts.
            return self
                .defer(&rule, &incident_id, until_ms, &secrets, budget)
                .await;
        }
        let alerts = self.pagerduty.known(&secrets, &incident_id, budget).await;
        let facts = Facts {
            incident,
            event_type: event.event_type,
            occurred_at: event.occurred_at,
            alerts: alerts.as_ref(),
        };
        let shaped = route::shape(&self.policy, &decision, &facts, now_ms);
        if decision.action == Action::Shadow {
            let (request, group) = (&shaped.request, shaped.group.as_deref());
            let note = notes::shadow_note(&decision, request, group);
            let note = self
                .notes
                .add_or_log(&secrets, &incident_id, &note, false, budget)
                .await;
            return Done::Shadow {
                rule,
                incident_id,
                group: shaped.group,
                note,
            }
            .into();
        }
        if self.options.dry_run {
            let request = self.devin.shown_create(&shaped.request);
            return dry_run_session(rule, incident_id, request, shaped, deferred_until);
        }
        let plan = Plan::new(rule, (incident, decision), shaped, alerts, event.start);
        self.start(plan, secrets, budget, tally).await
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
        let alerts = self.pagerduty.known(&secrets, &incident.id, budget).await;
        let facts = Facts {
            incident,
            event_type: INCIDENT_TRIGGERED,
            occurred_at: incident.created_at.as_deref(),
            alerts: alerts.as_ref(),
        };
        let request = responder_context::session_request(&facts, &decision, context);
        let shaped = Shaped {
            request,
            group: None,
            slots: Vec::new(),
        };
        let plan = Plan::new(
            ASKED.to_owned(),
            (incident, decision),
            shaped,
            alerts,
            Start::Asked,
        );
        let outcome = self.start(plan, secrets.clone(), budget, tally).await;
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
            self.notes
                .add_or_log(&secrets, &incident.id, &note, false, budget)
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
        let session_id = &session.session_id;
        let state = self
            .devin
            .session_state(session_id, secrets, budget, tally)
            .await;
        if !state.is_ok_and(|state| matches!(state.phase(), Phase::Ended(_))) {
            return false;
        }
        match self.claims.close_out(incident_id, session_id, budget).await {
            Ok(()) => true,
            Err(err) => {
                warn!(error = %err, "the ended session was not closed out: its link stands");
                false
            }
        }
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
        match self.claims.defer(incident_id, until_ms, budget).await {
            Ok(None) => {
                let note = notes::deferred_note(rule, until_ms);
                let note = self
                    .notes
                    .add_or_log(secrets, incident_id, &note, false, budget)
                    .await;
                Done::Deferred {
                    rule: rule.to_owned(),
                    incident_id: incident_id.to_owned(),
                    until_ms,
                    note,
                }
                .into()
            }
            Ok(Some(record)) => {
                self.claims
                    .as_recorded(rule, incident_id, record, budget)
                    .await
            }
            Err(err) => Retry::LedgerUnavailable(err).into(),
        }
    }
}

/// What a dry run shows of the session it would start: the create `request` Devin would get,
/// the group, the limits and the deferral.
fn dry_run_session(
    rule: String,
    incident_id: String,
    request: serde_json::Value,
    shaped: Shaped,
    deferred_until: Option<u64>,
) -> Outcome {
    let limits = shaped.slots.iter().map(route::shown_slot).collect();
    let deferred_until = deferred_until.map(timestamp::rfc3339);
    Done::DryRunSession {
        rule,
        incident_id,
        request,
        group: shaped.group,
        limits,
        deferred_until,
    }
    .into()
}
