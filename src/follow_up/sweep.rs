//! No incident without its session: the records the follow-up owns start when due
//! (`pure::life::due`: a deferral or a cap whose time came, a pending start, a claim whose lease
//! ran out) or are skipped once resolved, and open incidents that no delivery brought (a
//! delivery refused during an outage, a subscription PagerDuty disabled) start through the same
//! path as a delivery of their trigger.

use http::HeaderValue;
use serde_json::Value;
use tracing::{info, info_span, warn, Instrument};

use crate::delivery::outcome::{Done, Outcome};
use crate::edge::clock;
use crate::edge::pagerduty::{PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use crate::follow_up::report::{Action, RunReport};
use crate::follow_up::FollowUp;
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::webhook::{Incident, INCIDENT_TRIGGERED};
use pure::life::records::{IncidentRecord, ToStart};
use pure::life::sweep;
use pure::life::{self, Start};
use pure::metrics::{RunTally, Tally};
use pure::policy::Action as PolicyAction;

/// How a start the follow-up made is counted.
enum Started {
    BySweep,
    Deferred,
    /// A pending start, a cap whose budget refilled, or a claim whose lease ran out.
    Retried,
}

impl Started {
    fn of(record: &IncidentRecord) -> Started {
        match record {
            IncidentRecord::Deferred { .. } => Started::Deferred,
            _ => Started::Retried,
        }
    }

    fn start(&self) -> Start {
        match self {
            Started::BySweep => Start::Sweep,
            Started::Deferred | Started::Retried => Start::Due,
        }
    }
}

impl FollowUp {
    /// Starts the records that are due and whose incident is still open; records the ones that
    /// resolved meanwhile as skipped.
    pub(super) async fn start_due(
        &self,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let left = budget.remaining(clock::now());
        let starts = match self.bridge.ledger.starts(left).await {
            Ok(starts) => starts,
            Err(err) => {
                warn!(error = %err, "the starts were not read from the ledger: next run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        let now_ms = clock::epoch_ms();
        let due: Vec<&ToStart> = starts
            .iter()
            .filter(|start| life::due(&start.record, now_ms))
            .collect();
        if due.is_empty() {
            return;
        }
        let secrets = self.bridge.secrets.current().await;
        let (Some(pagerduty), Some(authorization)) = (
            self.bridge.pagerduty.client(),
            secrets.pagerduty_authorization(),
        ) else {
            warn!(due = due.len(), "due starts wait: without PAGERDUTY_API_TOKEN nobody can read whether their incidents are still open (PagerDuty's retries start the ones a delivery left)");
            return;
        };
        let reader = Reader {
            pagerduty,
            authorization,
        };
        for due in due {
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                return;
            }
            let span = info_span!("due", incident_id = %due.incident_id, state = life::state_name(&due.record));
            self.start_if_open(due, &reader, budget, report, tally)
                .instrument(span)
                .await;
        }
    }

    async fn start_if_open(
        &self,
        due: &ToStart,
        reader: &Reader<'_>,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let Some(incident) = self.read_incident(due, reader, budget, tally).await else {
            return;
        };
        let open = matches!(
            incident.status.as_deref(),
            Some("triggered" | "acknowledged")
        );
        // A claim whose lease ran out is taken over even when its incident resolved: its create
        // may have happened, and only the lookup the takeover makes can find that session.
        if open || !life::skippable(&due.record) {
            let started = Started::of(&due.record);
            self.start(&incident, started, budget, report, tally).await;
            return;
        }
        self.skip_resolved(due, budget, report, tally).await;
    }

    /// The due start's incident as PagerDuty shows it now (resolved when PagerDuty no longer
    /// has it); `None` when it could not be read (next run).
    async fn read_incident(
        &self,
        due: &ToStart,
        reader: &Reader<'_>,
        budget: Budget,
        tally: &mut RunTally,
    ) -> Option<Incident> {
        let mut stats = CallStats::default();
        let read = within_budget(
            "PagerDuty incident",
            Self::step(budget),
            &mut stats,
            PagerDutyError::is_retryable,
            |left| {
                reader
                    .pagerduty
                    .incident(reader.authorization, &due.incident_id, left)
            },
        )
        .await;
        match read {
            Ok(incident) => Some(incident),
            // Gone from PagerDuty: nothing to investigate.
            Err(Failure::Final(PagerDutyError::Status { status, .. }))
                if status.as_u16() == 404 =>
            {
                Some(Incident {
                    id: due.incident_id.clone(),
                    status: Some("resolved".into()),
                    ..Incident::default()
                })
            }
            Err(err) => {
                warn!(error = %err, "the incident was not read from PagerDuty: next run");
                tally.follow_up_errors += 1;
                None
            }
        }
    }

    /// Records the due start as skipped: its incident resolved before it.
    async fn skip_resolved(
        &self,
        due: &ToStart,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let action = Action {
            incident_id: due.incident_id.clone(),
            action: "skipped_resolved".into(),
            session_id: None,
            detail: None,
        };
        if self.bridge.options.dry_run {
            info!("dry run: the incident resolved; its start would be skipped");
            report.actions.push(action);
            return;
        }
        let left = Self::step(budget).remaining(clock::now());
        let skipped = self
            .bridge
            .ledger
            .skip_resolved(&due.incident_id, clock::epoch_ms(), left);
        match skipped.await {
            Ok(()) => {
                info!("the incident resolved before its start: no session");
                tally.deferred_skipped += 1;
                report.actions.push(action);
            }
            Err(err) => {
                warn!(error = %err, "the skip was not recorded: next run");
                tally.follow_up_errors += 1;
            }
        }
    }

    /// PagerDuty's open incidents of the look-back window, in the sweep's scope (the services
    /// and teams the webhook subscriptions send), that the policy would investigate and that
    /// have no ledger record: each gets its session.
    pub(super) async fn sweep(&self, budget: Budget, report: &mut RunReport, tally: &mut RunTally) {
        let secrets = self.bridge.secrets.current().await;
        let (Some(pagerduty), Some(authorization), Some(event_type)) = (
            self.bridge.pagerduty.client(),
            secrets.pagerduty_authorization(),
            sweep::event_type(&self.bridge.policy),
        ) else {
            return;
        };
        let scope = self.sweep_scope(&secrets);
        let now_ms = clock::epoch_ms();
        let (since, until) = sweep::window(now_ms, self.options.lookback, self.options.grace);
        let window = (since.as_str(), until.as_str());
        let listed = self
            .list_in_scope(pagerduty, authorization, &scope, window, budget)
            .await;
        let listed = match listed {
            Ok(listed) => listed,
            Err(err) => {
                warn!(error = %err, "PagerDuty's open incidents were not listed: no sweep this run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        let candidates = listed
            .iter()
            .filter(|incident| sweep::is_candidate(incident, now_ms, self.options.grace));
        for incident in candidates {
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                return;
            }
            let left = Self::step(budget).remaining(clock::now());
            match self.bridge.ledger.get(&incident.id, left).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(err) => {
                    warn!(error = %err, incident_id = %incident.id, "the ledger was not read: next run");
                    tally.follow_up_errors += 1;
                    continue;
                }
            }
            if self.bridge.policy.decide(event_type, incident).action != PolicyAction::Investigate {
                continue;
            }
            let span = info_span!("sweep", incident_id = %incident.id);
            async {
                info!("an open incident without a session: the webhook never started one");
                self.start(incident, Started::BySweep, budget, report, tally)
                    .await;
            }
            .instrument(span)
            .await;
        }
    }

    /// Starts the incident's session as a delivery of its trigger would, and counts it.
    async fn start(
        &self,
        incident: &Incident,
        started: Started,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        // A deferral the policy no longer starts on triggers still ends as a trigger would.
        let event_type = sweep::event_type(&self.bridge.policy).unwrap_or(INCIDENT_TRIGGERED);
        let step = budget.at_most(clock::now(), self.bridge.options.delivery_budget);
        let mut calls = Tally::default();
        let outcome = self
            .bridge
            .investigate_missed(event_type, incident, started.start(), step, &mut calls)
            .await;
        outcome.log();
        // Each start is a delivery of its trigger: its metrics line is a delivery's.
        outcome.count(&mut calls);
        self.emit_start(&calls);
        let body: Value = serde_json::from_str(&outcome.body()).unwrap_or(Value::Null);
        let session_id = body["session_id"].as_str().map(str::to_owned);
        match &outcome {
            Outcome::Done(Done::SessionStarted { .. } | Done::Grouped { .. }) => match started {
                Started::BySweep => tally.sessions_started_by_sweep += 1,
                Started::Deferred => tally.deferred_started += 1,
                Started::Retried => tally.starts_retried += 1,
            },
            // Neither a session nor a recorded decision (Devin busy, the ledger down): what the
            // start left (pending, or a claim) is due again next run.
            outcome if !outcome.status().is_success() => tally.follow_up_errors += 1,
            _ => {}
        }
        report.actions.push(Action {
            incident_id: incident.id.clone(),
            action: body["status"].as_str().unwrap_or("failed").to_owned(),
            session_id,
            detail: Some(body),
        });
    }
}

/// The PagerDuty client and its token: what reading incidents needs.
struct Reader<'a> {
    pagerduty: &'a PagerDutyClient,
    authorization: &'a HeaderValue,
}
