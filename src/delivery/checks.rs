//! Is this delivery really from PagerDuty? The optional source check, then the header and
//! signature checks, refetching the secrets at most once every few seconds when a presented
//! secret or signature is wrong: PagerDuty may already send a rotated one.

use std::sync::Arc;

use http::HeaderMap;
use tracing::info;

use crate::delivery::bridge::Bridge;
use crate::delivery::entry::header;
use crate::edge::clock;
use crate::edge::lock::lock;
use pure::inbound::secret::Secrets;
use pure::inbound::verify::{Rejection, Verifier, SIGNATURE_HEADER, WEBHOOK_SECRET_HEADER};

impl Bridge {
    /// With `ALLOWED_SOURCE_CIDRS`, whether the request came from an allowed address.
    pub(super) fn source_allowed(&self, source_ip: Option<&str>) -> bool {
        match &self.options.allowed_sources {
            None => true,
            Some(allowed) => source_ip.is_some_and(|ip| allowed.allows(ip)),
        }
    }

    /// Runs every configured check. A wrong secret or signature fetches the secrets again, at
    /// most once per `refresh_on_refusal` on this instance, and checks again.
    pub(super) async fn verify(
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
            rejection.is_mismatch() && lock(&self.refresh_on_refusal).admit(clock::now());
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
}
