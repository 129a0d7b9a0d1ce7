//! A Lambda Runtime API emulator on loopback, so the built `bootstrap` runs exactly as Lambda
//! runs it: it polls `GET /2018-06-01/runtime/invocation/next`, answers with
//! `POST .../invocation/{id}/response` or `.../error`, and reports a failed cold start with
//! `POST /2018-06-01/runtime/init/error`.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended, as the function reported it.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct Shared {
    waiting: HashMap<String, oneshot::Sender<Outcome>>,
    init_error: Option<(HeaderMap, Value)>,
}

struct Emulator {
    /// How long each invocation may run, from the moment it is handed out.
    timeout: Mutex<Duration>,
    /// When the function first asked for an invocation: the end of its cold start.
    first_poll: Mutex<Option<std::time::Instant>>,
    shared: Mutex<Shared>,
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>,
}

pub struct RuntimeApi {
    pub address: String,
    emulator: Arc<Emulator>,
    events: mpsc::UnboundedSender<(String, String)>,
    ids: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (events, receiver) = mpsc::unbounded_channel();
        let emulator = Arc::new(Emulator {
            timeout: Mutex::new(Duration::from_secs(10)),
            first_poll: Mutex::new(None),
            shared: Mutex::new(Shared::default()),
            next: tokio::sync::Mutex::new(receiver),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(|state, id, body| report(state, id, body, Outcome::Response)),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(|state, id, body| report(state, id, body, Outcome::Error)),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(emulator.clone());
        let loopback = super::serve_on_loopback(app).await;
        let (address, server) = (loopback.address, loopback.server);
        RuntimeApi {
            address: address.to_string(),
            emulator,
            events,
            ids: AtomicU64::new(1),
            server,
        }
    }

    /// Hands `event` to the function and waits for its answer. Like a Function URL, it stamps
    /// a request context with the time the request arrived: now.
    pub async fn invoke(&self, event: &str) -> Outcome {
        self.invoke_received(event, Duration::ZERO).await
    }

    /// [`RuntimeApi::invoke`], for a request that arrived `ago` (a cold start kept it waiting).
    pub async fn invoke_received(&self, event: &str, ago: Duration) -> Outcome {
        let event = stamped(event, ago);
        let id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.ids.fetch_add(1, Ordering::Relaxed)
        );
        let (sender, receiver) = oneshot::channel();
        self.emulator
            .shared
            .lock()
            .unwrap()
            .waiting
            .insert(id.clone(), sender);
        self.events.send((id, event)).unwrap();
        tokio::time::timeout(Duration::from_secs(30), receiver)
            .await
            .expect("the function answers within 30 s")
            .expect("the emulator keeps the invocation")
    }

    /// Gives later invocations this long before their deadline (10 s by default).
    pub fn set_invocation_timeout(&self, timeout: Duration) {
        *self.emulator.timeout.lock().unwrap() = timeout;
    }

    /// When the function first polled for an invocation (the end of its cold start), waiting
    /// up to 10 s for it.
    #[allow(dead_code)] // benches/runtime.rs: cold starts
    pub async fn first_poll(&self) -> std::time::Instant {
        let waited = std::time::Instant::now();
        loop {
            if let Some(at) = *self.emulator.first_poll.lock().unwrap() {
                return at;
            }
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "the function never polled"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// The function's cold start stops, in one ERROR line, and reports the same message to
    /// `/runtime/init/error`: that message.
    pub async fn failed_cold_start(&self, function: Function) -> String {
        let (status, output) = function.exited().await;
        assert!(!status.success());
        let lines = log_lines(&output);
        assert_eq!(lines.len(), 1, "{output}");
        assert_eq!(lines[0]["level"], "ERROR");
        let message = lines[0]["fields"]["error"].as_str().unwrap().to_owned();
        let (headers, diagnostic) = self.init_error().expect("the failure reaches /init/error");
        assert_eq!(diagnostic["errorMessage"], message.as_str());
        assert_eq!(
            headers["lambda-runtime-function-error-type"],
            "Runtime.ConfigurationError"
        );
        message
    }

    /// What the function posted to `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<(HeaderMap, Value)> {
        self.emulator.shared.lock().unwrap().init_error.clone()
    }

    /// Starts the built `bootstrap` (the webhook function) against this emulator with the
    /// Lambda environment and `vars`, and nothing else from the test's environment but `PATH`.
    pub fn spawn_function(&self, vars: &[(&str, &str)]) -> Function {
        self.spawn(env!("CARGO_BIN_EXE_bootstrap"), vars)
    }

    /// [`RuntimeApi::spawn_function`] for the follow-up function's binary.
    pub fn spawn_follow_up(&self, vars: &[(&str, &str)]) -> Function {
        self.spawn(env!("CARGO_BIN_EXE_follow-up"), vars)
    }

    /// Starts `binary` against this emulator, as [`RuntimeApi::spawn_function`] does.
    pub fn spawn(&self, binary: &str, vars: &[(&str, &str)]) -> Function {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "pagerduty-devin-bridge")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/pagerduty-devin-bridge",
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/28/[$LATEST]test")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = std::time::Instant::now();
        let mut child = command.spawn().expect("the bootstrap binary starts");
        // Drained as it comes: a full pipe would block the function mid-log.
        let readers = [
            drain(child.stdout.take().unwrap()),
            drain(child.stderr.take().unwrap()),
        ];
        Function {
            child,
            readers,
            spawned_at,
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The function's process.
pub struct Function {
    child: Child,
    /// Everything it writes to stdout and to stderr.
    readers: [tokio::task::JoinHandle<String>; 2],
    /// Just before the exec.
    #[allow(dead_code)] // benches/runtime.rs: cold starts
    pub spawned_at: std::time::Instant,
}

fn drain(
    mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut output = Vec::new();
        let _ = pipe.read_to_end(&mut output).await;
        String::from_utf8_lossy(&output).into_owned()
    })
}

impl Function {
    /// Waits for the process to exit by itself and returns its exit status and output.
    pub async fn exited(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the function exits within 30 s")
            .unwrap();
        (status, self.take_output().await)
    }

    /// Stops the process and returns everything it wrote to stdout and stderr.
    pub async fn stop(mut self) -> String {
        self.child.kill().await.unwrap();
        self.take_output().await
    }

    /// The process id, to read its memory from /proc.
    #[allow(dead_code)] // benches/runtime.rs: memory
    pub fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    async fn take_output(self) -> String {
        let mut output = String::new();
        for reader in self.readers {
            output.push_str(&reader.await.unwrap());
        }
        output
    }
}

/// `event` with `requestContext.timeEpoch`, when it has one, set to `ago` before now.
fn stamped(event: &str, ago: Duration) -> String {
    let Ok(mut parsed) = serde_json::from_str::<Value>(event) else {
        return event.to_owned();
    };
    let Some(time_epoch) = parsed.pointer_mut("/requestContext/timeEpoch") else {
        return event.to_owned();
    };
    let received = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() - ago;
    *time_epoch = (received.as_millis() as u64).into();
    parsed.to_string()
}

/// The function's HTTP answer inside a Runtime API response: status, JSON body, headers.
pub fn http_answer(outcome: Outcome) -> (u16, Value, Value) {
    let Outcome::Response(response) = outcome else {
        panic!("expected a response, got {outcome:?}");
    };
    let status = response["statusCode"].as_u64().unwrap() as u16;
    let body = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    (status, body, response["headers"].clone())
}

/// The function's output, one JSON value per line (`AWS_LAMBDA_LOG_FORMAT=JSON`, EMF lines).
pub fn log_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

/// The sum of a metric over the EMF lines of a function's output.
pub fn metric_total(output: &str, name: &str) -> u64 {
    log_lines(output)
        .iter()
        .filter_map(|line| line.get(name).and_then(Value::as_u64))
        .sum()
}

async fn next(State(emulator): State<Arc<Emulator>>) -> Response {
    emulator
        .first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(std::time::Instant::now);
    let Some((id, event)) = emulator.next.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let timeout = *emulator.timeout.lock().unwrap();
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + timeout;
    (
        [
            ("lambda-runtime-aws-request-id", id),
            (
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            ),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:pagerduty-devin-bridge".into(),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-67f34a21-3c4b5d6e7f8091a2b3c4d5e6;Sampled=0".into(),
            ),
            ("content-type", "application/json".into()),
        ],
        event,
    )
        .into_response()
}

async fn report(
    State(emulator): State<Arc<Emulator>>,
    Path(id): Path<String>,
    body: Bytes,
    outcome: fn(Value) -> Outcome,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match emulator.shared.lock().unwrap().waiting.remove(&id) {
        Some(waiting) => {
            let _ = waiting.send(outcome(value));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    emulator.shared.lock().unwrap().init_error = Some((headers, value));
    StatusCode::ACCEPTED
}
