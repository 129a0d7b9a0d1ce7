//! The notes part: the bridge's notes on PagerDuty incidents. It holds the PagerDuty client (when
//! a token is configured) and the PagerDuty user the bridge's notes are written as, once a
//! note's answer said, nothing else.
//!
//! A note on an incident is posted once, even when PagerDuty's answer is ambiguous: after a
//! 5xx, a timeout or a lost connection (PagerDuty may have stored the note before failing), the
//! incident's notes (`GET /incidents/{id}/notes`) are looked through for it before it is posted
//! again. A 429 is waited out (nothing was stored); nothing else is retried blindly. The
//! delivery's notes are found by their text (each is the only one of its kind on its incident);
//! the follow-up's by the short reference each carries (`pure::life::follow_up::note_ref`).

use std::sync::{Arc, OnceLock};

use http::HeaderValue;
use tracing::{info, warn};

use crate::delivery::outcome::NoteStatus;
use crate::edge::clock;
use crate::edge::pagerduty::{PagerDutyClient, PagerDutyError};
use crate::edge::retry::{within_budget, CallStats, Failure, Transient};
use pure::budget::{Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;

/// Posts of one note at most: each after a look that did not find it.
const MAX_POSTS: usize = 3;

/// How posting a note went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    /// PagerDuty took it (or an earlier, ambiguous answer had stored it).
    Added,
    /// No PagerDuty token: nothing posted.
    Off,
    /// Not posted; PagerDuty may have stored it all the same.
    Unsure,
    /// Not posted.
    Failed,
}

/// A note to post once, and how to know it among the incident's notes.
pub(crate) struct Note<'a> {
    pub incident_id: &'a str,
    pub content: &'a str,
    pub is_this: &'a dyn Fn(&str) -> bool,
}

/// The bridge's notes on incidents.
pub(crate) struct Notes {
    /// When a PagerDuty token is configured.
    pagerduty: Option<Arc<PagerDutyClient>>,
    /// The PagerDuty user the bridge's notes are written as, once a note's answer said.
    own_user_id: OnceLock<String>,
}

impl Notes {
    pub(crate) fn new(pagerduty: Option<Arc<PagerDutyClient>>) -> Self {
        Notes {
            pagerduty,
            own_user_id: OnceLock::new(),
        }
    }

    /// The PagerDuty user the bridge's notes are written as, once known: notes by this user are
    /// the bridge's own, however they read.
    pub(crate) fn own_user(&self) -> Option<&str> {
        self.own_user_id.get().map(String::as_str)
    }

    /// Adds `content` as a note on the incident, inside the budget, looking for it on the
    /// incident first when `look_first` (an earlier start may have posted it). A failure is
    /// logged and never fails the delivery: the session exists.
    pub(crate) async fn add(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        content: &str,
        look_first: bool,
        budget: Budget,
    ) -> NoteStatus {
        // Each of the delivery's notes is the only one of its kind on its incident: its text is
        // how it is found again after an ambiguous answer.
        let is_this = |text: &str| text.trim() == content.trim();
        let note = Note {
            incident_id,
            content,
            is_this: &is_this,
        };
        match self.post_once(secrets, &note, look_first, budget).await {
            Posted::Added => NoteStatus::Added,
            Posted::Off => NoteStatus::Off,
            Posted::Unsure | Posted::Failed => {
                warn!("note not added to the PagerDuty incident; the session stands");
                NoteStatus::Failed
            }
        }
    }

    /// [`Notes::add`]; without notes (no PagerDuty token), logs the note instead.
    pub(crate) async fn add_or_log(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        note: &str,
        look_first: bool,
        budget: Budget,
    ) -> NoteStatus {
        let status = self
            .add(secrets, incident_id, note, look_first, budget)
            .await;
        if status == NoteStatus::Off {
            info!(note = %note, "no PagerDuty notes: the note is here instead");
        }
        status
    }

    /// Posts the note once: looks for it on the incident first when `look_first` (an earlier
    /// run was unsure) and after every ambiguous answer.
    pub(crate) async fn post_once(
        &self,
        secrets: &Secrets,
        note: &Note<'_>,
        look_first: bool,
        budget: Budget,
    ) -> Posted {
        let (Some(pagerduty), Some(authorization)) =
            (self.pagerduty.as_deref(), secrets.pagerduty_authorization())
        else {
            return Posted::Off;
        };
        let poster = Poster {
            pagerduty,
            authorization,
        };
        let mut unsure = look_first;
        for _ in 0..MAX_POSTS {
            if unsure {
                match poster.find(note, budget).await {
                    Some(true) => {
                        info!("the note was stored after all: not posted again");
                        return Posted::Added;
                    }
                    Some(false) => {}
                    None => return Posted::Unsure,
                }
            }
            if budget.remaining(clock::now()) < MIN_ATTEMPT {
                break;
            }
            match poster.add(note, budget).await {
                Ok(author) => {
                    if let Some(author) = author {
                        // Notes by this user are the bridge's own, however they read.
                        let _ = self.own_user_id.set(author);
                    }
                    return Posted::Added;
                }
                Err(failure) if is_ambiguous(&failure) => {
                    warn!(error = %failure, "PagerDuty's answer leaves it unknown whether the note was stored: looking for it before posting again");
                    unsure = true;
                }
                Err(failure) => {
                    warn!(error = %failure, "the note was not added to the PagerDuty incident");
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
    /// One post of the note, a 429 waited out: the note's author, when PagerDuty says.
    async fn add(
        &self,
        note: &Note<'_>,
        budget: Budget,
    ) -> Result<Option<String>, Failure<PagerDutyError>> {
        let mut stats = CallStats::default();
        let rate_limited = |err: &PagerDutyError| matches!(err, PagerDutyError::Status { status, .. } if status.as_u16() == 429);
        let added = within_budget("PagerDuty note", budget, &mut stats, rate_limited, |left| {
            self.pagerduty
                .add_note(self.authorization, note.incident_id, note.content, left)
        })
        .await;
        if added.is_ok() {
            info!("note added to the PagerDuty incident");
        }
        added
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
            Ok(notes) => Some(notes.iter().any(|text| (note.is_this)(text))),
            Err(failure) => {
                warn!(error = %failure, "the incident's notes were not read: whether the note was stored stays unknown");
                None
            }
        }
    }
}
