//! `policy`: check a routing policy and test it on deliveries before it ships, the way
//! Alertmanager's `amtool check-config` and `amtool config routes test` do. Built on the very
//! functions the webhook function runs (`Policy::from_json`, `decide`, `route::shape`), so it
//! can never disagree with it.
//!
//! - `check <policy.json>`: the cold start's check, its path-named error, a line per rule;
//! - `test <policy.json> <event.json>... [--expect rule=NAME] [--expect action=...]`: each
//!   delivery's decision and the exact session request; `--expect` makes it a check for CI.
//!
//! Its own room: an operator's command beside the functions. It imports the core only.

mod deliveries;

use std::io::Write;

use serde_json::json;

use deliveries::{delivery, sample_evidence};
use pure::inbound::webhook::Event;
use pure::policy::route::{self, Shaped};
use pure::policy::template::Facts;
use pure::policy::{Action, Decision, Policy};
use pure::text::alerts::Evidence;

pub const USAGE: &str = "\
usage: cargo policy check <policy.json>
       cargo policy test <policy.json> <event.json>... [--expect rule=NAME] [--expect action=investigate|ignore|shadow] [--expect group=NAME|none]
An event file is a PagerDuty webhook body ({\"event\": ...}) or a Function URL event like those in events/;
beside it, \"pagerduty\": {\"alerts\", \"related_change_events\", \"past_incidents\", \"related_incidents\"} may carry
what a delivery would read of PagerDuty for the brief, in PagerDuty's shapes.";

/// How a run of the tool ends: its exit code.
pub const VALID: u8 = 0;
pub const FAILED: u8 = 1;
pub const USAGE_ERROR: u8 = 2;

/// Runs the tool on `args` (without the program's name), reading files through `read`, the
/// time (for the budgets' hour and day) from `now_ms`; writes to `out`. The exit code.
pub fn run(
    args: &[String],
    read: impl Fn(&str) -> Result<String, String>,
    now_ms: u64,
    out: &mut impl Write,
) -> u8 {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => return usage(out, "a command is required"),
    };
    let Some((policy_file, rest)) = rest.split_first() else {
        return usage(out, "a policy file is required");
    };
    let policy = match read(policy_file)
        .and_then(|json| Policy::from_json(&json).map_err(|err| err.to_string()))
    {
        Ok(policy) => policy,
        Err(err) => {
            let _ = writeln!(out, "{policy_file}: {err}");
            return FAILED;
        }
    };
    match command {
        "check" if rest.is_empty() => {
            let summaries = policy.summaries();
            let _ = writeln!(out, "{policy_file}: valid, {} rules", summaries.len() - 1);
            for line in summaries {
                let _ = writeln!(out, "  {line}");
            }
            VALID
        }
        "test" => test(&policy, rest, read, now_ms, out),
        _ => usage(out, &format!("unknown command {command:?}")),
    }
}

fn usage(out: &mut impl Write, problem: &str) -> u8 {
    let _ = writeln!(out, "{problem}\n{USAGE}");
    USAGE_ERROR
}

/// What `--expect` asks of every decision.
#[derive(Debug, Default)]
struct Expected {
    rule: Option<String>,
    action: Option<String>,
    group: Option<String>,
}

fn test(
    policy: &Policy,
    args: &[String],
    read: impl Fn(&str) -> Result<String, String>,
    now_ms: u64,
    out: &mut impl Write,
) -> u8 {
    let mut expected = Expected::default();
    let mut files = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg != "--expect" {
            files.push(arg.as_str());
            continue;
        }
        let Some((key, value)) = args.next().and_then(|e| e.split_once('=')) else {
            return usage(out, "--expect takes rule=NAME, action=ACTION or group=NAME");
        };
        let slot = match key {
            "rule" => &mut expected.rule,
            "action" => &mut expected.action,
            "group" => &mut expected.group,
            _ => {
                return usage(
                    out,
                    &format!("--expect {key}=... is not rule, action or group"),
                )
            }
        };
        *slot = Some(value.to_owned());
    }
    if files.is_empty() {
        return usage(out, "test needs at least one event file");
    }
    let mut failed = false;
    for file in files {
        let decided = read(file).and_then(|text| Ok((delivery(&text)?, sample_evidence(&text)?)));
        let (event, evidence) = match decided {
            Ok(decided) => decided,
            Err(err) => {
                let _ = writeln!(out, "{file}: {err}");
                failed = true;
                continue;
            }
        };
        let seen = show(policy, (&event, evidence.as_ref()), now_ms, file, out);
        for mismatch in mismatches(&expected, &seen) {
            let _ = writeln!(out, "{file}: FAILED: {mismatch}");
            failed = true;
        }
    }
    if failed {
        FAILED
    } else {
        VALID
    }
}

/// What a delivery came to, for `--expect`.
#[derive(Debug, Default)]
struct Seen {
    rule: Option<String>,
    action: Option<String>,
    group: Option<String>,
}

/// Prints what the policy makes of the delivery (with the file's sample of what it would read of
/// PagerDuty, if any), as the function would act on it.
fn show(
    policy: &Policy,
    (event, evidence): (&Event, Option<&Evidence>),
    now_ms: u64,
    file: &str,
    out: &mut impl Write,
) -> Seen {
    let kind = &event.event_type;
    let mut seen = Seen::default();
    if !policy.accepts(kind) {
        let what = if policy.forwards(kind) {
            "passed on to the incident's session (forward_events)"
        } else {
            "ignored: neither in event_types nor in forward_events"
        };
        let _ = writeln!(out, "{file}: {kind}: {what}");
        return seen;
    }
    let incident = match event.incident() {
        Ok(incident) => incident,
        Err(err) => {
            let _ = writeln!(out, "{file}: {kind}: ignored (202): {err}");
            return seen;
        }
    };
    let decision = policy.decide(kind, &incident);
    let action = format!("{:?}", decision.action).to_ascii_lowercase();
    let _ = writeln!(out, "{file}: {kind}, incident {}", incident.id);
    let _ = writeln!(out, "  rule: {} ({action})", decision.rule);
    seen.rule = Some(decision.rule.to_owned());
    seen.action = Some(action);
    if decision.action == Action::Ignore {
        let _ = writeln!(out, "  no session");
        return seen;
    }
    let facts = Facts {
        incident: &incident,
        event_type: kind,
        occurred_at: event.occurred_at.as_deref(),
        alerts: evidence,
    };
    let _ = writeln!(out, "  read of PagerDuty: {}", read_of_pagerduty(evidence));
    seen.group = Some(show_session(policy, &decision, &facts, now_ms, out));
    seen
}

/// What the brief shows of PagerDuty's reads: the file's sample, counted, or what the
/// placeholders render without it.
fn read_of_pagerduty(evidence: Option<&Evidence>) -> String {
    let Some(evidence) = evidence else {
        return "none in the file (\"pagerduty\": {...}): {alerts}, {changes} and \
                {past_incidents} render \"none\"; a delivery reads them with a PagerDuty token"
            .into();
    };
    format!(
        "from the file: {} alerts, {} changes, {} past incidents, {} related incidents",
        evidence.alerts.len(),
        evidence.changes.len(),
        evidence.past_incidents.len(),
        evidence.related_incidents.len()
    )
}

/// Prints the session the delivery would start (its group, budgets, deferral and request):
/// its group, or "none".
fn show_session(
    policy: &Policy,
    decision: &Decision<'_>,
    facts: &Facts<'_>,
    now_ms: u64,
    out: &mut impl Write,
) -> String {
    let Shaped {
        request,
        group,
        slots,
    } = route::shape(policy, decision, facts, now_ms);
    let _ = writeln!(out, "  group: {}", group.as_deref().unwrap_or("none"));
    let budgets: Vec<String> = slots
        .iter()
        .map(|slot| format!("{} {} ({})", slot.scope, slot.limit, slot.cap))
        .collect();
    let budgets = if budgets.is_empty() {
        "none".into()
    } else {
        budgets.join(", ")
    };
    let _ = writeln!(out, "  budgets: {budgets}");
    let deferral = decision.start_after.map_or("none".into(), |after| {
        format!(
            "starts {} min after the incident's creation",
            after.as_secs() / 60
        )
    });
    let _ = writeln!(out, "  deferral: {deferral}");
    let shown = json!({"method": "POST", "url": "{DEVIN_API_URL}/v3/organizations/{DEVIN_ORG_ID}/sessions", "body": request});
    let _ = writeln!(out, "  request:");
    for line in format!("{shown:#}").lines() {
        let _ = writeln!(out, "    {line}");
    }
    group.unwrap_or_else(|| "none".into())
}

fn mismatches(expected: &Expected, seen: &Seen) -> Vec<String> {
    [
        ("rule", &expected.rule, &seen.rule),
        ("action", &expected.action, &seen.action),
        ("group", &expected.group, &seen.group),
    ]
    .into_iter()
    .filter_map(|(key, wanted, got)| {
        let wanted = wanted.as_ref()?;
        (Some(wanted) != got.as_ref()).then(|| {
            format!(
                "expected {key}={wanted}, got {}",
                got.as_deref().unwrap_or("no decision")
            )
        })
    })
    .collect()
}
