//! One HTTP client per cold start, connections kept alive: many deliveries, one TCP connection
//! to Devin.

use crate::support::devin::FakeDevin;
use crate::support::env::Env;
use crate::support::runtime_api::{Outcome, RuntimeApi};
use crate::support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn fifty_deliveries_share_one_connection_to_devin() {
    let devin = FakeDevin::start().await;
    let runtime = RuntimeApi::start().await;
    let env = Env::local(&devin.url).unset("PAGERDUTY_SIGNING_SECRET");
    let function = runtime.spawn_function(&env.vars());
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
    assert_eq!(
        devin.requests(),
        50,
        "a create each: the ledger answers the rest"
    );
    assert_eq!(
        devin.connections(),
        1,
        "every request rode the same kept-alive connection"
    );
    function.stop().await;
}
