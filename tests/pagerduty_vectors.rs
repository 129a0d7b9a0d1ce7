//! The real PagerDuty deliveries and signatures (copied from `../shared/pagerduty/` into
//! `tests/fixtures/pagerduty/`): every one verifies and parses.

mod support;

use pagerduty_devin_bridge::incident;
use pagerduty_devin_bridge::secrets::Secret;
use pagerduty_devin_bridge::verify::{sign, signature_matches, Verifier};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(support::repo_path(&format!(
        "tests/fixtures/pagerduty/{name}"
    )))
    .unwrap()
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
        let verifier = Verifier::new(None, &secrets);
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
        let wrong = Verifier::new(None, &wrong_secrets);
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
    let triggered = incident::parse(&fixture("incident-triggered.json"))
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

    let priority = incident::parse(&fixture("incident-priority-updated.json"))
        .unwrap()
        .event;
    let incident = priority.incident().unwrap();
    assert_eq!(incident.incident_key, None);
    assert_eq!(
        incident.priority.as_ref().and_then(|p| p.name()),
        Some("P1")
    );
    assert_eq!(incident.teams[0].name(), Some("Engineering"));

    let ping = incident::parse(&fixture("pagey-ping.json")).unwrap().event;
    assert_eq!(ping.event_type, "pagey.ping");
    assert_eq!(ping.incident_id(), None);
    assert!(ping.incident().is_err());

    let note = incident::parse(&fixture("incident-annotated.json"))
        .unwrap()
        .event;
    assert_eq!(note.event_type, "incident.annotated");
    assert_eq!(note.incident_id().as_deref(), Some("Q2CKYRLH85UNN4"));
    assert!(note.incident().is_err());
}

/// The copies must stay what PagerDuty sent: compared with the shared originals when present.
#[test]
fn fixtures_are_the_shared_captures_byte_for_byte() {
    let shared = support::repo_path("../shared/pagerduty");
    if !shared.is_dir() {
        return;
    }
    for entry in std::fs::read_dir(&shared).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(std::fs::read(&path).unwrap(), fixture(&name), "{name}");
    }
}
