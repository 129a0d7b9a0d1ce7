//! What PagerDuty correlated with an incident: the related changes, similar past incidents (each
//! read once more with `GET /incidents/{id}` for its number and resolve time) and related
//! incidents; and which of these features the account lacks. A 402 or 403 on one of them means
//! the account does not have it (`pure::text::correlated::means_absent`): it is not asked again
//! until the next cold start, so accounts without it pay nothing per delivery.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use tracing::info;

use super::{PagerDutyClient, PagerDutyError};
use crate::edge::url::with_segments;
use pure::text::correlated::{
    means_absent, ChangeEvent, PastDetail, PastIncident, RelatedIncident,
};

/// The three reads, each a feature an account may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `listIncidentRelatedChangeEvents`.
    RelatedChanges,
    /// `getPastIncidents`.
    PastIncidents,
    /// `getRelatedIncidents`.
    RelatedIncidents,
}

impl Feature {
    fn name(self) -> &'static str {
        match self {
            Feature::RelatedChanges => "related change events",
            Feature::PastIncidents => "past incidents",
            Feature::RelatedIncidents => "related incidents",
        }
    }
}

/// The features this process found absent: set on PagerDuty's 402 or 403, never cleared (a
/// cold start asks again).
#[derive(Debug, Default)]
pub struct Absent {
    related_changes: AtomicBool,
    past_incidents: AtomicBool,
    related_incidents: AtomicBool,
}

impl Absent {
    fn flag(&self, feature: Feature) -> &AtomicBool {
        match feature {
            Feature::RelatedChanges => &self.related_changes,
            Feature::PastIncidents => &self.past_incidents,
            Feature::RelatedIncidents => &self.related_incidents,
        }
    }

    pub fn is_absent(&self, feature: Feature) -> bool {
        self.flag(feature).load(Ordering::Relaxed)
    }

    /// Marks the feature absent when `err` says the account lacks it; says whether it did.
    fn note(&self, feature: Feature, err: &PagerDutyError) -> bool {
        let PagerDutyError::Status { status, .. } = err else {
            return false;
        };
        if !means_absent(status.as_u16()) {
            return false;
        }
        if !self.flag(feature).swap(true, Ordering::Relaxed) {
            info!(
                feature = feature.name(),
                status = status.as_u16(),
                "the PagerDuty account lacks this feature: not asked again until the next cold start"
            );
        }
        true
    }
}

/// Why a correlated read brought nothing.
#[derive(Debug, thiserror::Error)]
pub enum CorrelatedError {
    #[error("the account lacks PagerDuty's {}", .0.name())]
    Absent(Feature),
    #[error(transparent)]
    PagerDuty(#[from] PagerDutyError),
}

#[derive(Deserialize)]
struct ChangePage {
    #[serde(default)]
    change_events: Vec<ChangeEvent>,
}

#[derive(Deserialize)]
struct PastPage {
    #[serde(default)]
    past_incidents: Vec<PastIncident>,
}

#[derive(Deserialize)]
struct RelatedPage {
    #[serde(default)]
    related_incidents: Vec<RelatedIncident>,
}

/// `GET /incidents/{id}` (`getIncident`), for what `getPastIncidents` leaves out.
#[derive(Deserialize)]
struct PastAnswer {
    incident: PastFields,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PastFields {
    incident_number: Option<u64>,
    status: Option<String>,
    /// "The time the incident became resolved or `null`".
    resolved_at: Option<String>,
    html_url: Option<String>,
}

impl PagerDutyClient {
    /// `GET /incidents/{id}/related_change_events` (one page: the operation has no offset).
    pub async fn related_changes(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<ChangeEvent>, CorrelatedError> {
        let url = self.incident_url(incident_id, "related_change_events");
        let request = self.http.get(url).query(&[("limit", limit.to_string())]);
        let page: ChangePage = self
            .feature(Feature::RelatedChanges, request, authorization, timeout)
            .await?;
        Ok(page.change_events)
    }

    /// `GET /incidents/{id}/past_incidents`, then `GET /incidents/{id}` of each at once for its
    /// number and resolve time, all by `timeout` from now; a past incident whose read fails
    /// keeps what the list said.
    pub async fn past_incidents(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<PastIncident>, CorrelatedError> {
        let deadline = Instant::now() + timeout;
        let url = self.incident_url(incident_id, "past_incidents");
        let request = self.http.get(url).query(&[("limit", limit.to_string())]);
        let page: PastPage = self
            .feature(Feature::PastIncidents, request, authorization, timeout)
            .await?;
        let mut past = page.past_incidents;
        past.truncate(limit);
        let left = deadline.saturating_duration_since(Instant::now());
        let ids: Vec<Option<String>> = past
            .iter()
            .map(|one| one.incident.as_ref().and_then(|i| i.id.clone()))
            .collect();
        let details = ids
            .into_iter()
            .map(|id| async move { self.past_detail(authorization, id?, left).await });
        let details = join_all(details).await;
        for (one, detail) in past.iter_mut().zip(details) {
            one.detail = detail;
        }
        Ok(past)
    }

    /// `GET /incidents/{id}/related_incidents`.
    pub async fn related_incidents(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<Vec<RelatedIncident>, CorrelatedError> {
        let url = self.incident_url(incident_id, "related_incidents");
        let page: RelatedPage = self
            .feature(
                Feature::RelatedIncidents,
                self.http.get(url),
                authorization,
                timeout,
            )
            .await?;
        Ok(page.related_incidents)
    }

    /// A past incident's number and resolve time; `None` (one log line) when it cannot be read.
    async fn past_detail(
        &self,
        authorization: &HeaderValue,
        id: String,
        timeout: Duration,
    ) -> Option<PastDetail> {
        if timeout.is_zero() {
            return None;
        }
        let url = with_segments(self.api_url.clone(), &["incidents", &id]);
        match self
            .send::<PastAnswer>(self.http.get(url), authorization, timeout)
            .await
        {
            Ok(PastAnswer { incident }) => Some(PastDetail {
                number: incident.incident_number,
                status: incident.status,
                resolved_at: incident.resolved_at,
                html_url: incident.html_url,
            }),
            Err(err) => {
                info!(error = %err, "a past incident was not read: the brief shows it without its resolve time");
                None
            }
        }
    }

    fn incident_url(&self, incident_id: &str, what: &str) -> reqwest::Url {
        with_segments(self.api_url.clone(), &["incidents", incident_id, what])
    }

    /// One read of a feature: not sent when the account was found to lack it, and marking it
    /// absent when PagerDuty says so.
    async fn feature<T: serde::de::DeserializeOwned>(
        &self,
        feature: Feature,
        request: reqwest::RequestBuilder,
        authorization: &HeaderValue,
        timeout: Duration,
    ) -> Result<T, CorrelatedError> {
        if self.absent.is_absent(feature) {
            return Err(CorrelatedError::Absent(feature));
        }
        self.send(request, authorization, timeout)
            .await
            .map_err(|err| match self.absent.note(feature, &err) {
                true => CorrelatedError::Absent(feature),
                false => CorrelatedError::PagerDuty(err),
            })
    }
}
