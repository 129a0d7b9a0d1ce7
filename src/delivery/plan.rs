//! What the routing policy decided for an incident to investigate, ready to act on: shared by
//! the start, the group and the budget steps.

use crate::pure::alerts::Evidence;
use crate::pure::life::Start;
use crate::pure::policy::Decision;
use crate::pure::session::SessionRequest;
use crate::pure::spend::Slot;
use crate::pure::webhook::Incident;

/// What the policy decided for an incident to investigate, ready to act on.
pub struct Plan<'a> {
    pub rule: String,
    pub incident: &'a Incident,
    pub decision: Decision<'a>,
    pub request: SessionRequest,
    /// The group's name, when the rule groups.
    pub group: Option<String>,
    /// The budgets a new session counts against.
    pub slots: Vec<Slot>,
    /// The incident's alerts, when they were read.
    pub alerts: Option<Evidence>,
    /// What starts it (`pure::life::Start`): what the incident's record lets it do.
    pub start: Start,
}
