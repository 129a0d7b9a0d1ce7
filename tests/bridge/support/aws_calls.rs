//! A counting pass-through in front of `moto_server`: every AWS call the function makes goes
//! through it to moto unchanged, and is counted by its operation (`X-Amz-Target`, such as
//! `DynamoDB_20120810.PutItem`), so a test can say how many ledger calls a delivery cost.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::Router;

type Counts = Arc<Mutex<BTreeMap<String, usize>>>;

pub struct AwsCalls {
    /// Point `AWS_ENDPOINT_URL` here.
    pub endpoint: String,
    counts: Counts,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Forward {
    to: String,
    http: reqwest::Client,
    counts: Counts,
}

impl AwsCalls {
    /// Passes everything on to the AWS endpoint `to` (moto's).
    pub async fn start(to: &str) -> Self {
        let counts = Counts::default();
        let forward = Forward {
            to: to.to_owned(),
            http: reqwest::Client::new(),
            counts: counts.clone(),
        };
        let app = Router::new().fallback(pass_on).with_state(forward);
        let loopback = super::serve_on_loopback(app).await;
        AwsCalls {
            endpoint: format!("http://{}", loopback.address),
            counts,
            server: loopback.server,
        }
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
