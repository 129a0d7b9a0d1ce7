//! What the routing policy makes of an incident it investigates, before anything is called:
//! the session request, the group, the limits it counts against. The delivery acts on it; the
//! policy tool prints it: both from this one function, so they can never disagree.

use serde_json::{json, Value};

use crate::life::session::SessionRequest;
use crate::policy::spend::{self, Slot};
use crate::policy::template::{Facts, Quoting};
use crate::policy::{Decision, Policy};
use crate::text::brief;

/// The longest group name kept: a template over long titles could grow without end.
const MAX_GROUP_CHARS: usize = 200;

/// The decision, shaped into what would be sent and counted.
#[derive(Debug, Clone)]
pub struct Shaped {
    pub request: SessionRequest,
    /// The group's name, when the rule groups.
    pub group: Option<String>,
    /// The limits a new session counts against, at `now_ms`.
    pub slots: Vec<Slot>,
}

/// The request, the group and the limits of `decision` for the incident of `facts`.
pub fn shape(policy: &Policy, decision: &Decision<'_>, facts: &Facts<'_>, now_ms: u64) -> Shaped {
    Shaped {
        request: brief::session_request(facts, decision),
        group: decision
            .group_by
            .map(|template| group_name(&template.render(facts, Quoting::Plain))),
        slots: spend::slots(now_ms, policy.limits(), decision.rule, decision.limits),
    }
}

/// A group's name as the ledger keys it: one line, bounded.
fn group_name(rendered: &str) -> String {
    let one_line = rendered.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(MAX_GROUP_CHARS).collect()
}

/// A budget as a dry run (and the policy tool) shows it.
pub fn shown_slot(slot: &Slot) -> Value {
    json!({"limit": slot.limit, "scope": slot.scope, "cap": slot.cap})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::webhook::INCIDENT_TRIGGERED;
    use crate::samples::{facts, incident};

    #[test]
    fn a_group_is_one_bounded_line_and_budgets_follow_the_rule() {
        let policy = Policy::from_json(
            r#"{"limits": {"sessions_per_hour": 5},
                "defaults": {"group_by": "db:{title}", "limits": {"sessions_per_day": 9}}}"#,
        )
        .unwrap();
        let mut incident = incident();
        incident.title = Some(format!("a\n  b {}", "x".repeat(300)));
        let decision = policy.decide(INCIDENT_TRIGGERED, &incident);
        let shaped = shape(&policy, &decision, &facts(&incident), 1_795_857_125_000);
        let group = shaped.group.unwrap();
        assert!(group.starts_with("db:a b xxx") && group.chars().count() == MAX_GROUP_CHARS);
        let shown: Vec<Value> = shaped.slots.iter().map(shown_slot).collect();
        assert_eq!(
            shown,
            [
                json!({"limit": "sessions_per_hour", "scope": "bridge", "cap": 5}),
                json!({"limit": "sessions_per_day", "scope": "rule defaults", "cap": 9})
            ]
        );
    }
}
