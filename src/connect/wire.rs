//! The subscription made right: one subscription in the scope delivers the policy's events to
//! the stack's URL with the header value wanted, per the tool's own record (PagerDuty redacts
//! header values when read back). A kept one gets only what PagerDuty lets a `PUT` change (its
//! events, `active`) and is re-enabled if PagerDuty disabled it; otherwise a new one is created
//! and its signing secret stored (the old ones stay accepted) before the bridge's other
//! subscriptions are deleted, so no delivery is refused on the way.
//!
//! Safe to rerun after a failure at any step: a subscription created but not recorded (its
//! signing secret lost) is not the record's, so the rerun creates another and deletes it; a
//! deletion already done answers 404, taken as done.

use std::io::Write;

use serde_json::Value;

use crate::connect::args::Args;
use crate::connect::aws::{self, Stack};
use crate::connect::pagerduty::PagerDuty;
use crate::connect::subscription::{self, Filter, Scope};
use crate::connect::{say, ConnectError};
use pure::inbound::pushed::{self, Pushed};
use pure::policy::{Policy, PolicyError};

/// The stack's routing policy: its RoutingConfig, or the default when it sets none.
pub fn policy(stack: &Stack) -> Result<Policy, PolicyError> {
    match stack.routing_config.as_deref() {
        Some(json) => Policy::from_json(json),
        None => Ok(Policy::default()),
    }
}

/// The subscriptions' filter for `scope`, its service or team found in PagerDuty by id or name.
pub async fn filter(pagerduty: &PagerDuty, scope: &Scope) -> Result<Filter, ConnectError> {
    Ok(match scope {
        Scope::Account => Filter::account(),
        Scope::Service(name) => Filter::service(&pagerduty.find("services", name).await?),
        Scope::Team(name) => Filter::team(&pagerduty.find("teams", name).await?),
    })
}

pub struct Wiring<'a> {
    args: &'a Args,
    stack: &'a Stack,
    pagerduty: PagerDuty,
    filter: Filter,
    events: Vec<String>,
}

impl<'a> Wiring<'a> {
    /// The policy's events and the scope's filter, told to `out`.
    pub async fn prepare(
        args: &'a Args,
        stack: &'a Stack,
        out: &mut impl Write,
    ) -> Result<Wiring<'a>, ConnectError> {
        let policy = policy(stack).map_err(|err| ConnectError::Stack {
            stack: args.stack_name.clone(),
            detail: err.to_string(),
        })?;
        let events = policy.event_types_heard();
        say(
            out,
            format!(
                "stack {}: deliveries to {}",
                args.stack_name, stack.webhook_url
            ),
        );
        say(out, format!("events: {}", events.join(", ")));
        let pagerduty = PagerDuty::new(&args.pagerduty_api_url, &args.pagerduty_api_key)?;
        let Some(scope) = &args.scope else {
            return Err(ConnectError::Usage("--scope is required".into()));
        };
        let filter = filter(&pagerduty, scope).await?;
        say(
            out,
            format!(
                "scope: {} {}",
                filter.kind,
                filter.id.as_deref().unwrap_or("(the whole account)")
            ),
        );
        Ok(Wiring {
            args,
            stack,
            pagerduty,
            filter,
            events,
        })
    }

    /// Every subscription of the account, whatever its filter (all pages).
    pub async fn every_subscription(&self) -> Result<Vec<Value>, ConnectError> {
        self.pagerduty.subscriptions(None).await
    }

    /// Makes one subscription send `header`, as the module says; the SecretString as it was
    /// left (the record and signing secrets updated).
    pub async fn apply(
        &self,
        secret_string: String,
        header: &str,
        out: &mut impl Write,
    ) -> Result<String, ConnectError> {
        let listed = self.pagerduty.subscriptions(Some(&self.filter)).await?;
        let plan = subscription::plan(
            &listed,
            &pushed::records(&secret_string),
            &pushed::verifiable_records(&secret_string),
            &self.stack.webhook_url,
            &self.filter,
            header,
            &self.events,
        );
        tell_disabled(&listed, &plan, out);
        if self.args.dry_run {
            self.show_plan(&plan, header, out);
            return Ok(secret_string);
        }
        let (id, secret_string) = match &plan.keep {
            Some(id) => (id.clone(), self.keep(&plan, id, secret_string, out).await?),
            None => self.create_and_store(secret_string, header, out).await?,
        };
        let secret_string = self.delete_old(&plan.delete, secret_string, out).await?;
        self.ping(&id, out).await?;
        Ok(secret_string)
    }

    /// Puts right the subscription the plan keeps: its events, re-enabled, its filter recorded.
    async fn keep(
        &self,
        plan: &subscription::Plan,
        id: &str,
        secret_string: String,
        out: &mut impl Write,
    ) -> Result<String, ConnectError> {
        if plan.update {
            let body = subscription::update(&self.events);
            self.pagerduty.update_subscription(id, &body).await?;
            say(out, format!("updated the events of the subscription {id}"));
        }
        if plan.enable {
            self.pagerduty.enable_subscription(id).await?;
            say(out, format!("re-enabled the subscription {id}"));
        }
        if !plan.update && !plan.enable {
            say(out, format!("the subscription {id} already delivers these events to this URL with the header from the bridge's secret: nothing to change"));
        }
        self.record_filter(secret_string, id, out).await
    }

    /// Creates the subscription and stores its signing secret and record: its id, and the
    /// SecretString stored.
    async fn create_and_store(
        &self,
        secret_string: String,
        header: &str,
        out: &mut impl Write,
    ) -> Result<(String, String), ConnectError> {
        let (id, updated) = self.create(&secret_string, header).await?;
        self.stack.store_secret(&updated).await?;
        say(out, format!("created the subscription {id}; stored its signing secret in {} (PAGERDUTY_SIGNING_SECRET, the ones before it kept until their subscriptions are deleted) with a record of what it sends ({})", self.stack.secret_arn, pushed::RECORD_KEY));
        Ok((id, updated))
    }

    /// Deletes the bridge's old subscriptions, each with its record.
    async fn delete_old(
        &self,
        delete: &[String],
        mut secret_string: String,
        out: &mut impl Write,
    ) -> Result<String, ConnectError> {
        for old in delete {
            self.pagerduty.delete_subscription(old).await?;
            let updated =
                pushed::without_subscription(&secret_string, old).map_err(ConnectError::Secret)?;
            if updated != secret_string {
                self.stack.store_secret(&updated).await?;
                secret_string = updated;
            }
            say(out, format!("deleted the bridge's old subscription {old} (another URL or header, or no record of what it sends)"));
        }
        Ok(secret_string)
    }

    /// Creates the subscription: its id, and the SecretString with its signing secret and
    /// record (not stored yet).
    async fn create(
        &self,
        secret_string: &str,
        header: &str,
    ) -> Result<(String, String), ConnectError> {
        let url = &self.stack.webhook_url;
        let body = subscription::subscription(url, &self.events, &self.filter, header);
        let created = self.pagerduty.create_subscription(&body).await?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let signing = created
            .pointer("/delivery_method/secret")
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectError::PagerDuty {
                what: format!("the new subscription {id}"),
                detail: "it came without its signing secret".into(),
            })?;
        let record = Pushed::new(&id, url, header, signing)
            .scoped(self.filter.kind, self.filter.id.as_deref());
        let updated =
            pushed::with_created(secret_string, record, signing).map_err(ConnectError::Secret)?;
        Ok((id, updated))
    }

    /// Adds the subscription's filter to its entry when the entry lacks it (written before
    /// filters were recorded): the follow-up's sweep reads only what the subscriptions send.
    async fn record_filter(
        &self,
        secret_string: String,
        id: &str,
        out: &mut impl Write,
    ) -> Result<String, ConnectError> {
        let filter = &self.filter;
        let updated = pushed::with_filter(&secret_string, id, filter.kind, filter.id.as_deref())
            .map_err(ConnectError::Secret)?;
        let Some(updated) = updated else {
            return Ok(secret_string);
        };
        self.stack.store_secret(&updated).await?;
        say(out, format!("recorded the filter of the subscription {id} in {} ({}): the follow-up's sweep reads only its incidents", self.stack.secret_arn, pushed::RECORD_KEY));
        Ok(updated)
    }

    fn show_plan(&self, plan: &subscription::Plan, header: &str, out: &mut impl Write) {
        match &plan.keep {
            Some(id) => {
                let mut changes = Vec::new();
                if plan.update {
                    changes.push("update its events");
                }
                if plan.enable {
                    changes.push("re-enable it");
                }
                if changes.is_empty() {
                    changes.push("change nothing");
                }
                say(
                    out,
                    format!(
                        "dry run: would keep the subscription {id} and {}",
                        changes.join(", ")
                    ),
                );
            }
            None => {
                say(out, "dry run: would create the subscription:".into());
                let body = subscription::subscription(
                    &self.stack.webhook_url,
                    &self.events,
                    &self.filter,
                    header,
                );
                let _ = writeln!(out, "{:#}", subscription::shown(&body));
            }
        }
        for old in &plan.delete {
            say(
                out,
                format!("dry run: would then delete the old subscription {old}"),
            );
        }
        say(
            out,
            "dry run: nothing was changed in PagerDuty or AWS".into(),
        );
    }

    async fn ping(&self, id: &str, out: &mut impl Write) -> Result<(), ConnectError> {
        let pinged_at = aws::now_ms();
        self.pagerduty.ping(id).await?;
        say(
            out,
            format!(
                "sent a test ping; waiting up to {} s for the bridge's answer in {}",
                self.args.wait.as_secs(),
                self.stack.log_group
            ),
        );
        match self.stack.ping_answer(pinged_at, self.args.wait).await {
            Some(line) => say(out, format!("the bridge answered the ping: {line}")),
            None => say(out, "no answer from the bridge in its log yet: look in the log group, or press Send Test Event in PagerDuty".into()),
        }
        Ok(())
    }
}

/// Tells of each subscription the plan keeps or deletes that PagerDuty disabled.
fn tell_disabled(listed: &[Value], plan: &subscription::Plan, out: &mut impl Write) {
    for disabled in listed
        .iter()
        .filter(|existing| subscription::is_disabled(existing))
    {
        let id = disabled["id"].as_str().unwrap_or_default();
        if plan.keep.as_deref() == Some(id) || plan.delete.iter().any(|old| old == id) {
            say(out, format!("PagerDuty disabled the subscription {id} (delivery_method.temporarily_disabled) after deliveries the bridge refused: its queue was dropped"));
        }
    }
}
