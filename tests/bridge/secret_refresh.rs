//! A refused signature fetches the secrets again, but only when the copy held is old enough
//! to be stale: in process, with the real AWS SDK against a real `moto_server`.

use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::secrets_store::SecretStore;
use pagerduty_devin_bridge::startup::assemble::{assemble, http_client, ledger};
use pagerduty_devin_bridge::startup::settings::Settings;
use serde_json::json;

use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::*;

fn secret_json(signing: &str) -> String {
    json!({"DEVIN_API_KEY": "cog_k", "PAGERDUTY_SIGNING_SECRET": signing}).to_string()
}

/// The bridge as the cold start assembles it, reading its secrets from `arn` through the
/// test's client, and fetching them again on a refusal when older than `stale_after`.
async fn bridge_reading(moto: &Moto, arn: &str, stale_after: Duration) -> Bridge {
    let env = Env::secrets_manager("http://127.0.0.1:9", moto, arn);
    let mut settings = Settings::from_lookup(env.lookup()).unwrap();
    settings.secrets_stale_after = stale_after;
    let secrets = SecretStore::from_secrets_manager(moto.client(), arn, settings.secrets_ttl)
        .await
        .unwrap();
    let ledger = ledger(&settings, None);
    assemble(
        settings,
        secrets,
        ledger,
        http_client().unwrap(),
        "test".into(),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_signature_refreshes_stale_secrets_once() {
    let moto = Moto::start().await;
    let arn = moto.create_secret("refresh", &secret_json("old")).await;
    let ping = delivery_body(&sample_event("pagey-ping.json"));

    // Copies old enough to be stale: the new secret is fetched on the first refusal.
    let stale = bridge_reading(&moto, &arn, Duration::ZERO).await;
    // Copies younger than a minute: a refusal is just a refusal.
    let fresh = bridge_reading(&moto, &arn, Duration::from_secs(60)).await;
    moto.put_secret(&arn, &secret_json("new")).await;

    let signed_new = signed_event(&ping, "", "new");
    let (status, _, _) = handle(&stale, &signed_new).await;
    assert_eq!(status, 202, "fetched the rotated secret and accepted");
    let (status, _, _) = handle(&fresh, &signed_new).await;
    assert_eq!(
        status, 401,
        "a young copy is not fetched again for every refusal"
    );

    // After the refresh, the old secret is refused.
    let (status, _, _) = handle(&stale, &signed_event(&ping, "", "old")).await;
    assert_eq!(status, 401);
}
