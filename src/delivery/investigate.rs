//! A triggered incident: the routing policy decides; the incident is claimed in the ledger; an
//! incident of an open group joins its session; otherwise the holder of the claim starts one
//! (within the budgets, and once: a create that may have happened is never repeated), records
//! it, and notes it on the incident. Whoever finds the session recorded answers at once.

use std::sync::Arc;

use serde_json::json;
use tracing::{info, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::group::GroupStep;
use crate::delivery::outcome::{NoteStatus, Outcome};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::pure::brief;
use crate::pure::budget::Budget;
use crate::pure::ledger::OpenGroup;
use crate::pure::metrics::Tally;
use crate::pure::notes;
use crate::pure::policy::Action;
use crate::pure::secret::Secrets;
use crate::pure::session::Session;
use crate::pure::spend::{self, Slot};
use crate::pure::template::{Facts, Quoting};
use crate::pure::webhook::{Event, Incident};

/// The longest group name kept: a template over long titles could grow without end.
const MAX_GROUP_CHARS: usize = 200;

impl Bridge {
    /// Starts (or finds, or joins) the incident's session as the routing policy decides, and
    /// notes it on the incident; or shows what it would do (shadow mode, dry run).
    pub(super) async fn investigate(
        &self,
        event: &Event,
        incident: &Incident,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let decision = self.policy.decide(&event.event_type, incident);
        Span::current().record("rule", decision.rule);
        let (rule, incident_id) = (decision.rule.to_owned(), incident.id.clone());
        if decision.action == Action::Ignore {
            return Outcome::IgnoredByRule { rule, incident_id };
        }
        let facts = Facts {
            incident,
            event_type: &event.event_type,
            occurred_at: event.occurred_at.as_deref(),
        };
        let request = brief::session_request(&facts, &decision);
        let group = decision
            .group_by
            .map(|template| group_name(&template.render(&facts, Quoting::Plain)));
        let limits = self.policy.limits();
        let slots = spend::slots(clock::epoch_ms(), limits, decision.rule, decision.limits);
        if decision.action == Action::Shadow {
            let note = notes::shadow_note(&decision, &request, group.as_deref());
            let note = self
                .note_or_log(&secrets, &incident_id, &note, budget)
                .await;
            return Outcome::Shadow {
                rule,
                incident_id,
                group,
                note,
            };
        }
        if self.options.dry_run {
            let request = self.devin.shown_create(&request);
            let limits = slots.iter().map(shown_slot).collect();
            return Outcome::DryRunSession {
                rule,
                incident_id,
                request,
                group,
                limits,
            };
        }
        let plan = Plan {
            rule,
            incident,
            decision,
            request,
            group,
            slots,
        };
        self.start_or_join(plan, secrets, budget, tally).await
    }

    /// Claims the incident, joins its group's open session or leads a new one, and starts it.
    async fn start_or_join(
        &self,
        plan: Plan<'_>,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let incident_id = &plan.incident.id;
        let held = match self.claim_incident(incident_id, &plan.rule, budget).await {
            Ok(held) => held,
            Err(outcome) => return outcome,
        };
        let leader = match &plan.group {
            None => None,
            Some(group) => match self.join_or_lead(group, budget).await {
                GroupStep::Lead(holder) => Some(holder),
                GroupStep::Join(open, incidents) => {
                    let joining = (open, incidents);
                    return self
                        .join(&held, &plan, joining, &mut secrets, budget, tally)
                        .await;
                }
                GroupStep::Ends(outcome) => {
                    self.release_claim(incident_id, &held.holder, budget).await;
                    return outcome;
                }
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
            .record_session(incident_id, &held.holder, &session, budget)
            .await
        {
            info!(session_id = %session.session_id, "the session started but is not recorded: a retry after the lease records it");
            return Outcome::LedgerUnavailable(err);
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
        Outcome::SessionStarted {
            rule: plan.rule.clone(),
            incident_id: incident_id.clone(),
            session,
            note,
        }
    }

    /// Adds `note` on the incident; without notes (no PagerDuty token), logs it instead.
    pub(super) async fn note_or_log(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        note: &str,
        budget: Budget,
    ) -> NoteStatus {
        let status = self
            .add_incident_note(secrets, incident_id, note, budget)
            .await;
        if status == NoteStatus::Off {
            info!(note = %note, "no PagerDuty notes: the note is here instead");
        }
        status
    }
}

/// A group's name as the ledger keys it: one line, bounded.
fn group_name(rendered: &str) -> String {
    let one_line = rendered.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(MAX_GROUP_CHARS).collect()
}

/// A budget as a dry run shows it.
fn shown_slot(slot: &Slot) -> serde_json::Value {
    json!({"limit": slot.limit, "scope": slot.scope, "cap": slot.cap})
}
