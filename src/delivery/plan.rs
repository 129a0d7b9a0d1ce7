//! What the routing policy decided for an incident to investigate, ready to act on: shared by
//! the start, the group and the limits.

use pure::inbound::webhook::Incident;
use pure::life::session::SessionRequest;
use pure::life::Start;
use pure::policy::route::Shaped;
use pure::policy::spend::Slot;
use pure::policy::Decision;
use pure::text::alerts::Evidence;

/// What the policy decided for an incident to investigate, ready to act on.
pub struct Plan<'a> {
    pub rule: String,
    pub incident: &'a Incident,
    pub decision: Decision<'a>,
    pub request: SessionRequest,
    /// The group's name, when the rule groups.
    pub group: Option<String>,
    /// The limits a new session counts against.
    pub slots: Vec<Slot>,
    /// The incident's alerts, when they were read.
    pub alerts: Option<Evidence>,
    /// What starts it (`pure::life::Start`): what the incident's record lets it do.
    pub start: Start,
}

impl<'a> Plan<'a> {
    /// The plan of `rule`'s `decision` for `incident`, in the shape the policy gave it.
    pub fn new(
        rule: String,
        (incident, decision): (&'a Incident, Decision<'a>),
        shaped: Shaped,
        alerts: Option<Evidence>,
        start: Start,
    ) -> Self {
        let Shaped {
            request,
            group,
            slots,
        } = shaped;
        Plan {
            rule,
            incident,
            decision,
            request,
            group,
            slots,
            alerts,
            start,
        }
    }
}
