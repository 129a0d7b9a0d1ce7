//! Where a delivery enters: the request's path, method and size, then both checks before
//! anything of the body is trusted or even parsed, then the parse, repeats, and the dispatch to
//! an investigation or a forward. One span per delivery, one metrics line per delivery.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::{field, info, info_span, Instrument, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::outcome::Outcome;
use crate::edge::clock;
use crate::pure::budget::{self, Budget, MIN_ATTEMPT};
use crate::pure::metrics::Tally;
use crate::pure::secret::Secrets;
use crate::pure::verify::{Rejection, Verifier, SIGNATURE_HEADER, WEBHOOK_SECRET_HEADER};
use crate::pure::webhook::{self, Event};

/// PagerDuty's id of the delivery, the same on every retry of it.
const WEBHOOK_ID_HEADER: &str = "x-webhook-id";
/// The one path the Function URL serves.
pub const WEBHOOK_PATH: &str = "/pagerduty-alert";
/// PagerDuty drops payloads over 256 KB, so anything past 1 MiB is not from PagerDuty.
pub const MAX_BODY_BYTES: usize = 1 << 20;

impl Bridge {
    /// Answers one request. `lambda_deadline` is when Lambda stops the invocation, if known: the
    /// answer always comes before it.
    pub async fn handle(
        &self,
        request: Request,
        lambda_deadline: Option<Instant>,
    ) -> Response<Body> {
        // The budget counts from when PagerDuty's request reached the Function URL, so a slow
        // cold start cannot push the answer past PagerDuty's 5 seconds.
        let received = clock::now()
            .checked_sub(waited(&request))
            .unwrap_or_else(clock::now);
        let budget = Budget::new(received, self.options.delivery_budget, lambda_deadline);
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
        let (outcome, event_id) = self
            .answer(&request, budget, &mut tally)
            .instrument(span.clone())
            .await;
        let body = outcome.body();
        span.in_scope(|| outcome.log());
        outcome.count(&mut tally);
        if let (true, Some(event_id)) = (outcome.is_complete(), event_id) {
            self.recent
                .lock()
                .unwrap()
                .remember(&event_id, body.clone());
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_millis() as u64);
        // Metrics go straight to stdout, one JSON line, where CloudWatch Logs extracts them.
        println!("{}", tally.to_emf(&self.options.function_name, now_ms));
        outcome.response(body)
    }

    /// How the delivery ends, and its event id once the body parsed.
    async fn answer(
        &self,
        request: &Request,
        budget: Budget,
        tally: &mut Tally,
    ) -> (Outcome, Option<String>) {
        if request.uri().path() != WEBHOOK_PATH {
            return (Outcome::NotFound, None);
        }
        if request.method() != Method::POST {
            return (Outcome::MethodNotAllowed, None);
        }
        let body: &[u8] = request.body().as_ref();
        if body.len() > MAX_BODY_BYTES {
            return (Outcome::TooLarge { bytes: body.len() }, None);
        }
        // Nothing about the body is trusted, or even parsed, before every check passes.
        let secrets = match self.verify(request.headers(), body).await {
            Ok(secrets) => secrets,
            Err(rejection) => return (Outcome::Unauthorized(rejection), None),
        };
        let event = match webhook::parse(body) {
            Ok(delivery) => delivery.event,
            Err(err) => return (Outcome::BadRequest(err), None),
        };
        let span = Span::current();
        span.record("event_id", event.id.as_str());
        span.record("event_type", event.event_type.as_str());

        if let Some(body) = self.recent.lock().unwrap().get(&event.id) {
            let body = body.to_owned();
            return (Outcome::Repeat { body }, None);
        }
        let outcome = self.dispatch(&event, secrets, budget, tally).await;
        (outcome, Some(event.id))
    }

    /// Runs every configured check. A wrong secret or signature, when the secrets held are old
    /// enough to be stale, fetches them again once and checks again: PagerDuty may already sign
    /// with a rotated secret.
    async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Arc<Secrets>, Rejection> {
        let check = |secrets: &Secrets| {
            Verifier::of(secrets).verify(
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
        Err(rejection)
    }

    /// Sends a verified event where the policy says: to the incident's session, to an
    /// investigation, or nowhere.
    async fn dispatch(
        &self,
        event: &Event,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let forwards = self.policy.forwards(&event.event_type);
        if !forwards && !self.policy.accepts(&event.event_type) {
            Span::current().record("incident_id", event.incident_id());
            return Outcome::EventTypeIgnored {
                event_type: event.event_type.clone(),
            };
        }
        if budget.remaining(clock::now()) < MIN_ATTEMPT {
            return Outcome::TooLate;
        }
        if forwards {
            return self.forward(event, secrets, budget, tally).await;
        }
        let incident = match event.incident() {
            Ok(incident) => incident,
            Err(err) => return Outcome::BadRequest(err),
        };
        Span::current().record("incident_id", incident.id.as_str());
        self.investigate(event, &incident, secrets, budget, tally)
            .await
    }
}

/// How long the request waited before the function got it, per its request context.
fn waited(request: &Request) -> Duration {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            budget::waited(context.time_epoch, clock::epoch_ms())
        }
        _ => Duration::ZERO,
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}
