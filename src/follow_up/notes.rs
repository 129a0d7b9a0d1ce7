//! A follow-up note is posted once, even when PagerDuty's answer is ambiguous. Each note
//! carries a short reference (`pure::follow::note_ref`); after a 5xx, a timeout or a lost
//! connection (PagerDuty may have stored the note before failing), the run looks for the
//! reference among the incident's notes (`GET /incidents/{id}/notes`) before posting again, and
//! a run that had to stop unsure records so in the ledger: the next run looks first.

use std::time::Duration;

use http::HeaderValue;
use tracing::{info, info_span, warn, Instrument};

use crate::edge::clock;
use crate::edge::pagerduty::{PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use crate::follow_up::report::kind;
use crate::follow_up::FollowUp;
use crate::pure::budget::{Budget, MIN_ATTEMPT};
use crate::pure::follow::{self, carries_ref, Post};
use crate::pure::ledger::OpenIncident;
use crate::pure::secret::Secrets;
use crate::pure::session::Session;

/// Left, after a note's post, to record it (or that PagerDuty may have stored it).
const RECORD_MARGIN: Duration = Duration::from_millis(500);
/// Posts of one note in one run at most: each after a look that did not find it.
const MAX_POSTS: usize = 3;

/// How posting a note went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Posted {
    /// PagerDuty took it (or found it stored by an earlier, ambiguous answer).
    Added,
    /// No PagerDuty token: the note is in the log instead.
    Off,
    /// Not posted; PagerDuty may have stored it all the same.
    Unsure,
    /// Not posted.
    Failed,
}

/// What posting needs: the note, its reference, and where.
struct Note<'a> {
    incident_id: &'a str,
    content: &'a str,
    reference: &'a str,
}

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
        // The post ends early enough to record what became of it.
        let step = Self::step(budget);
        let now = clock::now();
        let step = step.at_most(now, step.remaining(now).saturating_sub(RECORD_MARGIN));
        let incident_id = incident.incident_id.as_str();
        let span = info_span!("note", incident_id = %incident_id, note = kind(&post.mark));
        async {
            let reference = follow::note_ref(incident_id, &session.session_id, &post.mark);
            let content = follow::with_ref(&post.content, &reference);
            let note = Note {
                incident_id,
                content: &content,
                reference: &reference,
            };
            let look_first = incident.progress.unsure.as_deref() == Some(reference.as_str());
            match self.post_once(secrets, &note, look_first, step).await {
                Posted::Added | Posted::Off => {}
                Posted::Failed => return false,
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

    /// Posts the note once: looks for it on the incident first when `look_first` (an earlier
    /// run was unsure) and after every ambiguous answer.
    async fn post_once(
        &self,
        secrets: &Secrets,
        note: &Note<'_>,
        look_first: bool,
        budget: Budget,
    ) -> Posted {
        let (Some(pagerduty), Some(authorization)) =
            (&self.bridge.pagerduty, secrets.pagerduty_authorization())
        else {
            info!(note = %note.content, "no PagerDuty notes: the note is here instead");
            return Posted::Off;
        };
        let pagerduty = Poster {
            pagerduty,
            authorization,
        };
        let mut unsure = look_first;
        for _ in 0..MAX_POSTS {
            if unsure {
                match pagerduty.find(note, budget).await {
                    Some(true) => {
                        info!(
                            reference = note.reference,
                            "the note was stored after all: not posted again"
                        );
                        return Posted::Added;
                    }
                    Some(false) => {}
                    None => return Posted::Unsure,
                }
            }
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                break;
            }
            match pagerduty.add(note, budget).await {
                Ok(()) => return Posted::Added,
                Err(failure) if is_ambiguous(&failure) => {
                    warn!(error = %failure, "PagerDuty's answer leaves it unknown whether the note was stored: looking for it before posting again");
                    unsure = true;
                }
                Err(failure) => {
                    warn!(error = %failure, "the note was not added to the PagerDuty incident: next run");
                    return Posted::Failed;
                }
            }
        }
        if unsure {
            Posted::Unsure
        } else {
            Posted::Failed
        }
    }
}

/// Whether PagerDuty may have stored a note whose post failed so: a 5xx, no answer in time, a
/// connection lost. A 429 or another 4xx stored nothing.
fn is_ambiguous(failure: &Failure<PagerDutyError>) -> bool {
    match failure {
        Failure::TimedOut => true,
        // Never sent, or refused 429 until the time ran out.
        Failure::BudgetSpent => false,
        Failure::Final(PagerDutyError::Status { status, .. }) => status.is_server_error(),
        Failure::Final(PagerDutyError::Timeout(_) | PagerDutyError::Unreachable(_)) => true,
        Failure::Final(PagerDutyError::UnexpectedBody(_) | PagerDutyError::BadIncidentId) => true,
    }
}

/// The PagerDuty client and its token.
struct Poster<'a> {
    pagerduty: &'a PagerDutyClient,
    authorization: &'a HeaderValue,
}

impl Poster<'_> {
    /// One post of the note; a 429 is waited out (nothing was stored), nothing else retried.
    async fn add(&self, note: &Note<'_>, budget: Budget) -> Result<(), Failure<PagerDutyError>> {
        let mut stats = CallStats::default();
        let rate_limited = |err: &PagerDutyError| matches!(err, PagerDutyError::Status { status, .. } if status.as_u16() == 429);
        within_budget("PagerDuty note", budget, &mut stats, rate_limited, |left| {
            self.pagerduty
                .add_note(self.authorization, note.incident_id, note.content, left)
        })
        .await
        .map(|_| info!("note added to the PagerDuty incident"))
    }

    /// Whether the incident has the note already; `None` when its notes could not be read.
    async fn find(&self, note: &Note<'_>, budget: Budget) -> Option<bool> {
        let mut stats = CallStats::default();
        let listed = within_budget(
            "PagerDuty notes",
            budget,
            &mut stats,
            PagerDutyError::is_retryable,
            |left| {
                self.pagerduty
                    .notes(self.authorization, note.incident_id, left)
            },
        )
        .await;
        match listed {
            Ok(notes) => Some(notes.iter().any(|text| carries_ref(text, note.reference))),
            Err(failure) => {
                warn!(error = %failure, "the incident's notes were not read: the note waits for the next run");
                None
            }
        }
    }
}
