//! Devin organizations with tag validation: only allow-listed tags are accepted, on create and
//! on tag updates (Devin's API release notes, Dec 2025,
//! <https://docs.devin.ai/api-reference/release-notes>; the organization's allow-list is
//! `PUT /v3beta1/enterprise/organizations/{org_id}/tags`). The bridge's per-incident tags
//! (`pagerduty-incident:<id>`, `service:<name>`) cannot be allow-listed in advance; the routing
//! policy's own tags can. So a create refused for its tags (`pure::text::refusal::read`)
//! is made again with those alone.

use crate::life::session::SessionRequest;
use crate::text::brief;

/// `request` carrying only the routing policy's tags (the ones the operator chose and can
/// allow-list), without the bridge's per-incident ones.
pub fn with_policy_tags_only(request: &SessionRequest, policy_tags: &[String]) -> SessionRequest {
    let mut tags: Vec<String> = Vec::with_capacity(policy_tags.len());
    brief::add_policy_tags(&mut tags, policy_tags);
    SessionRequest {
        tags,
        ..request.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::webhook::INCIDENT_TRIGGERED;
    use crate::policy::Policy;
    use crate::samples;

    #[test]
    fn only_the_policys_tags_are_kept() {
        let incident = samples::incident();
        let policy = Policy::default();
        let decision = policy.decide(INCIDENT_TRIGGERED, &incident);
        let request = brief::session_request(&samples::facts(&incident), &decision);
        assert!(request.tags.len() > 1);
        let policy_tags = ["team:payments".to_owned(), "team:payments".to_owned()];
        let only = with_policy_tags_only(&request, &policy_tags);
        assert_eq!(only.tags, ["team:payments"]);
        assert_eq!((only.prompt, only.title), (request.prompt, request.title));
    }
}
