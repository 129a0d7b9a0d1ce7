//! A follow-up note is posted once, even when PagerDuty's answer is ambiguous. Each note
//! carries a short reference (`pure::life::follow_up::note_ref`); after a 5xx, a timeout or a lost
//! connection (PagerDuty may have stored the note before failing), the run looks for the
//! reference among the incident's notes (`GET /incidents/{id}/notes`) before posting again, and
//! a run that had to stop unsure records so in the ledger: the next run looks first.

use std::time::Duration;

use tracing::{info, info_span, warn, Instrument};

use crate::delivery::notes::{Note, Posted};
use crate::edge::clock;
use crate::follow_up::report::kind;
use crate::follow_up::FollowUp;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::life::follow_up::{self, carries_ref, Mark, Post};
use pure::life::records::OpenIncident;
use pure::life::session::Session;

/// Left, after a note's post, to record it (or that PagerDuty may have stored it).
const RECORD_MARGIN: Duration = Duration::from_millis(500);

impl FollowUp {
    /// Posts the note with its reference, once (`notes`), then records it. False when either
    /// failed: a note whose post was ambiguous is looked for before it is posted again.
    pub(super) async fn post(
        &self,
        incident: &OpenIncident,
        session: &Session,
        post: &Post,
        secrets: &Secrets,
        budget: Budget,
    ) -> bool {
        self.post_on(incident, session, post, Kept::Followed, secrets, budget)
            .await
    }

    /// [`FollowUp::post`], on a record `kept` as it is.
    pub(super) async fn post_on(
        &self,
        incident: &OpenIncident,
        session: &Session,
        post: &Post,
        kept: Kept,
        secrets: &Secrets,
        budget: Budget,
    ) -> bool {
        // The post ends early enough to record what became of it.
        let step = Self::step(budget);
        let now = clock::now();
        let step = step.at_most(now, step.remaining(now).saturating_sub(RECORD_MARGIN));
        let incident_id = incident.incident_id.as_str();
        let span = info_span!("note", incident_id = %incident_id, note = kind(&post.mark));
        async {
            let reference = follow_up::note_ref(incident_id, &session.session_id, &post.mark);
            let content = follow_up::with_ref(&post.content, &reference);
            let is_this = |text: &str| carries_ref(text, &reference);
            let note = Note {
                incident_id,
                content: &content,
                is_this: &is_this,
            };
            // An ended record keeps no unsure post: its rare notes are always looked for first.
            let look_first = kept == Kept::Ended
                || incident.progress.unsure.as_deref() == Some(reference.as_str());
            match self.bridge.notes.post_once(secrets, &note, look_first, step).await {
                Posted::Added => {}
                Posted::Off => info!(note = %content, "no PagerDuty notes: the note is here instead"),
                Posted::Failed => return false,
                Posted::Unsure if kept == Kept::Ended => return false,
                Posted::Unsure => {
                    let left = Self::step(budget).remaining(clock::now());
                    let ledger = &self.bridge.ledger;
                    let noted = ledger
                        .unsure(incident_id, &session.session_id, &reference, clock::epoch_ms(), left)
                        .await;
                    if let Err(err) = noted {
                        warn!(error = %err, "that the note may be stored is not recorded: the next run may post it once more");
                    }
                    return false;
                }
            }
            self.record_posted(incident_id, &session.session_id, &post.mark, kept, budget)
                .await
        }
        .instrument(span)
        .await
    }

    /// Records the note posted: false when it is not (the next run posts it once more).
    async fn record_posted(
        &self,
        incident_id: &str,
        session_id: &str,
        mark: &Mark,
        kept: Kept,
        budget: Budget,
    ) -> bool {
        let (left, now_ms) = (
            Self::step(budget).remaining(clock::now()),
            clock::epoch_ms(),
        );
        let ledger = &self.bridge.ledger;
        let recorded = match (kept, mark) {
            (Kept::Ended, Mark::Postmortem(part)) => {
                let posted = Some(*part);
                ledger
                    .postmortem_posted(incident_id, session_id, posted, now_ms, left)
                    .await
            }
            _ => {
                ledger
                    .mark(incident_id, session_id, mark, now_ms, left)
                    .await
            }
        };
        if let Err(err) = recorded {
            warn!(error = %err, "the note is posted but not recorded: the next run posts it once more");
            return false;
        }
        true
    }
}

/// The record a note is posted for: followed (the open queue), or ended and awaiting its
/// postmortem draft (the postmortem queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kept {
    Followed,
    Ended,
}
