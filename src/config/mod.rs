//! Configuration: the TOML file, merged with command-line overrides.
//!
//! The file is deserialised into a *raw* configuration in which every field
//! is optional (see [`raw`]); that raw form is then validated and resolved,
//! exactly once, into a [`Config`]. Every error names the file, the line and
//! the key it is about, e.g.
//!
//! ```text
//! /home/u/.config/confab/config.toml:7: accounts.work.jid: "alice@" is not a valid JID (…)
//! ```
//!
//! Passwords are not part of the resolved configuration: an account only
//! records *where* its password comes from ([`PasswordSource`]), and
//! [`resolve_password`] fetches it when the session needs it.
//!
//! File format (all keys optional unless noted):
//!
//! ```toml
//! default_account = "work"        # otherwise the first account in the file
//!
//! [history]
//! enabled = true                   # false = keep nothing (same as --no-history)
//! load = 50                        # messages of history shown on join
//!
//! [chatting]                       # XEP-0194: tell contacts which rooms you are in
//! [files]                          # /save and /open: download_dir, max_download_bytes, opener
//! publish = true                   # false = never
//! never = ["*@conference.work.example"]  # rooms never told (`*` = anything)
//!
//! [accounts.work]
//! jid = "alice@example.org"        # required
//! server = "xmpp.example.org:5222" # host[:port]
//! nick = "alice"                   # default: the JID's local part
//! nicks = ["alice", "alice_"]      # generic conferencing: nicks offered in order
//! password_command = "pass show xmpp/alice"
//! password_env = "CONFAB_PASSWORD" # (at most one of password_command,
//! password = "…"                   #  password_env, password; --password-env wins)
//! tls = "starttls"                 # or "direct" (XEP-0368)
//! ca_file = "/path/to/ca.pem"      # relative paths are relative to the config file
//! resource = "confab"
//! autojoin = ["room@conference.example.org", "dev@conference.example.org/alice2"]
//! focus = ["conference.meet.example"]  # joins here ask a Jitsi focus first
//! focus_jid = "focus.meet.example"     # default focus.DOMAIN; or focus_http = "https://…"
//! resolver = "192.0.2.53:53"       # DNS server for SRV discovery (default: resolv.conf)
//!
//! [ui]
//! bell = true                      # ring the bell on a highlight or private message
//! set_title = true                 # unread/highlight counts in the terminal title
//! show_events = true               # join/leave/nick lines in rooms
//! rooms_width = 18                 # room list width, 0..=80 (0 hides it)
//! people_width = 22                # participant list width, 0..=80 (0 hides it)
//! time_format = "%H:%M"            # strftime format of message timestamps
//! styling = true                   # XEP-0393 *strong* _emphasis_ ~strike~ `code` > quotes
//! highlight_words = ["confab"]     # highlight these words too, besides our nick
//! chat_states = true               # "typing…": send ours, show others' (XEP-0085)
//! chat_states_max_occupants = 30   # never send ours in rooms bigger than this
//! notify = "desktop"               # notifications: desktop (D-Bus), osc777, osc9 (the terminal), none
//! notify_command = ["/usr/local/bin/my-notify"]  # run (no shell) with the event as JSON on stdin
//! notify_all = ["team@conference.example.org"]   # rooms where every message notifies
//! notify_none = ["noisy@conference.example.org"] # rooms that never do (default: mentions)
//!
//! [theme]                          # any field of `Theme`; see `style` for the syntax
//! highlight = "yellow bold"        # FG [on BG] [bold] [italic] [underline] [reversed] [dim]
//! own_nick = "white on blue bold"  # colours: names, "#rrggbb", 0-255; or "default"
//! nick_colors = false              # XEP-0392 nick colours
//!
//! [keys]                           # key = action, or "none" to unbind
//! "ctrl-j" = "next-room"
//! "ctrl-n" = "none"
//! ```

mod error;
mod password;
mod raw;
mod resolve;
mod show;
mod style;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, Location};
pub use password::{password_file_warning, resolve_password};
pub use show::{MASK, render as render_config};

pub use crate::session::{Secret, TlsMode};

/// Default number of history messages shown when joining a room.
pub const DEFAULT_HISTORY_LOAD: usize = 50;

/// The largest accepted `rooms_width` / `people_width`.
pub const MAX_PANE_WIDTH: u16 = 80;

/// A host and port to connect to. `host` holds IPv6 addresses without
/// brackets; `Display` adds them back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A room to join on connect; `nick: None` means the account's nick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoJoin {
    pub room: jid::BareJid,
    pub nick: Option<String>,
}

/// Where an account's password comes from; see [`resolve_password`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The value of this environment variable.
    Env(String),
    /// The standard output of this shell command (`sh -c`).
    Command(String),
    /// The account's `password = "…"` key itself (see
    /// [`password_file_warning`]).
    File(FilePassword),
    /// Nothing configured: ask on the terminal.
    Prompt,
}

/// A password written in the config file (`password = "…"`). Shown as
/// `********` (`Debug`, `Display`, `--print-config`).
#[derive(Debug, Clone)]
pub struct FilePassword(pub Secret);

impl PartialEq for FilePassword {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose() == other.0.expose()
    }
}

impl Eq for FilePassword {}

/// One fully resolved account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The `NAME` of `[accounts.NAME]`, or the JID for an ad-hoc account.
    pub name: String,
    /// Always has a local part and no resource.
    pub jid: jid::BareJid,
    /// Explicit server; `None` means "derive from the JID" (DNS SRV, then
    /// [`Account::server_addr`]).
    pub server: Option<ServerAddr>,
    /// The DNS server SRV discovery asks (`resolver`, `--resolver`);
    /// `None`: the system's (resolv.conf).
    pub resolver: Option<std::net::SocketAddr>,
    /// Default nick in rooms.
    pub nick: String,
    /// `nicks = [..]`: the nicks a generic conferencing room is offered,
    /// in order (the first free one is taken); empty: just `nick`.
    pub nicks: Vec<String>,
    pub password: PasswordSource,
    pub tls: TlsMode,
    /// Extra CA certificate to trust, in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    /// Resource prefix.
    pub resource: Option<String>,
    pub autojoin: Vec<AutoJoin>,
    /// An XEP-0433 channel search service `/search` asks (`search_service`).
    pub search_service: Option<jid::Jid>,
    /// The A/V conference service (XEP-0521) whose rooms go with text rooms
    /// of the same name: `/call` of a text room calls there (`call_service`).
    pub call_service: Option<jid::Jid>,
    /// `focus`, `focus_jid`, `focus_http`: joins that go through a Jitsi
    /// focus without `/join --focus`.
    pub focus: FocusSettings,
}

/// The rooms whose joins ask a Jitsi focus first (issue 8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FocusSettings {
    /// `focus = [..]`: MUC domains (every room there) and room JIDs.
    pub entries: Vec<String>,
    /// `focus_jid`: the focus (default `focus.DOMAIN`).
    pub jid: Option<jid::Jid>,
    /// `focus_http`: ask over HTTP(S) at this URL instead.
    pub http: Option<String>,
}

impl Account {
    /// The explicit server, or else the JID's domain on the TLS mode's
    /// default port (5222 for STARTTLS, 5223 for direct TLS).
    pub fn server_addr(&self) -> ServerAddr {
        self.server.clone().unwrap_or_else(|| ServerAddr {
            host: self.jid.domain().as_str().to_owned(),
            port: self.tls.default_port(),
        })
    }
}

/// Where things live on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The config file that was read (`None` if the default one does not exist).
    pub config_file: Option<PathBuf>,
    /// For the history database.
    pub data_dir: PathBuf,
    /// For caches.
    pub cache_dir: PathBuf,
    /// For the log (`logging.rs`): the state directory, else the cache
    /// directory (explicit directories: the cache directory).
    pub log_dir: PathBuf,
}

/// The TUI settings: the `[ui]`, `[theme]` and `[keys]` tables.
#[derive(Debug, Clone, PartialEq)]
pub struct UiConfig {
    /// Ring the terminal bell on a highlight or a private message.
    pub bell: bool,
    /// Put unread/highlight counts in the terminal title.
    pub set_title: bool,
    /// Show join/leave/nick lines in rooms.
    pub show_events: bool,
    /// Width of the room list; 0 hides it. At most [`MAX_PANE_WIDTH`].
    pub rooms_width: u16,
    /// Width of the participant list; 0 hides it. At most [`MAX_PANE_WIDTH`].
    pub people_width: u16,
    /// `strftime` format of message timestamps (checked to be valid for chrono).
    pub time_format: String,
    /// Render XEP-0393 message styling.
    pub styling: bool,
    /// Words that highlight a message, besides our nick (whole words,
    /// any case).
    pub highlight_words: Vec<String>,
    /// Send our chat states (XEP-0085) and show others'.
    pub chat_states: bool,
    /// Rooms with more occupants than this never get our chat states.
    pub chat_states_max_occupants: usize,
    /// Notifications: where, what runs, which rooms always/never.
    pub notify: crate::ui::notify::NotifySettings,
    /// The default theme with the `[theme]` entries applied (each entry
    /// replaces that style wholly).
    pub theme: crate::ui::theme::Theme,
    /// The `[keys]` overrides in file order, as written (`("ctrl-j",
    /// "next-room")`, `("ctrl-n", "none")`); all were checked with
    /// `KeyMap::default().with_overrides`.
    pub keys: Vec<(String, String)>,
}

// `Theme` only derives `PartialEq`, but all its fields (`Style`, `bool`) are `Eq`.
impl Eq for UiConfig {}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            bell: true,
            set_title: true,
            show_events: true,
            rooms_width: 18,
            people_width: 22,
            time_format: "%H:%M".to_owned(),
            styling: true,
            highlight_words: Vec::new(),
            chat_states: true,
            chat_states_max_occupants: 30,
            notify: crate::ui::notify::NotifySettings::default(),
            theme: crate::ui::theme::Theme::default(),
            keys: Vec::new(),
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The account selected for this run.
    pub account: Account,
    /// `false` when the file says `history.enabled = false` or `--no-history` is given.
    pub history_enabled: bool,
    /// Messages of history shown on join.
    pub history_load: usize,
    pub paths: Paths,
    /// `[ui]`, `[theme]` and `[keys]`.
    pub ui: UiConfig,
    /// `[chatting]`: which rooms are told to contacts (XEP-0194).
    pub chatting: ChattingConfig,
    /// `[files]`: `/save` and `/open`.
    pub files: crate::app::files::FilesOptions,
}

/// `[chatting]`: publish the rooms we are in to our contacts (XEP-0194).
/// Private, hidden, members-only and password-protected rooms and rooms
/// joined with a password or `--private` are never published (unless
/// `/chatting ROOM on`), nor rooms matching a `never` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChattingConfig {
    /// `publish = false`: publish nothing (default true).
    pub publish: bool,
    /// `never = ["*@conference.work.example", "secret@*"]`: room JIDs
    /// never published; `*` matches any run of characters.
    pub never: Vec<String>,
}

impl Default for ChattingConfig {
    fn default() -> Self {
        ChattingConfig {
            publish: true,
            never: Vec::new(),
        }
    }
}

/// What the command line said (main.rs fills it from clap). CLI values win
/// over the file.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    /// `--jid`: select the account with this JID, or make an ad-hoc one; with
    /// `--account`, replaces that account's JID.
    pub jid: Option<String>,
    /// `--password-env`: read the password from this environment variable.
    pub password_env: Option<String>,
    /// `--server HOST[:PORT]`.
    pub server: Option<String>,
    /// `--resolver IP[:PORT]`.
    pub resolver: Option<String>,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--config`: read this file instead of the default one (must exist).
    pub config: Option<PathBuf>,
    /// `--account NAME`.
    pub account: Option<String>,
    /// `--no-history`.
    pub no_history: bool,
}

/// Where the data and cache directories come from.
#[derive(Debug, Clone, Default)]
pub enum DirsOverride {
    /// The platform directories (`directories::ProjectDirs`, which honours `XDG_*`).
    #[default]
    System,
    /// Explicit directories (tests).
    Explicit {
        data_dir: PathBuf,
        cache_dir: PathBuf,
    },
}

fn project_dirs() -> Result<directories::ProjectDirs, ConfigError> {
    directories::ProjectDirs::from("", "", "confab").ok_or(ConfigError::NoHomeDir)
}

/// The default config file: `<config dir>/confab/config.toml`.
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    Ok(project_dirs()?.config_dir().join("config.toml"))
}

/// Read the config file (`--config`, or the default one, which may be
/// missing) and merge the command line into it.
pub fn load(cli: &CliOverrides) -> Result<Config, ConfigError> {
    let (path, explicit) = match &cli.config {
        Some(path) => (path.clone(), true),
        None => (default_config_path()?, false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    resolve::resolve(
        text.as_deref().unwrap_or(""),
        &path,
        text.is_some(),
        cli,
        DirsOverride::System,
    )
}

/// The testable core of [`load`]: `text` is the content of the file at `path`.
pub fn load_from_str(
    text: &str,
    path: &Path,
    cli: &CliOverrides,
    dirs: DirsOverride,
) -> Result<Config, ConfigError> {
    resolve::resolve(text, path, true, cli, dirs)
}
