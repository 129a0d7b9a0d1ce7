//! The function's environment for a test: one builder instead of a list per test.

use super::moto::Moto;
use super::{LOCAL_SIGNING_SECRET, LOCAL_WEBHOOK_SECRET, TEST_DEVIN_API_KEY};

/// Environment variables, in order, each set once.
#[derive(Debug, Clone)]
pub struct Env(Vec<(&'static str, String)>);

impl Env {
    /// The organization, the Devin fake at `devin_url`, the test API key, and both verification
    /// secrets the sample events are signed with: secrets from the environment.
    pub fn local(devin_url: &str) -> Self {
        Env(Vec::new())
            .set("DEVIN_ORG_ID", "org-test")
            .set("DEVIN_API_URL", devin_url)
            .set("DEVIN_API_KEY", TEST_DEVIN_API_KEY)
            .set("WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET)
            .set("PAGERDUTY_SIGNING_SECRET", LOCAL_SIGNING_SECRET)
            // The sample deliveries happened on 2026-11-28: no freshness check, unless a test
            // sets one.
            .set("DELIVERY_MAX_AGE_HOURS", "0")
    }

    /// [`Env::local`] with its secrets read from `secret_arn` in `moto` instead.
    pub fn secrets_manager(devin_url: &str, moto: &Moto, secret_arn: &str) -> Self {
        let mut env = Env::local(devin_url)
            .unset("DEVIN_API_KEY")
            .unset("WEBHOOK_SECRET")
            .unset("PAGERDUTY_SIGNING_SECRET")
            .set("BRIDGE_SECRET_ID", secret_arn);
        for (name, value) in moto.aws_env() {
            env = env.set(name, &value);
        }
        env
    }

    /// With the ledger in `table`, served by `moto` (secrets still from the environment).
    pub fn with_ledger(mut self, moto: &Moto, table: &str) -> Self {
        for (name, value) in moto.aws_env() {
            self = self.set(name, &value);
        }
        self.set("LEDGER_TABLE", table)
    }

    /// Sets `name` (replacing its value if set).
    pub fn set(mut self, name: &'static str, value: &str) -> Self {
        self.0.retain(|(set, _)| *set != name);
        self.0.push((name, value.to_owned()));
        self
    }

    pub fn unset(mut self, name: &'static str) -> Self {
        self.0.retain(|(set, _)| *set != name);
        self
    }

    /// The variables, as `RuntimeApi::spawn_function` takes them.
    pub fn vars(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// The variables, as the cold start reads them in process.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| {
            self.0
                .iter()
                .find(|(set, _)| *set == name)
                .map(|(_, value)| value.clone())
        }
    }
}
