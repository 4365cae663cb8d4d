//! confab: a terminal conferencing client for XMPP.
//!
//! **confab** (this crate) — rule: the top layer. The `App` joins the
//! session, the media task and the store; the TUI and the batch runner
//! drive the App; the config is read here. Nothing below names it. See
//! ARCHITECTURE.md for how the crates and modules fit together.

pub mod app;
pub mod batch;
pub mod config;
pub mod docs;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz_cases;
pub mod logging;
pub mod ui;

// The layers below, each its own crate (see ARCHITECTURE.md), under the
// module names the app and the tests use.
pub use confab_core::{command, history, names, store};
pub use confab_media as media;
pub use confab_proto as protocol;
pub use confab_session as session;
