//! No incident without its session: deferred incidents start when their time comes (or are
//! skipped once resolved), and open incidents that no delivery brought (a delivery refused
//! during an outage, a subscription PagerDuty disabled) start through the same path as a
//! delivery of their trigger.

use http::HeaderValue;
use serde_json::Value;
use tracing::{info, info_span, warn, Instrument};

use crate::delivery::Outcome;
use crate::edge::clock;
use crate::edge::pagerduty::{PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use crate::follow_up::report::{Action, RunReport};
use crate::follow_up::FollowUp;
use crate::pure::budget::{Budget, MIN_ATTEMPT};
use crate::pure::ledger::DeferredIncident;
use crate::pure::metrics::{RunTally, Tally};
use crate::pure::policy::Action as PolicyAction;
use crate::pure::sweep;
use crate::pure::webhook::{Incident, INCIDENT_TRIGGERED};

/// How a start the follow-up made is counted.
enum Started {
    BySweep,
    Deferred,
}

impl Started {
    /// Whether Devin's refusal is noted on the incident: a deferral starts once, while the
    /// sweep tries a refused incident again on every run.
    fn notes_refusal(&self) -> bool {
        match self {
            Started::BySweep => false,
            Started::Deferred => true,
        }
    }
}

impl FollowUp {
    /// Starts the deferred incidents whose time has come and that are still open; records the
    /// ones that resolved meanwhile.
    pub(super) async fn start_deferred(
        &self,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let left = budget.remaining(clock::now());
        let deferred = match self.bridge.ledger.deferred_incidents(left).await {
            Ok(deferred) => deferred,
            Err(err) => {
                warn!(error = %err, "the deferred incidents were not read from the ledger: next run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        let now_ms = clock::epoch_ms();
        let due: Vec<&DeferredIncident> = deferred
            .iter()
            .filter(|deferred| deferred.until_ms <= now_ms)
            .collect();
        if due.is_empty() {
            return;
        }
        let secrets = self.bridge.secrets.current().await;
        let (Some(pagerduty), Some(authorization)) =
            (&self.bridge.pagerduty, secrets.pagerduty_authorization())
        else {
            warn!(due = due.len(), "deferred incidents wait: without PAGERDUTY_API_TOKEN nobody can tell whether they are still open");
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
            let span = info_span!("deferred", incident_id = %due.incident_id);
            self.start_if_open(due, &reader, budget, report, tally)
                .instrument(span)
                .await;
        }
    }

    async fn start_if_open(
        &self,
        due: &DeferredIncident,
        reader: &Reader<'_>,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
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
        let incident = match read {
            Ok(incident) => incident,
            // Gone from PagerDuty: nothing to investigate.
            Err(Failure::Final(PagerDutyError::Status { status, .. }))
                if status.as_u16() == 404 =>
            {
                Incident {
                    id: due.incident_id.clone(),
                    status: Some("resolved".into()),
                    ..Incident::default()
                }
            }
            Err(err) => {
                warn!(error = %err, "the deferred incident was not read from PagerDuty: next run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        let open = matches!(
            incident.status.as_deref(),
            Some("triggered" | "acknowledged")
        );
        if open {
            self.start(&incident, Started::Deferred, budget, report, tally)
                .await;
            return;
        }
        let action = Action {
            incident_id: due.incident_id.clone(),
            action: "skipped_resolved".into(),
            session_id: None,
            detail: None,
        };
        if self.bridge.options.dry_run {
            info!("dry run: the deferred incident resolved; it would be skipped");
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
                info!("the deferred incident resolved before its time: no session");
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
            &self.bridge.pagerduty,
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
            .investigate_missed(
                event_type,
                incident,
                started.notes_refusal(),
                step,
                &mut calls,
            )
            .await;
        outcome.log();
        // Each start is a delivery of its trigger: its metrics line is a delivery's.
        outcome.count(&mut calls);
        self.emit_start(&calls);
        let body: Value = serde_json::from_str(&outcome.body()).unwrap_or(Value::Null);
        let session_id = body["session_id"].as_str().map(str::to_owned);
        match &outcome {
            Outcome::SessionStarted { .. } | Outcome::Grouped { .. } => match started {
                Started::BySweep => tally.sessions_started_by_sweep += 1,
                Started::Deferred => tally.deferred_started += 1,
            },
            // Neither a session nor a decision (a 429, a 5xx, a lease held): the incident waits
            // for a later run, and the run says so.
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
