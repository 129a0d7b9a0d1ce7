//! The real PagerDuty deliveries and signatures (copied from `../shared/pagerduty/` into
//! `tests/fixtures/pagerduty/`): every one verifies and parses.

use pure::inbound::secret::Secret;
use pure::inbound::verify::{sign, signature_matches, Verifier};
use pure::inbound::webhook;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::repo_path;

/// A file of `tests/fixtures/pagerduty/`; a missing one fails the test that reads it.
fn fixture(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("tests/fixtures/pagerduty/{name}"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn signatures() -> Value {
    serde_json::from_slice(&fixture("signatures.json")).unwrap()
}

#[test]
fn every_vector_verifies_and_tampering_fails() {
    let vectors = signatures();
    let vectors = vectors["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for vector in vectors {
        let body = fixture(vector["body_file"].as_str().unwrap());
        let secret = vector["secret"].as_str().unwrap();
        let header = vector["x_pagerduty_signature"].as_str().unwrap();
        assert_eq!(sign(secret, &body), header, "{}", vector["body_file"]);

        let secrets = [Secret::new(secret)];
        let verifier = Verifier::new(&[], &secrets);
        assert_eq!(
            verifier.verify(None, Some(header.as_bytes()), &body),
            Ok(())
        );

        // A trailing newline, a wrong secret, or a secret used base64-decoded all fail.
        let mut with_newline = body.clone();
        with_newline.push(b'\n');
        assert!(verifier
            .verify(None, Some(header.as_bytes()), &with_newline)
            .is_err());
        let wrong_secrets = [Secret::new(&secret[1..])];
        let wrong = Verifier::new(&[], &wrong_secrets);
        assert!(wrong.verify(None, Some(header.as_bytes()), &body).is_err());
    }
}

#[test]
fn the_rotation_example_is_accepted() {
    let vectors = signatures();
    let rotation = &vectors["rotation_example"];
    let body = fixture(rotation["body_file"].as_str().unwrap());
    let header = rotation["x_pagerduty_signature"].as_str().unwrap();
    let secret = vectors["vectors"][0]["secret"].as_str().unwrap();
    let rotating = [Secret::new("the-next-secret"), Secret::new(secret)];
    assert!(signature_matches(&rotating, header.as_bytes(), &body));
}

#[test]
fn every_capture_parses() {
    let triggered = webhook::parse(&fixture("incident-triggered.json"))
        .unwrap()
        .event;
    assert_eq!(triggered.event_type, "incident.triggered");
    let incident = triggered.incident().unwrap();
    assert_eq!(incident.id, "Q2CKYRLH85UNN4");
    assert_eq!(incident.number, Some(37));
    assert_eq!(incident.title.as_deref(), Some("Test"));
    assert_eq!(incident.urgency.as_deref(), Some("low"));
    assert_eq!(incident.priority, None);
    assert_eq!(
        incident.service.as_ref().and_then(|s| s.name()),
        Some("Webhook Tester")
    );

    let priority = webhook::parse(&fixture("incident-priority-updated.json"))
        .unwrap()
        .event;
    let incident = priority.incident().unwrap();
    assert_eq!(incident.incident_key, None);
    assert_eq!(
        incident.priority.as_ref().and_then(|p| p.name()),
        Some("P1")
    );
    assert_eq!(incident.teams[0].name(), Some("Engineering"));

    let ping = webhook::parse(&fixture("pagey-ping.json")).unwrap().event;
    assert_eq!(ping.event_type, "pagey.ping");
    assert_eq!(ping.incident_id(), None);
    assert!(ping.incident().is_err());

    let note = webhook::parse(&fixture("incident-annotated.json"))
        .unwrap()
        .event;
    assert_eq!(note.event_type, "incident.annotated");
    assert_eq!(note.incident_id().as_deref(), Some("Q2CKYRLH85UNN4"));
    assert!(note.incident().is_err());
}

/// The copies must stay what PagerDuty sent: every capture listed in `SHA256SUMS` (the sums
/// of the shared originals, `../shared/pagerduty/`) is here with that sum; when the shared
/// originals are beside the repository, they still have it too.
#[test]
fn fixtures_are_the_shared_captures_byte_for_byte() {
    let sums = String::from_utf8(fixture("SHA256SUMS")).unwrap();
    let listed: Vec<(&str, &str)> = sums
        .lines()
        .map(|line| line.split_once("  ").expect("<sum>  <name>"))
        .collect();
    assert_eq!(listed.len(), 5, "every capture is listed");
    let shared = repo_path("../shared/pagerduty");
    for (sum, name) in listed {
        let copy = fixture(name);
        assert_eq!(
            hex::encode(Sha256::digest(&copy)),
            sum,
            "tests/fixtures/pagerduty/{name}"
        );
        if shared.is_dir() {
            assert_eq!(std::fs::read(shared.join(name)).unwrap(), copy, "{name}");
        }
    }
}
