//! `GET /incidents/{id}/log_entries` (`listIncidentLogEntries`): the incident's timeline for
//! the postmortem draft. PagerDuty's OpenAPI states neither the largest page nor the order, so
//! the pages are read with `offset` while `more` says so, up to a cap, and the core sorts them.

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Deserialize;

use super::{PagerDutyClient, PagerDutyError};
use crate::edge::url::with_segments;
use pure::text::postmortem::LogEntry;

/// PagerDuty's largest page (its pagination guide), and the most pages read: the important
/// changes of an incident (`is_overview`) rarely fill one.
const ENTRIES_PER_PAGE: usize = 100;
const MAX_ENTRY_PAGES: usize = 5;

/// One page of log entries.
#[derive(Deserialize)]
struct LogEntryPage {
    log_entries: Vec<LogEntry>,
    #[serde(default)]
    more: bool,
}

impl PagerDutyClient {
    /// The incident's important log entries (`is_overview=true`), times in UTC, page after page
    /// up to [`MAX_ENTRY_PAGES`]; `timeout` is for each page.
    pub async fn log_entries(
        &self,
        authorization: &HeaderValue,
        incident_id: &str,
        timeout: impl Fn() -> Duration,
    ) -> Result<Vec<LogEntry>, PagerDutyError> {
        let url = with_segments(
            self.api_url.clone(),
            &["incidents", incident_id, "log_entries"],
        );
        let mut entries = Vec::new();
        for _ in 0..MAX_ENTRY_PAGES {
            // PagerDuty may answer fewer than asked: the next page starts after what came.
            let offset = entries.len().to_string();
            let request = self.http.get(url.clone()).query(&[
                ("is_overview", "true"),
                ("time_zone", "UTC"),
                ("limit", &ENTRIES_PER_PAGE.to_string()),
                ("offset", &offset),
            ]);
            let page: LogEntryPage = self.send(request, authorization, timeout()).await?;
            let last = !page.more || page.log_entries.is_empty();
            entries.extend(page.log_entries);
            if last {
                break;
            }
        }
        Ok(entries)
    }
}
