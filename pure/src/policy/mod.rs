//! The routing policy (`ROUTING_CONFIG`): which incidents reach Devin, and with which brief,
//! playbook and budget. Modelled on Alertmanager's routing: ordered rules of matchers, the first
//! match decides, every field of it overriding `defaults`; checked whole at cold start, so
//! nothing half-valid ever runs.
//!
//! - [`rules`]: the checked policy, its rules and the fields they set;
//! - [`load`]: reading `ROUTING_CONFIG` and checking it, with errors that name the place;
//! - [`matchers`]: the conditions of a rule's `when`;
//! - [`decide`]: which rule decides for an incident, and what it says;
//! - [`template`]: the `{placeholder}` templates of titles and prompts;
//! - [`route`]: what the policy makes of an incident it investigates;
//! - [`spend`]: the policy's session `limits` as counters in the ledger;
//! - `summary`: the policy in one line per rule, as `cargo policy check` shows it.

pub mod decide;
mod field;
pub mod load;
pub mod matchers;
pub mod route;
pub mod rules;
pub mod spend;
mod summary;
pub mod template;

pub use decide::Decision;
pub use load::PolicyError;
pub use rules::{
    Action, Limits, Policy, DEFAULTS, DEFAULT_MAX_ACU_LIMIT, MAX_GROUP_INCIDENTS, MAX_POLICY_TAGS,
};
