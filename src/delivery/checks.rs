//! The checks part: is this delivery really from PagerDuty, and new? The optional source check,
//! then the header and signature checks, refetching the secrets at most once every few seconds
//! when a presented secret or signature is wrong (PagerDuty may already send a rotated one);
//! then, once the body parsed, its age and whether it was answered already. It holds the
//! secrets, the source allowlist, the refetch throttle, the maximum age, the recent answers and
//! a clock, nothing else.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use tracing::info;

use crate::edge::clock::Clock;
use crate::edge::lock::lock;
use crate::edge::secrets_store::SecretStore;
use pure::inbound::recent::{RecentDeliveries, DEFAULT_CAPACITY};
use pure::inbound::secret::Secrets;
use pure::inbound::sources::SourceAllowlist;
use pure::inbound::throttle::Throttle;
use pure::inbound::timestamp;
use pure::inbound::verify::{Rejection, Verifier, SIGNATURE_HEADER, WEBHOOK_SECRET_HEADER};
use pure::inbound::webhook::Event;

/// The checks a delivery passes before it is acted on.
pub(crate) struct Checks {
    secrets: Arc<SecretStore>,
    /// When set, only these addresses may send deliveries.
    allowed_sources: Option<SourceAllowlist>,
    /// When a refused delivery may next fetch the secrets again.
    refresh_on_refusal: Mutex<Throttle>,
    /// Deliveries that happened longer ago are answered `stale`.
    max_age: Option<Duration>,
    /// The answers of the deliveries completed lately, by event id.
    recent: Mutex<RecentDeliveries>,
    clock: Clock,
}

impl Checks {
    pub(crate) fn new(
        secrets: Arc<SecretStore>,
        allowed_sources: Option<SourceAllowlist>,
        refresh_on_refusal: Duration,
        max_age: Option<Duration>,
        clock: Clock,
    ) -> Self {
        Checks {
            secrets,
            allowed_sources,
            refresh_on_refusal: Mutex::new(Throttle::new(refresh_on_refusal)),
            max_age,
            recent: Mutex::new(RecentDeliveries::new(DEFAULT_CAPACITY)),
            clock,
        }
    }

    /// With `ALLOWED_SOURCE_CIDRS`, whether the request came from an allowed address.
    pub(crate) fn source_allowed(&self, source_ip: Option<&str>) -> bool {
        match &self.allowed_sources {
            None => true,
            Some(allowed) => source_ip.is_some_and(|ip| allowed.allows(ip)),
        }
    }

    /// Runs every configured check. A wrong secret or signature fetches the secrets again, at
    /// most once per `refresh_on_refusal` on this instance, and checks again.
    pub(crate) async fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Arc<Secrets>, Rejection> {
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
        let may_refresh =
            rejection.is_mismatch() && lock(&self.refresh_on_refusal).admit(self.clock.now());
        if may_refresh {
            if let Some(fresh) = self.secrets.refresh_now().await {
                if check(&fresh).is_ok() {
                    info!("delivery verified with freshly fetched secrets");
                    return Ok(fresh);
                }
            }
        }
        Err(rejection)
    }

    /// When the event happened, if that is longer ago than PagerDuty retries anything: a
    /// captured delivery replayed.
    pub(crate) fn too_old(&self, event: &Event) -> Option<String> {
        let max_age = self.max_age?;
        let occurred_at = event.occurred_at.as_deref()?;
        timestamp::is_older_than(occurred_at, self.clock.epoch_ms(), max_age)
            .then(|| occurred_at.to_owned())
    }

    /// The answer a completed delivery of this event got, when it came lately: a repeat.
    pub(crate) fn answered(&self, event_id: &str) -> Option<String> {
        lock(&self.recent).get(event_id).map(str::to_owned)
    }

    /// Remembers the answer of a completed delivery, for its repeats.
    pub(crate) fn remember(&self, event_id: &str, body: String) {
        lock(&self.recent).remember(event_id, body);
    }
}

/// The bytes of the request's header `name`, when it has one.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}
