//! The PagerDuty REST API client: notes on incidents (so the responders see the Devin session and
//! its findings where they already look), and the incidents the follow-up reads (the open ones
//! for the sweep, one for a deferral), what PagerDuty correlated with an incident
//! ([`correlated`]), the incident's log entries and its custom fields ([`custom_fields`]). Built
//! once at cold start when `PAGERDUTY_API_TOKEN` is set. How a call fails is in [`error`].

mod correlated;
mod custom_fields;
mod error;
mod log_entries;

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::Url;
use serde::Deserialize;

use crate::edge::retry::read_refusal;
use crate::edge::url::with_segments;
use pure::inbound::rest_incident::RestIncident;
use pure::inbound::webhook::{Incident, Reference};
use pure::text::alerts::Alert;
use pure::text::refusal;

pub use correlated::CorrelatedError;
pub use error::PagerDutyError;

/// Version 2 of the REST API, as PagerDuty asks every client to say.
const ACCEPT_V2: &str = "application/vnd.pagerduty+json;version=2";

pub struct PagerDutyClient {
    http: reqwest::Client,
    /// The REST API's base, such as `https://api.pagerduty.com`.
    api_url: Url,
    /// `From`: the email of a user on the account, which PagerDuty requires for notes.
    from: HeaderValue,
    /// The correlated reads this process found the account lacks.
    absent: correlated::Absent,
}

/// `POST /incidents/{id}/notes` answers with the note; its `user` is who wrote it.
#[derive(Deserialize)]
struct NoteAnswer {
    note: AddedNote,
}

#[derive(Deserialize)]
struct AddedNote {
    #[serde(default)]
    user: Option<Reference>,
}

/// `GET /incidents`: one page, in REST's shape (`listIncidents`).
#[derive(Deserialize)]
struct IncidentPage {
    incidents: Vec<RestIncident>,
    #[serde(default)]
    more: bool,
}

/// `GET /users/{id}`: only the email is read.
#[derive(Deserialize)]
struct OneUser {
    user: User,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    email: Option<String>,
}

/// `GET /incidents/{id}/alerts`: the first page is all the brief uses.
#[derive(Deserialize)]
struct AlertPage {
    alerts: Vec<Alert>,
}

/// `GET /incidents/{id}`, in REST's shape (`getIncident`).
#[derive(Deserialize)]
struct OneIncident {
    incident: RestIncident,
}

/// `GET /incidents/{id}/notes` (`listIncidentNotes`): every note of the incident, whole.
#[derive(Deserialize)]
struct NoteList {
    notes: Vec<ListedNote>,
}

#[derive(Deserialize)]
struct ListedNote {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

/// Whose incidents `GET /incidents` lists (`listIncidents`' `service_ids[]` and `team_ids[]`;
/// given both, PagerDuty would answer the incidents that match both, so they are asked apart).
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    Account,
    Services(&'a [String]),
    Teams(&'a [String]),
}

impl Listing<'_> {
    fn query(&self) -> Vec<(&'static str, &str)> {
        match self {
            Listing::Account => Vec::new(),
            Listing::Services(ids) => ids
                .iter()
                .map(|id| ("service_ids[]", id.as_str()))
                .collect(),
            Listing::Teams(ids) => ids.iter().map(|id| ("team_ids[]", id.as_str())).collect(),
        }
    }
}

/// PagerDuty's largest page, and the most pages read: 1,000 incidents in an hour is a storm the
/// group rules are for.
const INCIDENTS_PER_PAGE: usize = 100;
const MAX_INCIDENT_PAGES: usize = 10;

impl PagerDutyClient {
    /// `from` is the `From` header: the email of the user the notes are written as.
    pub fn new(http: reqwest::Client, api_url: Url, from: HeaderValue) -> Self {
        PagerDutyClient {
            http,
            api_url,
            from,
            absent: correlated::Absent::default(),
        }
    }

    /// `POST /incidents/{id}/notes`. Answers the id of the user PagerDuty wrote it as.
    pub async fn add_note(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        content: &str,
        timeout: Duration,
    ) -> Result<Option<String>, PagerDutyError> {
        let request = self
            .http
            .post(with_segments(
                self.api_url.clone(),
                &["incidents", incident_id, "notes"],
            ))
            .header("From", self.from.clone())
            .json(&serde_json::json!({"note": {"content": content}}));
        let answer: NoteAnswer = self.send(request, authorization, timeout).await?;
        Ok(answer.note.user.and_then(|user| user.id))
    }

    /// The open incidents (triggered or acknowledged) of `listing` created between `since` and
    /// `until` (ISO 8601), page after page up to [`MAX_INCIDENT_PAGES`]; `timeout` is for each
    /// page.
    pub async fn open_incidents(
        &self,
        authorization: &HeaderValue,
        listing: Listing<'_>,
        since: &str,
        until: &str,
        timeout: Duration,
    ) -> Result<Vec<Incident>, PagerDutyError> {
        let url = with_segments(self.api_url.clone(), &["incidents"]);
        let mut incidents = Vec::new();
        for page in 0..MAX_INCIDENT_PAGES {
            let offset = (page * INCIDENTS_PER_PAGE).to_string();
            let request = self.http.get(url.clone()).query(&[
                ("statuses[]", "triggered"),
                ("statuses[]", "acknowledged"),
                ("since", since),
                ("until", until),
                ("limit", &INCIDENTS_PER_PAGE.to_string()),
                ("offset", &offset),
            ]);
            let request = request.query(&listing.query());
            let page: IncidentPage = self.send(request, authorization, timeout).await?;
            let last = !page.more || page.incidents.is_empty();
            // An id that is not PagerDuty's would become a ledger key: such an entry is skipped.
            incidents.extend(
                page.incidents
                    .into_iter()
                    .filter_map(RestIncident::into_incident),
            );
            if last {
                break;
            }
        }
        Ok(incidents)
    }

    /// `GET /incidents/{id}/alerts`: the incident's newest `limit` alerts.
    pub async fn alerts(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<Alert>, PagerDutyError> {
        let url = with_segments(self.api_url.clone(), &["incidents", incident_id, "alerts"]);
        let request = self.http.get(url).query(&[
            ("limit", limit.to_string().as_str()),
            ("sort_by", "created_at:desc"),
        ]);
        let page: AlertPage = self.send(request, authorization, timeout).await?;
        Ok(page.alerts)
    }

    /// `GET /users/{id}`: the user's email, to check a command's author against
    /// `ALLOWED_COMMANDERS`.
    pub async fn user_email(
        &self,
        authorization: &HeaderValue,
        user_id: &str,
        timeout: Duration,
    ) -> Result<Option<String>, PagerDutyError> {
        let url = with_segments(self.api_url.clone(), &["users", user_id]);
        let answer: OneUser = self
            .send(self.http.get(url), authorization, timeout)
            .await?;
        Ok(answer.user.email)
    }

    /// `GET /incidents/{id}`: the incident as it is now.
    pub async fn incident(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<Incident, PagerDutyError> {
        let url = with_segments(self.api_url.clone(), &["incidents", incident_id]);
        let answer: OneIncident = self
            .send(self.http.get(url), authorization, timeout)
            .await?;
        answer
            .incident
            .into_incident()
            .ok_or(PagerDutyError::BadIncidentId)
    }

    /// `GET /incidents/{id}/notes`: the text of the note `note_id`, whole (a delivery may carry
    /// it cut short); `None` when the incident has no such note.
    pub async fn note_content(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        note_id: &str,
        timeout: Duration,
    ) -> Result<Option<String>, PagerDutyError> {
        let list = self.note_list(authorization, incident_id, timeout).await?;
        Ok(list
            .notes
            .into_iter()
            .find(|note| note.id.as_deref() == Some(note_id))
            .and_then(|note| note.content))
    }

    /// `GET /incidents/{id}/notes`: the text of every note of the incident.
    pub async fn notes(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<Vec<String>, PagerDutyError> {
        let list = self.note_list(authorization, incident_id, timeout).await?;
        Ok(list
            .notes
            .into_iter()
            .filter_map(|note| note.content)
            .collect())
    }

    /// `GET /incidents/{id}/notes`, as PagerDuty answers it.
    async fn note_list(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<NoteList, PagerDutyError> {
        let url = with_segments(self.api_url.clone(), &["incidents", incident_id, "notes"]);
        self.send(self.http.get(url), authorization, timeout).await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        authorization: &HeaderValue,
        timeout: Duration,
    ) -> Result<T, PagerDutyError> {
        let transport_error = |err: reqwest::Error| {
            if err.is_timeout() {
                PagerDutyError::Timeout(timeout)
            } else {
                PagerDutyError::Unreachable(err)
            }
        };
        let response = request
            .header(AUTHORIZATION, authorization.clone())
            .header(ACCEPT, ACCEPT_V2)
            .timeout(timeout)
            .send()
            .await
            .map_err(transport_error)?;
        if !response.status().is_success() {
            let refusal = read_refusal(response, "ratelimit-reset").await;
            return Err(PagerDutyError::Status {
                status: refusal.status,
                reset: refusal.wait,
                detail: refusal::readable(&refusal.body),
            });
        }
        response.json::<T>().await.map_err(|err| {
            if err.is_timeout() {
                PagerDutyError::Timeout(timeout)
            } else {
                PagerDutyError::UnexpectedBody(err)
            }
        })
    }
}
