//! DynamoDB's bad moments, on demand: a pass-through in front of `moto_server` that answers
//! chosen ledger operations with DynamoDB's own error answers. moto serializes every write, so
//! it never answers a transaction conflict or throttles; DynamoDB does, under a storm.
//!
//! ```ignore
//! let faults = LedgerFaults::start(&moto.endpoint).await;   // AWS_ENDPOINT_URL = faults.endpoint
//! faults.inject("TransactWriteItems", Fault::Conflict, 3);   // the next 3 spends conflict
//! faults.inject("PutItem", Fault::LandedThenLost, 1);        // the next put lands, its answer is lost
//! faults.always("TransactWriteItems", Fault::Conflict);      // every spend, until `clear`
//! assert_eq!(faults.injected("TransactWriteItems"), 3);
//! ```
//!
//! Operations are named as in `X-Amz-Target` without its prefix (`DynamoDB_20120810.`). Calls
//! with no fault planned pass on to moto unchanged, but for the repeat of a transaction that
//! landed (same `ClientRequestToken`), answered as DynamoDB answers it (success, nothing
//! changed), which moto does not. Note that the AWS SDK retries some answers itself
//! (throttling and 500s, `max_attempts` times), each retry taking the next planned fault.
//!
//! The error answers are DynamoDB's (AWS DynamoDB API Reference; the JSON 1.0 protocol: an HTTP
//! status, `x-amz-json-1.0`, and a body whose `__type` names the error):
//! - `TransactWriteItems`, Errors, `TransactionCanceledException` (400): a `CancellationReasons`
//!   entry per item of the request, in order, `{"Code": "None"}` for an item without error and
//!   `{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item."}`.
//! - `PutItem`/`UpdateItem`/`DeleteItem`, Errors, `TransactionConflictException` (400):
//!   "Operation was rejected because there is an ongoing transaction for the item."
//! - Common Errors, `ThrottlingException` (400): "Rate of requests exceeds the allowed
//!   throughput."; every operation, `InternalServerError` (500).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use pagerduty_devin_bridge::edge::ledger::{DynamoLedger, Ledger};
use serde_json::{json, Value};

/// The ledger on the DynamoDB at `endpoint` (moto, or this proxy in front of it), with the SDK
/// configured as `startup::assemble` configures it: the same retries and timeouts.
pub fn dynamo_ledger(endpoint: &str, table: &str) -> Ledger {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(1500))
        .build();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .build();
    Ledger::Dynamo(DynamoLedger::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        table,
    ))
}

/// How the proxy answers a call instead of moto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Refused because another write holds the item: a cancelled transaction whose first item
    /// conflicts (`TransactWriteItems`), else `TransactionConflictException`. Nothing written.
    Conflict,
    /// `ThrottlingException`. Nothing written.
    Throttling,
    /// `InternalServerError`, without passing the call on: nothing written.
    ServerError,
    /// Passed on to moto (the write lands), then answered `InternalServerError`: the answer
    /// was lost.
    LandedThenLost,
}

/// Faults planned per operation: the next ones in order, and one answered to every call after.
#[derive(Default)]
struct Plan {
    next: HashMap<String, VecDeque<Fault>>,
    always: HashMap<String, Fault>,
    injected: HashMap<String, usize>,
    /// The `ClientRequestToken`s of the transactions that landed.
    landed: HashSet<String>,
}

impl Plan {
    fn take(&mut self, operation: &str) -> Option<Fault> {
        let fault = self
            .next
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
            .or_else(|| self.always.get(operation).copied())?;
        *self.injected.entry(operation.to_owned()).or_default() += 1;
        Some(fault)
    }
}

pub struct LedgerFaults {
    /// Point `AWS_ENDPOINT_URL` (or a client's endpoint) here.
    pub endpoint: String,
    plan: Arc<Mutex<Plan>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Proxy {
    to: String,
    http: reqwest::Client,
    plan: Arc<Mutex<Plan>>,
}

impl LedgerFaults {
    /// Passes everything on to the AWS endpoint `to` (moto's) until faults are planned.
    pub async fn start(to: &str) -> Self {
        let plan = Arc::new(Mutex::new(Plan::default()));
        let proxy = Proxy {
            to: to.to_owned(),
            http: reqwest::Client::new(),
            plan: plan.clone(),
        };
        let app = Router::new().fallback(answer).with_state(proxy);
        let loopback = super::serve_on_loopback(app).await;
        LedgerFaults {
            endpoint: format!("http://{}", loopback.address),
            plan,
            server: loopback.server,
        }
    }

    /// Answers the next `times` calls of `operation` with `fault`, after the faults already
    /// planned for it.
    pub fn inject(&self, operation: &str, fault: Fault, times: usize) {
        let mut plan = self.plan.lock().unwrap();
        let next = plan.next.entry(operation.to_owned()).or_default();
        next.extend(std::iter::repeat_n(fault, times));
    }

    /// Answers every call of `operation` with `fault` once the planned ones are answered, until
    /// [`LedgerFaults::clear`].
    pub fn always(&self, operation: &str, fault: Fault) {
        let mut plan = self.plan.lock().unwrap();
        plan.always.insert(operation.to_owned(), fault);
    }

    /// Plans no more faults: every call passes on.
    pub fn clear(&self) {
        let mut plan = self.plan.lock().unwrap();
        plan.next.clear();
        plan.always.clear();
    }

    /// How many calls of `operation` were answered with a fault so far.
    pub fn injected(&self, operation: &str) -> usize {
        let plan = self.plan.lock().unwrap();
        plan.injected.get(operation).copied().unwrap_or(0)
    }
}

impl Drop for LedgerFaults {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    let token = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|request| {
            let token = request["ClientRequestToken"].as_str()?.to_owned();
            (operation == "TransactWriteItems").then_some(token)
        });
    // DynamoDB answers a transaction whose token landed already (within ten minutes) with
    // success, changing nothing (TransactWriteItems, `ClientRequestToken`): the SDK's retry of
    // a lost answer is a no-op there. moto does not keep tokens: done here.
    if let Some(token) = &token {
        if proxy.plan.lock().unwrap().landed.contains(token) {
            return dynamodb_answer(StatusCode::OK, json!({}));
        }
    }
    let fault = proxy.plan.lock().unwrap().take(&operation);
    match fault {
        None | Some(Fault::LandedThenLost) => {
            let answer = pass_on(&proxy, method, &uri, &headers, body).await;
            if let (Some(token), true) = (token, answer.status().is_success()) {
                proxy.plan.lock().unwrap().landed.insert(token);
            }
            match fault {
                None => answer,
                _ => server_error(),
            }
        }
        Some(Fault::ServerError) => server_error(),
        Some(Fault::Throttling) => dynamodb_answer(
            StatusCode::BAD_REQUEST,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                   "message": "Rate of requests exceeds the allowed throughput."}),
        ),
        Some(Fault::Conflict) if operation == "TransactWriteItems" => cancelled(&body),
        Some(Fault::Conflict) => dynamodb_answer(
            StatusCode::BAD_REQUEST,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                   "message": "Operation was rejected because there is an ongoing transaction for the item."}),
        ),
    }
}

/// A transaction cancelled because its first item conflicts: one reason per item, in order.
fn cancelled(request: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(request).unwrap_or_default();
    let items = request["TransactItems"].as_array().map_or(1, Vec::len);
    let mut reasons = vec![json!({"Code": "TransactionConflict",
                                  "Message": "Transaction is ongoing for the item."})];
    reasons.resize(items.max(1), json!({"Code": "None"}));
    let codes: Vec<&str> = reasons
        .iter()
        .map(|reason| reason["Code"].as_str().unwrap())
        .collect();
    dynamodb_answer(
        StatusCode::BAD_REQUEST,
        json!({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
               "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
               "CancellationReasons": reasons}),
    )
}

fn server_error() -> Response {
    dynamodb_answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
               "message": "Internal server error"}),
    )
}

/// An answer in DynamoDB's JSON protocol.
fn dynamodb_answer(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "x-amzn-requestid",
            "LEDGERFAULTS0000000000000000000000000000000000000000",
        )
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn pass_on(
    proxy: &Proxy,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy
        .http
        .request(method, format!("{}{path}", proxy.to))
        .body(body);
    for (name, value) in headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.expect("moto answers");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    let body = answer.bytes().await.unwrap_or_default();
    response.body(Body::from(body)).unwrap()
}
