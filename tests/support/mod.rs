//! Real parts for the tests, all on loopback: a Devin API fake, a PagerDuty REST fake, a Lambda
//! Runtime API emulator and a `moto_server` for Secrets Manager; the function's environment
//! ([`env::Env`]); Function URL events as PagerDuty sends them.

pub mod aws_calls;
pub mod calls;
pub mod devin;
pub mod env;
pub mod fleet;
pub mod incident;
pub mod ledger_faults;
pub mod moto;
pub mod pagerduty;
pub mod runtime_api;
pub mod webhook;

use pagerduty_devin_bridge::delivery::function_url::FunctionUrlRequest;
use pagerduty_devin_bridge::delivery::Bridge;
use pagerduty_devin_bridge::startup::assemble::cold_start;
use pure::inbound::verify::sign;

use env::Env;

use std::path::PathBuf;

pub const LOCAL_WEBHOOK_SECRET: &str = "local-webhook-secret";
pub const LOCAL_SIGNING_SECRET: &str = "local-signing-secret";
pub const TEST_DEVIN_API_KEY: &str = "cog_test_key_never_logged";

/// A server on a free loopback port, until its task is aborted.
pub struct Loopback {
    pub address: std::net::SocketAddr,
    pub server: tokio::task::JoinHandle<()>,
    /// TCP connections accepted so far.
    pub connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

pub async fn serve_on_loopback(app: axum::Router) -> Loopback {
    use axum::serve::ListenerExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let listener = listener.tap_io(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Loopback {
        address,
        server,
        connections,
    }
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The JSON blocks of the section under `heading` of the documentation page `doc`, in order.
pub fn doc_section_policies(doc: &str, heading: &str) -> Vec<String> {
    let page = std::fs::read_to_string(repo_path(doc)).unwrap();
    let start = page.find(heading).unwrap();
    let end = start + 1 + page[start + 1..].find("\n## ").unwrap();
    page[start..end]
        .split("```json\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_owned())
        .collect()
}

/// The webhook function's sample events shipped in `events/` (Function URL events; the
/// follow-up's `scheduled.json` is not one), by file name, sorted.
pub fn sample_events() -> Vec<(String, String)> {
    let mut events: Vec<(String, String)> = std::fs::read_dir(repo_path("events"))
        .expect("events/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .filter(|(_, json)| json.contains("\"requestContext\""))
        .collect();
    events.sort();
    events
}

pub fn sample_event(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("events/{name}"))).expect("sample event exists")
}

/// A Function URL event (payload 2.0) for `body`, signed and carrying the custom header the
/// way PagerDuty sends it with the local development secrets.
pub fn function_url_event(method: &str, path: &str, body: &str) -> String {
    let headers = pagerduty_headers(body, LOCAL_WEBHOOK_SECRET, LOCAL_SIGNING_SECRET);
    function_url_event_with_headers(method, path, body, headers)
}

/// A `POST /pagerduty-alert` Function URL event for `body`, carrying `webhook_secret` and
/// signed with `signing_secret`.
pub fn signed_event(body: &str, webhook_secret: &str, signing_secret: &str) -> String {
    let headers = pagerduty_headers(body, webhook_secret, signing_secret);
    function_url_event_with_headers("POST", "/pagerduty-alert", body, headers)
}

fn pagerduty_headers(body: &str, webhook_secret: &str, signing_secret: &str) -> serde_json::Value {
    let signature = sign(signing_secret, body.as_bytes());
    serde_json::json!({
        "content-type": "application/json",
        "x-webhook-secret": webhook_secret,
        "x-pagerduty-signature": signature,
    })
}

pub fn function_url_event_with_headers(
    method: &str,
    path: &str,
    body: &str,
    headers: serde_json::Value,
) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "test",
            "domainName": "test.lambda-url.us-east-1.on.aws",
            "domainPrefix": "test",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "PagerDuty-Webhook/V3.0"
            },
            "requestId": "test-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "28/Nov/2026:09:12:05 +0000",
            // Now: the function counts its budget from when the request arrived.
            "timeEpoch": now_ms()
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// The PagerDuty delivery inside a sample event.
pub fn delivery_body(event_json: &str) -> String {
    let event: serde_json::Value = serde_json::from_str(event_json).unwrap();
    event["body"].as_str().unwrap().to_owned()
}

/// The bridge as `main.rs` builds it, through the same cold start, with the local development
/// secrets, talking to `devin_url`, with a delivery budget of half a second.
pub async fn bridge(devin_url: &str, dry_run: bool) -> Bridge {
    bridge_with_env(
        Env::local(devin_url)
            .set("DELIVERY_BUDGET_MS", "500")
            .set("DEVIN_DRY_RUN", if dry_run { "true" } else { "false" }),
    )
    .await
}

/// [`bridge`] with a routing policy (`ROUTING_CONFIG`).
pub async fn bridge_with_policy(devin_url: &str, dry_run: bool, policy: &str) -> Bridge {
    bridge_with_env(
        Env::local(devin_url)
            .set("DELIVERY_BUDGET_MS", "500")
            .set("DEVIN_DRY_RUN", if dry_run { "true" } else { "false" })
            .set("ROUTING_CONFIG", policy),
    )
    .await
}

/// The bridge a cold start with `env` builds.
pub async fn bridge_with_env(env: Env) -> Bridge {
    cold_start(env.lookup())
        .await
        .unwrap_or_else(|err| panic!("cold start: {err}"))
}

/// Runs one Function URL event through `bridge` in process, as the Lambda runtime hands it
/// over: status, JSON body, headers.
pub async fn handle(
    bridge: &Bridge,
    event_json: &str,
) -> (u16, serde_json::Value, lambda_http::http::HeaderMap) {
    let event: FunctionUrlRequest = serde_json::from_str(event_json).expect("a Function URL event");
    let response = bridge.handle(event, None).await;
    let status = response.status_code as u16;
    let body = match response.body {
        Some(lambda_http::Body::Text(text)) => text,
        other => panic!("not a text answer: {other:?}"),
    };
    let body = serde_json::from_str(&body).expect("a JSON answer");
    (status, body, response.headers)
}
