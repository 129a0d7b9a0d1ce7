//! Devin's sessions as the bridge sees them: the request that starts one, the parts of the
//! answer it reads, and the tags that find an incident's session again.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

pub const TRIAGE_TAG: &str = "pagerduty-triage";
pub const INCIDENT_TAG_PREFIX: &str = "pagerduty-incident:";
pub const SERVICE_TAG_PREFIX: &str = "service:";

/// The tag that finds the session of an incident again.
pub fn incident_tag(incident_id: &str) -> String {
    format!("{INCIDENT_TAG_PREFIX}{incident_id}")
}

/// The body of `POST /v3/organizations/{org_id}/sessions`, with the fields the bridge sets.
/// What the routing policy leaves null is left out, so Devin applies its own default.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionRequest {
    pub prompt: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playbook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_acu_limit: Option<NonZeroU32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub knowledge_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repos: Option<Vec<String>>,
}

/// The parts of Devin's session answer the bridge uses; unknown fields are ignored.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Session {
    pub session_id: String,
    pub url: String,
}

/// A session as Devin's list shows it: enough to tell whether it is an incident's session.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ListedSession {
    #[serde(flatten)]
    pub session: Session,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub is_archived: bool,
}

impl ListedSession {
    /// Whether this is the session of the incident tagged `incident_tag`: it carries the tag
    /// (a list filtered by tag is not trusted to have filtered), and it is neither archived nor
    /// ended in an error.
    pub fn investigates(&self, incident_tag: &str) -> bool {
        self.tags.iter().any(|tag| tag == incident_tag)
            && !self.is_archived
            && self.status.as_deref() != Some("error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(json: &str) -> ListedSession {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn only_a_live_session_carrying_the_tag_is_the_incidents() {
        let tag = incident_tag("Q1");
        let ok = listed(
            r#"{"session_id":"devin-1","url":"u","status":"running","tags":["pagerduty-incident:Q1"]}"#,
        );
        assert!(ok.investigates(&tag));
        assert_eq!(ok.session.session_id, "devin-1");
        let ended = listed(
            r#"{"session_id":"devin-1","url":"u","status":"exit","tags":["pagerduty-incident:Q1"]}"#,
        );
        assert!(
            ended.investigates(&tag),
            "a finished session is still the incident's"
        );
        for other in [
            r#"{"session_id":"d","url":"u","status":"running","tags":["pagerduty-incident:Q12"]}"#,
            r#"{"session_id":"d","url":"u","status":"running"}"#,
            r#"{"session_id":"d","url":"u","status":"error","tags":["pagerduty-incident:Q1"]}"#,
            r#"{"session_id":"d","url":"u","is_archived":true,"tags":["pagerduty-incident:Q1"]}"#,
        ] {
            assert!(!listed(other).investigates(&tag), "{other}");
        }
    }
}
