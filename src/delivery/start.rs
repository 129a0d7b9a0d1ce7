//! Starting a claimed incident's session: the incident is claimed; an incident of a group joins
//! its open session or leads a new one; the session is looked up first when the claim was taken
//! over, counted against the limits (once per session, whoever holds the claim), created once;
//! then it is recorded, its group opened, and it is noted on the incident. A start that made no
//! session ends in `not_started`.

use std::sync::Arc;

use tracing::info;

use crate::delivery::bridge::Bridge;
use crate::delivery::claims::Held;
use crate::delivery::not_started::NotStarted;
use crate::delivery::outcome::{Done, Outcome, Retry};
use crate::delivery::plan::Plan;
use crate::edge::clock;
use crate::edge::ledger::Spent;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::lookup;
use pure::life::records::OpenGroup;
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::brief;
use pure::text::notes;

impl Bridge {
    /// Claims the incident, joins its group's open session or leads a new one, and starts it.
    pub(super) async fn start(
        &self,
        mut plan: Plan<'_>,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let incident_id = &plan.incident.id;
        let claimed = self
            .claims
            .claim(incident_id, plan.start, &plan.rule, budget);
        let mut held = match claimed.await {
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
        let session = self
            .claimed_session(&held, &plan, &mut secrets, budget, tally)
            .await;
        match session {
            Ok(session) => {
                let leads = leader.as_deref();
                self.session_started(&held, &plan, leads, session, &secrets, budget)
                    .await
            }
            Err(not_started) => {
                if let (Some(group), Some(holder), true) =
                    (&plan.group, &leader, not_started.nothing_made())
                {
                    self.groups.release(group, holder, budget).await;
                }
                self.not_started(&held, &plan, not_started, &secrets, budget)
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
                self.session_started(held, plan, leads.as_deref(), session, secrets, budget)
                    .await,
            ),
            Ok(None) => {
                // Not made: the start goes on as a new one, without looking it up again.
                held.claimed.took_over = None;
                None
            }
            Err(failure) => {
                let not_started = NotStarted::LookupFailed(failure);
                Some(
                    self.not_started(held, plan, not_started, secrets, budget)
                        .await,
                )
            }
        }
    }

    /// The session for a claim this delivery holds: looked up first when the claim was taken
    /// over (the earlier holder's create may have happened), else counted against the limits
    /// and created. A create is retried only after failures that prove no session was made.
    async fn claimed_session(
        &self,
        held: &Held,
        plan: &Plan<'_>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<Session, NotStarted> {
        if let Some(earlier_lease_until_ms) = held.took_over() {
            let earlier = (
                plan.incident.id.as_str(),
                held.claimed.generation,
                earlier_lease_until_ms,
            );
            let found = self
                .devin
                .find_incident_session(earlier, secrets, budget, tally)
                .await
                .map_err(NotStarted::LookupFailed)?;
            if let Some(session) = found {
                info!(session_id = %session.session_id, "the earlier claim's session exists: recording it");
                return Ok(session);
            }
        }
        // A claim taken over from one that counted this session already counts it no more.
        if !held.claimed.spent {
            let spend = self
                .claims
                .spend(&plan.slots, &plan.incident.id, held, budget);
            match spend.await {
                Ok(Spent::Counted) => {}
                Ok(Spent::Capped(spent)) => {
                    return Err(NotStarted::Capped(plan.slots[spent].clone()))
                }
                Ok(Spent::NotOurs) => return Err(NotStarted::NotOurs),
                Err(err) => return Err(NotStarted::Ledger(err)),
            }
        }
        let asked = (&plan.request, plan.decision.tags);
        let created = self
            .devin
            .create(asked, secrets, budget, tally)
            .await
            .map_err(NotStarted::CreateFailed);
        if let Err(not_started) = &created {
            if not_started.nothing_made() {
                self.claims.refund(&plan.slots, budget).await;
            }
        }
        created
    }

    /// Records the session this delivery started (and opens its group, when it leads it as
    /// `group_holder`), and notes it on the incident.
    pub(super) async fn session_started(
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
            .claims
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
            self.groups.open(group, holder, &open, budget).await;
        }
        let note = notes::session_started_note(&session, &plan.request, &plan.decision);
        let note = self
            .notes
            .add(secrets, incident_id, &note, false, budget)
            .await;
        Done::SessionStarted {
            rule: plan.rule.clone(),
            incident_id: incident_id.clone(),
            session,
            note,
        }
        .into()
    }
}
