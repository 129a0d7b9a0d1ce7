//! The table of remote calls (`support/calls.rs`) is the fakes' whole contract: what it lacks,
//! they refuse, and the test that made the call fails.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::support::calls::{listed, Service, CALLS};
use crate::support::devin::FakeDevin;
use crate::support::pagerduty::FakePagerDuty;

#[test]
fn a_path_template_takes_one_segment_per_variable_and_nothing_else() {
    let create = listed(Service::Devin, "POST", "/v3/organizations/org-1/sessions").unwrap();
    assert_eq!(create.path, "/v3/organizations/{org_id}/sessions");
    assert!(listed(Service::Devin, "PATCH", "/v3/organizations/org-1/sessions").is_none());
    assert!(listed(Service::Devin, "POST", "/v3/organizations//sessions").is_none());
    assert!(listed(
        Service::Devin,
        "POST",
        "/v3/organizations/org-1/sessions/x/y"
    )
    .is_none());
    assert!(listed(
        Service::PagerDuty,
        "POST",
        "/v3/organizations/org-1/sessions"
    )
    .is_none());
    assert!(listed(Service::PagerDuty, "GET", "/incidents/P1/status_updates").is_none());
    assert!(listed(Service::PagerDuty, "POST", "/incidents/P1/notes").is_some());
}

#[test]
fn every_row_names_its_reference_once() {
    for (i, call) in CALLS.iter().enumerate() {
        assert!(
            !call.reference.is_empty() && call.path.starts_with('/'),
            "{call:?}"
        );
        let source = call.source();
        assert!(
            source.starts_with("https://docs.devin.ai/") || source.contains("openapiv3.json"),
            "{source}"
        );
        let twin = CALLS[..i].iter().find(|other| {
            other.service == call.service && other.method == call.method && other.path == call.path
        });
        assert!(twin.is_none(), "listed twice: {call:?}");
    }
}

#[tokio::test]
async fn a_call_the_table_lacks_is_refused_and_fails_the_test() {
    let pagerduty = FakePagerDuty::start().await;
    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{}/incidents/P1/status_updates", pagerduty.url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 501);
    assert_eq!(
        pagerduty.unlisted().requests(),
        ["GET /incidents/P1/status_updates"]
    );
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(pagerduty)));
    assert!(dropped.is_err(), "dropping the fake must fail the test");

    let devin = FakeDevin::start().await;
    let answer = http
        .put(format!(
            "{}/v3/organizations/org-1/sessions/devin-1/tags",
            devin.url
        ))
        .json(&serde_json::json!({"tags": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 501);
    assert_eq!(devin.unlisted().requests().len(), 1);
    devin.unlisted().forget();
}

#[tokio::test]
async fn a_listed_call_reaches_the_fake() {
    let pagerduty = FakePagerDuty::start().await;
    let answer = reqwest::Client::new()
        .get(format!("{}/incidents/P1", pagerduty.url))
        .send()
        .await
        .unwrap();
    assert_ne!(answer.status(), 501);
    assert!(pagerduty.unlisted().requests().is_empty());
}
