//! How the fields of a [`Done`](super::Done) body that are not written as they are held go in
//! it: a budget's, a Devin error's, a session's, a time's, and the `reason` of two `ignored`.

use serde::{Serialize, Serializer};

use crate::edge::devin::DevinError;
use pure::inbound::timestamp;
use pure::inbound::webhook::ParseError;
use pure::life::session::Session;
use pure::policy::spend::Slot;

/// `Unusable`'s fields: the event type, when the envelope had one, and why it is ignored.
pub(super) fn unusable<S: Serializer>(err: &ParseError, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Fields<'a> {
        event_type: Option<&'a str>,
        reason: &'static str,
    }
    let reason = "its data is not an incident or a note the bridge can use";
    let event_type = err.event_type();
    Fields { event_type, reason }.serialize(serializer)
}

/// `OwnNote`'s fields: the incident, and why it is ignored.
pub(super) fn own_note<S: Serializer>(incident_id: &str, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Fields<'a> {
        reason: &'static str,
        incident_id: &'a str,
    }
    let reason = "the bridge's own note";
    Fields {
        reason,
        incident_id,
    }
    .serialize(serializer)
}

/// The spent budget's fields: which, for what, how many, and when it refills.
pub(super) fn spent<S: Serializer>(slot: &Slot, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Fields<'a> {
        limit: &'static str,
        scope: &'a str,
        cap: u32,
        refills_at: String,
    }
    Fields {
        limit: slot.limit,
        scope: &slot.scope,
        cap: slot.cap,
        refills_at: timestamp::rfc3339(slot.refills_at_ms),
    }
    .serialize(serializer)
}

/// The status Devin answered, when it answered.
pub(super) fn devin_status<S: Serializer>(
    error: &DevinError,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    error
        .status()
        .map(|status| status.as_u16())
        .serialize(serializer)
}

pub(super) fn session_id<S: Serializer>(
    session: &Option<Session>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    session
        .as_ref()
        .map(|session| session.session_id.as_str())
        .serialize(serializer)
}

pub(super) fn rfc3339<S: Serializer>(epoch_ms: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&timestamp::rfc3339(*epoch_ms))
}
