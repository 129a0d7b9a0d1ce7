//! The follow-up's run as issue 20 left it, end to end (both binaries under the Runtime API
//! emulator, the ledger in moto, the Devin and PagerDuty fakes): the sweep reads only the
//! services and teams the webhook subscriptions send; starts come first and sessions are read
//! oldest-followed first; a note is posted once even when PagerDuty's answer is ambiguous; a
//! session is closed out on 404 only after two runs in a row saw it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::fleet::Fleet;
use crate::support::incident::incident_json;
use crate::support::runtime_api::metric_total;
use crate::support::{LOCAL_WEBHOOK_SECRET, TEST_DEVIN_API_KEY};

/// An open incident created `ago`, on `service` (and `team`, when given).
fn on_service(id: &str, service: &str, team: Option<&str>, ago: Duration) -> Value {
    let mut incident = incident_json(id, ago);
    incident["service"]["id"] = service.into();
    if let Some(team) = team {
        incident["teams"] = json!([{"id": team, "summary": "payments"}]);
    }
    incident
}

/// The incident ids of the sessions Devin was asked to create.
fn started_for(fleet: &Fleet) -> Vec<String> {
    let mut ids: Vec<String> = fleet
        .devin
        .sessions()
        .iter()
        .flat_map(|session| session.tags.clone())
        .filter_map(|tag| tag.strip_prefix("pagerduty-incident:").map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// The bridge's secret as `connect-pagerduty` leaves it: the secrets, and a record of one
/// subscription per filter (`type`, `id`).
fn secret_with_subscriptions(filters: &[Value]) -> String {
    let record: Vec<Value> = filters
        .iter()
        .enumerate()
        .map(|(n, filter)| {
            let mut entry = json!({"id": format!("PSUB{n}"), "url": "https://bridge.example/pagerduty-alert",
                "header_sha256": "0".repeat(64), "signing_sha256": "1".repeat(64)});
            if !filter.is_null() {
                entry["filter"] = filter.clone();
            }
            entry
        })
        .collect();
    json!({"DEVIN_API_KEY": TEST_DEVIN_API_KEY, "WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
        "PAGERDUTY_API_TOKEN": "pd_fleet_token",
        "PAGERDUTY_SUBSCRIPTIONS": serde_json::to_string(&record).unwrap()})
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_starts_sessions_only_for_the_subscribed_services_and_teams() {
    let fleet = Fleet::start(1, &[]).await;
    let ago = Duration::from_secs(300);
    // Five open incidents without a session, four on services never connected.
    fleet
        .pagerduty
        .add_incident(on_service("QSUBSCRIBED1", "PSVCA", None, ago));
    for (n, service) in ["PSVCB", "PSVCC", "PSVCD", "PSVCE"].iter().enumerate() {
        let id = format!("QOTHER{n}");
        fleet.pagerduty.add_incident(on_service(&id, service, None, ago));
    }
    // One more, on another service but of the subscribed team.
    fleet
        .pagerduty
        .add_incident(on_service("QTEAM1", "PSVCF", Some("PTEAMA"), ago));

    // The scope from the record connect-pagerduty keeps: one service, one team.
    let moto = fleet.moto.as_ref().unwrap();
    let scoped = secret_with_subscriptions(&[
        json!({"type": "service_reference", "id": "PSVCA"}),
        json!({"type": "team_reference", "id": "PTEAMA"}),
    ]);
    let arn = moto.create_secret("bridge/scoped", &scoped).await;
    let from_record = [("SWEEP_SERVICE_IDS", ""), ("BRIDGE_SECRET_ID", arn.as_str())];
    let follow = fleet.follow_up(&from_record).await;
    let report = follow.run().await;
    assert_eq!(
        started_for(&fleet),
        ["QSUBSCRIBED1", "QTEAM1"],
        "{report}"
    );
    follow.function.stop().await;

    // The settings win over the record: one more service.
    let settings = [
        ("SWEEP_SERVICE_IDS", "PSVCB"),
        ("BRIDGE_SECRET_ID", arn.as_str()),
    ];
    let follow = fleet.follow_up(&settings).await;
    follow.run().await;
    assert_eq!(started_for(&fleet), ["QOTHER0", "QSUBSCRIBED1", "QTEAM1"]);
    follow.function.stop().await;

    // A subscription recorded without its filter: nothing says what it sends, no sweep, one
    // warning at the cold start naming the settings.
    let unknown = secret_with_subscriptions(&[Value::Null]);
    let arn = moto.create_secret("bridge/unscoped", &unknown).await;
    let unscoped = [("SWEEP_SERVICE_IDS", ""), ("BRIDGE_SECRET_ID", arn.as_str())];
    let follow = fleet.follow_up(&unscoped).await;
    follow.run().await;
    follow.run().await;
    assert_eq!(started_for(&fleet).len(), 3, "no sweep without a scope");
    let output = follow.function.stop().await;
    assert_eq!(
        output.matches("the sweep is off").count(),
        1,
        "one warning per cold start: {output}"
    );
    assert!(output.contains("SWEEP_SERVICE_IDS or SWEEP_TEAM_IDS"));

    // An account-wide subscription: every incident of the account.
    let account = secret_with_subscriptions(&[json!({"type": "account_reference"})]);
    let arn = moto.create_secret("bridge/account", &account).await;
    let follow = fleet
        .follow_up(&[("SWEEP_SERVICE_IDS", ""), ("BRIDGE_SECRET_ID", arn.as_str())])
        .await;
    follow.run().await;
    assert_eq!(started_for(&fleet).len(), 6);
    let output = follow.function.stop().await;
    assert_eq!(metric_total(&output, "SessionsStartedBySweep"), 3);
    fleet.stop().await;
}
