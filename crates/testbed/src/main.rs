//! The project's own testbed peers, run beside a (testbed) Prosody as
//! XEP-0114 components. One subcommand per peer; each takes the server's
//! component `--port`, the component `--secret` and its `--jid`. And
//! `sandbox`: a private Prosody with every peer and demo users, confab
//! opened in it as alice (what `scripts/sandbox` runs).

use std::ffi::OsString;
use std::net::SocketAddr;

use clap::{Parser, Subcommand};

use confab_testbed::component::Link;
use confab_testbed::focus::{self, FocusOptions};
use confab_testbed::{sandbox, sfu};

#[derive(Parser)]
#[command(
    name = "confab-testbed",
    about = "confab's testbed peers (XEP-0114 components beside a Prosody), and the sandbox"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    #[command(flatten)]
    Peer(Box<Peer>),
    /// A private Prosody with demo accounts (alice, bob, carol), bob in a
    /// demo room and a call, every peer, and confab opened as alice: the
    /// `confab` executable beside this one, or $CONFAB_BIN.
    Sandbox(SandboxArgs),
}

#[derive(Subcommand)]
enum Peer {
    /// A Jitsi focus: ConferenceIq over XMPP and POST /conference-request/v1 over HTTP.
    Focus(FocusArgs),
    /// A Jingle A/V conference SFU (XEP-0521): every room@JID is a conference.
    Sfu(SfuArgs),
    /// A legacy conference service: generic conferencing (jabber:iq:conference
    /// + jabber:iq:browse) and groupchat 1.0 rooms.
    Legacy(LegacyArgs),
}

#[derive(clap::Args)]
struct SandboxArgs {
    /// Arguments for confab (e.g. --audio-in tone:660).
    #[arg(
        value_name = "CONFAB ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    confab_args: Vec<OsString>,
}

#[derive(clap::Args)]
struct LegacyArgs {
    /// The server's component port (XEP-0114).
    #[arg(long)]
    port: u16,
    /// The component secret.
    #[arg(long)]
    secret: String,
    /// The component's JID.
    #[arg(long, default_value = "legacy.localhost")]
    jid: String,
    /// A conference room: NODE[,public|private][,noprivacy][,secret=S][,name=N][,topic=T]
    /// (repeatable).
    #[arg(long = "room")]
    rooms: Vec<String>,
    /// A groupchat 1.0 room: NODE[,topic=T] (repeatable).
    #[arg(long = "gc-room")]
    gc_rooms: Vec<String>,
    /// Do not create rooms on demand: answer 405 (not-allowed) instead.
    #[arg(long)]
    no_create: bool,
    /// What rooms do to the ids of the messages they broadcast: keep
    /// them, rewrite them (keeping the rest, XEP-0359 origin-id too), or
    /// rewrite them and rebuild the message from body/subject/thread.
    #[arg(long, value_enum, default_value = "keep")]
    ids: confab_testbed::legacy::Ids,
}

#[derive(clap::Args)]
struct SfuArgs {
    /// The server's component port (XEP-0114).
    #[arg(long)]
    port: u16,
    /// The component secret.
    #[arg(long)]
    secret: String,
    /// The component's JID.
    #[arg(long, default_value = "sfu.localhost")]
    jid: String,
    /// The participant limit of rooms not configured otherwise (0 = none);
    /// each room can change it with the ad-hoc command
    /// urn:xmpp:av-conferences:config.
    #[arg(long, default_value_t = 0)]
    max_participants: usize,
    /// The IP address the media sockets bind to (host candidates);
    /// 0.0.0.0 for every interface.
    #[arg(long, default_value = "127.0.0.1")]
    rtc_ip: std::net::IpAddr,
}

#[derive(clap::Args)]
struct FocusArgs {
    /// The server's component port (XEP-0114).
    #[arg(long)]
    port: u16,
    /// The component secret.
    #[arg(long)]
    secret: String,
    /// The component's JID.
    #[arg(long, default_value = "focus.localhost")]
    jid: String,
    /// Serve POST /conference-request/v1 on this address (e.g. 127.0.0.1:8088).
    #[arg(long)]
    http: Option<SocketAddr>,
    /// The MUC service the conference rooms are on.
    #[arg(long, default_value = confab_testbed::MUC_DOMAIN)]
    muc: String,
    /// Answer ready='false' this many times per room first.
    #[arg(long, default_value_t = 0)]
    not_ready: u32,
    /// Redirect every requester to this visitor node (its MUC domain is
    /// the main one with the node after the first label: conference.v1.localhost).
    #[arg(long)]
    vnode: Option<String>,
    /// KEY=VALUE: a property of every ready answer (repeatable).
    #[arg(long = "property", value_parser = key_value)]
    properties: Vec<(String, String)>,
    /// Only requesters on this domain may have new rooms set up
    /// (repeatable; others get not-authorized; HTTP is never authenticated).
    #[arg(long = "auth-domain")]
    auth_domains: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?}: expected KEY=VALUE")),
    }
}

fn main() -> std::process::ExitCode {
    let peer = match Cli::parse().command {
        Cmd::Peer(peer) => *peer,
        // Synchronous: confab runs as a child; the peers have a runtime of
        // their own.
        Cmd::Sandbox(a) => {
            let run = sandbox::confab_exe().and_then(|exe| sandbox::run(&exe, &a.confab_args));
            return match run {
                Ok(code) => std::process::ExitCode::from(code),
                Err(e) => {
                    eprintln!("confab-testbed: sandbox: {e:#}");
                    std::process::ExitCode::from(2)
                }
            };
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        match peer {
            Peer::Focus(a) => {
                let opts = FocusOptions {
                    muc_domain: a.muc,
                    not_ready: a.not_ready,
                    vnode: a.vnode,
                    properties: a.properties,
                    auth_domains: (!a.auth_domains.is_empty()).then_some(a.auth_domains),
                    tls: a.tls_cert.zip(a.tls_key),
                    ..FocusOptions::new(&a.jid)
                };
                focus::run(&Link::new(a.port, &a.secret), a.http, opts).await
            }
            Peer::Legacy(a) => {
                use confab_testbed::legacy::{self, RoomSpec};
                let mut opts = legacy::Options::new(&a.jid);
                opts.create_rooms = !a.no_create;
                opts.ids = a.ids;
                for (spec, gc) in a
                    .rooms
                    .iter()
                    .map(|s| (s, false))
                    .chain(a.gc_rooms.iter().map(|s| (s, true)))
                {
                    opts.rooms
                        .push(RoomSpec::parse(spec, gc).map_err(anyhow::Error::msg)?);
                }
                eprintln!(
                    "confab-testbed: legacy conferencing {} on component port {}",
                    a.jid, a.port
                );
                legacy::run(&Link::new(a.port, &a.secret), opts)
                    .await
                    .map_err(anyhow::Error::from)
            }
            Peer::Sfu(a) => {
                let opts = sfu::Options {
                    max_participants: a.max_participants,
                    rtc: confab_media::rtc::RtcOptions {
                        udp_addrs: vec![std::net::SocketAddr::new(a.rtc_ip, 0).to_string()],
                        red: true,
                    },
                    ..sfu::Options::new(&a.jid)
                };
                eprintln!("confab-testbed: SFU {} on component port {}", a.jid, a.port);
                sfu::run(&Link::new(a.port, &a.secret), opts)
                    .await
                    .map_err(anyhow::Error::from)
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab-testbed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
