//! Several Lambda instances of the function at once, as Lambda runs them under load: each a
//! built `bootstrap` under its own Runtime API emulator, all sharing one ledger table in a real
//! `moto_server`, one Devin fake and one PagerDuty fake.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::aws_calls::AwsCalls;
use super::devin::FakeDevin;
use super::env::Env;
use super::moto::Moto;
use super::pagerduty::FakePagerDuty;
use super::runtime_api::{http_answer, Function, RuntimeApi};

/// PagerDuty gives up after 5 s: every answer comes well inside that.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(4800);

/// One Lambda instance: the function and its Runtime API.
pub struct Instance {
    pub runtime: RuntimeApi,
    pub function: Function,
}

impl Instance {
    /// One run of the follow-up (the scheduled event of `events/`): its report.
    pub async fn run(&self) -> Value {
        let event = std::fs::read_to_string(super::repo_path("events/scheduled.json")).unwrap();
        match self.runtime.invoke(&event).await {
            super::runtime_api::Outcome::Response(report) => report,
            failed => panic!("the follow-up run failed: {failed:?}"),
        }
    }

    /// Delivers `event`; its status and body, checked to come inside [`ANSWER_WITHIN`].
    pub async fn deliver(&self, event: &str) -> (u16, Value) {
        let asked = Instant::now();
        let (status, body, _) = http_answer(self.runtime.invoke(event).await);
        assert!(
            asked.elapsed() < ANSWER_WITHIN,
            "answered in {:?}",
            asked.elapsed()
        );
        (status, body)
    }
}

pub struct Fleet {
    /// Every AWS call the instances make passes through it, counted.
    pub aws: AwsCalls,
    pub table: String,
    pub devin: FakeDevin,
    pub pagerduty: FakePagerDuty,
    pub instances: Vec<Instance>,
    /// The environment every instance runs with.
    pub env: Env,
    /// Taken and stopped ([`Moto::stop`]): the ledger goes away. Last, so that it is dropped
    /// (and handed to another test) after the instances are.
    pub moto: Option<Moto>,
}

impl Fleet {
    /// `count` instances with notes on incidents, and the `extra` settings.
    pub async fn start(count: usize, extra: &[(&'static str, &str)]) -> Self {
        let moto = Moto::start().await;
        let table = moto.create_ledger_table("bridge-ledger").await;
        let devin = FakeDevin::start().await;
        let pagerduty = FakePagerDuty::start().await;
        let aws = AwsCalls::start(&moto.endpoint).await;
        let mut env = Env::local(&devin.url)
            .with_ledger(&moto, &table)
            .set("AWS_ENDPOINT_URL", &aws.endpoint)
            .set("PAGERDUTY_API_URL", &pagerduty.url)
            .set("PAGERDUTY_API_TOKEN", "pd_fleet_token")
            .set("PAGERDUTY_FROM_EMAIL", "bridge@acme.example")
            // The sweep's scope: the service of `incident_json`'s incidents (a test that
            // reads the scope from the secret's record sets it blank).
            .set("SWEEP_SERVICE_IDS", "PSVC");
        for &(name, value) in extra {
            env = env.set(name, value);
        }
        let mut instances = Vec::new();
        for _ in 0..count {
            let runtime = RuntimeApi::start().await;
            let function = runtime.spawn_function(&env.vars());
            instances.push(Instance { runtime, function });
        }
        Fleet {
            aws,
            table,
            devin,
            pagerduty,
            instances,
            env,
            moto: Some(moto),
        }
    }

    /// The instance a round-robin balancer hands delivery `n` to.
    pub fn instance(&self, n: usize) -> &Instance {
        &self.instances[n % self.instances.len()]
    }

    /// An instance of the follow-up function, on the same ledger and fakes, with `extra`
    /// settings.
    pub async fn follow_up(&self, extra: &[(&'static str, &str)]) -> Instance {
        let mut env = self.env.clone();
        for &(name, value) in extra {
            env = env.set(name, value);
        }
        let runtime = RuntimeApi::start().await;
        let function = runtime.spawn_follow_up(&env.vars());
        Instance { runtime, function }
    }

    /// Sets the time `attribute` (epoch milliseconds) of incident `id`'s ledger item to `at_ms`,
    /// as if time had passed: a deferral's `until`, a claim's `lease_until`, the follow-up's
    /// `seen_at` (the names of `src/edge/ledger/dynamo/`).
    pub async fn set_ledger_time(&self, id: &str, attribute: &str, at_ms: u64) {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.moto
            .as_ref()
            .unwrap()
            .dynamodb()
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("incident#{id}")))
            .condition_expression("attribute_exists(#time)")
            .update_expression("SET #time = :at")
            .expression_attribute_names("#time", attribute)
            .expression_attribute_values(":at", AttributeValue::N(at_ms.to_string()))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{attribute} of {id} not set: {err:?}"));
    }

    /// Incident `id`'s ledger item as DynamoDB holds it (empty when it has none).
    pub async fn ledger_item(
        &self,
        id: &str,
    ) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
        self.ledger_record(&format!("incident#{id}")).await
    }

    /// The ledger item of key `pk` (`incident#…`, `group#…`) as DynamoDB holds it (empty when
    /// there is none).
    pub async fn ledger_record(
        &self,
        pk: &str,
    ) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.moto
            .as_ref()
            .unwrap()
            .dynamodb()
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default()
    }

    /// Every function's output, once stopped.
    pub async fn stop(self) -> String {
        let mut output = String::new();
        for instance in self.instances {
            output.push_str(&instance.function.stop().await);
        }
        output
    }
}
