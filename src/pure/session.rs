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
