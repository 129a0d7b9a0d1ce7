//! Is this delivery really from PagerDuty? Pure checks over the raw body and two headers.
//!
//! Two independent proofs, each checked when configured, all configured ones required:
//! - `X-Webhook-Secret`, a custom header set on the subscription, compared with our copy;
//! - `X-PagerDuty-Signature`, one or more `v1=<hex>` entries, each HMAC-SHA256 of the raw body
//!   keyed with a subscription secret; one matching entry is enough (rotation lists several).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use thiserror::Error;

use crate::inbound::secret::{Secret, Secrets};

pub const WEBHOOK_SECRET_HEADER: &str = "x-webhook-secret";
pub const SIGNATURE_HEADER: &str = "x-pagerduty-signature";

type HmacSha256 = Hmac<Sha256>;

/// Which check failed. For logs only: the HTTP answer to every rejection is the same bare 401.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    #[error("the X-Webhook-Secret header is missing")]
    WebhookSecretMissing,
    #[error("the X-Webhook-Secret header does not match WEBHOOK_SECRET")]
    WebhookSecretMismatch,
    #[error("the X-PagerDuty-Signature header is missing")]
    SignatureMissing,
    #[error("no v1 entry of X-PagerDuty-Signature matches the body signed with PAGERDUTY_SIGNING_SECRET")]
    SignatureMismatch,
}

impl Rejection {
    /// Whether a presented secret or signature was wrong (rather than absent): the one case
    /// where our copy of the secrets may be the stale side.
    pub fn is_mismatch(self) -> bool {
        matches!(
            self,
            Rejection::WebhookSecretMismatch | Rejection::SignatureMismatch
        )
    }

    /// A short, stable name for the failed check, for log fields and metrics.
    pub fn check(self) -> &'static str {
        match self {
            Rejection::WebhookSecretMissing | Rejection::WebhookSecretMismatch => {
                "x-webhook-secret"
            }
            Rejection::SignatureMissing | Rejection::SignatureMismatch => "x-pagerduty-signature",
        }
    }
}

/// The checks, over borrowed secrets.
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a> {
    webhook_secrets: &'a [Secret],
    signing_secrets: &'a [Secret],
}

impl<'a> Verifier<'a> {
    /// With neither secret every delivery is refused: the verifier fails closed.
    pub fn new(webhook_secrets: &'a [Secret], signing_secrets: &'a [Secret]) -> Self {
        Verifier {
            webhook_secrets,
            signing_secrets,
        }
    }

    /// The checks a set of secrets configures.
    pub fn of(secrets: &'a Secrets) -> Self {
        Verifier::new(&secrets.webhook_secrets, &secrets.signing_secrets)
    }

    /// Runs every configured check; header values are the raw bytes as received.
    pub fn verify(
        &self,
        webhook_secret_header: Option<&[u8]>,
        signature_header: Option<&[u8]>,
        body: &[u8],
    ) -> Result<(), Rejection> {
        if self.webhook_secrets.is_empty() && self.signing_secrets.is_empty() {
            return Err(Rejection::SignatureMismatch);
        }
        if !self.webhook_secrets.is_empty() {
            let presented = webhook_secret_header.ok_or(Rejection::WebhookSecretMissing)?;
            if !any_secret_equals(self.webhook_secrets, presented) {
                return Err(Rejection::WebhookSecretMismatch);
            }
        }
        if !self.signing_secrets.is_empty() {
            let header = signature_header.ok_or(Rejection::SignatureMissing)?;
            if !signature_matches(self.signing_secrets, header, body) {
                return Err(Rejection::SignatureMismatch);
            }
        }
        Ok(())
    }
}

/// Whether `presented` is any of `secrets`, in constant time whatever the lengths: both sides
/// are hashed first, so neither the position of the first difference nor a length difference
/// shows in the timing, and every secret is compared whichever matches.
fn any_secret_equals(secrets: &[Secret], presented: &[u8]) -> bool {
    let presented = Sha256::digest(presented);
    let mut matched = Choice::from(0);
    for secret in secrets {
        let expected = Sha256::digest(secret.expose().as_bytes());
        matched |= presented.as_slice().ct_eq(expected.as_slice());
    }
    matched.into()
}

/// True when any `v1=` entry of the comma-separated `header` is the HMAC-SHA256 of `body` under
/// any of `secrets`. Entries of another version, or whose hex is malformed, are skipped.
pub fn signature_matches(secrets: &[Secret], header: &[u8], body: &[u8]) -> bool {
    let expected: Vec<[u8; 32]> = secrets
        .iter()
        .map(|secret| hmac_sha256(secret.expose().as_bytes(), body))
        .collect();
    let mut matched = Choice::from(0);
    for entry in header.split(|&b| b == b',') {
        let Some(hex_digest) = entry.trim_ascii().strip_prefix(b"v1=") else {
            continue;
        };
        let mut presented = [0u8; 32];
        if hex::decode_to_slice(hex_digest, &mut presented).is_err() {
            continue;
        }
        for digest in &expected {
            matched |= digest.ct_eq(&presented);
        }
    }
    matched.into()
}

/// The `X-PagerDuty-Signature` value PagerDuty sends for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!("v1={}", hex::encode(hmac_sha256(secret.as_bytes(), body)))
}

fn hmac_sha256(key: &[u8], body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":{"id":"E1","event_type":"pagey.ping"}}"#;

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|v| Secret::new(*v)).collect()
    }

    #[test]
    fn sign_matches_a_reference_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn any_secret_and_any_v1_entry_may_match() {
        let good = sign("new", BODY);
        let header = format!("v1={},{good}", "00".repeat(32));
        assert!(signature_matches(
            &secrets(&["old", "new"]),
            header.as_bytes(),
            BODY
        ));
        assert!(signature_matches(&secrets(&["new"]), good.as_bytes(), BODY));
        assert!(!signature_matches(
            &secrets(&["old"]),
            header.as_bytes(),
            BODY
        ));
    }

    #[test]
    fn other_versions_bad_hex_and_junk_are_skipped() {
        let good = sign("s", BODY);
        let hex = good.trim_start_matches("v1=");
        for header in [
            format!("v2={hex}"),
            format!("v0={hex}"),
            format!("V1={hex}"),
            hex.to_owned(),
            format!("v1={}", &hex[..63]),
            format!("v1={hex}00"),
            format!("v1={}zz", &hex[..62]),
            format!("v1={}", hex.to_uppercase().replace('A', "g")),
            String::new(),
            ",,,".into(),
        ] {
            assert!(
                !signature_matches(&secrets(&["s"]), header.as_bytes(), BODY),
                "{header}"
            );
        }
        // Skipping a bad entry does not stop the search, and spaces around entries are fine.
        let mixed = format!("v2={hex}, v1=nothex , {good}");
        assert!(signature_matches(&secrets(&["s"]), mixed.as_bytes(), BODY));
        // Hex is case-insensitive on the wire.
        let upper = format!("v1={}", hex.to_uppercase());
        assert!(signature_matches(&secrets(&["s"]), upper.as_bytes(), BODY));
    }

    #[test]
    fn one_changed_byte_of_the_body_fails() {
        let good = sign("s", BODY);
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        assert!(!signature_matches(
            &secrets(&["s"]),
            good.as_bytes(),
            &tampered
        ));
    }

    #[test]
    fn every_configured_check_must_pass() {
        let hook = Secret::new("hook");
        let signing = secrets(&["s"]);
        let both = Verifier::new(std::slice::from_ref(&hook), &signing);
        let sig = sign("s", BODY);
        let sig = Some(sig.as_bytes());
        assert_eq!(both.verify(Some(b"hook"), sig, BODY), Ok(()));
        assert_eq!(
            both.verify(None, sig, BODY),
            Err(Rejection::WebhookSecretMissing)
        );
        for wrong in [&b"hook "[..], b"hoo", b"hookk", b"HOOK", b""] {
            assert_eq!(
                both.verify(Some(wrong), sig, BODY),
                Err(Rejection::WebhookSecretMismatch)
            );
        }
        assert_eq!(
            both.verify(Some(b"hook"), None, BODY),
            Err(Rejection::SignatureMissing)
        );
        assert_eq!(
            both.verify(Some(b"hook"), Some(b"v1=00"), BODY),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn an_unconfigured_check_is_not_required() {
        let hook = Secret::new("hook");
        let header_only = Verifier::new(std::slice::from_ref(&hook), &[]);
        assert_eq!(header_only.verify(Some(b"hook"), None, BODY), Ok(()));
        let signing = secrets(&["s"]);
        let signature_only = Verifier::new(&[], &signing);
        let sig = sign("s", BODY);
        assert_eq!(
            signature_only.verify(None, Some(sig.as_bytes()), BODY),
            Ok(())
        );
    }

    #[test]
    fn with_no_secret_nothing_passes() {
        let nothing = Verifier::new(&[], &[]);
        assert!(nothing.verify(Some(b""), Some(b""), BODY).is_err());
    }

    #[test]
    fn only_wrong_secrets_count_as_mismatches() {
        assert!(Rejection::SignatureMismatch.is_mismatch());
        assert!(Rejection::WebhookSecretMismatch.is_mismatch());
        assert!(!Rejection::SignatureMissing.is_mismatch());
        assert!(!Rejection::WebhookSecretMissing.is_mismatch());
    }

    #[test]
    fn rejections_name_their_check() {
        assert_eq!(Rejection::WebhookSecretMismatch.check(), "x-webhook-secret");
        assert_eq!(Rejection::SignatureMissing.check(), "x-pagerduty-signature");
    }
}
