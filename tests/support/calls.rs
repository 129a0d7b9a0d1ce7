//! Every remote call the bridge and its tools make to Devin and PagerDuty, each with the vendor
//! reference that defines it. The fakes answer only what this table lists: a request to any
//! other method or path is answered 501 and recorded, and the fake that saw it fails the test
//! when it is dropped. So a call added to the code without its row here (and without reading
//! its reference) fails the first test that makes it.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Devin,
    PagerDuty,
}

/// One remote call: the method, the path with `{name}` for each variable segment, and where
/// the vendor defines it.
#[derive(Debug)]
pub struct Call {
    pub service: Service,
    pub method: &'static str,
    pub path: &'static str,
    pub reference: &'static str,
}

const DEVIN_V3: &str = "https://docs.devin.ai/api-reference/v3/sessions/";
const PAGERDUTY_OPENAPI: &str = "PagerDuty/api-schema reference/REST/openapiv3.json, operation ";

const fn devin(method: &'static str, path: &'static str, reference: &'static str) -> Call {
    Call {
        service: Service::Devin,
        method,
        path,
        reference,
    }
}

const fn pagerduty(method: &'static str, path: &'static str, operation: &'static str) -> Call {
    Call {
        service: Service::PagerDuty,
        method,
        path,
        reference: operation,
    }
}

/// The table. Devin's references are pages under [`DEVIN_V3`] (see [`Call::source`]); the
/// PagerDuty ones are the OpenAPI's `operationId`s.
pub const CALLS: &[Call] = &[
    // Devin v3, organization scope (service user, `cog_` token).
    devin(
        "POST",
        "/v3/organizations/{org_id}/sessions",
        "post-organizations-sessions",
    ),
    devin(
        "GET",
        "/v3/organizations/{org_id}/sessions",
        "organizations-sessions",
    ),
    devin(
        "GET",
        "/v3/organizations/{org_id}/sessions/{devin_id}",
        "get-organizations-session",
    ),
    devin(
        "DELETE",
        "/v3/organizations/{org_id}/sessions/{devin_id}",
        "delete-organizations-sessions",
    ),
    devin(
        "GET",
        "/v3/organizations/{org_id}/sessions/{devin_id}/messages",
        "get-organizations-session-messages",
    ),
    // "Send a message to an active session; a suspended session is resumed."
    devin(
        "POST",
        "/v3/organizations/{org_id}/sessions/{devin_id}/messages",
        "post-organizations-sessions-messages",
    ),
    devin(
        "POST",
        "/v3/organizations/{org_id}/sessions/{devin_id}/tags",
        "post-organizations-session-tags",
    ),
    // `connect-pagerduty --check`: who the token is (operationId `handle_get_self_v3_self_get`).
    Call {
        service: Service::Devin,
        method: "GET",
        path: "/v3/self",
        reference: "https://docs.devin.ai/api-reference/v3/self/self",
    },
    // PagerDuty REST (api.pagerduty.com).
    pagerduty("GET", "/incidents", "listIncidents"),
    pagerduty("GET", "/incidents/{id}", "getIncident"),
    pagerduty("POST", "/incidents/{id}/notes", "createIncidentNote"),
    pagerduty("GET", "/incidents/{id}/notes", "listIncidentNotes"),
    pagerduty("GET", "/incidents/{id}/alerts", "listIncidentAlerts"),
    // The brief's correlated context: 402/403 where the account lacks the feature.
    pagerduty(
        "GET",
        "/incidents/{id}/related_change_events",
        "listIncidentRelatedChangeEvents",
    ),
    pagerduty("GET", "/incidents/{id}/past_incidents", "getPastIncidents"),
    pagerduty(
        "GET",
        "/incidents/{id}/related_incidents",
        "getRelatedIncidents",
    ),
    // The timeline a resolve gives with the postmortem ask.
    pagerduty(
        "GET",
        "/incidents/{id}/log_entries",
        "listIncidentLogEntries",
    ),
    pagerduty("GET", "/users/{id}", "getUser"),
    pagerduty(
        "GET",
        "/incidents/{id}/custom_fields/values",
        "getIncidentFieldValues",
    ),
    pagerduty(
        "PUT",
        "/incidents/{id}/custom_fields/values",
        "setIncidentFieldValues",
    ),
    // connect-pagerduty only.
    pagerduty("GET", "/services", "listServices"),
    pagerduty("GET", "/services/{id}", "getService"),
    pagerduty("GET", "/teams", "listTeams"),
    // `--scope team:<id>`: the id is checked before the name is looked up.
    pagerduty("GET", "/teams/{id}", "getTeam"),
    pagerduty("GET", "/webhook_subscriptions", "listWebhookSubscriptions"),
    pagerduty(
        "POST",
        "/webhook_subscriptions",
        "createWebhookSubscription",
    ),
    pagerduty(
        "PUT",
        "/webhook_subscriptions/{id}",
        "updateWebhookSubscription",
    ),
    pagerduty(
        "DELETE",
        "/webhook_subscriptions/{id}",
        "deleteWebhookSubscription",
    ),
    pagerduty(
        "POST",
        "/webhook_subscriptions/{id}/ping",
        "testWebhookSubscription",
    ),
    pagerduty(
        "POST",
        "/webhook_subscriptions/{id}/enable",
        "enableWebhookSubscription",
    ),
];

impl Call {
    /// Where to read it: a page of Devin's v3 reference, or an operation of PagerDuty's OpenAPI.
    pub fn source(&self) -> String {
        match self.service {
            Service::Devin if self.reference.starts_with("https://") => self.reference.to_owned(),
            Service::Devin => format!("{DEVIN_V3}{}", self.reference),
            Service::PagerDuty => format!("{PAGERDUTY_OPENAPI}{}", self.reference),
        }
    }

    /// Whether a request's method and path are this call: literal segments equal, each
    /// `{name}` one non-empty segment.
    fn matches(&self, method: &str, path: &str) -> bool {
        let mut wanted = self.path.split('/');
        let mut got = path.split('/');
        self.method == method
            && loop {
                match (wanted.next(), got.next()) {
                    (None, None) => break true,
                    (Some(w), Some(g)) if w.starts_with('{') => {
                        if g.is_empty() {
                            break false;
                        }
                    }
                    (Some(w), Some(g)) if w == g => {}
                    _ => break false,
                }
            }
    }
}

/// The table's row for this request, if any.
pub fn listed(service: Service, method: &str, path: &str) -> Option<&'static Call> {
    CALLS
        .iter()
        .find(|call| call.service == service && call.matches(method, path))
}

/// The requests a fake received that the table lacks.
#[derive(Clone)]
pub struct Unlisted {
    service: Service,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Unlisted {
    /// Puts the table in front of `app`: listed requests go through, others are answered 501
    /// and recorded.
    pub fn guard(service: Service, app: Router) -> (Router, Unlisted) {
        let unlisted = Unlisted {
            service,
            seen: Arc::default(),
        };
        let app = app.layer(axum::middleware::from_fn_with_state(
            unlisted.clone(),
            refuse_unlisted,
        ));
        (app, unlisted)
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Forgets what was refused (for the test of this check itself).
    pub fn forget(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// Fails the test that made an unlisted call: called from the fakes' `Drop`, and silent
    /// while a test is already failing (a second panic would abort the whole binary).
    pub fn fail_if_any(&self) {
        let seen = self.requests();
        if !seen.is_empty() && !std::thread::panicking() {
            panic!(
                "the code called {:?} without a row in tests/support/calls.rs \
                 (add it with its vendor reference): {seen:?}",
                self.service
            );
        }
    }
}

async fn refuse_unlisted(
    State(unlisted): State<Unlisted>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    if listed(unlisted.service, &method, &path).is_some() {
        return next.run(request).await;
    }
    unlisted
        .seen
        .lock()
        .unwrap()
        .push(format!("{method} {path}"));
    (StatusCode::NOT_IMPLEMENTED, "not in tests/support/calls.rs").into_response()
}
