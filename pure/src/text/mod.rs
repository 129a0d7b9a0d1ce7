//! Every text that crosses to Devin or to the responders: the brief a session starts with, the
//! messages a session is told, the notes on PagerDuty incidents, Devin's findings, the alerts,
//! the note commands a responder writes, and Devin's refusals as the responders read them. Text
//! from PagerDuty reaches Devin only through [`quote`]: this folder is the one place to audit
//! prompt injection.

pub mod alerts;
pub mod brief;
pub mod commands;
pub mod correlated;
pub mod custom_fields;
pub mod findings;
pub mod messages;
pub mod notes;
pub mod postmortem;
pub mod quote;
pub mod refusal;
pub mod responder_context;
pub mod tag_refusal;
