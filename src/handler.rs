//! One delivery, start to finish: route, verify, parse, translate, and start (or show) the
//! Devin session. Every outcome is an HTTP answer chosen for PagerDuty's retry rules: 2xx when
//! done or deliberately ignored, 4xx for what a retry cannot fix, 5xx/429 for failures a retry
//! can fix, so no incident is lost.

use lambda_http::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tracing::{error, field, info, info_span, warn, Instrument, Span};

use crate::brief;
use crate::devin::{DevinClient, DevinError, SessionRequest};
use crate::incident;
use crate::route::{Action, Policy};
use crate::template::Facts;
use crate::verify::{Verifier, SIGNATURE_HEADER, WEBHOOK_SECRET_HEADER};

/// PagerDuty's id of the delivery, the same on every retry of it.
const WEBHOOK_ID_HEADER: &str = "x-webhook-id";
/// The one path the Function URL serves.
pub const ROUTE: &str = "/pagerduty-alert";
/// PagerDuty drops payloads over 256 KB, so anything past 1 MiB is not from PagerDuty.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Everything a delivery needs, built once per cold start and borrowed by every invocation.
pub struct Bridge {
    verifier: Verifier,
    devin: DevinClient,
    policy: Policy,
    /// Show the session request instead of sending it.
    dry_run: bool,
}

impl Bridge {
    pub fn new(verifier: Verifier, devin: DevinClient, policy: Policy, dry_run: bool) -> Self {
        Bridge {
            verifier,
            devin,
            policy,
            dry_run,
        }
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        // One span per delivery: every line about it carries PagerDuty's delivery id, and the
        // event and incident ids once they are known.
        let span = info_span!(
            "delivery",
            webhook_id = header(request.headers(), WEBHOOK_ID_HEADER)
                .and_then(|id| std::str::from_utf8(id).ok())
                .filter(|id| id.len() <= 64),
            event_id = field::Empty,
            event_type = field::Empty,
            incident_id = field::Empty,
            rule = field::Empty,
        );
        self.handle_in_span(request).instrument(span).await
    }

    async fn handle_in_span(&self, request: Request) -> Response<Body> {
        if request.uri().path() != ROUTE {
            return answer(StatusCode::NOT_FOUND, json!({"error": "not found"}));
        }
        if request.method() != Method::POST {
            let mut response = answer(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "method not allowed"}),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let body: &[u8] = request.body().as_ref();
        if body.len() > MAX_BODY_BYTES {
            warn!(bytes = body.len(), "delivery refused: body too large");
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "payload too large"}),
            );
        }

        // Nothing about the body is trusted, or even parsed, before every check passes.
        let headers = request.headers();
        if let Err(rejection) = self.verifier.verify(
            header(headers, WEBHOOK_SECRET_HEADER),
            header(headers, SIGNATURE_HEADER),
            body,
        ) {
            warn!(check = rejection.check(), reason = %rejection, "delivery refused");
            // The same bare answer for every failed check: a forger learns nothing.
            return answer(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
        }

        let event = match incident::parse(body) {
            Ok(delivery) => delivery.event,
            Err(err) => {
                warn!(error = %err, "delivery refused: not a webhook v3 body");
                return bad_request(&err);
            }
        };
        let span = Span::current();
        span.record("event_id", event.id.as_str());
        span.record("event_type", event.event_type.as_str());

        if !self.policy.accepts(&event.event_type) {
            span.record("incident_id", event.incident_id());
            info!("event ignored: the routing policy starts no investigation on this event type");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "ignored", "event_type": event.event_type}),
            );
        }
        let incident = match event.incident() {
            Ok(incident) => incident,
            Err(err) => {
                warn!(error = %err, "delivery refused: the event carries no incident");
                return bad_request(&err);
            }
        };
        span.record("incident_id", incident.id.as_str());

        let decision = self.policy.decide(&event.event_type, &incident);
        span.record("rule", decision.rule);
        if decision.action == Action::Ignore {
            info!("incident ignored by the routing policy");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "ignored", "rule": decision.rule, "incident_id": incident.id}),
            );
        }
        let facts = Facts {
            incident: &incident,
            event_type: &event.event_type,
            occurred_at: event.occurred_at.as_deref(),
        };
        let request = brief::session_request(&facts, &decision);
        self.start_session(&incident.id, decision.rule, &request)
            .await
    }

    async fn start_session(
        &self,
        incident_id: &str,
        rule: &str,
        request: &SessionRequest,
    ) -> Response<Body> {
        if self.dry_run {
            let shown = json!({
                "method": "POST",
                "url": self.devin.sessions_url(),
                "body": request,
            });
            info!(request = %shown, "dry run: this session request was not sent to Devin");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "dry_run", "rule": rule, "incident_id": incident_id, "request": shown}),
            );
        }

        match self.devin.create_session(request).await {
            Ok(session) => {
                info!(session_id = %session.session_id, url = %session.url, "Devin session started");
                answer(
                    StatusCode::ACCEPTED,
                    json!({
                        "status": "session_started",
                        "rule": rule,
                        "incident_id": incident_id,
                        "session_id": session.session_id,
                        "url": session.url,
                    }),
                )
            }
            Err(err) => {
                error!(error = %err, "Devin session not started; PagerDuty will retry the delivery");
                devin_failure(err)
            }
        }
    }
}

/// PagerDuty retries 429 and 5xx: Devin's rate limit is passed on as such, every other Devin
/// failure becomes a 5xx.
fn devin_failure(err: DevinError) -> Response<Body> {
    let body = json!({"error": "Devin session not started, retry later"});
    match err {
        DevinError::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after,
            ..
        } => {
            let mut response = answer(StatusCode::TOO_MANY_REQUESTS, body);
            if let Some(retry_after) = retry_after {
                response.headers_mut().insert(RETRY_AFTER, retry_after);
            }
            response
        }
        DevinError::Timeout(_) => answer(StatusCode::GATEWAY_TIMEOUT, body),
        DevinError::Status { .. } | DevinError::Unreachable(_) | DevinError::NotASession(_) => {
            answer(StatusCode::BAD_GATEWAY, body)
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}

fn bad_request(err: &dyn std::error::Error) -> Response<Body> {
    answer(
        StatusCode::BAD_REQUEST,
        json!({"error": "bad request", "detail": err.to_string()}),
    )
}

fn answer(status: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
