//! One HTTP client per cold start, connections kept alive: many deliveries, one TCP connection
//! to Devin.

mod support;

use serde_json::json;
use support::devin::FakeDevin;
use support::runtime_api::{Outcome, RuntimeApi};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn fifty_deliveries_share_one_connection_to_devin() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let function = runtime.spawn_function(&[
        ("DEVIN_ORG_ID", "org-test"),
        ("DEVIN_API_URL", devin.url.as_str()),
        ("DEVIN_API_KEY", TEST_DEVIN_API_KEY),
        ("WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET),
    ]);
    for n in 0..50 {
        let body = json!({"event": {"id": format!("EV{n}"), "event_type": "incident.triggered",
            "data": {"type": "incident", "id": format!("QREUSE{n}"), "title": "t"}}});
        let event = function_url_event("POST", "/pagerduty-alert", &body.to_string());
        let Outcome::Response(answer) = runtime.invoke(&event).await else {
            panic!("invocation failed");
        };
        assert_eq!(answer["statusCode"], 202);
    }
    assert_eq!(devin.sessions().len(), 50);
    assert_eq!(devin.requests(), 100, "a lookup and a create each");
    assert_eq!(
        devin.connections(),
        1,
        "every request rode the same kept-alive connection"
    );
    function.stop().await;
}
