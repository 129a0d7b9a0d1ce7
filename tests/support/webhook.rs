//! The built `bootstrap` alone under the Runtime API emulator, with its own Devin and PagerDuty
//! fakes: notes on PagerDuty on unless the settings unset the token.

use serde_json::Value;

use super::devin::FakeDevin;
use super::env::Env;
use super::pagerduty::FakePagerDuty;
use super::runtime_api::{http_answer, Function, RuntimeApi};
use super::sample_event;

pub const PD_TOKEN: &str = "u+pd_test_token_never_logged";
pub const FROM: &str = "devin-bridge@acme.example";

pub struct Webhook {
    pub devin: FakeDevin,
    pub pagerduty: FakePagerDuty,
    pub runtime: RuntimeApi,
    pub function: Function,
}

impl Webhook {
    /// The function with notes on, and `extra` settings (an empty value unsets one).
    pub async fn start(extra: &[(&'static str, &str)]) -> Self {
        let devin = FakeDevin::start().await;
        let pagerduty = FakePagerDuty::start().await;
        let runtime = RuntimeApi::start().await;
        let mut env = Env::local(&devin.url)
            .set("PAGERDUTY_API_URL", &pagerduty.url)
            .set("PAGERDUTY_API_TOKEN", PD_TOKEN)
            .set("PAGERDUTY_FROM_EMAIL", FROM);
        for &(name, value) in extra {
            env = match value {
                "" => env.unset(name),
                value => env.set(name, value),
            };
        }
        let function = runtime.spawn_function(&env.vars());
        Webhook {
            devin,
            pagerduty,
            runtime,
            function,
        }
    }

    pub async fn deliver(&self, event: &str) -> (u16, Value) {
        let (status, body, _) = http_answer(self.runtime.invoke(event).await);
        (status, body)
    }

    pub async fn deliver_sample(&self, name: &str) -> (u16, Value) {
        self.deliver(&sample_event(name)).await
    }
}
