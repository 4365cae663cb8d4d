//! confab: a terminal conferencing client for XMPP.
//!
//! See ARCHITECTURE.md for how the modules fit together.

pub mod app;
pub mod batch;
pub mod command;
pub mod config;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz_cases;
pub mod history;
pub mod media;
pub mod names;
pub mod protocol;
pub mod session;
pub mod store;
pub mod testbed;
pub mod ui;
