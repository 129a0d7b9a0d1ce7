//! Devin organizations with tag validation: only allow-listed tags are accepted, on create and
//! on tag updates (Devin's API release notes, Dec 2025,
//! <https://docs.devin.ai/api-reference/release-notes>; the organization's allow-list is
//! `PUT /v3beta1/enterprise/organizations/{org_id}/tags`). The bridge's per-incident tags
//! (`pagerduty-incident:<id>`, `service:<name>`) cannot be allow-listed in advance; the routing
//! policy's own tags can. So a create refused for its tags is made again with those alone.

use crate::pure::session::SessionRequest;

/// Whether Devin's refusal (`status`, the start of its body) is about the request's tags: a
/// 400, 403 or 422 whose detail names `tag` or `tags` as a word (Devin's 422 names the field
/// in `loc`: `["body", "tags", 0]`). The wording of the refusal is not documented, so the
/// word is looked for anywhere, and not inside another (`stage`).
pub fn refused_for_tags(status: u16, detail: &str) -> bool {
    matches!(status, 400 | 403 | 422)
        && detail
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word.eq_ignore_ascii_case("tag") || word.eq_ignore_ascii_case("tags"))
}

/// `request` carrying only the routing policy's tags (the ones the operator chose and can
/// allow-list), without the bridge's per-incident ones.
pub fn with_policy_tags_only(request: &SessionRequest, policy_tags: &[String]) -> SessionRequest {
    let mut tags: Vec<String> = Vec::with_capacity(policy_tags.len());
    for tag in policy_tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    SessionRequest {
        tags,
        ..request.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pure::policy::Policy;
    use crate::pure::webhook::INCIDENT_TRIGGERED;
    use crate::pure::{brief, samples};

    #[test]
    fn a_refusal_naming_a_tag_is_a_tag_refusal() {
        for (status, detail) in [
            (
                422,
                r#"{"detail":[{"loc":["body","tags",1],"msg":"tag 'service:api' is not allowed","type":"value_error"}]}"#,
            ),
            (
                400,
                "Tag validation is enabled: pagerduty-incident:Q1 is not allow-listed",
            ),
            (403, r#"{"detail":"TAGS not allowed"}"#),
        ] {
            assert!(refused_for_tags(status, detail), "{status} {detail}");
        }
        for (status, detail) in [
            (
                422,
                r#"{"detail":[{"loc":["body","max_acu_limit"],"msg":"too large"}]}"#,
            ),
            (422, "unknown stage"),
            (404, "tags"),
            (500, "tag store down"),
        ] {
            assert!(!refused_for_tags(status, detail), "{status} {detail}");
        }
    }

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
