//! A real `moto_server` on loopback for Secrets Manager and DynamoDB (the ledger), reached
//! through the real AWS SDK.
//! `tests/process.sh` (and the README's test command) installs it into `.venv` (`MOTO_PYTHON`
//! may name another Python that has it); `moto_one_at_a_time.py` serves it one request at a
//! time, as DynamoDB applies each write whole.
//!
//! A server serves one test at a time, and a test binary reuses its servers: a test that is
//! done with one hands it back (when its [`Moto`] is dropped), and the next test that starts one
//! gets it emptied by moto's own reset, as if new. Starting a moto takes ~0.7 s and ~0.9 s of
//! CPU, and about a hundred tests start one. A test ends what it started before its moto goes
//! back (declared after the moto, a function is dropped, and killed, before it; [`Fleet`] keeps
//! its moto last), so no request of one test reaches the next one's moto.
//!
//! [`Fleet`]: super::fleet::Fleet

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};

/// A `moto_server` this test holds alone, empty when it got it.
pub struct Moto {
    pub endpoint: String,
    /// Handed back to [`IDLE`] when dropped; `None` once stopped.
    server: Option<Server>,
}

/// The servers of this test binary that no test holds.
static IDLE: Mutex<Vec<Server>> = Mutex::new(Vec::new());

struct Server {
    endpoint: String,
    child: Child,
    /// moto exits when this closes: no server outlives the test binary, whose idle servers are
    /// never dropped.
    _stdin: ChildStdin,
}

impl Moto {
    /// A server for this test alone, with nothing in it: one a test is done with, reset, or a
    /// new one.
    pub async fn start() -> Self {
        let server = match idle() {
            Some(server) => {
                reset(&server.endpoint).await;
                server
            }
            None => Server::start().await,
        };
        Moto {
            endpoint: server.endpoint.clone(),
            server: Some(server),
        }
    }

    /// Ends the server, as an outage would: what it held goes with it, and no test gets it back.
    pub fn stop(mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
    }
    /// The variables that point the function's AWS SDK at this server.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_SESSION_TOKEN", "testing".into()),
        ]
    }

    pub fn client(&self) -> aws_sdk_secretsmanager::Client {
        self.client_at(&self.endpoint)
    }

    /// A Secrets Manager client that reaches moto through `endpoint` (a pass-through).
    pub fn client_at(&self, endpoint: &str) -> aws_sdk_secretsmanager::Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(endpoint)
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    }

    /// Creates a secret and returns its ARN.
    pub async fn create_secret(&self, name: &str, secret_string: &str) -> String {
        self.client()
            .create_secret()
            .name(name)
            .secret_string(secret_string)
            .send()
            .await
            .expect("moto creates the secret")
            .arn()
            .unwrap()
            .to_owned()
    }
}

impl Moto {
    /// Rotates the secret: a new version becomes current.
    pub async fn put_secret(&self, secret_id: &str, secret_string: &str) {
        self.client()
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(secret_string)
            .send()
            .await
            .expect("moto stores the new version");
    }
}

impl Moto {
    /// Creates the ledger's table as `template.yaml` does (key `pk`, on demand, time to live on
    /// `expires_at`, the follow-up's sparse index `by_queue` on `queue` and `pk`) and returns
    /// its name.
    pub async fn create_ledger_table(&self, name: &str) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
            Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
        };
        let client = self.dynamodb();
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .unwrap()
        };
        let by_queue = GlobalSecondaryIndex::builder()
            .index_name("by_queue")
            .key_schema(key("queue", KeyType::Hash))
            .key_schema(key("pk", KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .unwrap();
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("queue"))
            .key_schema(key("pk", KeyType::Hash))
            .global_secondary_indexes(by_queue)
            .send()
            .await
            .expect("moto creates the table");
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("moto sets the time to live");
        name.to_owned()
    }
}

impl Moto {
    /// A DynamoDB client on this server: a test reads and changes the ledger with it.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(server);
        }
    }
}

/// An idle server still running, if any.
fn idle() -> Option<Server> {
    let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    while let Some(mut server) = idle.pop() {
        if matches!(server.child.try_wait(), Ok(None)) {
            return Some(server);
        }
    }
    None
}

/// Empties the server: every table, item and secret goes (moto's `/moto-api/reset`).
async fn reset(endpoint: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{endpoint}/moto-api/reset"))
        .send()
        .await
        .unwrap_or_else(|err| panic!("moto at {endpoint} is not reset: {err}"));
    assert!(answer.status().is_success(), "moto's reset: {answer:?}");
}

impl Server {
    /// Starts `moto_server` on a port it chooses itself and reads that port from the line it
    /// prints once it listens. (Choosing a free port first and handing it over is a race: another
    /// test may take the port in between and two tests would share one moto, or the check may
    /// connect to itself before moto listens.)
    async fn start() -> Self {
        let program = std::env::var("MOTO_PYTHON")
            .unwrap_or_else(|_| super::repo_path(".venv/bin/python").display().to_string());
        let server = super::repo_path("tests/support/moto_one_at_a_time.py");
        let mut child = Command::new(&program)
            .arg(server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start {program} ({err}): run tests/process.sh, which installs it")
            });
        let stdin = child.stdin.take().expect("moto's stdin is piped");
        let stderr = child.stderr.take().expect("moto's stderr is piped");
        let (port_sender, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Reads to the end, so moto's request log never fills the pipe and stalls it.
            let mut port_sender = Some(port_sender);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(port) = listening_port(&line) {
                    if let Some(sender) = port_sender.take() {
                        let _ = sender.send(port);
                    }
                }
            }
        });
        let port = tokio::task::spawn_blocking(move || port.recv_timeout(Duration::from_secs(60)))
            .await
            .unwrap()
            .unwrap_or_else(|_| panic!("{program} did not say it listens within 60 s"));
        Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            _stdin: stdin,
        }
    }
}

/// The port in werkzeug's " * Running on http://127.0.0.1:<port>" line.
fn listening_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("Running on http://127.0.0.1:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
