//! All integration tests live in this one test binary (one link, shared
//! helpers). Add new test modules below.

#[path = "../common/mod.rs"]
mod common;

mod batch;
mod bookmarks;
mod channel_search;
mod component;
mod continuity;
mod invite;
mod invite_tui;
mod moderation;
mod muc_basics;
mod prosody_smoke;
mod raw_peer;
mod rooms;
mod session;
mod tui;
