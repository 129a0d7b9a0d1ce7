//! Startup: what a cold start does once, for every entry point of the package. The settings
//! from the environment, the secrets, one HTTP client, and [`assemble::assemble`], which builds
//! the [`Bridge`](crate::delivery::Bridge) from them; the process-wide parts (logging, the TLS
//! trust store, telling the Lambda Runtime API why a cold start failed) are in [`process`].
//!
//! Startup may import everything else; nothing imports startup but the binaries and the tests.

pub mod assemble;
pub mod process;
pub mod settings;
