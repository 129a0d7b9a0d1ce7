//! The postmortem drafts awaited on ended records: an incident whose session the follow-up had
//! closed out before it resolved is asked for its draft all the same (`delivery::postmortem`),
//! and its record waits in the postmortem queue. Each run reads those sessions from Devin and
//! posts the draft's parts, each once; the last part, a session ended without a draft, or an
//! ask older than the idle time takes the record out of the queue
//! (`pure::life::follow_up::awaited_postmortem`).

use tracing::{info, info_span, warn, Instrument};

use crate::edge::clock;
use crate::follow_up::notes::Kept;
use crate::follow_up::report::{Action, RunReport};
use crate::follow_up::FollowUp;
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::life::follow_up::{self, Awaited};
use pure::life::records::AwaitedPostmortem;
use pure::metrics::{RunTally, Tally};

impl FollowUp {
    pub(super) async fn follow_postmortems(
        &self,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let left = budget.remaining(clock::now());
        let awaited = match self.bridge.ledger.awaited_postmortems(left).await {
            Ok(awaited) => awaited,
            Err(err) => {
                warn!(error = %err, "the awaited postmortems were not read from the ledger: next run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        for one in awaited {
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                // The run's time is up: the rest waits for the next run.
                break;
            }
            let span = info_span!("postmortem", incident_id = %one.incident.incident_id);
            self.follow_postmortem(&one, budget, report, tally)
                .instrument(span)
                .await;
        }
    }

    /// Posts the parts of the draft not posted yet, or takes the record out of the queue.
    async fn follow_postmortem(
        &self,
        awaited: &AwaitedPostmortem,
        budget: Budget,
        report: &mut RunReport,
        tally: &mut RunTally,
    ) {
        let (incident, session) = (&awaited.incident, &awaited.incident.session);
        let mut secrets = self.bridge.secrets.current().await;
        let (step, mut calls) = (Self::step(budget), Tally::default());
        let devin = &self.bridge.devin;
        let read = devin.session_state(&session.session_id, &mut secrets, step, &mut calls);
        let state = match read.await {
            Ok(state) => state,
            Err(failure) => {
                // Read again next run; an ask older than the idle time is given up on then.
                warn!(error = %failure, "the session was not read: tried again next run");
                tally.follow_up_errors += 1;
                return;
            }
        };
        let (now_ms, idle_after) = (clock::epoch_ms(), self.options.idle_after);
        let shown = (&state, session.url.as_str());
        let progress = &incident.progress;
        let posts = match follow_up::awaited_postmortem(
            progress,
            shown,
            awaited.asked_at_ms,
            now_ms,
            idle_after,
        ) {
            Awaited::Post(posts) => posts,
            Awaited::Wait => return,
            Awaited::Leave => return self.leave_postmortem_queue(awaited, budget, tally).await,
        };
        let (id, session_id) = (&incident.incident_id, &session.session_id);
        for post in posts {
            if self.bridge.options.dry_run {
                info!(note = %post.content, "dry run: this note was not posted");
                let action = Action::note(id, session_id, &post.mark, Some(&post.content));
                report.actions.push(action);
                continue;
            }
            let posted = self.post_on(incident, session, &post, Kept::Ended, &secrets, budget);
            if !posted.await {
                // The rest of the draft waits for the next run, in order.
                tally.follow_up_errors += 1;
                return;
            }
            report
                .actions
                .push(Action::note(id, session_id, &post.mark, None));
        }
    }

    /// The draft is not to come (or is posted whole): the record leaves the queue, no note.
    async fn leave_postmortem_queue(
        &self,
        awaited: &AwaitedPostmortem,
        budget: Budget,
        tally: &mut RunTally,
    ) {
        let whole = awaited.incident.progress.postmortem.is_some();
        if !whole {
            info!("the session ended without a postmortem draft, or none came within the idle time: none is awaited any more");
        }
        if self.bridge.options.dry_run {
            return;
        }
        let (incident_id, session_id) = (
            &awaited.incident.incident_id,
            &awaited.incident.session.session_id,
        );
        let left = Self::step(budget).remaining(clock::now());
        let left_queue = self
            .bridge
            .ledger
            .postmortem_posted(incident_id, session_id, None, clock::epoch_ms(), left)
            .await;
        if let Err(err) = left_queue {
            warn!(error = %err, "the record did not leave the postmortem queue: next run");
            tally.follow_up_errors += 1;
        }
    }
}
