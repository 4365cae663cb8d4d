//! All integration tests live in this one test binary (one link, shared
//! helpers). Add new test modules below.

#[path = "../common/mod.rs"]
mod common;

mod batch;
mod bookmarks;
mod buffer;
mod call;
mod call_devices;
mod call_direct;
mod call_quality;
mod carbons;
mod channel_search;
mod chat_states;
mod chatting;
mod chatting_tui;
mod cli;
mod component;
mod conference;
mod continuity;
mod denoise;
mod discovery;
mod fasten;
mod fasten_tui;
mod focus;
mod hostile;
mod hostile_answers;
mod invite;
mod invite_tui;
mod logs;
mod moderation;
mod muc_basics;
mod notify;
mod omemo;
mod omemo_notify;
mod omemo_rooms;
mod omemo_slixmpp;
mod omemo_v2;
mod prosody_smoke;
mod raw_peer;
mod recording;
mod rooms;
mod sandbox;
mod scram;
mod servers;
mod session;
mod sfu;
mod stream_management;
mod tui;
mod tui_exit;
mod upload;
mod upload_tui;
mod windows;
mod windows_tui;
mod xmlconsole_tui;
