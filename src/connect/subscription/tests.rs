use super::*;

#[test]
fn scopes_are_read_from_the_command_line() {
    assert_eq!(Scope::parse("account"), Ok(Scope::Account));
    assert_eq!(
        Scope::parse("service:checkout-api"),
        Ok(Scope::Service("checkout-api".into()))
    );
    assert_eq!(
        Scope::parse(" Team: Payments "),
        Ok(Scope::Team("Payments".into()))
    );
    for bad in ["", "service:", "svc:x", "checkout-api"] {
        assert!(Scope::parse(bad).is_err(), "{bad}");
    }
    assert!(looks_like_id("PF9KMXH") && !looks_like_id("checkout") && !looks_like_id("P1"));
}

#[test]
fn the_subscription_carries_the_events_the_filter_and_the_header() {
    let events = vec![
        "incident.annotated".to_owned(),
        "incident.triggered".to_owned(),
    ];
    let body = subscription(
        "https://x.on.aws/pagerduty-alert",
        &events,
        &Filter::service("PS1"),
        "s3cret",
    );
    let sub = &body["webhook_subscription"];
    assert_eq!(
        sub["events"],
        json!(["incident.annotated", "incident.triggered"])
    );
    assert_eq!(
        sub["filter"],
        json!({"type": "service_reference", "id": "PS1"})
    );
    assert_eq!(
        sub["delivery_method"]["custom_headers"],
        json!([{"name": "X-Webhook-Secret", "value": "s3cret"}])
    );
    assert!(!shown(&body).to_string().contains("s3cret"));
    let existing = json!({"id": "PSUB1", "delivery_method": {"url": "https://x.on.aws/pagerduty-alert"},
                          "filter": {"type": "service_reference", "id": "PS1"}});
    assert!(is_ours(
        &existing,
        "https://x.on.aws/pagerduty-alert",
        &Filter::service("PS1")
    ));
    assert!(!is_ours(
        &existing,
        "https://x.on.aws/pagerduty-alert",
        &Filter::service("PS2")
    ));
    assert!(!is_ours(
        &existing,
        "https://y.on.aws/pagerduty-alert",
        &Filter::service("PS1")
    ));
    assert!(!is_ours(
        &existing,
        "https://x.on.aws/pagerduty-alert",
        &Filter::account()
    ));
}

#[test]
fn the_list_takes_the_openapis_filter_types() {
    assert_eq!(Filter::account().list_type(), "account");
    assert_eq!(Filter::service("PS1").list_type(), "service");
    assert_eq!(Filter::team("PT1").list_type(), "team");
    // An account filter comes back with "id": null.
    let listed = json!({"filter": {"type": "account_reference", "id": null}});
    assert!(Filter::account().matches(&listed));
    assert!(!Filter::service("PS1").matches(&listed));
    assert_eq!(
        update(&["incident.triggered".to_owned()]),
        json!({"webhook_subscription": {"events": ["incident.triggered"], "active": true}})
    );
}

#[test]
fn the_plan_keeps_what_sends_the_header_and_replaces_the_rest_new_first() {
    const URL: &str = "https://x.on.aws/pagerduty-alert";
    let events = vec!["incident.triggered".to_owned()];
    let filter = Filter::service("PS1");
    let listed = |id: &str, url: &str, disabled: bool| {
        json!({"id": id, "active": true, "events": ["incident.triggered"],
               "filter": {"type": "service_reference", "id": "PS1"},
               "delivery_method": {"url": url, "temporarily_disabled": disabled,
                   "custom_headers": [{"name": "X-Webhook-Secret", "value": "-- redacted --"}]}})
    };
    let sends_w1 = Pushed::new("PSUB1", URL, "w1", "sig1");
    let records = [sends_w1.clone()];
    let one = [listed("PSUB1", URL, false)];

    // Nothing changed: nothing to do.
    let plan = plan(&one, &records, &records, URL, &filter, "w1", &events);
    assert_eq!(
        plan,
        Plan {
            keep: Some("PSUB1".into()),
            ..Plan::default()
        }
    );
    // Other events, a disabled subscription: a PUT of the events, and an enable.
    let more = vec![
        "incident.triggered".to_owned(),
        "incident.resolved".to_owned(),
    ];
    let disabled = [listed("PSUB1", URL, true)];
    let got = super::plan(&disabled, &records, &records, URL, &filter, "w1", &more);
    assert!(got.update && got.enable && !got.create && got.delete.is_empty());
    // A new header value, or no record of the one it sends, or its signing secret gone:
    // create first, then delete.
    for (records, verifiable, header) in [
        (&records[..], &records[..], "w2"),
        (&[][..], &[][..], "w1"),
        (&records[..], &[][..], "w1"),
    ] {
        let got = super::plan(&one, records, verifiable, URL, &filter, header, &events);
        assert_eq!(
            got,
            Plan {
                create: true,
                delete: vec!["PSUB1".into()],
                ..Plan::default()
            }
        );
    }
    // A new URL: the recorded subscription at the old URL is the bridge's, and goes.
    let got = super::plan(
        &one,
        &records,
        &records,
        "https://y.on.aws/p",
        &filter,
        "w1",
        &events,
    );
    assert_eq!(got.delete, ["PSUB1"]);
    assert!(got.create);
    // Somebody else's subscription in the scope is left alone.
    let theirs = [listed("PSUB7", "https://elsewhere.example/hook", false)];
    let got = super::plan(&theirs, &records, &records, URL, &filter, "w1", &events);
    assert!(got.create && got.delete.is_empty());
    // Two that send the header: one is kept, the other deleted.
    let two = [listed("PSUB1", URL, false), listed("PSUB1", URL, false)];
    let got = super::plan(&two, &records, &records, URL, &filter, "w1", &events);
    assert_eq!((got.keep.as_deref(), got.delete.len()), (Some("PSUB1"), 1));
}

#[test]
fn an_old_value_is_kept_for_what_the_record_says_sends_it_and_for_unknown_ones_with_the_header() {
    const URL: &str = "https://x.on.aws/pagerduty-alert";
    let listed = |id: &str, filter: Value, url: &str, header: bool| {
        let headers = if header {
            json!([{"name": "x-webhook-secret", "value": "-- redacted --"}])
        } else {
            json!([])
        };
        json!({"id": id, "filter": filter,
               "delivery_method": {"url": url, "custom_headers": headers}})
    };
    let service = json!({"type": "service_reference", "id": "PS1"});
    let team = json!({"type": "team_reference", "id": "PT1"});
    let account = json!({"type": "account_reference", "id": null});
    let records = [
        Pushed::new("PSUB1", "https://old.on.aws/p", "w1", "sig1"),
        Pushed::new("PSUB2", URL, "w2", "sig2"),
    ];
    let all = [
        // Recorded: sends w1 (at an old URL), sends w2.
        listed("PSUB1", service.clone(), "https://old.on.aws/p", true),
        listed("PSUB2", service, URL, true),
        // Made by hand: to the URL with the header, without it, elsewhere with it.
        listed("PSUB3", team, URL, true),
        listed("PSUB4", account.clone(), URL, false),
        listed("PSUB5", account, "https://elsewhere.example/hook", true),
    ];
    let sender = |id: &str, scope: &str, recorded| Sender {
        id: id.into(),
        scope: scope.into(),
        recorded,
    };
    assert_eq!(
        may_send(&all, &records, URL, "w1"),
        [
            sender("PSUB1", "service:PS1", true),
            sender("PSUB3", "team:PT1", false)
        ]
    );
    assert_eq!(
        may_send(&all, &records, URL, "w2"),
        [
            sender("PSUB2", "service:PS1", true),
            sender("PSUB3", "team:PT1", false)
        ]
    );
    // A record whose subscription is gone keeps nothing.
    assert!(may_send(&all[3..], &records, URL, "w1").is_empty());
    assert_eq!(scope_argument(&all[4]), "account");
}
