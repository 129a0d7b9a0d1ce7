use super::*;
use crate::inbound::webhook::{Reference, INCIDENT_TRIGGERED};

fn reference(id: &str, summary: &str) -> Option<Reference> {
    Some(Reference::named(id, summary))
}

fn incident() -> Incident {
    Incident {
        id: "Q1".into(),
        title: Some("Checkout latency high".into()),
        urgency: Some("high".into()),
        service: reference("PSVC1", "checkout-api"),
        priority: reference("PPRI1", "P1"),
        escalation_policy: reference("PESC1", "Payments EP"),
        teams: vec![
            reference("PTEAM1", "Payments").unwrap(),
            reference("PTEAM2", "SRE").unwrap(),
        ],
        ..Incident::default()
    }
}

fn policy(json: &str) -> Policy {
    Policy::from_json(json).unwrap_or_else(|err| panic!("{err}"))
}

/// The rule that decides for `incident` when the only rule has these matchers.
fn matches(when: &str, incident: &Incident) -> bool {
    let policy = policy(&format!(r#"{{"rules":[{{"name":"r","when":{when}}}]}}"#));
    policy.decide(INCIDENT_TRIGGERED, incident).rule == "r"
}

#[test]
fn each_matcher_on_its_own() {
    let i = incident();
    let cases = [
        (r#"{}"#, true),
        (r#"{"services":["checkout-api"]}"#, true),
        (r#"{"services":["PSVC1"]}"#, true),
        (r#"{"services":["other","checkout-api"]}"#, true),
        (r#"{"services":["Checkout-API"]}"#, false),
        (r#"{"urgency":["high"]}"#, true),
        (r#"{"urgency":["low"]}"#, false),
        (r#"{"priority":["P1","P2"]}"#, true),
        (r#"{"priority":["none"]}"#, false),
        (r#"{"teams":["SRE"]}"#, true),
        (r#"{"teams":["PTEAM1"]}"#, true),
        (r#"{"teams":["Infra"]}"#, false),
        (r#"{"escalation_policies":["Payments EP"]}"#, true),
        (r#"{"escalation_policies":["PESC1"]}"#, true),
        (r#"{"escalation_policies":["Other"]}"#, false),
        (r#"{"title_matches":"(?i)CHECKOUT|card"}"#, true),
        (r#"{"title_matches":"^latency"}"#, false),
        (r#"{"event_types":["incident.triggered"]}"#, true),
        (r#"{"event_types":["incident.acknowledged"]}"#, false),
    ];
    for (when, expected) in cases {
        assert_eq!(matches(when, &i), expected, "{when}");
    }
}

#[test]
fn all_matchers_must_hold() {
    let i = incident();
    assert!(matches(r#"{"priority":["P1"],"urgency":["high"]}"#, &i));
    assert!(!matches(r#"{"priority":["P1"],"urgency":["low"]}"#, &i));
}

#[test]
fn none_matches_an_incident_without_a_priority() {
    let no_priority = Incident {
        priority: None,
        ..incident()
    };
    assert!(matches(r#"{"priority":["none"]}"#, &no_priority));
    assert!(!matches(r#"{"priority":["P1"]}"#, &no_priority));
}

#[test]
fn missing_fields_never_match_a_matcher_that_needs_them() {
    let bare = Incident {
        id: "Q2".into(),
        ..Incident::default()
    };
    for when in [
        r#"{"services":["checkout-api"]}"#,
        r#"{"urgency":["high","low"]}"#,
        r#"{"teams":["SRE"]}"#,
        r#"{"escalation_policies":["Payments EP"]}"#,
        r#"{"title_matches":"."}"#,
    ] {
        assert!(!matches(when, &bare), "{when}");
    }
    assert!(matches(r#"{"title_matches":"^$"}"#, &bare));
}

#[test]
fn the_first_matching_rule_decides() {
    let p = policy(
        r#"{"rules":[
                {"name":"noisy","when":{"services":["legacy-batch"]},"action":"ignore"},
                {"name":"sev1","when":{"priority":["P1"]}},
                {"name":"high","when":{"urgency":["high"]},"action":"ignore"}
            ]}"#,
    );
    assert_eq!(p.decide(INCIDENT_TRIGGERED, &incident()).rule, "sev1");
    let batch = Incident {
        service: reference("PB", "legacy-batch"),
        ..incident()
    };
    let decision = p.decide(INCIDENT_TRIGGERED, &batch);
    assert_eq!((decision.rule, decision.action), ("noisy", Action::Ignore));
    let p3 = Incident {
        priority: reference("P3", "P3"),
        ..incident()
    };
    assert_eq!(p.decide(INCIDENT_TRIGGERED, &p3).rule, "high");
    let low = Incident {
        urgency: Some("low".into()),
        ..p3
    };
    let decision = p.decide(INCIDENT_TRIGGERED, &low);
    assert_eq!(
        (decision.rule, decision.action),
        (DEFAULTS, Action::Investigate)
    );
}

#[test]
fn rules_override_defaults_field_by_field() {
    let p = policy(
        r#"{
                "defaults": {"action":"ignore","title":"T {number}","playbook_id":"pb-default",
                             "max_acu_limit":10,"tags":["d"],"knowledge_ids":["k1"],"repos":["a/b"]},
                "rules": [
                    {"name":"sev1","when":{"priority":["P1"]},"action":"investigate",
                     "max_acu_limit":50,"tags":["sev1"],"playbook_id":null},
                    {"name":"all","action":"investigate","knowledge_ids":null,"repos":[]}
                ]
            }"#,
    );
    let sev1 = p.decide(INCIDENT_TRIGGERED, &incident());
    assert_eq!(sev1.action, Action::Investigate);
    assert_eq!(sev1.max_acu_limit, NonZeroU32::new(50));
    assert_eq!(sev1.tags, ["sev1"]);
    assert_eq!(sev1.playbook_id, None, "null in a rule clears the default");
    assert_eq!(sev1.knowledge_ids, Some(&["k1".to_owned()][..]));
    assert_eq!(sev1.title, p.defaults.title.as_ref());

    let other = Incident {
        priority: None,
        ..incident()
    };
    let all = p.decide(INCIDENT_TRIGGERED, &other);
    assert_eq!(all.rule, "all");
    assert_eq!(all.playbook_id, Some("pb-default"));
    assert_eq!(all.max_acu_limit, NonZeroU32::new(10));
    assert_eq!(all.tags, ["d"]);
    assert_eq!(all.knowledge_ids, None);
    assert_eq!(all.repos, Some(&[][..]));
}

#[test]
fn grouping_limits_and_the_acu_cap_follow_rule_over_defaults() {
    let p = policy(
        r#"{"defaults": {"group_by": "{service}", "group_window_minutes": 10,
                             "limits": {"sessions_per_hour": 3}},
                "rules": [
                    {"name": "solo", "when": {"priority": ["P1"]}, "group_by": null, "max_acu_limit": null},
                    {"name": "wide", "group_by": "all", "limits": {"sessions_per_day": 9}}
                ]}"#,
    );
    let solo = p.decide(INCIDENT_TRIGGERED, &incident());
    assert_eq!(
        (solo.rule, solo.group_by),
        ("solo", None),
        "null turns grouping off"
    );
    assert_eq!(solo.max_acu_limit, None, "null lifts the built-in cap");
    assert_eq!(solo.group_window, Duration::from_secs(600));
    assert_eq!(
        solo.limits.sessions_per_hour,
        NonZeroU32::new(3),
        "inherited"
    );
    let other = Incident {
        priority: None,
        ..incident()
    };
    let wide = p.decide(INCIDENT_TRIGGERED, &other);
    assert_eq!(wide.rule, "wide");
    assert!(wide.group_by.is_some());
    assert_eq!(wide.max_acu_limit, NonZeroU32::new(10), "the built-in cap");
    assert_eq!(
        (wide.limits.sessions_per_hour, wide.limits.sessions_per_day),
        (None, NonZeroU32::new(9)),
        "a rule's limits replace the defaults' whole"
    );
    assert_eq!(p.limits(), Limits::default(), "no bridge-wide limits");
}

#[test]
fn no_policy_is_todays_behaviour() {
    let p = Policy::default();
    assert!(p.accepts("incident.triggered"));
    assert!(!p.accepts("incident.acknowledged") && !p.accepts("pagey.ping"));
    let d = p.decide(INCIDENT_TRIGGERED, &incident());
    assert_eq!(
        d,
        Decision {
            rule: DEFAULTS,
            action: Action::Investigate,
            title: None,
            prompt: None,
            playbook_id: None,
            max_acu_limit: NonZeroU32::new(10),
            tags: &[],
            knowledge_ids: None,
            repos: None,
            group_by: None,
            group_window: Duration::from_secs(30 * 60),
            limits: Limits::default(),
            structured_output: true,
            start_after: None,
            postmortem: true,
            devin_mode: None,
            custom_fields: None,
        }
    );
}

#[test]
fn findings_and_deferral_follow_rule_over_defaults() {
    let p = policy(
        r#"{"defaults": {"start_after_minutes": 5, "structured_output": false},
                "rules": [
                    {"name": "now", "when": {"priority": ["P1"]}, "start_after_minutes": null,
                     "structured_output": true},
                    {"name": "later"}
                ]}"#,
    );
    let now = p.decide(INCIDENT_TRIGGERED, &incident());
    assert_eq!(
        (now.rule, now.start_after, now.structured_output),
        ("now", None, true)
    );
    let later = p.decide(
        INCIDENT_TRIGGERED,
        &Incident {
            priority: None,
            ..incident()
        },
    );
    assert_eq!(later.rule, "later");
    assert_eq!(later.start_after, Some(Duration::from_secs(300)));
    assert!(!later.structured_output);
    assert!(p.defers() && !Policy::default().defers());
    let lifted = policy(r#"{"rules": [{"name": "r", "start_after_minutes": null}]}"#);
    assert!(!lifted.defers());
}

#[test]
fn event_types_choose_what_may_start_a_session() {
    let p = policy(r#"{"event_types":["incident.triggered","incident.reopened"]}"#);
    assert!(p.accepts("incident.reopened") && !p.accepts("incident.resolved"));
}

#[test]
fn forward_events_choose_what_the_session_hears() {
    let default = Policy::default();
    for forwarded in [
        "incident.resolved",
        "incident.reopened",
        "incident.annotated",
    ] {
        assert!(default.forwards(forwarded), "{forwarded}");
    }
    assert!(!default.forwards("incident.acknowledged"));
    let p = policy(r#"{"forward_events":["incident.acknowledged","incident.annotated"]}"#);
    assert!(p.forwards("incident.acknowledged") && !p.forwards("incident.resolved"));
    let none = policy(r#"{"forward_events":[]}"#);
    assert!(!none.forwards("incident.annotated"));
}

#[test]
fn the_postmortem_is_on_by_default_and_a_rule_turns_it_off() {
    let p = policy(
        r#"{"rules": [{"name": "quiet", "when": {"priority": ["P1"]}, "postmortem": false}]}"#,
    );
    assert!(!p.decide(INCIDENT_TRIGGERED, &incident()).postmortem);
    let other = Incident {
        priority: None,
        ..incident()
    };
    assert!(p.decide(INCIDENT_TRIGGERED, &other).postmortem);
    let summaries = p.summaries();
    assert!(summaries[0].ends_with("; no postmortem"), "{summaries:?}");
    assert!(!summaries[1].contains("postmortem"), "{summaries:?}");
    let off = policy(r#"{"defaults": {"postmortem": false}}"#);
    assert!(!off.decide(INCIDENT_TRIGGERED, &other).postmortem);
    assert!(Policy::from_json(r#"{"defaults": {"postmortem": "no"}}"#).is_err());
}
