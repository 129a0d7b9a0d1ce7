use super::*;

fn event(json: &str) -> Event {
    parse(json.as_bytes()).unwrap().event
}

#[test]
fn the_envelope_needs_an_id_and_a_type() {
    for body in [
        "",
        "not json",
        "[]",
        r#"{"event":null}"#,
        r#"{"event":{"event_type":"incident.triggered"}}"#,
        r#"{"event":{"id":"E1"}}"#,
        r#"{"event":{"id":7,"event_type":"incident.triggered"}}"#,
    ] {
        assert!(parse(body.as_bytes()).is_err(), "{body}");
    }
    let e = event(r#"{"event":{"id":"E1","event_type":"service.created"}}"#);
    assert_eq!(
        (e.id.as_str(), e.event_type.as_str()),
        ("E1", "service.created")
    );
    assert_eq!(e.incident_id(), None);
}

#[test]
fn a_bare_incident_parses_with_everything_absent() {
    let e = event(
        r#"{"event":{"id":"E","event_type":"incident.triggered","data":{"type":"incident","id":"P1","teams":null,"assignees":null,"priority":null}}}"#,
    );
    let incident = e.incident().unwrap();
    assert_eq!(
        incident,
        Incident {
            id: "P1".into(),
            ..Incident::default()
        }
    );
}

#[test]
fn data_that_is_not_an_incident_is_refused() {
    for data in [
        r#""#,
        r#","data":null"#,
        r#","data":{"type":"ping","message":"hi"}"#,
        r#","data":{"type":"incident"}"#,
        r#","data":{"type":"incident","id":"P1","number":"seven"}"#,
        r#","data":{"type":"incident","id":"P1","service":"api"}"#,
        r#","data":{"type":"incident","id":""}"#,
        r#","data":{"type":"incident","id":"P1/../x"}"#,
        r#","data":{"type":"incident","id":"P 1"}"#,
        r#","data":{"type":"incident","id":"P123456789012345678901234567890123"}"#,
    ] {
        let json = format!(r#"{{"event":{{"id":"E","event_type":"incident.triggered"{data}}}}}"#);
        assert!(event(&json).incident().is_err(), "{json}");
    }
}

#[test]
fn a_note_and_its_author() {
    let e = event(
        r#"{"event":{"id":"E","event_type":"incident.annotated","agent":{"id":"U1","summary":"Dana"},"data":{"type":"incident_note","id":"N1","content":"Rolled back","incident":{"id":"P9"}}}}"#,
    );
    assert_eq!(
        e.note().unwrap(),
        IncidentNote {
            incident_id: "P9".into(),
            id: Some("N1".into()),
            content: "Rolled back".into(),
            trimmed: false,
        }
    );
    let cut = event(
        r#"{"event":{"id":"E","event_type":"incident.annotated","data":{"type":"incident_note","id":"N2","content":"Rolled","trimmed":true,"incident":{"id":"P9"}}}}"#,
    );
    assert!(cut.note().unwrap().trimmed);
    assert_eq!(e.agent_name(), Some("Dana"));
    let automation = event(r#"{"event":{"id":"E","event_type":"x","agent":null}}"#);
    assert_eq!(automation.agent_name(), None);
    for data in [
        r#"{"type":"incident_note","content":"x"}"#,
        r#"{"type":"incident","id":"P1"}"#,
        r#"{"type":"incident_note","content":"x","incident":{"id":""}}"#,
        r#"{"type":"incident_note","content":"x","incident":{"id":"../notes"}}"#,
    ] {
        let json =
            format!(r#"{{"event":{{"id":"E","event_type":"incident.annotated","data":{data}}}}}"#);
        assert!(event(&json).note().is_err(), "{data}");
    }
}

#[test]
fn the_incident_id_of_a_note_is_found() {
    let e = event(
        r#"{"event":{"id":"E","event_type":"incident.annotated","data":{"type":"incident_note","id":"N1","incident":{"id":"P9"}}}}"#,
    );
    assert_eq!(e.incident_id().as_deref(), Some("P9"));
}
