//! The delivery: one webhook request, start to finish. It orchestrates the pure core and the
//! edges: checks the request, verifies it, parses it, asks the routing policy, and starts (or
//! finds, or shows) the Devin session or forwards the event to it, inside the delivery's time
//! budget. Every way it can end is an [`Outcome`].
//!
//! # The parts
//!
//! The [`Bridge`] owns a few narrow parts, each holding only what it needs and tested alone;
//! each part's methods take the part, never the whole bridge:
//!
//! - [`checks`]: `Checks` (the secrets, the source allowlist, the refetch throttle, the maximum
//!   age, the recent answers, a clock): the source, the secret header and the signature, with
//!   refresh on rotation; the age; the repeats;
//! - [`claims`]: `Claims` (the ledger, the claim's lease, a clock): the incident's record:
//!   claimed, waited on, counted against the limits, recorded, settled; deferred, closed out,
//!   adopted, skipped ([`claims`]' tests run it on the memory ledger with a fixed clock);
//! - [`groups`]: `Groups` (the ledger, the lease, a clock): a storm group's records (its claim,
//!   its wait, its count, its opening and close) and a group session's open members;
//! - [`devin_calls`]: `DevinCalls` (the Devin client, the secrets it refetches on a 401, whether
//!   Devin refused per-incident tags): every Devin call with its budget, retries and refresh;
//!   the create that falls back to the policy's tags, the lookup by title;
//! - [`notes`]: `Notes` (the PagerDuty client, the bridge's own PagerDuty user): a note on an
//!   incident, posted once even when PagerDuty's answer is ambiguous;
//! - [`pagerduty_reads`]: `PagerDutyReads` (the PagerDuty client): the incident, its evidence, a
//!   note cut short, a command author's email.
//!
//! # The orchestration
//!
//! The `Bridge`'s own methods compose the parts' calls, a file per flow:
//!
//! - [`bridge`]: the bridge and its options, built once per cold start;
//! - [`function_url`]: the Function URL's event in, its answer out, without building a URI;
//! - [`entry`]: the request's shape, the checks, the parse, and the dispatch;
//! - [`investigate`]: a triggered incident: decide, defer, show, or start (the follow-up's sweep
//!   starts missed incidents here too); `devin investigate`;
//! - [`start`]: a start: claim, lead or join the group, the claimed session (looked up, counted,
//!   created), recorded and noted; [`not_started`]: a start that made no session;
//! - [`plan`]: what the policy decided for an incident to start, ready to act on;
//! - [`lead_or_join`]: storm grouping: lead a new group session or join the open one;
//! - [`members`]: a group session's open members: it ends only when the last one leaves;
//! - [`merge`]: a merged incident's session handed to the incident it went into;
//! - [`forward`]: a note, resolve, reopen or status change, passed on to the session;
//! - [`commands`]: a responder's note command (`devin investigate`, `stop`, `status`, ...);
//! - [`outcome`]: every answer the function gives.
//!
//! # One meaning per word
//!
//! - *start*: getting an incident its session, whatever that takes (`Bridge::start`); a start
//!   that got one is `session_started`, one that did not is `not_started` (`NotStarted` says
//!   why); the session a claim gets is its `claimed_session`;
//! - *claim*: the ledger's hold on an incident (or a group) while its session is made;
//!   *settle*: a claim's end in the record its start left (`Claims::settle`; with a session,
//!   `Claims::record_session`); *close out*: a record leaving the follow-up's queue;
//! - *create*: Devin's create call (`DevinCalls::create`); *find*: Devin's lookup by title;
//! - *tell*: send a message to a session (`DevinCalls::tell`; `tell_if_open` passes over a
//!   session that takes no more; `not_told` is how a delivery ends when a tell failed);
//! - *note*: what the bridge writes on a PagerDuty incident (`Notes::add`; `add_or_log` logs it
//!   without a token; `post_once` is the one path both the delivery and the follow-up post by);
//! - *join*: an incident becoming a member of its group's open session (`join_session`);
//!   *lead*: the delivery that starts a group's session; *leave*: a member going.
//!
//! The delivery imports the core and the edges, never the follow-up or startup.
//! `tests/layers.sh` enforces it.

// Helpers return `Err(Outcome)` to end a delivery early: the outcome is built once per delivery
// and moved to the answer, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

pub mod bridge;
mod checks;
mod claims;
mod commands;
mod devin_calls;
pub mod entry;
mod forward;
pub mod function_url;
mod groups;
mod investigate;
mod lead_or_join;
mod members;
mod merge;
mod not_started;
pub(crate) mod notes;
pub mod outcome;
mod pagerduty_reads;
mod plan;
mod postmortem;
mod start;
mod timeline;

pub use bridge::{Bridge, Options};
pub use outcome::Outcome;
