//! Whatever arrives, nothing panics and nothing becomes a 5xx: property tests over the verifier,
//! the parser, the router and the whole handler (in dry-run mode, so no I/O).

use std::sync::OnceLock;

use crate::support::*;
use pagerduty_devin_bridge::delivery::function_url::FunctionUrlRequest;
use pagerduty_devin_bridge::delivery::Bridge;
use proptest::prelude::*;
use pure::inbound::secret::Secret;
use pure::inbound::verify::{sign, signature_matches, Verifier};
use pure::inbound::webhook::{self, Incident, Reference};
use pure::policy::template::{Facts, Quoting, Template};
use pure::policy::{Action, Policy};
use serde_json::{json, Value};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn example_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let json = std::fs::read_to_string(repo_path("config/routing.example.json")).unwrap();
        Policy::from_json(&json).unwrap()
    })
}

/// A dry-run bridge with the example routing policy: every path runs, nothing leaves.
fn dry_bridge() -> &'static Bridge {
    static BRIDGE: OnceLock<Bridge> = OnceLock::new();
    BRIDGE.get_or_init(|| {
        let policy = std::fs::read_to_string(repo_path("config/routing.example.json")).unwrap();
        runtime().block_on(bridge_with_policy("http://127.0.0.1:9", true, &policy))
    })
}

/// The status the function answers `event_json` with, read as the Lambda runtime reads it.
fn status_of(event_json: &str) -> u16 {
    let event: FunctionUrlRequest = serde_json::from_str(event_json).expect("a Function URL event");
    let answer = runtime().block_on(dry_bridge().handle(event, None));
    answer.status_code as u16
}

/// JSON values of any shape, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("type".to_owned()),
                    Just("title".to_owned()),
                    Just("service".to_owned()),
                    Just("priority".to_owned()),
                    Just("teams".to_owned()),
                    Just("urgency".to_owned()),
                    Just("number".to_owned()),
                    Just("summary".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Deliveries that pass the envelope more often than random bytes would: real event types,
/// incident-shaped data with random contents.
fn delivery_like() -> impl Strategy<Value = Value> {
    let event_type = prop_oneof![
        Just("incident.triggered".to_owned()),
        Just("incident.acknowledged".to_owned()),
        Just("pagey.ping".to_owned()),
        "[a-z]{1,10}\\.[a-z_]{1,12}",
    ];
    let data = prop_oneof![
        any_json(),
        (any_json(), any_json(), any_json(), ".{0,40}").prop_map(
            |(service, priority, teams, title)| {
                json!({"type": "incident", "id": "PPROP1", "title": title, "service": service,
                   "priority": priority, "teams": teams, "urgency": "high"})
            }
        ),
    ];
    (".{0,30}", event_type, data).prop_map(|(id, event_type, data)| {
        json!({"event": {"id": id, "event_type": event_type, "data": data}})
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        // Shrunk failures are printed; nothing is written into the repository.
        failure_persistence: None,
        ..ProptestConfig::with_cases(512)
    })]

    #[test]
    fn the_verifier_takes_any_bytes(
        header in prop::collection::vec(any::<u8>(), 0..200),
        webhook in prop::option::of(prop::collection::vec(any::<u8>(), 0..60)),
        body in prop::collection::vec(any::<u8>(), 0..400),
        secret in ".{0,40}",
    ) {
        let secrets = [Secret::new(secret.clone())];
        let hook = Secret::new("hook");
        let _ = signature_matches(&secrets, &header, &body);
        let verdict = Verifier::new(std::slice::from_ref(&hook), &secrets).verify(webhook.as_deref(), Some(&header), &body);
        // Only the true secret and signature pass.
        if verdict.is_ok() {
            prop_assert_eq!(webhook.as_deref(), Some(&b"hook"[..]));
            prop_assert!(signature_matches(&secrets, &header, &body));
        }
        let good = sign(&secret, &body);
        prop_assert!(signature_matches(&secrets, good.as_bytes(), &body));
    }

    #[test]
    fn the_parser_takes_any_bytes(body in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(delivery) = webhook::parse(&body) {
            let _ = delivery.event.incident();
            let _ = delivery.event.incident_id();
        }
    }

    #[test]
    fn the_parser_takes_any_json(delivery in delivery_like()) {
        let body = delivery.to_string();
        if let Ok(delivery) = webhook::parse(body.as_bytes()) {
            let _ = delivery.event.incident_id();
            if let Ok(incident) = delivery.event.incident() {
                prop_assert_eq!(incident.id, "PPROP1");
            }
        }
    }

    #[test]
    fn policies_and_templates_take_any_text(text in ".{0,120}", json in any_json()) {
        let _ = Policy::from_json(&text);
        let _ = Policy::from_json(&json.to_string());
        let _ = Policy::from_json(&json!({"rules": [json]}).to_string());
        if let Ok(template) = Template::parse(&text) {
            let incident = Incident { id: "P".into(), title: Some(text.clone()), ..Incident::default() };
            let facts = Facts { incident: &incident, event_type: "incident.triggered", occurred_at: None, alerts: None };
            let _ = template.render(&facts, Quoting::Json);
            let _ = template.render(&facts, Quoting::Plain);
            // In a prompt, a title of any text reads back whole from its JSON quotes.
            let quoted = Template::parse("{title}").unwrap().render(&facts, Quoting::Json);
            let read_back: String = serde_json::from_str(&quoted).unwrap();
            prop_assert_eq!(read_back, if text.is_empty() { "unknown".to_owned() } else { text.clone() });
        }
    }

    /// Whatever `group_by`, `group_window_minutes` or `limits` holds, the policy is either
    /// valid in the shape docs/policy.md gives, or refused with an error that names that place.
    #[test]
    fn malformed_grouping_and_limits_are_refused_by_their_path(value in any_json()) {
        let group_by = Policy::from_json(&json!({"defaults": {"group_by": value}}).to_string());
        match &group_by {
            Ok(_) => prop_assert!(value.is_string() || value.is_null(), "{}", value),
            Err(err) => prop_assert!(err.path.starts_with("defaults.group_by"), "{}", err),
        }
        let window = Policy::from_json(
            &json!({"rules": [{"name": "r", "group_window_minutes": value}]}).to_string(),
        );
        match &window {
            Ok(_) => prop_assert!(
                value.is_null() || value.as_u64().is_some_and(|m| (1..=1440).contains(&m)),
                "{}", value
            ),
            Err(err) => prop_assert!(err.path.starts_with("rules[0].group_window_minutes"), "{}", err),
        }
        for (policy, path) in [
            (json!({"limits": value}), "limits"),
            (json!({"rules": [{"name": "r", "limits": value}]}), "rules[0].limits"),
        ] {
            match Policy::from_json(&policy.to_string()) {
                Ok(_) => prop_assert!(
                    value.as_object().is_some_and(|limits| limits.iter().all(|(key, cap)| {
                        ["sessions_per_hour", "sessions_per_day"].contains(&key.as_str())
                            && (cap.is_null() || cap.as_u64().is_some_and(|cap| cap > 0))
                    })) || (path != "limits" && value.is_null()),
                    "{}", value
                ),
                Err(err) => prop_assert!(err.path.starts_with(path), "{} for {}", err, value),
            }
        }
    }

    /// The example policy decides as its rules say, restated here by hand: the first rule
    /// that holds wins, and a rule's fields override the defaults.
    #[test]
    fn routing_decides_as_the_example_policy_says(
        title in prop::option::of(prop_oneof![
            Just("Checkout slow".to_owned()), Just("CARD declines".to_owned()), ".{0,40}"]),
        urgency in prop::option::of(prop_oneof![Just("high".to_owned()), Just("low".to_owned()), ".{0,6}"]),
        priority in prop::option::of(prop_oneof![Just("P1".to_owned()), Just("P2".to_owned()), ".{0,4}"]),
        service in prop::option::of(prop_oneof![
            Just("legacy-batch".to_owned()), Just("checkout-api".to_owned()), ".{0,12}"]),
        teams in prop::collection::vec(prop_oneof![Just("Payments".to_owned()), ".{0,8}"], 0..3),
    ) {
        let named = |name: String| Reference { id: None, summary: Some(name), html_url: None };
        let has = |value: &Option<String>, wanted: &str| value.as_deref() == Some(wanted);
        let title_matches = title.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("checkout") || t.contains("card")
        });
        let (rule, ignored, cap) = if has(&service, "legacy-batch") {
            ("noisy", true, 10)
        } else if has(&urgency, "low") {
            ("low", true, 10)
        } else if has(&priority, "P1") && has(&urgency, "high") {
            ("sev1", false, 50)
        } else if teams.iter().any(|t| t == "Payments") && title_matches {
            ("payments", false, 10)
        } else {
            ("defaults", false, 10)
        };
        let incident = Incident {
            id: "P".into(),
            title,
            urgency,
            priority: priority.map(named),
            service: service.map(named),
            teams: teams.into_iter().map(named).collect(),
            ..Incident::default()
        };
        let decision = example_policy().decide("incident.triggered", &incident);
        prop_assert_eq!(decision.rule, rule);
        prop_assert_eq!(decision.action == Action::Ignore, ignored);
        prop_assert_eq!(decision.max_acu_limit.map(|cap| cap.get()), Some(cap));
        prop_assert_eq!(decision.playbook_id, (rule == "sev1").then_some("playbook-hotfix"));
    }

    #[test]
    fn any_request_gets_an_answer_below_500(
        method in prop_oneof![Just("POST".to_owned()), Just("GET".to_owned()), "[A-Z]{1,7}"],
        path in prop_oneof![Just("/pagerduty-alert".to_owned()), "/[a-z/-]{0,20}"],
        body in ".{0,300}",
        // Any header value HTTP can carry: the Function URL front end refuses control characters
        // before Lambda is invoked.
        signature in "[^\\x00-\\x1f\\x7f]{0,80}",
        webhook_secret in prop_oneof![Just(LOCAL_WEBHOOK_SECRET.to_owned()), "[^\\x00-\\x1f\\x7f]{0,20}"],
    ) {
        let headers = json!({"x-pagerduty-signature": signature, "x-webhook-secret": webhook_secret});
        let status = status_of(&function_url_event_with_headers(&method, &path, &body, headers));
        prop_assert!(status < 500, "{} for {} {}", status, method, path);
    }

    /// The raw event, not only the body: the query string (any text), the headers lambda_http
    /// built a URI from (any value HTTP can carry, bytes above ASCII included: the Function
    /// URL's front end refuses control characters), the base64 flag.
    #[test]
    fn any_raw_event_gets_an_answer_below_500(
        query in ".{0,40}",
        proto in prop::option::of("[^\\x00-\\x08\\x0a-\\x1f\\x7f]{0,12}"),
        host in prop::option::of("[^\\x00-\\x08\\x0a-\\x1f\\x7f]{0,24}"),
        value in "[^\\x00-\\x08\\x0a-\\x1f\\x7f]{0,40}",
        base64 in any::<bool>(),
        body in ".{0,200}",
        signed in any::<bool>(),
    ) {
        let event = if signed {
            function_url_event("POST", "/pagerduty-alert", &body)
        } else {
            function_url_event_with_headers("POST", "/pagerduty-alert", &body, json!({}))
        };
        let mut event: Value = serde_json::from_str(&event).unwrap();
        event["rawQueryString"] = json!(query);
        event["isBase64Encoded"] = json!(base64);
        let headers = event["headers"].as_object_mut().unwrap();
        headers.insert("x-anything".into(), json!(value));
        if let Some(proto) = proto {
            headers.insert("x-forwarded-proto".into(), json!(proto));
        }
        if let Some(host) = host {
            headers.insert("host".into(), json!(host));
        }
        let status = status_of(&event.to_string());
        prop_assert!(status < 500, "{} for {}", status, event);
    }

    #[test]
    fn any_signed_delivery_is_answered_202(delivery in delivery_like()) {
        let body = delivery.to_string();
        let status = status_of(&function_url_event("POST", "/pagerduty-alert", &body));
        // A verified envelope is never refused, whatever its data (issue 19: PagerDuty disables
        // a subscription after three 4xx answers in a row).
        prop_assert_eq!(status, 202, "for {}", body);
    }

    #[test]
    fn any_signed_bytes_get_an_answer_below_500(body in ".{0,300}") {
        let status = status_of(&function_url_event("POST", "/pagerduty-alert", &body));
        prop_assert!(status < 500, "{} for {:?}", status, body);
    }
}
