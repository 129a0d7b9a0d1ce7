//! The incident's custom fields (PagerDuty's REST OpenAPI, `/incidents/{id}/custom_fields/values`):
//! which fields the incident has and of what type (`getIncidentFieldValues`: incident-type
//! aware, one call, unlike the deprecated `GET /incidents/custom_fields`), and setting values
//! by name (`setIncidentFieldValues`, answered 201 with the fields).

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::{PagerDutyClient, PagerDutyError};
use crate::edge::url::with_segments;
use pure::text::custom_fields::FieldDefinition;

/// `getIncidentFieldValues`: `{"custom_fields": [CustomFieldsFieldValue]}`.
#[derive(Deserialize)]
struct FieldValues {
    custom_fields: Vec<FieldDefinition>,
}

impl PagerDutyClient {
    /// `GET /incidents/{id}/custom_fields/values`: the fields the incident has.
    pub async fn custom_fields(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        timeout: Duration,
    ) -> Result<Vec<FieldDefinition>, PagerDutyError> {
        let url = self.values_url(incident_id);
        let answer: FieldValues = self
            .send(self.http.get(url), authorization, timeout)
            .await?;
        Ok(answer.custom_fields)
    }

    /// `PUT /incidents/{id}/custom_fields/values` with `entries` (`{"name", "value"}` each):
    /// only the fields named change.
    pub async fn set_custom_fields(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        entries: &[Value],
        timeout: Duration,
    ) -> Result<(), PagerDutyError> {
        let request = self
            .http
            .put(self.values_url(incident_id))
            .json(&serde_json::json!({ "custom_fields": entries }));
        let _: IgnoredAny = self.send(request, authorization, timeout).await?;
        Ok(())
    }

    fn values_url(&self, incident_id: &str) -> reqwest::Url {
        with_segments(
            self.api_url.clone(),
            &["incidents", incident_id, "custom_fields", "values"],
        )
    }
}
