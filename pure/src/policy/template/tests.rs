use super::*;

fn full() -> Incident {
    Incident {
        id: "Q1".into(),
        number: Some(7),
        title: Some("Disk \"full\"\nnow".into()),
        status: Some("triggered".into()),
        urgency: Some("high".into()),
        html_url: Some("https://x.pagerduty.com/incidents/Q1".into()),
        service: Some(Reference::named("PS", "api")),
        priority: Some(Reference::named("PP", "P1")),
        escalation_policy: Some(Reference::named("PE", "Default")),
        assignees: vec![Reference::named("U1", "Ann"), Reference::named("U2", "Bo")],
        teams: vec![Reference::named("T1", "Core")],
        ..Incident::default()
    }
}

fn render(template: &str, incident: &Incident, quoting: Quoting) -> String {
    let facts = Facts {
        incident,
        event_type: "incident.triggered",
        occurred_at: Some("2026-11-28T09:12:04.512Z"),
        alerts: None,
    };
    Template::parse(template).unwrap().render(&facts, quoting)
}

#[test]
fn every_placeholder_renders() {
    let all: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|(n, _)| format!("{{{n}}}"))
        .collect();
    let rendered = render(&all.join("|"), &full(), Quoting::Plain);
    assert_eq!(
        rendered,
        "Disk \"full\"\nnow|api|PS|high|P1|7|Q1|https://x.pagerduty.com/incidents/Q1|triggered|\
             Ann, Bo|Core|Default|incident.triggered|2026-11-28T09:12:04.512Z|none|none|none"
    );
}

#[test]
fn missing_values_render_as_words() {
    let bare = Incident {
        id: "Q2".into(),
        title: Some(String::new()),
        ..Incident::default()
    };
    let all: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|(n, _)| format!("{{{n}}}"))
        .collect();
    let rendered = render(&all.join("|"), &bare, Quoting::Plain);
    assert_eq!(
        rendered,
        "unknown|unknown|unknown|unknown|none|unknown|Q2|unknown|unknown|none|none|unknown|\
             incident.triggered|2026-11-28T09:12:04.512Z|none|none|none"
    );
}

#[test]
fn prompts_quote_every_value() {
    let rendered = render(
        "Look at {title} on {service} ({number}).",
        &full(),
        Quoting::Json,
    );
    assert_eq!(rendered, r#"Look at "Disk \"full\"\nnow" on "api" ("7")."#);
}

#[test]
fn alerts_are_a_json_array_in_a_prompt_and_their_summaries_in_a_title() {
    let evidence = Evidence {
        alerts: vec![
            serde_json::json!({"summary": "CPU \"97%\"\u{2028}", "details": {"q": "x > 1"}}),
        ],
        ..Evidence::default()
    };
    let incident = full();
    let facts = Facts {
        incident: &incident,
        event_type: "incident.triggered",
        occurred_at: None,
        alerts: Some(&evidence),
    };
    let prompt = Template::parse("Alerts: {alerts}.")
        .unwrap()
        .render(&facts, Quoting::Json);
    assert_eq!(
        prompt,
        r#"Alerts: [{"details":{"q":"x > 1"},"summary":"CPU \"97%\"\u2028"}]."#
    );
    let title = Template::parse("{alerts}")
        .unwrap()
        .render(&facts, Quoting::Plain);
    assert_eq!(title, "CPU \"97%\"\u{2028}");
    assert_eq!(
        render("{alerts}", &full(), Quoting::Json),
        r#""none""#,
        "no alerts read"
    );
}

#[test]
fn a_template_shows_as_it_was_written() {
    for source in ["db:{service}", "{{literal}} {title}}}", "plain"] {
        assert_eq!(Template::parse(source).unwrap().to_string(), source);
    }
}

#[test]
fn braces_can_be_literal() {
    assert_eq!(
        render("{{title}} is {title}}}", &full(), Quoting::Plain),
        "{title} is Disk \"full\"\nnow}"
    );
}

#[test]
fn bad_templates_are_refused() {
    let unknown = Template::parse("a {titel} b").unwrap_err();
    assert!(unknown
        .to_string()
        .starts_with("unknown placeholder {titel}; known: title, service,"));
    assert_eq!(
        Template::parse("a {title").unwrap_err(),
        TemplateError::Unclosed(2)
    );
    assert_eq!(
        Template::parse("a } b").unwrap_err(),
        TemplateError::Unmatched(2)
    );
    assert!(Template::parse("{}").is_err());
    assert!(Template::parse("{ title }").is_err());
}

#[test]
fn changes_and_past_incidents_are_json_arrays_in_a_prompt_and_words_in_a_title() {
    let evidence = Evidence {
        changes: vec![
            serde_json::json!({"summary": "Deploy \"v2\"", "correlation_reason": "most_recent"}),
        ],
        past_incidents: vec![serde_json::json!({"number": 812, "title": "Checkout 5xx"})],
        ..Evidence::default()
    };
    let incident = full();
    let facts = Facts {
        incident: &incident,
        event_type: "incident.triggered",
        occurred_at: None,
        alerts: Some(&evidence),
    };
    let prompt = Template::parse("Changes: {changes}. Before: {past_incidents}. {alerts}")
        .unwrap()
        .render(&facts, Quoting::Json);
    assert_eq!(
        prompt,
        r#"Changes: [{"correlation_reason":"most_recent","summary":"Deploy \"v2\""}]. Before: [{"number":812,"title":"Checkout 5xx"}]. "none""#
    );
    let title = Template::parse("{changes} / {past_incidents}")
        .unwrap()
        .render(&facts, Quoting::Plain);
    assert_eq!(title, "Deploy \"v2\" / Checkout 5xx");
    assert_eq!(
        render("{changes} {past_incidents}", &full(), Quoting::Json),
        r#""none" "none""#,
        "nothing read"
    );
}
