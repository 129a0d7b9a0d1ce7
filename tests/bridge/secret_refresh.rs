//! A refused signature fetches the secrets again, at most once per interval per instance: in
//! process, with the real AWS SDK against a real `moto_server`.

use std::time::Duration;

use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::edge::secrets_store::SecretStore;
use pagerduty_devin_bridge::startup::assemble::{assemble, http_client, ledger};
use pagerduty_devin_bridge::startup::settings::Settings;
use serde_json::json;

use crate::support::aws_calls::AwsCalls;
use crate::support::env::Env;
use crate::support::moto::Moto;
use crate::support::*;

fn secret_json(signing: &str) -> String {
    json!({"DEVIN_API_KEY": "cog_k", "PAGERDUTY_SIGNING_SECRET": signing}).to_string()
}

/// The bridge as the cold start assembles it, reading its secrets from `arn` through `aws` (a
/// counting pass-through to moto), and fetching them again on a refusal at most once per
/// `interval`.
async fn bridge_reading(aws: &AwsCalls, moto: &Moto, arn: &str, interval: Duration) -> Bridge {
    let env = Env::secrets_manager("http://127.0.0.1:9", moto, arn);
    let mut settings = Settings::from_lookup(env.lookup()).unwrap();
    settings.secrets_refresh_on_refusal = interval;
    let client = moto.client_at(&aws.endpoint);
    let secrets = SecretStore::from_secrets_manager(client, arn, settings.secrets_ttl)
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
async fn a_refused_signature_refreshes_the_secrets_at_most_once_per_interval() {
    let moto = Moto::start().await;
    let aws = AwsCalls::start(&moto.endpoint).await;
    let arn = moto.create_secret("refresh", &secret_json("old")).await;
    let ping = delivery_body(&sample_event("pagey-ping.json"));
    let bridge = bridge_reading(&aws, &moto, &arn, Duration::from_secs(1)).await;
    let fetches = || aws.counts().get("GetSecretValue").copied().unwrap_or(0);
    assert_eq!(fetches(), 1, "the cold start's");

    // PagerDuty signs with a rotated secret: the first refusal fetches it, and the delivery
    // is accepted.
    moto.put_secret(&arn, &secret_json("new")).await;
    let (status, _, _) = handle(&bridge, &signed_event(&ping, "", "new")).await;
    assert_eq!(status, 202, "fetched the rotated secret and accepted");
    assert_eq!(fetches(), 2);

    // A flood of forged deliveries inside the interval fetches nothing more.
    for n in 0..20 {
        let (status, _, _) =
            handle(&bridge, &signed_event(&ping, "", &format!("forged-{n}"))).await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        fetches(),
        2,
        "forged requests cannot hammer Secrets Manager"
    );

    // Past the interval, the next refusal may fetch again; the old secret is refused.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    moto.put_secret(&arn, &secret_json("newer")).await;
    let (status, _, _) = handle(&bridge, &signed_event(&ping, "", "newer")).await;
    assert_eq!(status, 202);
    assert_eq!(fetches(), 3);
    let (status, _, _) = handle(&bridge, &signed_event(&ping, "", "old")).await;
    assert_eq!(status, 401);
}
