//! A counting pass-through in front of `moto_server`: every AWS call the function makes goes
//! through it to moto unchanged, and is counted by its operation (`X-Amz-Target`, such as
//! `DynamoDB_20120810.PutItem`), so a test can say how many ledger calls a delivery cost. A test
//! may slow every call down, as a DynamoDB having a bad minute would.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::Router;

type Counts = Arc<Mutex<BTreeMap<String, usize>>>;
type Delay = Arc<Mutex<Duration>>;

pub struct AwsCalls {
    /// Point `AWS_ENDPOINT_URL` here.
    pub endpoint: String,
    counts: Counts,
    delay: Delay,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Forward {
    to: String,
    http: reqwest::Client,
    counts: Counts,
    delay: Delay,
}

impl AwsCalls {
    /// Passes everything on to the AWS endpoint `to` (moto's).
    pub async fn start(to: &str) -> Self {
        let (counts, delay) = (Counts::default(), Delay::default());
        let forward = Forward {
            to: to.to_owned(),
            http: reqwest::Client::new(),
            counts: counts.clone(),
            delay: delay.clone(),
        };
        let app = Router::new().fallback(pass_on).with_state(forward);
        let loopback = super::serve_on_loopback(app).await;
        AwsCalls {
            endpoint: format!("http://{}", loopback.address),
            counts,
            delay,
            server: loopback.server,
        }
    }

    /// Every call from now on is passed on `delay` late (`Duration::ZERO`: at once again).
    pub fn slow_down(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// Calls so far, by operation (the `X-Amz-Target` without its service prefix).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().unwrap().clone()
    }

    /// Forgets the calls so far.
    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
    }
}

impl Drop for AwsCalls {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn pass_on(
    State(forward): State<Forward>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or("(no target)")
        .to_owned();
    *forward.counts.lock().unwrap().entry(operation).or_default() += 1;
    let delay = *forward.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = forward
        .http
        .request(method, format!("{}{path}", forward.to))
        .body(body);
    for (name, value) in &headers {
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
