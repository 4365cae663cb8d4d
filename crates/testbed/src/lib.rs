//! **confab-testbed** — rule: the project's own peers (A/V SFU, legacy
//! conference service, Jitsi focus), the server harnesses and the sandbox,
//! in the `confab-testbed` binary and as a dev-dependency of the tests;
//! never a dependency of the `confab` binary. May use proto, session and
//! media; never the core or the app.
//!
//! Real-server test harness: private, throw-away Prosody and ejabberd
//! instances ([`Prosody`], [`Ejabberd`]; [`TestServer`] is what both can do,
//! for tests that run on either, [`ServerKind`]).
//!
//! Used by the integration tests (`tests/it`) and by the user-facing
//! sandbox. Each [`Prosody::start`] creates a fresh temp dir holding a
//! generated config, data dir, pidfile, logs and a test CA + server
//! certificate, picks free loopback ports and runs `prosody` in the
//! foreground as a child process. Nothing touches a system daemon,
//! `/etc/prosody`, `/var/lib/prosody` or `/var/run`.
//!
//! ```no_run
//! use confab_testbed::{Prosody, ProsodyOptions};
//! let server = Prosody::start(ProsodyOptions::new().account("alice", "alice-pw"))?;
//! println!("c2s on 127.0.0.1:{}, trust {}", server.c2s_port(), server.ca_file().display());
//! # Ok::<(), confab_testbed::TestbedError>(())
//! ```
//!
//! Environment knobs: `CONFAB_KEEP_PROSODY` keeps the temp dir after drop
//! (the path is printed to stderr), `CONFAB_PROSODY_DEBUG` makes Prosody
//! log at debug level; `CONFAB_KEEP_EJABBERD` and `CONFAB_EJABBERD_DEBUG`
//! do the same for ejabberd.

pub mod certs;
pub mod component;
pub mod crowd;
pub mod dns;
mod ejabberd;
pub mod flood;
pub mod focus;
pub mod impair;
pub mod legacy;
mod prosody;
pub mod proxy;
pub mod quality;
pub mod sandbox;
mod server;
pub mod sfu;

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

pub use certs::TestCerts;
pub use dns::{DnsRecord, DnsServer};
pub use ejabberd::{
    EJABBERD_DEBUG_ENV, EJABBERD_KEEP_ENV, Ejabberd, EjabberdOptions, EjabberdPorts,
};
pub use prosody::{
    DEBUG_ENV, DEFAULT_COMPONENT, DOMAIN, KEEP_ENV, MUC_DOMAIN, Ports, Prosody, ProsodyOptions,
};
pub use proxy::Proxy;
pub use server::{ServerKind, TestServer};

/// The XDG directories of a confab that lives in `home` (the sandbox's,
/// a test's, a benchmark's): its config, data, cache and state (the log)
/// there, never in the real home.
pub fn confab_xdg_dirs(home: &std::path::Path) -> [(&'static str, std::path::PathBuf); 4] {
    [
        ("XDG_CONFIG_HOME", home.join("config")),
        ("XDG_DATA_HOME", home.join("data")),
        ("XDG_CACHE_HOME", home.join("cache")),
        ("XDG_STATE_HOME", home.join("state")),
    ]
}

/// [`confab_xdg_dirs`] as `NAME=DIR` words, for `env` (a TUI that tmux
/// starts).
pub fn confab_xdg_env(home: &std::path::Path) -> Vec<String> {
    confab_xdg_dirs(home)
        .into_iter()
        .map(|(name, dir)| format!("{name}={}", dir.display()))
        .collect()
}

/// Everything that can go wrong while running a testbed server.
///
/// `Debug` prints the same text as `Display`, so `.unwrap()` and
/// `-> Result<(), TestbedError>` tests show a readable log tail.
#[derive(thiserror::Error)]
pub enum TestbedError {
    /// `prosody` / `prosodyctl` is not installed.
    #[error(
        "`{program}` was not found on PATH; the confab testbed needs a real Prosody \
         XMPP server. Install it with `apt-get install -y prosody` \
         (prefix with `sudo` if you are not root)"
    )]
    ProsodyNotFound {
        /// The missing executable.
        program: &'static str,
    },
    /// ejabberd (Debian's package) is not installed.
    #[error(
        "ejabberd was not found (/usr/sbin/ejabberdctl and its Erlang libraries); the \
         confab testbed's second server is Debian's ejabberd. Install it with \
         `apt-get install -y ejabberd` (prefix with `sudo` if you are not root) and stop \
         the system daemon the package starts: `systemctl disable --now ejabberd`"
    )]
    EjabberdNotFound,
    /// An ejabberd command (HTTP API or `ejabberdctl`) failed.
    #[error("testbed: ejabberd command `{command}` failed: {output}")]
    Api {
        /// The command.
        command: String,
        /// Status and output.
        output: String,
    },
    /// The server runs but a part of it crashed while starting.
    #[error("testbed: a part of the server crashed while starting; end of its log:\n{log_tail}")]
    StartCrashed {
        /// The last lines of its log.
        log_tail: String,
    },
    /// A filesystem or process operation failed.
    #[error("testbed: {context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Certificate generation failed.
    #[error("testbed: generating test certificates failed: {0}")]
    Cert(#[from] rcgen::Error),
    /// `prosodyctl register` failed.
    #[error("testbed: `prosodyctl register {user} localhost ...` failed ({status}): {output}")]
    Register {
        /// The user we tried to register.
        user: String,
        /// prosodyctl's exit status.
        status: ExitStatus,
        /// prosodyctl's combined stdout/stderr.
        output: String,
    },
    /// Prosody exited before it became ready.
    #[error("testbed: the server exited during startup ({status}); end of its log:\n{log_tail}")]
    ExitedEarly {
        /// Its exit status.
        status: ExitStatus,
        /// The last lines of its log and stdout/stderr.
        log_tail: String,
    },
    /// Prosody could not bind its listening ports (someone else took them).
    #[error(
        "testbed: the server could not bind its loopback ports (tried {attempts} sets of \
         ports); end of its log:\n{log_tail}"
    )]
    PortsInUse {
        /// How many port sets were tried in total.
        attempts: usize,
        /// The last lines of its log.
        log_tail: String,
    },
    /// Prosody did not open its ports in time.
    #[error("testbed: the server was not ready after {timeout:?}; end of its log:\n{log_tail}")]
    StartTimeout {
        /// How long we waited.
        timeout: Duration,
        /// The last lines of its log.
        log_tail: String,
    },
}

impl std::fmt::Debug for TestbedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl TestbedError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        TestbedError::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::time::Instant;
    use tokio_rustls::rustls;

    const STREAM_HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream to='localhost' \
        xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    /// Read from `r` until `needle` shows up (or EOF / 5 s timeout).
    fn read_until(r: &mut impl Read, needle: &str) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&got).contains(needle) {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    fn stream_features(port: u16) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to c2s");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(STREAM_HEADER).unwrap();
        read_until(&mut s, "</stream:features>")
    }

    fn assert_offers_starttls(server: &Prosody) {
        let reply = stream_features(server.c2s_port());
        assert!(
            reply.contains("starttls"),
            "no starttls in stream features: {reply}\nlog:\n{}",
            server.log_tail(30)
        );
    }

    #[test]
    fn start_restart_stop() {
        let t0 = Instant::now();
        let mut server = Prosody::start(ProsodyOptions::new().account("alice", "alice-pw"))
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!("Prosody::start took {:?}", t0.elapsed());
        assert_eq!(server.domain(), "localhost");
        assert_eq!(server.muc_domain(), "conference.localhost");
        assert!(
            server
                .dir()
                .join("data/localhost/accounts/alice.dat")
                .exists()
        );
        assert!(server.ca_file().exists());
        assert!(server.is_running());
        assert_offers_starttls(&server);

        server
            .register("bob", "bob-pw")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            server
                .dir()
                .join("data/localhost/accounts/bob.dat")
                .exists()
        );

        let port = server.c2s_port();
        let t0 = Instant::now();
        server.restart().unwrap_or_else(|e| panic!("{e}"));
        eprintln!("Prosody::restart took {:?}", t0.elapsed());
        assert_eq!(server.c2s_port(), port, "restart keeps the ports");
        assert_offers_starttls(&server);

        let t0 = Instant::now();
        server.stop();
        eprintln!("Prosody::stop took {:?}", t0.elapsed());
        server.stop(); // idempotent
        assert!(!server.is_running());
        let err = TcpStream::connect(("127.0.0.1", port)).expect_err("port should be closed");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);

        // kill() simulates a crash; restart() recovers with the same data.
        server.restart().unwrap_or_else(|e| panic!("{e}"));
        let pid = server.pid().expect("running");
        server.kill();
        assert!(!server.is_running());
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, 0) }, -1, "reaped");
        server.restart().unwrap_or_else(|e| panic!("{e}"));
        assert_offers_starttls(&server);

        let dir = server.dir().to_path_buf();
        let t0 = Instant::now();
        drop(server);
        eprintln!("drop took {:?}", t0.elapsed());
        if std::env::var_os(KEEP_ENV).is_none() {
            assert!(!dir.exists(), "temp dir removed on drop");
        }
    }

    #[test]
    fn parallel_instances_and_direct_tls_with_test_ca() {
        let a = Prosody::start(ProsodyOptions::new().component("bot.localhost", ""))
            .unwrap_or_else(|e| panic!("{e}"));
        let b = Prosody::start(ProsodyOptions::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a.dir(), b.dir());
        let (pa, pb) = (a.ports(), b.ports());
        let all = [
            pa.c2s,
            pa.c2s_direct_tls,
            pa.component,
            pa.http,
            pb.c2s,
            pb.c2s_direct_tls,
            pb.component,
            pb.http,
        ];
        let mut dedup = all.to_vec();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), all.len(), "ports clash: {all:?}");
        assert_ne!(a.component_secret(), b.component_secret());
        let secret = a.component_secret().to_string();
        let expected = [
            (DEFAULT_COMPONENT.to_string(), secret.clone()),
            ("bot.localhost".to_string(), secret),
        ];
        assert_eq!(a.components(), &expected);
        assert_offers_starttls(&a);
        assert_offers_starttls(&b);

        // rustls must accept the server's chain when trusting only our CA.
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::File::open(a.ca_file()).unwrap();
        for cert in rustls_pemfile::certs(&mut BufReader::new(pem)) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut sock = TcpStream::connect(("127.0.0.1", a.c2s_direct_tls_port())).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.write_all(STREAM_HEADER)
            .unwrap_or_else(|e| panic!("TLS handshake: {e}\nlog:\n{}", a.log_tail(30)));
        let reply = read_until(&mut tls, "</stream:features>");
        assert!(reply.contains("SCRAM-SHA-1"), "features over TLS: {reply}");
    }
}
