//! Where a delivery enters: the source, path, method and size of the request, then both checks
//! before anything of the body is trusted or even parsed, then the parse, freshness, repeats,
//! and the dispatch to an investigation or a forward. One span per delivery, one metrics line
//! per delivery.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::Method;
use tracing::{field, info_span, Instrument, Span};

use crate::delivery::bridge::Bridge;
use crate::delivery::checks::header;
use crate::delivery::function_url::{FunctionUrlRequest, FunctionUrlResponse, Inbound};
use crate::delivery::investigate::Happened;
use crate::delivery::outcome::{Done, Outcome, Refused, Retry};
use crate::edge::clock;
use pure::budget::{self, Budget, MIN_ATTEMPT};
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::{self, Event};
use pure::metrics::Tally;

/// PagerDuty's id of the delivery, the same on every retry of it.
const WEBHOOK_ID_HEADER: &str = "x-webhook-id";
/// The one path the Function URL serves.
pub const WEBHOOK_PATH: &str = "/pagerduty-alert";
/// PagerDuty drops payloads over 256 KB, so anything past 1 MiB is not from PagerDuty.
pub const MAX_BODY_BYTES: usize = 1 << 20;

impl Bridge {
    /// Answers one Function URL request. `lambda_deadline` is when Lambda stops the invocation,
    /// if known: the answer always comes before it.
    pub async fn handle(
        &self,
        event: FunctionUrlRequest,
        lambda_deadline: Option<Instant>,
    ) -> FunctionUrlResponse {
        let request = Inbound::from_event(event);
        // The budget counts from when PagerDuty's request reached the Function URL, so a slow
        // cold start cannot push the answer past PagerDuty's 5 seconds.
        let waited = budget::waited(request.time_epoch_ms, clock::epoch_ms());
        let received = clock::now().checked_sub(waited).unwrap_or_else(clock::now);
        let budget = Budget::new(received, self.options.delivery_budget, lambda_deadline);
        tracing::debug!(
            waited_ms = waited.as_millis() as u64,
            lambda_deadline_in_ms = lambda_deadline
                .map(|at| at.saturating_duration_since(clock::now()).as_millis() as u64),
            budget_ms = budget.remaining(clock::now()).as_millis() as u64,
            "delivery received"
        );
        // One span per delivery: every line about it carries PagerDuty's delivery id, and the
        // event and incident ids once they are known.
        let span = info_span!(
            "delivery",
            webhook_id = header(&request.headers, WEBHOOK_ID_HEADER)
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
            self.checks.remember(&event_id, body.clone());
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_millis() as u64);
        // Metrics go straight to stdout, one JSON line, where CloudWatch Logs extracts them.
        println!("{}", tally.to_emf(&self.options.function_name, now_ms));
        outcome.answer(body).into()
    }

    /// How the delivery ends, and its event id once the body parsed.
    async fn answer(
        &self,
        request: &Inbound,
        budget: Budget,
        tally: &mut Tally,
    ) -> (Outcome, Option<String>) {
        if !self.checks.source_allowed(request.source_ip.as_deref()) {
            let source = request.source_ip.clone().unwrap_or_default();
            return (Refused::Forbidden { source }.into(), None);
        }
        if request.path != WEBHOOK_PATH {
            return (Refused::NotFound.into(), None);
        }
        if request.method != Method::POST {
            return (Refused::MethodNotAllowed.into(), None);
        }
        let Some(body) = request.body.as_deref() else {
            return (Refused::UndecodableBody.into(), None);
        };
        if body.len() > MAX_BODY_BYTES {
            return (Refused::TooLarge { bytes: body.len() }.into(), None);
        }
        // Nothing about the body is trusted, or even parsed, before every check passes.
        let secrets = match self.checks.verify(&request.headers, body).await {
            Ok(secrets) => secrets,
            Err(rejection) => return (Refused::Unauthorized(rejection).into(), None),
        };
        let event = match webhook::parse(body) {
            Ok(delivery) => delivery.event,
            Err(err) => return (Refused::BadRequest(err).into(), None),
        };
        let span = Span::current();
        span.record("event_id", event.id.as_str());
        span.record("event_type", event.event_type.as_str());

        if let Some(occurred_at) = self.checks.too_old(&event) {
            return (Done::Stale { occurred_at }.into(), None);
        }
        if let Some(body) = self.checks.answered(&event.id) {
            return (Outcome::Repeat { body }, None);
        }
        let outcome = self.dispatch(&event, secrets, budget, tally).await;
        (outcome, Some(event.id))
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
            return Done::EventTypeIgnored {
                event_type: event.event_type.clone(),
            }
            .into();
        }
        if budget.remaining(clock::now()) < MIN_ATTEMPT {
            return Retry::TooLate.into();
        }
        if forwards {
            return self.forward(event, secrets, budget, tally).await;
        }
        let incident = match event.incident() {
            Ok(incident) => incident,
            Err(err) => return Done::Unusable(err).into(),
        };
        Span::current().record("incident_id", incident.id.as_str());
        self.investigate(Happened::of(event), &incident, secrets, budget, tally)
            .await
    }
}
