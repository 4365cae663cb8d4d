//! `--print-config`: the resolved configuration (the file, the command
//! line and the defaults) as a TOML file that loads back into the same
//! [`Config`]; passwords written in the file are masked.

use std::fmt::Write as _;

use super::raw::{render_key, theme_styles};
use super::style::format_style;
use super::{Config, PasswordSource};

/// What a masked password prints as.
pub const MASK: &str = "********";

/// A TOML string (basic string, escaped).
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A table key: bare when it can be, else quoted.
fn key(s: &str) -> String {
    if render_key(s) == s {
        s.to_owned()
    } else {
        quote(s)
    }
}

fn list<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> String {
    let items: Vec<String> = items.into_iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// The resolved configuration as TOML; see the module documentation.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let w = &mut out;
    let a = &config.account;
    let paths = &config.paths;
    // `write!` to a String cannot fail.
    let _ = writeln!(
        w,
        "# The configuration confab runs with: the file, the command line and the\n\
         # defaults. Passwords written in the file are masked."
    );
    match &paths.config_file {
        Some(file) => _ = writeln!(w, "# config file: {}", file.display()),
        None => _ = writeln!(w, "# config file: none (defaults and the command line)"),
    }
    let _ = writeln!(w, "# data directory: {}", paths.data_dir.display());
    let _ = writeln!(w, "# cache directory: {}", paths.cache_dir.display());
    let _ = writeln!(w, "# log directory: {}", paths.log_dir.display());

    let _ = writeln!(w, "\n[history]");
    let _ = writeln!(w, "enabled = {}", config.history_enabled);
    let _ = writeln!(w, "load = {}", config.history_load);

    let _ = writeln!(w, "\n[chatting]");
    let _ = writeln!(w, "publish = {}", config.chatting.publish);
    let _ = writeln!(w, "never = {}", list(&config.chatting.never));

    let _ = writeln!(w, "\n[files]");
    let _ = writeln!(
        w,
        "download_dir = {}",
        quote(&config.files.download_dir.to_string_lossy())
    );
    let _ = writeln!(w, "max_download_bytes = {}", config.files.max_download);
    let _ = writeln!(w, "opener = {}", list(&config.files.opener));

    let _ = writeln!(w, "\n[accounts.{}]", key(&a.name));
    let _ = writeln!(w, "jid = {}", quote(a.jid.as_str()));
    match &a.server {
        Some(server) => _ = writeln!(w, "server = {}", quote(&server.to_string())),
        None => {
            _ = writeln!(
                w,
                "# server: DNS SRV records of {}, else {}",
                a.jid.domain(),
                a.server_addr()
            )
        }
    }
    if let Some(resolver) = a.resolver {
        let _ = writeln!(w, "resolver = {}", quote(&resolver.to_string()));
    }
    let _ = writeln!(w, "nick = {}", quote(&a.nick));
    if !a.nicks.is_empty() {
        let _ = writeln!(w, "nicks = {}", list(&a.nicks));
    }
    match &a.password {
        PasswordSource::Env(var) => _ = writeln!(w, "password_env = {}", quote(var)),
        PasswordSource::Command(cmd) => _ = writeln!(w, "password_command = {}", quote(cmd)),
        PasswordSource::File(_) => _ = writeln!(w, "password = {}", quote(MASK)),
        PasswordSource::Prompt => _ = writeln!(w, "# password: asked on the terminal"),
    }
    let _ = writeln!(w, "tls = {}", quote(a.tls.as_str()));
    if let Some(ca) = &a.ca_file {
        let _ = writeln!(w, "ca_file = {}", quote(&ca.display().to_string()));
    }
    if let Some(resource) = &a.resource {
        let _ = writeln!(w, "resource = {}", quote(resource));
    }
    let autojoin = a.autojoin.iter().map(|j| match &j.nick {
        Some(nick) => format!("{}/{nick}", j.room),
        None => j.room.to_string(),
    });
    let _ = writeln!(w, "autojoin = {}", list(autojoin));
    if let Some(s) = &a.search_service {
        let _ = writeln!(w, "search_service = {}", quote(s.as_str()));
    }
    if let Some(s) = &a.call_service {
        let _ = writeln!(w, "call_service = {}", quote(s.as_str()));
    }
    if !a.focus.entries.is_empty() {
        let _ = writeln!(w, "focus = {}", list(&a.focus.entries));
    }
    if let Some(j) = &a.focus.jid {
        let _ = writeln!(w, "focus_jid = {}", quote(j.as_str()));
    }
    if let Some(url) = &a.focus.http {
        let _ = writeln!(w, "focus_http = {}", quote(url));
    }

    let ui = &config.ui;
    let _ = writeln!(w, "\n[ui]");
    let _ = writeln!(w, "bell = {}", ui.bell);
    let _ = writeln!(w, "set_title = {}", ui.set_title);
    let _ = writeln!(w, "show_events = {}", ui.show_events);
    let _ = writeln!(w, "rooms_width = {}", ui.rooms_width);
    let _ = writeln!(w, "people_width = {}", ui.people_width);
    let _ = writeln!(w, "time_format = {}", quote(&ui.time_format));
    let _ = writeln!(w, "styling = {}", ui.styling);
    let _ = writeln!(w, "highlight_words = {}", list(&ui.highlight_words));
    let _ = writeln!(w, "chat_states = {}", ui.chat_states);
    let _ = writeln!(
        w,
        "chat_states_max_occupants = {}",
        ui.chat_states_max_occupants
    );

    let _ = writeln!(w, "\n[theme]");
    for (name, style) in theme_styles(&ui.theme) {
        let _ = writeln!(w, "{name} = {}", quote(&format_style(style)));
    }
    let _ = writeln!(w, "nick_colors = {}", ui.theme.nick_colors);

    let _ = writeln!(w, "\n[keys]");
    for (k, action) in &ui.keys {
        let _ = writeln!(w, "{} = {}", quote(k), quote(action));
    }
    out
}
