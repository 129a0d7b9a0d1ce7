//! One delivery, start to finish: route, verify, parse, decide, and start (or find, or show)
//! the Devin session, inside the delivery's time budget. Every outcome is an HTTP answer chosen
//! for PagerDuty's retry rules: 2xx when done or deliberately ignored, 4xx for what a retry
//! cannot fix, 5xx/429 for failures a retry can fix, so no incident is lost and none is
//! investigated twice.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tracing::{error, field, info, info_span, warn, Instrument, Span};

use crate::brief;
use crate::budget::{Budget, MIN_ATTEMPT};
use crate::devin::{DevinClient, DevinError};
use crate::incident::{self, Event, Incident, INCIDENT_ANNOTATED, INCIDENT_REOPENED};
use crate::metrics::Tally;
use crate::pagerduty::PagerDutyClient;
use crate::recent::{RecentDeliveries, DEFAULT_CAPACITY};
use crate::retry::{within_budget, CallStats, Failure};
use crate::route::{Action, Policy};
use crate::secrets::{SecretStore, Secrets};
use crate::settings::DEFAULT_DELIVERY_BUDGET;
use crate::template::Facts;
use crate::verify::{SIGNATURE_HEADER, WEBHOOK_SECRET_HEADER};

/// PagerDuty's id of the delivery, the same on every retry of it.
const WEBHOOK_ID_HEADER: &str = "x-webhook-id";
/// The one path the Function URL serves.
pub const ROUTE: &str = "/pagerduty-alert";
/// PagerDuty drops payloads over 256 KB, so anything past 1 MiB is not from PagerDuty.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// A refused signature fetches the secrets again when they are older than this: PagerDuty may
/// have a new secret we have not seen, but forged requests must not hammer Secrets Manager.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(60);
/// Sent with a 503 when the budget ran out, for PagerDuty's next try.
const RETRY_AFTER_SECONDS: &str = "5";

/// How the bridge behaves, beside what it talks to.
#[derive(Debug, Clone)]
pub struct Options {
    /// Show the session request instead of sending it.
    pub dry_run: bool,
    /// The time one delivery may take, Devin calls and retries included.
    pub delivery_budget: Duration,
    /// The `FunctionName` dimension of the metrics.
    pub function_name: String,
    /// How old the secrets must be before a refused secret or signature fetches them again.
    pub stale_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            delivery_budget: DEFAULT_DELIVERY_BUDGET,
            function_name: "pagerduty-devin-bridge".into(),
            stale_after: DEFAULT_STALE_AFTER,
        }
    }
}

/// Everything a delivery needs, built once per cold start and borrowed by every invocation.
pub struct Bridge {
    secrets: SecretStore,
    devin: DevinClient,
    /// Notes on incidents, when a PagerDuty token is configured.
    pagerduty: Option<PagerDutyClient>,
    policy: Policy,
    options: Options,
    recent: Mutex<RecentDeliveries>,
}

impl Bridge {
    pub fn new(secrets: SecretStore, devin: DevinClient, policy: Policy, options: Options) -> Self {
        Bridge {
            secrets,
            devin,
            pagerduty: None,
            policy,
            options,
            recent: Mutex::new(RecentDeliveries::new(DEFAULT_CAPACITY)),
        }
    }

    /// Adds a note on each incident whose session starts, with `PAGERDUTY_API_TOKEN`.
    pub fn with_pagerduty(mut self, pagerduty: PagerDutyClient) -> Self {
        self.pagerduty = Some(pagerduty);
        self
    }

    /// Answers one request. `lambda_deadline` is when Lambda stops the invocation, if known: the
    /// answer always comes before it.
    pub async fn handle(
        &self,
        request: Request,
        lambda_deadline: Option<Instant>,
    ) -> Response<Body> {
        let budget = Budget::new(
            Instant::now(),
            self.options.delivery_budget,
            lambda_deadline,
        );
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
        let mut tally = Tally::default();
        let response = self
            .handle_in_span(request, budget, &mut tally)
            .instrument(span)
            .await;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_millis() as u64);
        // Metrics go straight to stdout, one JSON line, where CloudWatch Logs extracts them.
        println!("{}", tally.to_emf(&self.options.function_name, now_ms));
        response
    }

    async fn handle_in_span(
        &self,
        request: Request,
        budget: Budget,
        tally: &mut Tally,
    ) -> Response<Body> {
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
        let secrets = match self.verify(request.headers(), body).await {
            Ok(secrets) => secrets,
            Err(()) => {
                tally.verification_failures = 1;
                // The same bare answer for every failed check: a forger learns nothing.
                return answer(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
            }
        };

        let event = match incident::parse(body) {
            Ok(delivery) => delivery.event,
            Err(err) => return refused(&err),
        };
        let span = Span::current();
        span.record("event_id", event.id.as_str());
        span.record("event_type", event.event_type.as_str());

        if let Some(body) = self.recent.lock().unwrap().get(&event.id) {
            tally.duplicates_suppressed = 1;
            info!("repeat of a completed delivery: answered from memory, Devin not called");
            return json_response(StatusCode::ACCEPTED, body.to_owned());
        }
        self.deliver(event, secrets, budget, tally).await
    }

    /// Runs every configured check. A wrong secret or signature, when the secrets held are old
    /// enough to be stale, fetches them again once and checks again: PagerDuty may already sign
    /// with a rotated secret.
    async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Arc<Secrets>, ()> {
        let check = |secrets: &Secrets| {
            secrets.verifier().verify(
                header(headers, WEBHOOK_SECRET_HEADER),
                header(headers, SIGNATURE_HEADER),
                body,
            )
        };
        let secrets = self.secrets.current().await;
        let rejection = match check(&secrets) {
            Ok(()) => return Ok(secrets),
            Err(rejection) => rejection,
        };
        if rejection.is_mismatch() {
            if let Some(fresh) = self
                .secrets
                .refresh_if_older_than(self.options.stale_after)
                .await
            {
                if check(&fresh).is_ok() {
                    info!("delivery verified with freshly fetched secrets");
                    return Ok(fresh);
                }
            }
        }
        warn!(check = rejection.check(), reason = %rejection, "delivery refused");
        Err(())
    }

    async fn deliver(
        &self,
        event: Event,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Response<Body> {
        if self.policy.forwards(&event.event_type) {
            return self.forward(event, secrets, budget, tally).await;
        }
        if !self.policy.accepts(&event.event_type) {
            Span::current().record("incident_id", event.incident_id());
            tally.deliveries_ignored = 1;
            info!("event ignored: the routing policy neither starts an investigation on this event type nor forwards it");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "ignored", "event_type": event.event_type}),
            );
        }
        let incident = match event.incident() {
            Ok(incident) => incident,
            Err(err) => return refused(&err),
        };
        Span::current().record("incident_id", incident.id.as_str());
        self.investigate(&event, &incident, secrets, budget, tally)
            .await
    }

    /// Starts (or finds) the incident's session as the routing policy decides, and notes it on
    /// the incident.
    async fn investigate(
        &self,
        event: &Event,
        incident: &Incident,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Response<Body> {
        let decision = self.policy.decide(&event.event_type, incident);
        Span::current().record("rule", decision.rule);
        if decision.action == Action::Ignore {
            tally.deliveries_ignored = 1;
            info!("incident ignored by the routing policy");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "ignored", "rule": decision.rule, "incident_id": incident.id}),
            );
        }
        let facts = Facts {
            incident,
            event_type: &event.event_type,
            occurred_at: event.occurred_at.as_deref(),
        };
        let request = brief::session_request(&facts, &decision);

        if self.options.dry_run {
            let shown = json!({
                "method": "POST",
                "url": self.devin.sessions_url(),
                "body": request,
            });
            info!(request = %shown, "dry run: this session request was not sent to Devin");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "dry_run", "rule": decision.rule, "incident_id": incident.id, "request": shown}),
            );
        }

        // Each try looks for the session first, so a create that succeeded late is found
        // rather than repeated.
        let tag = brief::incident_tag(&incident.id);
        let found = self
            .call_devin(&mut secrets, budget, tally, |secrets, left| {
                let (tag, request) = (&tag, &request);
                async move {
                    let authorization = secrets.devin_authorization();
                    if let Some(session) = self.devin.find_session(authorization, tag, left).await?
                    {
                        return Ok((session, false));
                    }
                    let left = budget.remaining(Instant::now());
                    if left < MIN_ATTEMPT {
                        return Err(DevinError::Timeout(left));
                    }
                    let session = self
                        .devin
                        .create_session(authorization, request, left)
                        .await?;
                    Ok((session, true))
                }
            })
            .await;
        let (session, created) = match found {
            Ok(found) => found,
            Err(failure) => {
                error!(error = %failure, "Devin session not started; PagerDuty will retry the delivery");
                return failure_answer(failure);
            }
        };
        let mut body = json!({
            "rule": decision.rule,
            "incident_id": incident.id,
            "session_id": session.session_id,
            "url": session.url,
        });
        if created {
            tally.sessions_started = 1;
            info!(session_id = %session.session_id, url = %session.url, "Devin session started");
            body["status"] = "session_started".into();
            let note = brief::incident_note(&session, &request, &decision);
            body["note"] = self
                .note(&secrets, &incident.id, &note, budget)
                .await
                .into();
        } else {
            tally.duplicates_suppressed = 1;
            info!(session_id = %session.session_id, url = %session.url, "the incident already has a Devin session: none started");
            body["status"] = "session_exists".into();
        }
        self.remember(&event.id, body)
    }

    /// Passes the event on to the incident's session: a responder's note, the incident's end,
    /// or a status change. An incident reopened without a session gets one.
    async fn forward(
        &self,
        event: Event,
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Response<Body> {
        let who = event.agent_name();
        let (incident_id, message, incident) = if event.event_type == INCIDENT_ANNOTATED {
            let note = match event.note() {
                Ok(note) => note,
                Err(err) => return refused(&err),
            };
            Span::current().record("incident_id", note.incident_id.as_str());
            if note.content.contains(brief::NOTE_MARKER) {
                tally.deliveries_ignored = 1;
                info!("the bridge's own note: not sent back to Devin");
                return answer(
                    StatusCode::ACCEPTED,
                    json!({"status": "ignored", "reason": "the bridge's own note", "incident_id": note.incident_id}),
                );
            }
            let message = brief::note_message(who, &note.content);
            (note.incident_id, message, None)
        } else {
            let incident = match event.incident() {
                Ok(incident) => incident,
                Err(err) => return refused(&err),
            };
            Span::current().record("incident_id", incident.id.as_str());
            let message = brief::session_message(&event.event_type, who, incident.priority_name());
            (incident.id.clone(), message, Some(incident))
        };

        if self.options.dry_run {
            info!(message = %message, "dry run: this message was not sent to Devin");
            return answer(
                StatusCode::ACCEPTED,
                json!({"status": "dry_run", "incident_id": incident_id, "message": message}),
            );
        }
        let tag = brief::incident_tag(&incident_id);
        let found = self
            .call_devin(&mut secrets, budget, tally, |secrets, left| {
                let tag = &tag;
                async move {
                    self.devin
                        .find_session(secrets.devin_authorization(), tag, left)
                        .await
                }
            })
            .await;
        let session = match found {
            Ok(Some(session)) => session,
            Ok(None) => match incident {
                Some(incident) if event.event_type == INCIDENT_REOPENED => {
                    info!("a reopened incident without a session: starting one");
                    return self
                        .investigate(&event, &incident, secrets, budget, tally)
                        .await;
                }
                _ => {
                    tally.deliveries_ignored = 1;
                    info!("no Devin session for this incident: nothing to tell");
                    return answer(
                        StatusCode::ACCEPTED,
                        json!({"status": "no_session", "incident_id": incident_id}),
                    );
                }
            },
            Err(failure) => {
                error!(error = %failure, "Devin session not found; PagerDuty will retry the delivery");
                return failure_answer(failure);
            }
        };
        let sent = self
            .call_devin(&mut secrets, budget, tally, |secrets, left| {
                let (session_id, message) = (&session.session_id, &message);
                async move {
                    self.devin
                        .send_message(secrets.devin_authorization(), session_id, message, left)
                        .await
                }
            })
            .await;
        if let Err(failure) = sent {
            error!(error = %failure, session_id = %session.session_id, "message not delivered to the Devin session; PagerDuty will retry");
            return failure_answer(failure);
        }
        info!(session_id = %session.session_id, "forwarded to the Devin session");
        self.remember(
            &event.id,
            json!({
                "status": "forwarded",
                "incident_id": incident_id,
                "session_id": session.session_id,
                "url": session.url,
            }),
        )
    }

    /// A Devin call inside the budget, retried as [`within_budget`] does. A 401 fetches the
    /// secrets again once (the key may have been rotated) and tries again with them.
    async fn call_devin<T, F, Fut>(
        &self,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
        call: F,
    ) -> Result<T, Failure<DevinError>>
    where
        F: Fn(Arc<Secrets>, Duration) -> Fut,
        Fut: Future<Output = Result<T, DevinError>>,
    {
        let mut stats = CallStats::default();
        let mut result = within_budget("Devin call", budget, &mut stats, |left| {
            call(secrets.clone(), left)
        })
        .await;
        if let Err(Failure::Refused(err)) = &result {
            if err.is_unauthorized() {
                if let Some(fresh) = self.secrets.refresh_if_older_than(Duration::ZERO).await {
                    warn!(error = %err, "Devin refused the API key; trying again with freshly fetched secrets");
                    *secrets = fresh;
                    result = within_budget("Devin call", budget, &mut stats, |left| {
                        call(secrets.clone(), left)
                    })
                    .await;
                }
            }
        }
        tally.devin_errors += stats.errors;
        if stats.calls > 0 {
            tally.devin_latency = Some(tally.devin_latency.unwrap_or_default() + stats.latency);
        }
        result
    }

    /// Adds `content` as a note on the incident, inside the budget. A failure is logged and
    /// never fails the delivery: the session exists. Says how it went, for the answer.
    async fn note(
        &self,
        secrets: &Secrets,
        incident_id: &str,
        content: &str,
        budget: Budget,
    ) -> &'static str {
        let (Some(pagerduty), Some(authorization)) =
            (&self.pagerduty, secrets.pagerduty_authorization())
        else {
            return "off";
        };
        let mut stats = CallStats::default();
        let added = within_budget("PagerDuty note", budget, &mut stats, |left| {
            pagerduty.add_note(authorization, incident_id, content, left)
        })
        .await;
        match added {
            Ok(()) => {
                info!("note added to the PagerDuty incident");
                "added"
            }
            Err(failure) => {
                warn!(error = %failure, "note not added to the PagerDuty incident; the session stands");
                "failed"
            }
        }
    }

    /// Answers 202 with `body`, and remembers the answer for repeats of this delivery.
    fn remember(&self, event_id: &str, body: Value) -> Response<Body> {
        let body = body.to_string();
        self.recent.lock().unwrap().remember(event_id, body.clone());
        json_response(StatusCode::ACCEPTED, body)
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(err) => err.fmt(f),
            Failure::BudgetSpent => f.write_str("the delivery budget ran out"),
        }
    }
}

/// PagerDuty retries 429 and 5xx: Devin's rate limit is passed on as such, a spent budget is a
/// 503, and every other Devin failure a 502.
fn failure_answer(failure: Failure<DevinError>) -> Response<Body> {
    let body = json!({"error": "Devin session not confirmed, retry later"});
    let (status, retry_after) = match failure {
        Failure::Refused(DevinError::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after,
            ..
        }) => (StatusCode::TOO_MANY_REQUESTS, retry_after),
        Failure::Refused(_) => (StatusCode::BAD_GATEWAY, None),
        Failure::BudgetSpent => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(HeaderValue::from_static(RETRY_AFTER_SECONDS)),
        ),
    };
    let mut response = answer(status, body);
    if let Some(retry_after) = retry_after {
        response.headers_mut().insert(RETRY_AFTER, retry_after);
    }
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}

/// A body that parsed badly: logged, and answered 400 (PagerDuty does not retry a 4xx).
fn refused(err: &incident::ParseError) -> Response<Body> {
    warn!(error = %err, "delivery refused: not what a webhook v3 delivery carries");
    answer(
        StatusCode::BAD_REQUEST,
        json!({"error": "bad request", "detail": err.to_string()}),
    )
}

fn answer(status: StatusCode, body: Value) -> Response<Body> {
    json_response(status, body.to_string())
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
