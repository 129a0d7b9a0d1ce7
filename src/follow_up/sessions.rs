//! Following the open sessions: each session the ledger holds and has not closed out is read
//! from Devin (a few at a time), and each of its incidents gets the notes it lacks: new
//! findings, Devin's question or that it waits for a reply, a quota state, the final note of a
//! session that ended, concluded or went idle. When the session shows something new, the ledger
//! records it and when: what the idle time is counted from. A note is
//! recorded in the ledger once posted; a failure stops that incident's notes until the next run,
//! and never the other sessions'.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use tracing::{info, info_span, warn, Instrument};

use crate::delivery::outcome::NoteStatus;
use crate::edge::clock;
use crate::edge::retry::Failure;
use crate::follow_up::report::{kind, Action, RunReport};
use crate::follow_up::FollowUp;
use crate::pure::budget::{Budget, MIN_ATTEMPT};
use crate::pure::follow::{self, Mark, Observed, Post};
use crate::pure::ledger::OpenIncident;
use crate::pure::metrics::{RunTally, Tally};
use crate::pure::secret::Secrets;
use crate::pure::session::{Session, SessionMessage, SessionState};

/// How many sessions are followed at once: Devin and PagerDuty calls overlap, and neither sees
/// a burst.
const SESSIONS_AT_ONCE: usize = 4;

/// What following one session did.
#[derive(Default)]
struct Followed {
    tally: RunTally,
    actions: Vec<Action>,
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
            .read_session(&session, &mut secrets, budget, &mut followed)
            .await
        else {
            return followed;
        };
        let messages = if follow::needs_messages(&state) {
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
        let mut closed_out = false;
        'incidents: for incident in &incidents {
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                // The run's time is up: the rest waits for the next run.
                break;
            }
            let posts = follow::posts(&incident.progress, &observed);
            // The idle time counts from the last change recorded, so every change is recorded,
            // except when a note closes the incident out: its record leaves the follow-up, and
            // what the session showed is never read again. (Should that note fail, the next run
            // sees the session anew and records any change then.)
            let closes_out = posts
                .iter()
                .any(|post| matches!(post.mark, Mark::ClosedOut(_)));
            if !self.bridge.options.dry_run && !closes_out {
                self.see(incident, &session, &observed, budget, &mut followed)
                    .await;
            }
            for post in posts {
                let id = &incident.incident_id;
                if budget.remaining(clock::now()) < MIN_ATTEMPT {
                    // The run's time is up: the rest waits for the next run.
                    break 'incidents;
                }
                if self.bridge.options.dry_run {
                    info!(incident_id = %id, note = %post.content, "dry run: this note was not posted");
                    let action =
                        Action::note(id, &session.session_id, &post.mark, Some(&post.content));
                    followed.actions.push(action);
                    continue;
                }
                if !self.post(id, &session, &post, &secrets, budget).await {
                    // The rest of this incident's notes wait for the next run, in order.
                    followed.tally.follow_up_errors += 1;
                    break;
                }
                count(&post.mark, &mut followed.tally);
                closed_out |= matches!(post.mark, Mark::ClosedOut(_));
                let action = Action::note(id, &session.session_id, &post.mark, None);
                followed.actions.push(action);
            }
        }
        if closed_out {
            info!("the session ended, concluded or went idle: closed out");
            followed.tally.sessions_closed_out += 1;
        }
        followed
    }

    /// The session as Devin shows it now; `None` when it could not be read (next run). A
    /// session Devin no longer knows (404) has ended.
    async fn read_session(
        &self,
        session: &Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        followed: &mut Followed,
    ) -> Option<SessionState> {
        let (step, mut calls) = (Self::step(budget), Tally::default());
        let read = self
            .bridge
            .session_state(&session.session_id, secrets, step, &mut calls)
            .await;
        match read {
            Ok(state) => Some(state),
            Err(Failure::Final(err)) if err.status().is_some_and(|s| s.as_u16() == 404) => {
                info!("Devin no longer knows the session: it has ended");
                Some(SessionState {
                    status: Some("exit".into()),
                    ..SessionState::default()
                })
            }
            Err(failure) => {
                warn!(error = %failure, "the session was not read: tried again next run");
                followed.tally.follow_up_errors += 1;
                None
            }
        }
    }

    /// The session's messages, to find Devin's last word; `None` when they could not be read
    /// (the turn's note waits for the next run).
    async fn read_messages(
        &self,
        session: &Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        followed: &mut Followed,
    ) -> Option<Vec<SessionMessage>> {
        let (step, mut calls) = (Self::step(budget), Tally::default());
        let read = self
            .bridge
            .session_messages(&session.session_id, secrets, step, &mut calls)
            .await;
        read.map_err(|failure| {
            warn!(error = %failure, "the session's messages were not read: its turn's note waits for the next run");
            followed.tally.follow_up_errors += 1;
        })
        .ok()
    }

    /// Records that the incident's session shows something new, and since when: a session that
    /// shows the same for the idle time is closed out. A failure only delays that.
    async fn see(
        &self,
        incident: &OpenIncident,
        session: &Session,
        observed: &Observed<'_>,
        budget: Budget,
        followed: &mut Followed,
    ) {
        let Some(print) = follow::seen_mark(&incident.progress, observed) else {
            return;
        };
        let left = Self::step(budget).remaining(clock::now());
        let (id, now_ms) = (&incident.incident_id, observed.now_ms);
        let ledger = &self.bridge.ledger;
        if let Err(err) = ledger
            .see(id, &session.session_id, &print, now_ms, left)
            .await
        {
            warn!(incident_id = %id, error = %err, "the session's change was not recorded: its idle time counts from the next run");
            followed.tally.follow_up_errors += 1;
        }
    }

    /// Posts the note, then records it. False when either failed: a note posted and not
    /// recorded is posted again next run (at most one duplicate; never a lost note).
    async fn post(
        &self,
        incident_id: &str,
        session: &Session,
        post: &Post,
        secrets: &Secrets,
        budget: Budget,
    ) -> bool {
        let step = Self::step(budget);
        let span = info_span!("note", incident_id = %incident_id, note = kind(&post.mark));
        async {
            let posted = self
                .bridge
                .note_or_log(secrets, incident_id, &post.content, step)
                .await;
            if posted == NoteStatus::Failed {
                return false;
            }
            let left = Self::step(budget).remaining(clock::now());
            let recorded = self
                .bridge
                .ledger
                .mark(incident_id, &session.session_id, &post.mark, clock::epoch_ms(), left)
                .await;
            if let Err(err) = recorded {
                warn!(error = %err, "the note is posted but not recorded: the next run posts it once more");
                return false;
            }
            true
        }
        .instrument(span)
        .await
    }
}

/// The open incidents, by session, in a stable order.
fn by_session(open: Vec<OpenIncident>) -> Vec<(Session, Vec<OpenIncident>)> {
    let mut sessions: BTreeMap<String, (Session, Vec<OpenIncident>)> = BTreeMap::new();
    for incident in open {
        sessions
            .entry(incident.session.session_id.clone())
            .or_insert_with(|| (incident.session.clone(), Vec::new()))
            .1
            .push(incident);
    }
    sessions.into_values().collect()
}

fn count(mark: &Mark, tally: &mut RunTally) {
    match mark {
        Mark::Findings(_) => tally.findings_posted += 1,
        Mark::Asked(_) => tally.questions_posted += 1,
        Mark::Waiting(_) => {}
        Mark::Quota(_) => tally.devin_quota_hits += 1,
        // The final note's findings, when it showed new ones.
        Mark::ClosedOut(Some(_)) => tally.findings_posted += 1,
        Mark::ClosedOut(None) => {}
    }
}
