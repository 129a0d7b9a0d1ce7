//! What a follow-up run did, as the invocation's answer (and, in a dry run, what it would have
//! done): one entry per note and per start, and the run's counts.

use serde::Serialize;
use serde_json::Value;

use pure::life::follow_up::Mark;
use pure::metrics::RunTally;

/// One thing the run did, or in a dry run would have done.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Action {
    pub incident_id: String,
    /// `findings`, `question`, `waiting`, `quota`, `final`, or for a start the outcome's status.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// A dry run's note, or the start's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

impl Action {
    /// A note posted (or, with `note`, a dry run's note not posted).
    pub fn note(incident_id: &str, session_id: &str, mark: &Mark, note: Option<&str>) -> Action {
        Action {
            incident_id: incident_id.to_owned(),
            action: kind(mark).to_owned(),
            session_id: Some(session_id.to_owned()),
            detail: note.map(Value::from),
        }
    }
}

/// What the note of a mark is, for the report and the logs.
pub fn kind(mark: &Mark) -> &'static str {
    match mark {
        Mark::Findings(_) => "findings",
        Mark::Asked(_) => "question",
        Mark::Waiting(_) => "waiting",
        Mark::Quota(_) => "quota",
        Mark::Postmortem(_) => "postmortem",
        Mark::ClosedOut(_) => "final",
    }
}

/// The invocation's answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunReport {
    /// `done`, or `skipped` when another run held the lease.
    pub status: &'static str,
    pub dry_run: bool,
    pub sessions_checked: usize,
    pub actions: Vec<Action>,
    pub findings_posted: u32,
    pub questions_posted: u32,
    pub quota_notes: u32,
    pub sessions_closed_out: u32,
    pub started_by_sweep: u32,
    pub deferred_started: u32,
    /// Pending starts, refilled caps and abandoned claims that got their session.
    pub starts_retried: u32,
    pub deferred_skipped: u32,
    /// Calls that failed: what they were for is tried again next run.
    pub errors: u32,
}

impl RunReport {
    pub fn new(dry_run: bool) -> Self {
        RunReport {
            status: "done",
            dry_run,
            sessions_checked: 0,
            actions: Vec::new(),
            findings_posted: 0,
            questions_posted: 0,
            quota_notes: 0,
            sessions_closed_out: 0,
            started_by_sweep: 0,
            deferred_started: 0,
            starts_retried: 0,
            deferred_skipped: 0,
            errors: 0,
        }
    }

    /// The counts, from the run's tally.
    pub fn counted(mut self, tally: &RunTally) -> Self {
        self.findings_posted = tally.findings_posted;
        self.questions_posted = tally.questions_posted;
        self.quota_notes = tally.devin_quota_hits;
        self.sessions_closed_out = tally.sessions_closed_out;
        self.started_by_sweep = tally.sessions_started_by_sweep;
        self.deferred_started = tally.deferred_started;
        self.starts_retried = tally.starts_retried;
        self.deferred_skipped = tally.deferred_skipped;
        self.errors = tally.follow_up_errors;
        self
    }
}
