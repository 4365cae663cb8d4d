//! confab: arguments and config, then the TUI or `--batch`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use confab::app::{App, AppOptions};
use confab::batch::{self, BatchOptions};
use confab::config::{self, CliOverrides, Config, PasswordSource, Secret};
use confab::history::History;
use confab::session::{self, ConnectParams, SessionParams};
use tokio_xmpp::xmlstream::Timeouts;

/// A terminal conferencing client for XMPP.
#[derive(Parser, Debug)]
#[command(
    name = "confab",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    tool: Option<Tool>,
    /// Account JID (user@domain); overrides the config's account.
    #[arg(long, value_name = "JID")]
    jid: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Connect to this host instead of the JID's domain (no DNS SRV
    /// discovery).
    #[arg(long, value_name = "HOST[:PORT]")]
    server: Option<String>,
    /// Ask this DNS server for the domain's SRV records (and the targets'
    /// addresses) instead of the system's (resolv.conf).
    #[arg(long, value_name = "IP:PORT")]
    resolver: Option<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Config file (default: config.toml in the config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Which account of the config file to use.
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// The XEP-0433 channel search service `/search` asks; overrides the
    /// account's `search_service`.
    #[arg(long, value_name = "JID")]
    search_service: Option<String>,
    /// The A/V conference service whose rooms go with text rooms of the
    /// same name (`/call` of a text room calls there); overrides the
    /// account's `call_service`.
    #[arg(long, value_name = "JID")]
    call_service: Option<String>,
    /// Run commands from FILE (or - for stdin) without the TUI; print
    /// events as JSON lines.
    #[arg(long, value_name = "FILE|-", num_args = 0..=1, default_missing_value = "-")]
    batch: Option<String>,
    /// In --batch, go on after a failed command.
    #[arg(long)]
    keep_going: bool,
    /// Keep no message history on disk.
    #[arg(long)]
    no_history: bool,
    /// Seconds to wait for the first connection in --batch.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    connect_timeout: u64,
    /// Seconds of silence before a keep-alive ping; no answer within half
    /// as long (at least 1 s) means the connection is dead.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, hide = true)]
    keepalive: f64,
    /// Seconds an XEP-0198 ack request (or a write) may go unanswered
    /// before the connection counts as dead and is resumed.
    #[arg(long, value_name = "SECS", default_value_t = 15.0, hide = true)]
    ack_timeout: f64,
    /// Seconds a message may wait for the connection before it is
    /// reported as failed.
    #[arg(long, value_name = "SECS", default_value_t = 300, hide = true)]
    outbox_ttl: u64,
    /// Seconds of silence from a room before we ping ourselves in it
    /// (XEP-0410) to find out whether it silently dropped us.
    #[arg(long, value_name = "SECS", default_value_t = 300.0, hide = true)]
    self_ping: f64,
    /// What calls send: tone:HZ, file:PATH.wav, null, default (the
    /// microphone) or device:NAME.
    #[arg(long, value_name = "SPEC", default_value = "default")]
    audio_in: confab::media::AudioIn,
    /// Noise suppression of what calls send (RNNoise): auto cleans a
    /// microphone, on any source, gate also sends silence while you do
    /// not speak, off sends the input as it is (also `/denoise`).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["auto", "on", "gate", "off"])]
    denoise: String,
    /// Where calls play: file:PATH.wav, null, default (the speaker) or
    /// device:NAME.
    #[arg(long, value_name = "SPEC", default_value = "default")]
    audio_out: confab::media::AudioOut,
    /// Also record each received stream of a call to its own WAV in DIR,
    /// named after its entity.
    #[arg(long, value_name = "DIR")]
    audio_out_dir: Option<PathBuf>,
    /// Print the resolved configuration (the config file, these options,
    /// the defaults) as TOML, passwords masked, and exit.
    #[arg(long, conflicts_with_all = ["batch", "check_config"])]
    print_config: bool,
    /// Check the configuration and exit: "OK: FILE" (status 0), or the
    /// error with its file:line (status 2).
    #[arg(long, conflicts_with = "batch")]
    check_config: bool,
    /// How much the log tells: off, error, warn, info (default), debug or
    /// trace (with the protocol trace, secrets masked); for confab, other
    /// crates stay at warn. Wins over RUST_LOG.
    #[arg(long, value_name = "LEVEL", value_parser = clap::builder::PossibleValuesParser::new(confab::logging::LEVELS))]
    log_level: Option<String>,
    /// Write the log to FILE (default: confab.DATE.log in the state
    /// directory, a new file each day).
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// Show the stanzas in and out from the start, secrets masked (TUI:
    /// the XML console; --batch: xml events), like /xmlconsole on.
    #[arg(long)]
    debug_xml: bool,
    /// Local address for calls' UDP (ICE host candidates); 0.0.0.0:0 is
    /// every interface.
    #[arg(long, value_name = "IP:PORT", default_value = "0.0.0.0:0", hide = true)]
    rtc_bind: String,
}

/// Subcommands that print something and exit; without one confab runs
/// (the TUI, or --batch).
#[derive(Subcommand, Debug)]
enum Tool {
    /// Print the completion script for SHELL.
    ///
    /// E.g. `confab completions bash >
    /// ~/.local/share/bash-completion/completions/confab`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    ///
    /// E.g. `confab man | man -l -`.
    Man,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(tool) = &args.tool {
        return print_tool(tool);
    }
    let cli = CliOverrides {
        jid: args.jid.clone(),
        password_env: args.password_env.clone(),
        server: args.server.clone(),
        resolver: args.resolver.clone(),
        ca_file: args.ca_file.clone(),
        config: args.config.clone(),
        account: args.account.clone(),
        no_history: args.no_history,
    };
    let config = match load_config(&cli, &args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("confab: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(warning) = config::password_file_warning(&config) {
        eprintln!("confab: warning: {warning}");
    }
    if args.check_config {
        match &config.paths.config_file {
            Some(file) => println!("OK: {}", file.display()),
            None => println!("OK: no config file (the command line and the defaults)"),
        }
        return ExitCode::SUCCESS;
    }
    if args.print_config {
        print!("{}", config::render_config(&config));
        return ExitCode::SUCCESS;
    }
    // The log starts once the config is known (its directory), before
    // anything talks to the network; never on the terminal.
    let log = match confab::logging::init(&confab::logging::LogOptions {
        level: args.log_level.clone(),
        env: std::env::var("RUST_LOG").ok(),
        file: args.log_file.clone(),
        dir: config.paths.log_dir.clone(),
    }) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("confab: warning: {e}; running without a log");
            None
        }
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        mode = if args.batch.is_some() { "batch" } else { "tui" },
        account = %config.account.jid,
        log = ?log.as_ref().map(|l| l.path.display().to_string()),
        "confab starting"
    );
    let password = match obtain_password(&config, args.batch.is_some()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("confab: {e}");
            return ExitCode::from(2);
        }
    };
    let tls_config = match session::tls_config(config.account.ca_file.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("confab: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("confab: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run(args, config, password, tls_config));
    // Don't wait for stray blocking tasks (e.g. a stdin read).
    runtime.shutdown_timeout(Duration::from_millis(100));
    tracing::info!(code, "confab exits");
    drop(log);
    ExitCode::from(code)
}

/// `confab completions SHELL`, `confab man`: to stdout, status 0.
fn print_tool(tool: &Tool) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match tool {
        Tool::Completions { shell } => {
            confab::docs::completions(*shell, &mut Args::command(), &mut out);
        }
        Tool::Man => {
            let written = confab::docs::man_page(Args::command(), &mut out);
            if let Err(e) = written.and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                eprintln!("confab: cannot write the man page: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// The config file with the command line's overrides.
fn load_config(cli: &CliOverrides, args: &Args) -> Result<Config, String> {
    let mut config = config::load(cli).map_err(|e| e.to_string())?;
    let service = |flag: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|s| jid::Jid::new(s).map_err(|e| format!("{flag}: {s:?} is not a valid JID: {e}")))
            .transpose()
    };
    if let Some(j) = service("--search-service", &args.search_service)? {
        config.account.search_service = Some(j);
    }
    if let Some(j) = service("--call-service", &args.call_service)? {
        config.account.call_service = Some(j);
    }
    Ok(config)
}

fn obtain_password(config: &Config, batch: bool) -> Result<Secret, String> {
    match &config.account.password {
        PasswordSource::Prompt if batch => Err(format!(
            "no password for {}: in --batch give --password-env VAR, or password_command (or password) in the config",
            config.account.jid
        )),
        PasswordSource::Prompt => confab::ui::prompt_password(config.account.jid.as_str())
            .map(Secret::new)
            .map_err(|e| format!("cannot read the password: {e}")),
        source => config::resolve_password(source).map_err(|e| e.to_string()),
    }
}

fn keepalive_timeouts(secs: f64) -> Timeouts {
    let idle = Duration::from_secs_f64(secs.clamp(0.2, 3600.0));
    Timeouts {
        read_timeout: idle,
        response_timeout: (idle / 2).max(Duration::from_secs(1)),
    }
}

fn resource(config: &Config) -> String {
    let base = config.account.resource.as_deref().unwrap_or("confab");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{base}-{:06x}", (nanos ^ std::process::id()) & 0xff_ffff)
}

async fn run(
    args: Args,
    config: Config,
    password: Secret,
    tls_config: std::sync::Arc<tokio_rustls::rustls::ClientConfig>,
) -> u8 {
    let server = config.account.server_addr();
    let params = SessionParams {
        connect: ConnectParams {
            jid: config.account.jid.clone(),
            password,
            host: server.host.clone(),
            port: server.port,
            tls: config.account.tls,
            // No explicit server: DNS SRV first, then `server` (the domain).
            discovery: config
                .account
                .server
                .is_none()
                .then_some(session::Discovery {
                    resolver: config.account.resolver,
                }),
            resource: resource(&config),
            tls_config,
            timeouts: keepalive_timeouts(args.keepalive),
            attempt_timeout: Duration::from_secs(30),
            stream_management: true,
        },
        backoff_min: Duration::from_millis(500),
        backoff_max: Duration::from_secs(60),
        outbox_ttl: Duration::from_secs(args.outbox_ttl),
        self_ping: Duration::from_secs_f64(args.self_ping.clamp(0.2, 86_400.0)),
        ack_timeout: Duration::from_secs_f64(args.ack_timeout.clamp(0.5, 3600.0)),
    };
    let (handle, events, task) = session::spawn(params);
    let (media, media_events) = confab::media::engine::spawn(confab::media::engine::MediaOptions {
        audio_in: args.audio_in.clone(),
        audio_out: args.audio_out.clone(),
        out_dir: args.audio_out_dir.clone(),
        rtc: confab::media::rtc::RtcOptions {
            udp_addrs: vec![args.rtc_bind.clone()],
            red: true,
        },
        denoise: confab::media::Denoise::parse(&args.denoise).unwrap_or_default(),
    });
    let events = confab::app::merge(events, media_events);

    let mut startup_errors = Vec::new();
    let history = if config.history_enabled {
        let path = config.paths.data_dir.join("history.sqlite3");
        match History::open(&path, config.account.jid.as_str()) {
            Ok(h) => Some(h),
            Err(e) => {
                startup_errors.push(format!("{e}; running without history"));
                None
            }
        }
    } else {
        None
    };
    let app = App::new(
        handle,
        history,
        AppOptions {
            account: config.account.jid.clone(),
            default_nick: config.account.nick.clone(),
            history_load: config.history_load,
            export_dir: config.paths.data_dir.join("exports"),
            recordings_dir: config.paths.data_dir.join("recordings"),
            files: config.files.clone(),
        },
    );
    let mut app = app.with_media(media);
    app.set_omemo_store(
        confab_core::omemo_store::OmemoStore::open(
            &config.paths.data_dir.join("omemo.sqlite3"),
            config.account.jid.as_str(),
        )
        .map_err(|e| e.to_string()),
    );
    app.set_search_service(config.account.search_service.clone());
    app.set_call_service(config.account.call_service.as_ref().map(|j| j.to_bare()));
    app.set_chatting(config.chatting.clone());
    app.set_focus_config(
        config.account.focus.clone(),
        Some(config.paths.data_dir.clone()),
    );
    app.set_nicks(config.account.nicks.clone());
    let console = if args.debug_xml {
        app.set_xml_console(true, None)
    } else {
        Vec::new()
    };
    let autojoin: Vec<String> = config
        .account
        .autojoin
        .iter()
        .map(|a| match &a.nick {
            Some(n) => format!("{}/{}", a.room, n),
            None => a.room.to_string(),
        })
        .collect();

    let code = match args.batch.as_deref() {
        Some(source) => {
            for e in &startup_errors {
                println!(
                    "{}",
                    batch::json_line(
                        &serde_json::json!({"event":"error","condition":"history-unavailable","text":e})
                    )
                );
            }
            for e in &console {
                println!("{}", batch::event_line(e));
            }
            let opts = BatchOptions {
                keep_going: args.keep_going,
                connect_timeout: Duration::from_secs(args.connect_timeout),
                autojoin,
            };
            let stdout = std::io::stdout();
            if source == "-" {
                let input = tokio::io::BufReader::new(tokio::io::stdin());
                batch::run(app, events, input, stdout.lock(), opts).await
            } else {
                match tokio::fs::File::open(source).await {
                    Ok(f) => {
                        batch::run(
                            app,
                            events,
                            tokio::io::BufReader::new(f),
                            stdout.lock(),
                            opts,
                        )
                        .await
                    }
                    Err(e) => {
                        eprintln!("confab: cannot read batch file {source}: {e}");
                        2
                    }
                }
            }
        }
        None => {
            let mut ui = match confab::ui::state::UiState::from_config(&config.ui) {
                Ok(ui) => ui,
                Err(e) => {
                    eprintln!("confab: {e}");
                    return 2;
                }
            };
            ui.set_status(startup_errors.join("; "), !startup_errors.is_empty());
            ui.on_events(&app.store, &console);
            confab::ui::run(app, events, ui, autojoin).await
        }
    };
    task.abort();
    code as u8
}
