//! One delivery, start to finish: route, verify, parse, decide, and start (or find, or show)
//! the Devin session, inside the delivery's time budget. Every outcome is an HTTP answer chosen
//! for PagerDuty's retry rules: 2xx when done or deliberately ignored, 4xx for what a retry
//! cannot fix, 5xx/429 for failures a retry can fix, so no incident is lost and none is
//! investigated twice.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tracing::{error, field, info, info_span, warn, Instrument, Span};

use crate::brief;
use crate::budget::{backoff, Budget, MIN_ATTEMPT};
use crate::devin::{DevinClient, DevinError, Session, SessionRequest};
use crate::incident::{self, Event};
use crate::metrics::Tally;
use crate::recent::{RecentDeliveries, Remembered, DEFAULT_CAPACITY};
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
    policy: Policy,
    options: Options,
    recent: Mutex<RecentDeliveries>,
}

/// Why no session could be confirmed for an incident.
enum Failure {
    /// Devin answered something a retry inside this delivery cannot fix.
    Devin(DevinError),
    /// The budget ran out; PagerDuty's retry will find the session if a late call made it.
    BudgetSpent,
}

impl Bridge {
    pub fn new(secrets: SecretStore, devin: DevinClient, policy: Policy, options: Options) -> Self {
        Bridge {
            secrets,
            devin,
            policy,
            options,
            recent: Mutex::new(RecentDeliveries::new(DEFAULT_CAPACITY)),
        }
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
            Err(err) => {
                warn!(error = %err, "delivery refused: not a webhook v3 body");
                return bad_request(&err);
            }
        };
        let span = Span::current();
        span.record("event_id", event.id.as_str());
        span.record("event_type", event.event_type.as_str());

        if let Some(Remembered { status, body }) = self.recent.lock().unwrap().get(&event.id) {
            tally.duplicates_suppressed = 1;
            info!("repeat of a completed delivery: answered from memory, Devin not called");
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::ACCEPTED);
            return json_response(status, body.clone());
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
        let span = Span::current();
        if !self.policy.accepts(&event.event_type) {
            span.record("incident_id", event.incident_id());
            tally.deliveries_ignored = 1;
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
            tally.deliveries_ignored = 1;
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

        let tag = brief::incident_tag(&incident.id);
        match self
            .ensure_session(secrets, &tag, &request, budget, tally)
            .await
        {
            Ok((session, created)) => {
                let status = if created {
                    tally.sessions_started = 1;
                    info!(session_id = %session.session_id, url = %session.url, "Devin session started");
                    "session_started"
                } else {
                    tally.duplicates_suppressed = 1;
                    info!(session_id = %session.session_id, url = %session.url, "the incident already has a Devin session: none started");
                    "session_exists"
                };
                let body = json!({
                    "status": status,
                    "rule": decision.rule,
                    "incident_id": incident.id,
                    "session_id": session.session_id,
                    "url": session.url,
                })
                .to_string();
                self.recent.lock().unwrap().remember(
                    &event.id,
                    Remembered {
                        status: StatusCode::ACCEPTED.as_u16(),
                        body: body.clone(),
                    },
                );
                json_response(StatusCode::ACCEPTED, body)
            }
            Err(failure) => failure_answer(failure),
        }
    }

    /// The incident's session: found by its tag, or created. Failures Devin may recover from
    /// are retried, with jittered backoff, while the budget lasts; each try looks for the
    /// session first, so a create that succeeded late is found rather than repeated. A 401
    /// fetches the secrets again once (the key may have been rotated) and tries again.
    async fn ensure_session(
        &self,
        mut secrets: Arc<Secrets>,
        tag: &str,
        request: &SessionRequest,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(Session, bool), Failure> {
        let mut retries = 0;
        let mut refreshed = false;
        loop {
            let err = match self
                .find_or_create(&secrets, tag, request, budget, tally)
                .await
            {
                Ok(found) => return Ok(found),
                Err(None) => {
                    error!("no time left in the delivery budget; PagerDuty will retry");
                    return Err(Failure::BudgetSpent);
                }
                Err(Some(err)) => err,
            };
            tally.devin_errors += 1;
            if err.is_unauthorized() && !refreshed {
                refreshed = true;
                if let Some(fresh) = self.secrets.refresh_if_older_than(Duration::ZERO).await {
                    warn!(error = %err, "Devin refused the API key; trying again with freshly fetched secrets");
                    secrets = fresh;
                    continue;
                }
            }
            if matches!(err, DevinError::Timeout(_)) {
                error!(error = %err, "Devin did not answer inside the delivery budget; PagerDuty will retry");
                return Err(Failure::BudgetSpent);
            }
            if !err.is_retryable() {
                error!(error = %err, "Devin session not started; PagerDuty will retry the delivery");
                return Err(Failure::Devin(err));
            }
            let delay = backoff(retries, err.retry_after(), random());
            if !budget.allows(Instant::now(), delay) {
                error!(error = %err, "Devin session not started inside the delivery budget; PagerDuty will retry");
                return Err(match err.retry_after() {
                    // Devin asked for more time than is left: pass its word on.
                    Some(_) => Failure::Devin(err),
                    None => Failure::BudgetSpent,
                });
            }
            warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "Devin call failed; trying again inside the delivery budget");
            tokio::time::sleep(delay).await;
            retries += 1;
        }
    }

    /// One try: look the session up by tag, create it when there is none. `Err(None)` when no
    /// time is left to try at all.
    async fn find_or_create(
        &self,
        secrets: &Secrets,
        tag: &str,
        request: &SessionRequest,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<(Session, bool), Option<DevinError>> {
        let authorization = secrets.devin_authorization();
        let time_left = || {
            let left = budget.remaining(Instant::now());
            (left >= MIN_ATTEMPT).then_some(left)
        };
        let timer = Instant::now();
        let found = match time_left() {
            Some(left) => self.devin.find_session(authorization, tag, left).await,
            None => return Err(None),
        };
        let result = match found {
            Ok(Some(session)) => Ok((session, false)),
            Ok(None) => match time_left() {
                Some(left) => self
                    .devin
                    .create_session(authorization, request, left)
                    .await
                    .map(|session| (session, true)),
                None => {
                    add_latency(tally, timer.elapsed());
                    return Err(None);
                }
            },
            Err(err) => Err(err),
        };
        add_latency(tally, timer.elapsed());
        result.map_err(Some)
    }
}

fn add_latency(tally: &mut Tally, elapsed: Duration) {
    tally.devin_latency = Some(tally.devin_latency.unwrap_or_default() + elapsed);
}

/// PagerDuty retries 429 and 5xx: Devin's rate limit is passed on as such, a spent budget is a
/// 503, and every other Devin failure a 502.
fn failure_answer(failure: Failure) -> Response<Body> {
    let body = json!({"error": "Devin session not confirmed, retry later"});
    let (status, retry_after) = match failure {
        Failure::Devin(DevinError::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after,
            ..
        }) => (StatusCode::TOO_MANY_REQUESTS, retry_after),
        Failure::Devin(_) => (StatusCode::BAD_GATEWAY, None),
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

/// Randomness for backoff jitter, without a dependency: each `RandomState` is freshly keyed.
fn random() -> u64 {
    RandomState::new().build_hasher().finish()
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
