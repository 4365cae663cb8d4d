//! Validation of the raw configuration and merging of the command line.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{ConfigError, Location};
use super::raw::{self, RawAccount, render_key};
use super::{
    Account, AutoJoin, CliOverrides, Config, DEFAULT_HISTORY_LOAD, DirsOverride, PasswordSource,
    Paths, ServerAddr, TlsMode,
};

mod ui;

use ui::check_ui;

/// The file being resolved, for error locations.
struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, offset: usize, key: String, message: String) -> ConfigError {
        ConfigError::Invalid {
            location: Location::at(self.file, self.text, Some(offset)),
            key,
            message,
        }
    }

    /// Validate a spanned value with `check`, reporting failures at its line.
    fn check<T, U>(
        &self,
        value: &Spanned<T>,
        key: &str,
        check: impl FnOnce(&T) -> Result<U, String>,
    ) -> Result<U, ConfigError> {
        check(value.get_ref()).map_err(|m| self.invalid(value.span().start, key.to_owned(), m))
    }
}

/// An account before defaults (which depend on CLI overrides) are applied.
struct Pending {
    name: String,
    jid: jid::BareJid,
    server: Option<(String, Option<u16>)>,
    resolver: Option<std::net::SocketAddr>,
    nick: Option<String>,
    nicks: Vec<String>,
    password: PasswordSource,
    tls: TlsMode,
    ca_file: Option<PathBuf>,
    resource: Option<String>,
    autojoin: Vec<AutoJoin>,
    search_service: Option<jid::Jid>,
    call_service: Option<jid::Jid>,
    focus: super::FocusSettings,
}

impl Pending {
    fn ad_hoc(jid: jid::BareJid) -> Self {
        Pending {
            name: jid.to_string(),
            jid,
            server: None,
            resolver: None,
            nick: None,
            nicks: Vec::new(),
            password: PasswordSource::Prompt,
            tls: TlsMode::default(),
            ca_file: None,
            resource: None,
            autojoin: Vec::new(),
            search_service: None,
            call_service: None,
            focus: Default::default(),
        }
    }

    fn finish(self) -> Account {
        let tls = self.tls;
        let nick = self
            .nick
            .or_else(|| self.nicks.first().cloned())
            .unwrap_or_else(|| {
                // Account JIDs always have a local part (see `parse_account_jid`).
                self.jid
                    .node()
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default()
            });
        Account {
            name: self.name,
            jid: self.jid,
            server: self.server.map(|(host, port)| ServerAddr {
                host,
                port: port.unwrap_or(tls.default_port()),
            }),
            resolver: self.resolver,
            nick,
            nicks: self.nicks,
            password: self.password,
            tls,
            ca_file: self.ca_file,
            resource: self.resource,
            autojoin: self.autojoin,
            search_service: self.search_service,
            call_service: self.call_service,
            focus: self.focus,
        }
    }
}

pub(crate) fn resolve(
    text: &str,
    file: &Path,
    file_read: bool,
    cli: &CliOverrides,
    dirs: DirsOverride,
) -> Result<Config, ConfigError> {
    let raw = raw::parse(text, file)?;
    let ctx = Ctx { file, text };

    // Accounts, in file order; all of them are validated, not only the one used.
    let mut entries: Vec<_> = raw.accounts.into_iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut accounts = Vec::with_capacity(entries.len());
    for (name, account) in entries {
        accounts.push(check_account(&ctx, name, account)?);
    }

    if let Some(default) = &raw.default_account
        && !accounts.iter().any(|a| a.name == *default.get_ref())
    {
        return Err(ctx.invalid(
            default.span().start,
            "default_account".to_owned(),
            format!(
                "no account named {:?} ({})",
                default.get_ref(),
                defined_accounts(&accounts)
            ),
        ));
    }

    let ui = check_ui(&ctx, &raw.ui, &raw.theme, &raw.keys)?;
    let chatting = check_chatting(&ctx, &raw.chatting)?;

    // Command-line values.
    let cli_jid = cli
        .jid
        .as_deref()
        .map(|s| parse_account_jid(s).map_err(|message| cli_error("--jid", message)))
        .transpose()?;
    let cli_server = cli
        .server
        .as_deref()
        .map(|s| parse_server(s).map_err(|message| cli_error("--server", message)))
        .transpose()?;
    let cli_resolver = cli
        .resolver
        .as_deref()
        .map(|s| parse_resolver(s).map_err(|message| cli_error("--resolver", message)))
        .transpose()?;
    if let Some(var) = &cli.password_env {
        check_env_name(var).map_err(|message| cli_error("--password-env", message))?;
    }
    if let Some(ca) = &cli.ca_file
        && ca.as_os_str().is_empty()
    {
        return Err(cli_error("--ca-file", "the path is empty".to_owned()));
    }

    // Which account.
    let mut account = if let Some(name) = &cli.account {
        let Some(i) = accounts.iter().position(|a| a.name == *name) else {
            return Err(ConfigError::UnknownAccount {
                name: name.clone(),
                config_path: file.to_owned(),
                available: accounts.iter().map(|a| a.name.clone()).collect(),
            });
        };
        let mut account = accounts.swap_remove(i);
        if let Some(jid) = cli_jid {
            account.jid = jid;
        }
        account
    } else if let Some(jid) = cli_jid {
        match accounts.iter().position(|a| a.jid == jid) {
            Some(i) => accounts.swap_remove(i),
            None => Pending::ad_hoc(jid),
        }
    } else if let Some(default) = &raw.default_account {
        // Checked above: it exists.
        let i = accounts
            .iter()
            .position(|a| a.name == *default.get_ref())
            .unwrap_or(0);
        accounts.swap_remove(i)
    } else if !accounts.is_empty() {
        accounts.swap_remove(0)
    } else {
        return Err(ConfigError::NoAccount {
            config_path: file.to_owned(),
        });
    };

    // The command line wins.
    if let Some(server) = cli_server {
        account.server = Some(server);
    }
    if let Some(resolver) = cli_resolver {
        account.resolver = Some(resolver);
    }
    if let Some(ca) = &cli.ca_file {
        account.ca_file = Some(ca.clone());
    }
    if let Some(var) = &cli.password_env {
        account.password = PasswordSource::Env(var.clone());
    }

    let (data_dir, cache_dir, log_dir) = match dirs {
        DirsOverride::System => {
            let dirs = super::project_dirs()?;
            let log = dirs.state_dir().unwrap_or(dirs.cache_dir()).to_owned();
            (dirs.data_dir().to_owned(), dirs.cache_dir().to_owned(), log)
        }
        DirsOverride::Explicit {
            data_dir,
            cache_dir,
        } => (data_dir, cache_dir.clone(), cache_dir),
    };

    let files = check_files(&ctx, &raw.files, &data_dir)?;
    Ok(Config {
        account: account.finish(),
        history_enabled: raw.history.enabled.unwrap_or(true) && !cli.no_history,
        history_load: raw.history.load.unwrap_or(DEFAULT_HISTORY_LOAD),
        paths: Paths {
            config_file: file_read.then(|| file.to_owned()),
            data_dir,
            cache_dir,
            log_dir,
        },
        ui,
        chatting,
        files,
    })
}

/// `[files]`: the download folder (default: the XDG download folder,
/// else `downloads` in the data directory), the size cap, the opener (a
/// program and its first arguments; the URL is added as one argument).
fn check_files(
    ctx: &Ctx<'_>,
    raw: &super::raw::RawFiles,
    data_dir: &std::path::Path,
) -> Result<crate::app::files::FilesOptions, ConfigError> {
    let default_dir = directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(std::path::Path::to_owned))
        .unwrap_or_else(|| data_dir.join("downloads"));
    let mut files = crate::app::files::FilesOptions::with_download_dir(default_dir);
    if let Some(d) = &raw.download_dir {
        files.download_dir = ctx.check(d, "files.download_dir", |d| {
            if d.trim().is_empty() {
                Err("empty folder".to_owned())
            } else {
                Ok(std::path::PathBuf::from(d))
            }
        })?;
    }
    if let Some(m) = &raw.max_download_bytes {
        files.max_download = ctx.check(m, "files.max_download_bytes", |m| {
            if *m == 0 {
                Err("0 would refuse every file".to_owned())
            } else {
                Ok(*m)
            }
        })?;
    }
    if let Some(o) = &raw.opener {
        files.opener = ctx.check(o, "files.opener", |o| {
            if o.first().is_none_or(|p| p.trim().is_empty()) {
                Err("name a program, e.g. [\"xdg-open\"]".to_owned())
            } else {
                Ok(o.clone())
            }
        })?;
    }
    Ok(files)
}

/// `[chatting]`: `never` patterns must not be empty.
fn check_chatting(
    ctx: &Ctx<'_>,
    raw: &super::raw::RawChatting,
) -> Result<super::ChattingConfig, ConfigError> {
    let mut never = Vec::new();
    for (i, p) in raw.never.iter().flatten().enumerate() {
        let key = format!("chatting.never[{i}]");
        never.push(ctx.check(p, &key, |p| {
            let p = p.trim();
            if p.is_empty() {
                Err("empty pattern (write a room JID; * matches anything)".to_owned())
            } else {
                Ok(p.to_lowercase())
            }
        })?);
    }
    Ok(super::ChattingConfig {
        publish: raw.publish.unwrap_or(true),
        never,
    })
}

fn cli_error(flag: &'static str, message: String) -> ConfigError {
    ConfigError::Cli { flag, message }
}

fn defined_accounts(accounts: &[Pending]) -> String {
    if accounts.is_empty() {
        "the file defines no accounts".to_owned()
    } else {
        let names: Vec<_> = accounts.iter().map(|a| a.name.as_str()).collect();
        format!("defined: {}", names.join(", "))
    }
}

fn check_account(
    ctx: &Ctx<'_>,
    name: Spanned<String>,
    raw: RawAccount,
) -> Result<Pending, ConfigError> {
    let name_offset = name.span().start;
    let name = name.into_inner();
    let table = format!("accounts.{}", render_key(&name));
    let key = |field: &str| format!("{table}.{field}");

    if name.trim().is_empty() {
        return Err(ctx.invalid(name_offset, table, "the account name is empty".to_owned()));
    }

    let Some(jid) = &raw.jid else {
        return Err(ctx.invalid(
            name_offset,
            table,
            "missing required key \"jid\" (e.g. jid = \"user@example.org\")".to_owned(),
        ));
    };
    let jid = ctx.check(jid, &key("jid"), |s| parse_account_jid(s))?;

    let server = raw
        .server
        .as_ref()
        .map(|s| ctx.check(s, &key("server"), |s| parse_server(s)))
        .transpose()?;
    let resolver = raw
        .resolver
        .as_ref()
        .map(|s| ctx.check(s, &key("resolver"), |s| parse_resolver(s)))
        .transpose()?;

    let nick = raw
        .nick
        .as_ref()
        .map(|n| ctx.check(n, &key("nick"), |n| check_resourcepart(n, "nick")))
        .transpose()?;

    let mut nicks = Vec::new();
    for (i, n) in raw.nicks.iter().flatten().enumerate() {
        let k = format!("{}[{i}]", key("nicks"));
        nicks.push(ctx.check(n, &k, |n| check_resourcepart(n, "nick"))?);
    }

    let password = check_password(ctx, &raw, &key)?;

    let tls = raw
        .tls
        .as_ref()
        .map(|t| ctx.check(t, &key("tls"), |t| parse_tls(t)))
        .transpose()?
        .unwrap_or_default();

    let ca_file = raw
        .ca_file
        .as_ref()
        .map(|p| {
            ctx.check(p, &key("ca_file"), |p| {
                if p.trim().is_empty() {
                    Err("the path is empty".to_owned())
                } else {
                    Ok(expand_path(p, ctx.file))
                }
            })
        })
        .transpose()?;

    let resource = raw
        .resource
        .as_ref()
        .map(|r| ctx.check(r, &key("resource"), |r| check_resourcepart(r, "resource")))
        .transpose()?;

    let mut autojoin: Vec<AutoJoin> = Vec::new();
    for (i, entry) in raw.autojoin.iter().flatten().enumerate() {
        let entry_key = format!("{}[{i}]", key("autojoin"));
        let item = ctx.check(entry, &entry_key, |s| parse_autojoin(s))?;
        if autojoin.iter().any(|a| a.room == item.room) {
            return Err(ctx.invalid(
                entry.span().start,
                entry_key,
                format!("room {} is listed more than once", item.room),
            ));
        }
        autojoin.push(item);
    }

    let focus = check_focus(ctx, &raw, &key)?;

    let search_service = raw
        .search_service
        .as_ref()
        .map(|s| ctx.check(s, &key("search_service"), |s| parse_service_jid(s)))
        .transpose()?;
    let call_service = raw
        .call_service
        .as_ref()
        .map(|s| ctx.check(s, &key("call_service"), |s| parse_service_jid(s)))
        .transpose()?;

    Ok(Pending {
        name,
        jid,
        server,
        resolver,
        nick,
        nicks,
        password,
        tls,
        ca_file,
        resource,
        autojoin,
        search_service,
        call_service,
        focus,
    })
}

/// `password_command`, `password_env` or `password`: at most one of them;
/// none means asking on the terminal.
fn check_password(
    ctx: &Ctx<'_>,
    raw: &RawAccount,
    key: &dyn Fn(&str) -> String,
) -> Result<PasswordSource, ConfigError> {
    let given: Vec<(&str, &Spanned<String>)> = [
        ("password_command", &raw.password_command),
        ("password_env", &raw.password_env),
        ("password", &raw.password),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| (name, v)))
    .collect();
    if given.len() > 1 {
        // Report at whichever comes second in the file.
        let mut by_place = given.clone();
        by_place.sort_by_key(|(_, v)| v.span().start);
        let (field, value) = by_place[1];
        let message = match by_place.as_slice() {
            [(a, _), (b, _)] => format!("set either {a} or {b}, not both"),
            _ => {
                let names: Vec<&str> = by_place.iter().map(|(n, _)| *n).collect();
                format!("set only one of {}", names.join(", "))
            }
        };
        return Err(ctx.invalid(value.span().start, key(field), message));
    }
    let Some(&(field, value)) = given.first() else {
        return Ok(PasswordSource::Prompt);
    };
    ctx.check(value, &key(field), |v| match field {
        "password_command" if v.trim().is_empty() => Err("the command is empty".to_owned()),
        "password_command" => Ok(PasswordSource::Command(v.clone())),
        "password_env" => check_env_name(v).map(|()| PasswordSource::Env(v.clone())),
        _ if v.is_empty() => Err("the password is empty".to_owned()),
        _ => Ok(PasswordSource::File(super::FilePassword(
            super::Secret::new(v.clone()),
        ))),
    })
}

/// An account JID: bare, with a local part.
pub(crate) fn parse_account_jid(s: &str) -> Result<jid::BareJid, String> {
    let parsed = jid::Jid::new(s).map_err(|e| format!("{s:?} is not a valid JID ({e})"))?;
    if let Some(resource) = parsed.resource() {
        return Err(format!(
            "{s:?} has a resource; use the bare JID {} (the resource prefix is set with resource = {:?})",
            parsed.to_bare(),
            resource.as_str()
        ));
    }
    if parsed.node().is_none() {
        return Err(format!("{s:?} has no local part (expected user@domain)"));
    }
    Ok(parsed.into_bare())
}

/// `focus` (MUC domains or room JIDs), `focus_jid`, `focus_http`.
fn check_focus(
    ctx: &Ctx<'_>,
    raw: &RawAccount,
    key: &dyn Fn(&str) -> String,
) -> Result<super::FocusSettings, ConfigError> {
    let mut entries = Vec::new();
    for (i, e) in raw.focus.iter().flatten().enumerate() {
        let k = format!("{}[{i}]", key("focus"));
        entries.push(ctx.check(e, &k, |e| match jid::BareJid::new(e.trim()) {
            Ok(j) => Ok(j.to_string()),
            Err(err) => Err(format!("{e:?} is not a MUC domain or room JID ({err})")),
        })?);
    }
    let jid = raw
        .focus_jid
        .as_ref()
        .map(|s| ctx.check(s, &key("focus_jid"), |s| parse_service_jid(s)))
        .transpose()?;
    let http = raw
        .focus_http
        .as_ref()
        .map(|s| {
            ctx.check(s, &key("focus_http"), |s| {
                if s.starts_with("http://") || s.starts_with("https://") {
                    Ok(s.clone())
                } else {
                    Err(format!("{s:?} is not an http:// or https:// URL"))
                }
            })
        })
        .transpose()?;
    Ok(super::FocusSettings { entries, jid, http })
}

/// The JID of a service (`search_service`): a domain, or `node@domain`.
pub(crate) fn parse_service_jid(s: &str) -> Result<jid::Jid, String> {
    if s.trim().is_empty() {
        return Err("the JID is empty".to_owned());
    }
    jid::Jid::new(s.trim()).map_err(|e| format!("{s:?} is not a valid JID: {e}"))
}

/// `room@service` or `room@service/nick`.
pub(crate) fn parse_autojoin(s: &str) -> Result<AutoJoin, String> {
    const EXPECTED: &str = "expected room@service or room@service/nick";
    let parsed =
        jid::Jid::new(s).map_err(|e| format!("{s:?} is not a valid room address ({e})"))?;
    if parsed.node().is_none() {
        return Err(format!("{s:?} has no room name ({EXPECTED})"));
    }
    let nick = parsed.resource().map(|r| r.as_str().to_owned());
    Ok(AutoJoin {
        room: parsed.into_bare(),
        nick,
    })
}

fn check_resourcepart(s: &str, what: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    jid::ResourcePart::new(s)
        .map(|r| r.as_str().to_owned())
        .map_err(|e| format!("{s:?} is not a valid {what} ({e})"))
}

fn parse_tls(s: &str) -> Result<TlsMode, String> {
    if s.eq_ignore_ascii_case("starttls") {
        Ok(TlsMode::StartTls)
    } else if s.eq_ignore_ascii_case("direct") {
        Ok(TlsMode::Direct)
    } else {
        Err(format!("expected \"starttls\" or \"direct\", found {s:?}"))
    }
}

fn check_env_name(var: &str) -> Result<(), String> {
    if var.is_empty() {
        Err("the environment variable name is empty".to_owned())
    } else if var.contains(['=', '\0']) || var.chars().any(char::is_whitespace) {
        Err(format!("{var:?} is not a valid environment variable name"))
    } else {
        Ok(())
    }
}

/// A DNS server: `IP:PORT` (`[v6]:PORT`), or a bare IP on port 53.
pub(crate) fn parse_resolver(s: &str) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    match s.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(std::net::SocketAddr::new(ip, 53)),
        Err(_) => Err(format!(
            "{s:?} is not a DNS server address (expected IP:PORT, e.g. 127.0.0.1:53)"
        )),
    }
}

/// `host[:port]`, with IPv6 addresses as `[addr]` or `[addr]:port` (a bare
/// IPv6 address without port is accepted too). The port is `None` when absent.
pub(crate) fn parse_server(s: &str) -> Result<(String, Option<u16>), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("the server address is empty (expected host or host:port)".to_owned());
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return Err(format!("{s:?}: missing \"]\" after the IPv6 address"));
        };
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(format!("{s:?}: {addr:?} is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err(format!("{s:?} is not of the form [address]:port")),
            },
        };
        (addr, port)
    } else {
        match s.rsplit_once(':') {
            Some(_) if s.parse::<Ipv6Addr>().is_ok() => (s, None),
            Some((host, _)) if host.contains(':') => {
                return Err(format!(
                    "{s:?}: write IPv6 addresses in brackets, e.g. [::1]:5222"
                ));
            }
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{s:?} has no host name"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '[' | ']'))
    {
        return Err(format!("{host:?} is not a valid host name"));
    }
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(n) if n != 0 => Ok(n),
            _ => Err(format!("port {p:?} is not a number from 1 to 65535")),
        })
        .transpose()?;
    Ok((host.to_owned(), port))
}

/// `~/…` is relative to the home directory, other relative paths to the
/// directory of the config file.
fn expand_path(p: &str, config_file: &Path) -> PathBuf {
    if p == "~" || p.starts_with("~/") {
        if let Some(base) = directories::BaseDirs::new() {
            let rest = p.trim_start_matches('~').trim_start_matches('/');
            return base.home_dir().join(rest);
        }
        return PathBuf::from(p);
    }
    let path = PathBuf::from(p);
    match config_file.parent() {
        Some(dir) if path.is_relative() && !dir.as_os_str().is_empty() => dir.join(path),
        _ => path,
    }
}
