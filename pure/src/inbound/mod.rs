//! What came in, and whether to trust it: a delivery's signature and JSON, the secrets it is
//! checked with, the addresses it may come from, the repeats a warm instance already answered,
//! PagerDuty's timestamps and its REST incidents, and what the webhook subscriptions send.

pub mod event_types;
pub mod pushed;
pub mod recent;
pub mod rest_incident;
pub mod secret;
pub mod sources;
pub mod subscribed;
pub mod throttle;
pub mod timestamp;
pub mod verify;
pub mod webhook;
