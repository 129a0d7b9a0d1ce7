//! The path every delivery takes before it is trusted: the signature check over the raw body,
//! then the parse of the envelope and the incident. Any bytes, no panic.
//! Seeds: the real PagerDuty deliveries in `corpus/verify_and_parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pure::inbound::secret::Secret;
use pure::inbound::verify::{sign, Verifier};
use pure::inbound::webhook;

fuzz_target!(|data: &[u8]| {
    // The first line, when there is one, plays the signature header; the rest is the body.
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b""[..], data),
    };
    let secrets = [Secret::new("fuzz-secret")];
    let verifier = Verifier::new(&[], &secrets);
    let _ = verifier.verify(None, Some(header), body);
    // A correctly signed body always verifies.
    let signed = sign("fuzz-secret", body);
    assert!(verifier.verify(None, Some(signed.as_bytes()), body).is_ok());

    if let Ok(delivery) = webhook::parse(body) {
        let _ = delivery.event.incident_id();
        if let Ok(incident) = delivery.event.incident() {
            assert!(!incident.id.is_empty());
        }
    }
});
