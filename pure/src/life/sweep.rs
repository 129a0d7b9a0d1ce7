//! The sweep's decisions: which of PagerDuty's open incidents may have been missed (old enough
//! that the webhook had its chance, young enough to matter), as which event the routing policy
//! judges them, and when a deferred incident's session may start.

use std::time::Duration;

use crate::inbound::subscribed::Subscribed;
use crate::inbound::timestamp;
use crate::inbound::webhook::{is_pagerduty_id, Incident, INCIDENT_TRIGGERED};
use crate::life::records::deferred_until;
use crate::policy::Policy;

/// The window of creation times the sweep asks PagerDuty for: from `lookback` ago to `grace`
/// ago, as PagerDuty's `since` and `until` take them.
pub fn window(now_ms: u64, lookback: Duration, grace: Duration) -> (String, String) {
    let since = now_ms.saturating_sub(lookback.as_millis() as u64);
    let until = now_ms.saturating_sub(grace.as_millis() as u64);
    (timestamp::rfc3339(since), timestamp::rfc3339(until))
}

/// Which of PagerDuty's incidents the sweep lists: those the bridge's webhook subscriptions send
/// it, never another team's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An account-wide subscription: every incident.
    Account,
    /// The incidents of these services, and those of these teams.
    Listed {
        service_ids: Vec<String>,
        team_ids: Vec<String>,
    },
    /// Nothing says what the subscriptions send: no sweep (it could start sessions for other
    /// teams' incidents and send them to Devin).
    Unknown,
}

/// The sweep's scope: `SWEEP_SERVICE_IDS` / `SWEEP_TEAM_IDS` when either is set (they win),
/// else the filters `connect-pagerduty` recorded, one per subscription. An entry recorded
/// without its filter makes the scope unknown: it may be account-wide or another team's.
pub fn scope(
    service_ids: &[String],
    team_ids: &[String],
    subscribed: &[Option<Subscribed>],
) -> Scope {
    if !service_ids.is_empty() || !team_ids.is_empty() {
        return Scope::Listed {
            service_ids: service_ids.to_vec(),
            team_ids: team_ids.to_vec(),
        };
    }
    let (mut services, mut teams) = (Vec::new(), Vec::new());
    for filter in subscribed {
        let Some(filter) = filter else {
            return Scope::Unknown;
        };
        match (filter.kind.as_str(), &filter.id) {
            ("account_reference", _) => return Scope::Account,
            ("service_reference", Some(id)) if is_pagerduty_id(id) => services.push(id.clone()),
            ("team_reference", Some(id)) if is_pagerduty_id(id) => teams.push(id.clone()),
            _ => return Scope::Unknown,
        }
    }
    if services.is_empty() && teams.is_empty() {
        return Scope::Unknown;
    }
    for ids in [&mut services, &mut teams] {
        ids.sort();
        ids.dedup();
    }
    Scope::Listed {
        service_ids: services,
        team_ids: teams,
    }
}

/// Whether a listed incident is the sweep's to start: a well-formed id, open, and created at
/// least `grace` ago (PagerDuty's filter is trusted no more than its payloads).
pub fn is_candidate(incident: &Incident, now_ms: u64, grace: Duration) -> bool {
    let open = matches!(
        incident.status.as_deref(),
        Some("triggered" | "acknowledged")
    );
    let old_enough = incident
        .created_at
        .as_deref()
        .and_then(timestamp::epoch_ms)
        .is_some_and(|created| created.saturating_add(grace.as_millis() as u64) <= now_ms);
    is_pagerduty_id(&incident.id) && open && old_enough
}

/// The event the policy judges a missed incident as: its trigger, when the policy starts
/// sessions on triggers; `None` when the policy never starts one for an incident like it.
pub fn event_type(policy: &Policy) -> Option<&'static str> {
    policy
        .accepts(INCIDENT_TRIGGERED)
        .then_some(INCIDENT_TRIGGERED)
}

/// When the session of an incident the policy defers by `start_after` may start, if that is
/// still to come: counted from the incident's creation (else from when the event happened,
/// else from now).
pub fn deferral(
    start_after: Option<Duration>,
    incident: &Incident,
    occurred_at: Option<&str>,
    now_ms: u64,
) -> Option<u64> {
    let start_after = start_after?;
    let created_ms = incident
        .created_at
        .as_deref()
        .or(occurred_at)
        .and_then(timestamp::epoch_ms)
        .unwrap_or(now_ms);
    let until = deferred_until(created_ms, start_after);
    (until > now_ms).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_857_125_000; // 2026-11-28T09:12:05Z

    fn listed(id: &str, status: &str, created_at: &str) -> Incident {
        Incident {
            id: id.into(),
            status: Some(status.into()),
            created_at: Some(created_at.into()),
            ..Incident::default()
        }
    }

    fn subscribed(kind: &str, id: Option<&str>) -> Option<Subscribed> {
        Some(Subscribed {
            kind: kind.into(),
            id: id.map(str::to_owned),
        })
    }

    #[test]
    fn the_scope_is_the_settings_else_the_recorded_subscriptions() {
        let ids = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
        let service = subscribed("service_reference", Some("PSVC1"));
        let team = subscribed("team_reference", Some("PTEAM1"));
        assert_eq!(
            scope(&[], &[], &[service.clone(), team.clone(), service.clone()]),
            Scope::Listed {
                service_ids: ids(&["PSVC1"]),
                team_ids: ids(&["PTEAM1"])
            }
        );
        let account = subscribed("account_reference", None);
        assert_eq!(scope(&[], &[], &[service.clone(), account]), Scope::Account);
        // The settings win over the record.
        assert_eq!(
            scope(&ids(&["PSVC9"]), &[], std::slice::from_ref(&service)),
            Scope::Listed {
                service_ids: ids(&["PSVC9"]),
                team_ids: vec![]
            }
        );
        for unknown in [
            vec![],
            vec![None],
            vec![service.clone(), None],
            vec![subscribed("service_reference", None)],
            vec![subscribed("service_reference", Some("P/1"))],
            vec![subscribed("schedule_reference", Some("PSCH1"))],
        ] {
            assert_eq!(scope(&[], &[], &unknown), Scope::Unknown, "{unknown:?}");
        }
    }

    #[test]
    fn the_window_runs_from_the_lookback_to_the_grace() {
        let (since, until) = window(NOW, Duration::from_secs(3600), Duration::from_secs(120));
        assert_eq!(since, "2026-11-28T08:12:05.000Z");
        assert_eq!(until, "2026-11-28T09:10:05.000Z");
    }

    #[test]
    fn only_open_incidents_past_the_grace_are_candidates() {
        let grace = Duration::from_secs(120);
        assert!(is_candidate(
            &listed("Q1", "triggered", "2026-11-28T09:10:05Z"),
            NOW,
            grace
        ));
        assert!(is_candidate(
            &listed("Q1", "acknowledged", "2026-11-28T08:30:00Z"),
            NOW,
            grace
        ));
        for (incident, why) in [
            (
                listed("Q1", "triggered", "2026-11-28T09:10:06Z"),
                "too young",
            ),
            (listed("Q1", "resolved", "2026-11-28T08:30:00Z"), "resolved"),
            (
                listed("Q/1", "triggered", "2026-11-28T08:30:00Z"),
                "a bad id",
            ),
            (listed("Q1", "triggered", "yesterday"), "no creation time"),
        ] {
            assert!(!is_candidate(&incident, NOW, grace), "{why}");
        }
    }

    #[test]
    fn a_deferral_ends_start_after_the_creation() {
        let five = Some(Duration::from_secs(300));
        let young = listed("Q1", "triggered", "2026-11-28T09:10:05Z");
        assert_eq!(deferral(five, &young, None, NOW), Some(NOW + 180_000));
        let old = listed("Q1", "triggered", "2026-11-28T09:00:00Z");
        assert_eq!(deferral(five, &old, None, NOW), None, "its time has come");
        assert_eq!(deferral(None, &young, None, NOW), None);
        let undated = Incident::default();
        assert_eq!(deferral(five, &undated, None, NOW), Some(NOW + 300_000));
        assert_eq!(
            deferral(five, &undated, Some("2026-11-28T09:12:00Z"), NOW),
            Some(NOW - 5_000 + 300_000)
        );
    }

    #[test]
    fn missed_incidents_are_judged_as_triggers() {
        assert_eq!(event_type(&Policy::default()), Some(INCIDENT_TRIGGERED));
        let ack_only = Policy::from_json(r#"{"event_types": ["incident.acknowledged"]}"#).unwrap();
        assert_eq!(event_type(&ack_only), None);
    }
}
