//! Following the open sessions: each session the ledger holds and has not closed out is read
//! from Devin (a few at a time), and each of its incidents gets the notes it lacks: new
//! findings, Devin's question or that it waits for a reply, a quota state, the final note of a
//! session that ended, concluded or went idle. When the session shows something new, the ledger
//! records it and when: what the idle time is counted from. A note is
//! recorded in the ledger once posted; a failure stops that incident's notes until the next run,
//! and never the other sessions'. Sessions are read oldest-followed first (`followed_at`), and
//! one Devin answers 404 for is closed out only when the run before saw the 404 too. Reading a
//! session, and recording what was read, is in [`read`]; the findings into the incident's
//! custom fields, in [`fields`].

mod fields;
mod read;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use tracing::{info, info_span, warn, Instrument};

use crate::edge::clock;
use crate::follow_up::report::{Action, RunReport};
use crate::follow_up::FollowUp;
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::life::follow_up::{self, Mark, Observed};
use pure::life::records::OpenIncident;
use pure::life::session::{Session, SessionState};
use pure::metrics::RunTally;
use read::Read;

/// How many sessions are followed at once: Devin and PagerDuty calls overlap, and neither sees
/// a burst.
const SESSIONS_AT_ONCE: usize = 4;

/// What following one session did.
#[derive(Default)]
struct Followed {
    tally: RunTally,
    actions: Vec<Action>,
    /// A note closed out an incident of the session.
    closed_out: bool,
}

impl FollowUp {
    pub(super) async fn follow_sessions(
        &self,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let left = budget.remaining(clock::now());
        let open = match self.bridge.ledger.open_incidents(left).await {
            Ok(open) => open,
            Err(err) => {
                warn!(error = %err, "the open sessions were not read from the ledger: next run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        let sessions = by_session(open);
        report.sessions_checked = sessions.len();
        let followed: Vec<Followed> = stream::iter(sessions)
            .map(|(session, incidents)| {
                let span = info_span!("session", session_id = %session.session_id);
                self.follow_session(session, incidents, budget)
                    .instrument(span)
            })
            .buffer_unordered(SESSIONS_AT_ONCE)
            .collect()
            .await;
        for one in followed {
            tally.add(one.tally);
            report.actions.extend(one.actions);
        }
    }

    async fn follow_session(
        &self,
        session: Session,
        incidents: Vec<OpenIncident>,
        budget: Budget,
    ) -> Followed {
        let mut followed = Followed::default();
        if budget.remaining(clock::now()) < MIN_ATTEMPT {
            return followed;
        }
        let mut secrets = self.bridge.secrets.current().await;
        let Some(state) = self
            .state_now(&session, &incidents, &mut secrets, budget, &mut followed)
            .await
        else {
            return followed;
        };
        let messages = if follow_up::needs_messages(&state) {
            self.read_messages(&session, &mut secrets, budget, &mut followed)
                .await
        } else {
            None
        };
        let observed = Observed::new(
            &state,
            &session.url,
            messages.as_deref(),
            clock::epoch_ms(),
            self.options.idle_after,
        );
        for incident in &incidents {
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                // The run's time is up: the rest waits for the next run.
                break;
            }
            // Before the notes: a note that closes the incident out ends its record.
            self.set_fields(incident, &state, &secrets, budget, &mut followed)
                .await;
            let noted = self.note(
                incident,
                &session,
                &observed,
                &secrets,
                budget,
                &mut followed,
            );
            if !noted.await {
                // The run's time is up: the rest waits for the next run.
                break;
            }
        }
        if followed.closed_out {
            info!("the session ended, concluded or went idle: closed out");
            followed.tally.sessions_closed_out += 1;
        }
        followed
    }

    /// The session's state to follow: as Devin shows it, or ended when Devin answered 404 in
    /// two runs in a row; `None` when there is nothing to follow this run (a first 404, a
    /// failure).
    async fn state_now(
        &self,
        session: &Session,
        incidents: &[OpenIncident],
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        followed: &mut Followed,
    ) -> Option<SessionState> {
        match self.read_session(session, secrets, budget, followed).await {
            Read::Shown(state) => {
                self.record_followed(incidents, session, false, budget, followed)
                    .await;
                Some(state)
            }
            Read::Missing if incidents.iter().any(|i| i.progress.missing_since.is_some()) => {
                info!("Devin answered 404 for the session in two runs in a row: it has ended");
                Some(SessionState {
                    status: Some("exit".into()),
                    ..SessionState::default()
                })
            }
            Read::Missing => {
                info!(
                    "Devin answered 404 for the session: closed out if the next run sees it again"
                );
                self.record_followed(incidents, session, true, budget, followed)
                    .await;
                None
            }
            Read::Failed => None,
        }
    }

    /// Posts the notes the incident lacks, in order, and records what its session shows. False
    /// when the run's time is up.
    async fn note(
        &self,
        incident: &OpenIncident,
        session: &Session,
        observed: &Observed<'_>,
        secrets: &Secrets,
        budget: Budget,
        followed: &mut Followed,
    ) -> bool {
        let posts = follow_up::posts(&incident.progress, observed);
        // The idle time counts from the last change recorded, so every change is recorded,
        // except when a note closes the incident out: its record leaves the follow-up, and
        // what the session showed is never read again. (Should that note fail, the next run
        // sees the session anew and records any change then.)
        let closes_out = posts
            .iter()
            .any(|post| matches!(post.mark, Mark::ClosedOut(_)));
        if !self.bridge.options.dry_run && !closes_out {
            self.see(incident, session, observed, budget, followed)
                .await;
        }
        for post in posts {
            let id = &incident.incident_id;
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                // The run's time is up: the rest waits for the next run.
                return false;
            }
            if self.bridge.options.dry_run {
                info!(incident_id = %id, note = %post.content, "dry run: this note was not posted");
                let action = Action::note(id, &session.session_id, &post.mark, Some(&post.content));
                followed.actions.push(action);
                continue;
            }
            if !self.post(incident, session, &post, secrets, budget).await {
                // The rest of this incident's notes wait for the next run, in order.
                followed.tally.follow_up_errors += 1;
                break;
            }
            count(&post.mark, &mut followed.tally);
            followed.closed_out |= matches!(post.mark, Mark::ClosedOut(_));
            let action = Action::note(id, &session.session_id, &post.mark, None);
            followed.actions.push(action);
        }
        true
    }
}

/// The open incidents, by session, oldest-followed first (never-followed first of all), so
/// that a run whose time runs short leaves the ones read most recently for the next run.
fn by_session(open: Vec<OpenIncident>) -> Vec<(Session, Vec<OpenIncident>)> {
    let mut sessions: BTreeMap<String, (Session, Vec<OpenIncident>)> = BTreeMap::new();
    for incident in open {
        sessions
            .entry(incident.session.session_id.clone())
            .or_insert_with(|| (incident.session.clone(), Vec::new()))
            .1
            .push(incident);
    }
    let mut sessions: Vec<(Session, Vec<OpenIncident>)> = sessions.into_values().collect();
    // Stable: sessions followed at the same time keep their id order.
    sessions.sort_by_key(|(_, incidents)| {
        incidents
            .iter()
            .map(|incident| incident.progress.followed_at)
            .min()
    });
    sessions
}

fn count(mark: &Mark, tally: &mut RunTally) {
    match mark {
        Mark::Findings(_) => tally.findings_posted += 1,
        Mark::Asked(_) => tally.questions_posted += 1,
        Mark::Waiting(_) => {}
        Mark::Quota(_) => tally.devin_quota_hits += 1,
        Mark::Postmortem(_) => {}
        // The final note's findings, when it showed new ones.
        Mark::ClosedOut(Some(_)) => tally.findings_posted += 1,
        Mark::ClosedOut(None) => {}
    }
}
