//! A private, throw-away Prosody instance.
//!
//! `config.rs` writes its config file; `process.rs` has the process and
//! file helpers it shares with the ejabberd harness.

mod config;
mod process;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use tempfile::TempDir;

use super::TestbedError;
use super::certs;
use process::find_on_path;
pub(super) use process::{
    free_loopback_ports, kill_child, log_tail, open_append, random_hex, read_from, release_dir,
    retry_while_ports_in_use, spawn_from_long_lived_thread, stop_child, write_file,
};

/// The XMPP domain every testbed instance serves.
pub const DOMAIN: &str = "localhost";
/// The MUC service of every testbed instance.
pub const MUC_DOMAIN: &str = "conference.localhost";
/// The external (XEP-0114) component every instance declares, with the
/// generated default secret. Prosody only listens on the component port
/// when at least one external component exists, so there always is one.
pub const DEFAULT_COMPONENT: &str = "component.localhost";

/// How long [`Prosody::start`] / [`Prosody::restart`] wait for readiness.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`Prosody::stop`] waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Start attempts (each with fresh ports) when Prosody cannot bind.
const BIND_ATTEMPTS: usize = 4;
/// Environment variable: keep the temp dir after drop (its path is printed).
pub const KEEP_ENV: &str = "CONFAB_KEEP_PROSODY";
/// Environment variable: log at debug level instead of info.
pub const DEBUG_ENV: &str = "CONFAB_PROSODY_DEBUG";

/// What to put into a fresh instance.
#[derive(Debug, Clone, Default)]
pub struct ProsodyOptions {
    /// `(user, password)` pairs registered on `localhost` before the first start.
    pub accounts: Vec<(String, String)>,
    /// External XEP-0114 components: `(jid, secret)`, e.g.
    /// `("bot.localhost", "")`. An empty secret means "use the instance's
    /// generated default secret" ([`Prosody::component_secret`]).
    pub components: Vec<(String, String)>,
    /// Extra global modules to enable, in addition to the default set.
    pub extra_modules: Vec<String>,
    /// Raw Lua appended to the global section of the config (before any
    /// `VirtualHost`/`Component`), for one-off settings.
    pub extra_global_config: String,
    /// Raw Lua appended to the MUC `Component` section, e.g.
    /// `muc_room_default_persistent = true` (a `modules_enabled` here
    /// replaces the section's, so list `"muc_mam"` too).
    pub muc_config: String,
    /// More MUC services beside [`MUC_DOMAIN`] (same settings, without
    /// `muc_config`), e.g. a Jitsi visitor node's `conference.v1.localhost`.
    pub extra_muc_domains: Vec<String>,
    /// Log at debug level (also enabled by env `CONFAB_PROSODY_DEBUG`).
    pub debug_log: bool,
    /// More virtual hosts beside [`DOMAIN`] (made-up domains for the SRV
    /// tests): in the certificate, with the same accounts.
    pub extra_hosts: Vec<String>,
    /// Virtual hosts served with the same accounts but *not* named in the
    /// certificate (a client must refuse them).
    pub uncertified_hosts: Vec<String>,
    /// XEP-0363: `upload.localhost` (`mod_http_file_share`) with this
    /// size limit in bytes, its files served on the HTTPS port as
    /// `https://localhost:PORT/` (the test CA's certificate).
    pub file_share_limit: Option<u64>,
}

impl ProsodyOptions {
    /// Options with no accounts and no components.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an account `user@localhost` with `password`.
    pub fn account(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.accounts.push((user.into(), password.into()));
        self
    }

    /// Serve `domain` too (certificate and accounts included).
    pub fn host(mut self, domain: impl Into<String>) -> Self {
        self.extra_hosts.push(domain.into());
        self
    }

    /// Serve `domain` with a certificate that does not name it.
    pub fn host_without_certificate(mut self, domain: impl Into<String>) -> Self {
        self.uncertified_hosts.push(domain.into());
        self
    }

    /// Add a MUC service `domain` beside [`MUC_DOMAIN`].
    pub fn muc_domain(mut self, domain: impl Into<String>) -> Self {
        self.extra_muc_domains.push(domain.into());
        self
    }

    /// Declare an external component. Pass `""` as `secret` to use the
    /// instance's generated default secret.
    pub fn component(mut self, jid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.components.push((jid.into(), secret.into()));
        self
    }
}

/// Ports of one instance, all on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Client-to-server, STARTTLS (RFC 6120).
    pub c2s: u16,
    /// Client-to-server, direct TLS (XEP-0368).
    pub c2s_direct_tls: u16,
    /// XEP-0114 external components.
    pub component: u16,
    /// Plain HTTP (mod_http).
    pub http: u16,
    /// HTTPS (mod_http, the server certificate): uploads.
    pub https: u16,
}

impl Ports {
    /// Pick four distinct free loopback ports. They are released again
    /// before returning, so a race with another process is possible; the
    /// caller retries on bind failure.
    fn pick() -> Result<Ports, TestbedError> {
        let ports = free_loopback_ports(5)?;
        Ok(Ports {
            c2s: ports[0],
            c2s_direct_tls: ports[1],
            component: ports[2],
            http: ports[3],
            https: ports[4],
        })
    }

    /// `(prosody service name, port)` pairs we wait for.
    fn services(&self) -> [(&'static str, u16); 5] {
        [
            ("c2s", self.c2s),
            ("c2s_direct_tls", self.c2s_direct_tls),
            ("component", self.component),
            ("http", self.http),
            ("https", self.https),
        ]
    }
}

/// A running (or stopped) private Prosody server.
///
/// Everything lives in a fresh temp dir: config, data, pidfile, certs, logs.
/// Dropping the value kills the server and removes the dir, unless env
/// `CONFAB_KEEP_PROSODY` is set (then it stops gracefully and the dir stays).
pub struct Prosody {
    tempdir: Option<TempDir>,
    dir: PathBuf,
    config_path: PathBuf,
    ca_file: PathBuf,
    prosody_bin: PathBuf,
    prosodyctl_bin: PathBuf,
    child: Option<Child>,
    ports: Ports,
    component_secret: String,
    components: Vec<(String, String)>,
}

impl std::fmt::Debug for Prosody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prosody")
            .field("dir", &self.dir)
            .field("ports", &self.ports)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Prosody {
    /// Create a private instance and start it; returns once its ports accept
    /// connections.
    pub fn start(opts: ProsodyOptions) -> Result<Prosody, TestbedError> {
        let prosody_bin = find_on_path("prosody")?;
        let prosodyctl_bin = find_on_path("prosodyctl")?;

        let tempdir = tempfile::Builder::new()
            .prefix("confab-prosody-")
            .tempdir()
            .map_err(|e| TestbedError::io("creating the temp dir", e))?;
        let dir = tempdir.path().to_path_buf();
        let certs_dir = dir.join("certs");
        let data_dir = dir.join("data");
        for d in [&certs_dir, &data_dir] {
            fs::create_dir_all(d)
                .map_err(|e| TestbedError::io(format!("creating {}", d.display()), e))?;
        }

        let names: Vec<&str> = [DOMAIN, MUC_DOMAIN]
            .into_iter()
            .chain(opts.extra_hosts.iter().map(String::as_str))
            .collect();
        let certs = certs::generate(&names)?;
        let ca_file = dir.join("ca.pem");
        let cert_file = certs_dir.join(format!("{DOMAIN}.crt"));
        let key_file = certs_dir.join(format!("{DOMAIN}.key"));
        write_file(&ca_file, &certs.ca_pem, 0o644)?;
        write_file(&cert_file, &certs.leaf_pem, 0o644)?;
        write_file(&key_file, &certs.leaf_key_pem, 0o640)?;

        let component_secret = random_hex(16)?;
        let mut declared = opts.components.clone();
        if !declared.iter().any(|(jid, _)| jid == DEFAULT_COMPONENT) {
            declared.insert(0, (DEFAULT_COMPONENT.to_string(), String::new()));
        }
        let components: Vec<(String, String)> = declared
            .into_iter()
            .map(|(jid, secret)| {
                let secret = if secret.is_empty() {
                    component_secret.clone()
                } else {
                    secret
                };
                (jid, secret)
            })
            .collect();

        let mut prosody = Prosody {
            config_path: dir.join("prosody.cfg.lua"),
            tempdir: Some(tempdir),
            dir,
            ca_file,
            prosody_bin,
            prosodyctl_bin,
            child: None,
            ports: Ports::pick()?,
            component_secret,
            components,
        };

        let mut last_err = None;
        for attempt in 0..BIND_ATTEMPTS {
            if attempt > 0 {
                prosody.ports = Ports::pick()?;
            }
            let config = prosody.render_config(&opts, &cert_file, &key_file);
            write_file(&prosody.config_path, &config, 0o644)?;
            if attempt == 0 {
                for (user, password) in &opts.accounts {
                    prosody.register(user, password)?;
                    for host in opts.extra_hosts.iter().chain(&opts.uncertified_hosts) {
                        prosody.register_on(user, host, password)?;
                    }
                }
            }
            match prosody.spawn_and_wait() {
                Ok(()) => return Ok(prosody),
                Err(TestbedError::PortsInUse { log_tail, .. }) => {
                    last_err = Some(TestbedError::PortsInUse {
                        attempts: attempt + 1,
                        log_tail,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    /// The STARTTLS client port.
    pub fn c2s_port(&self) -> u16 {
        self.ports.c2s
    }

    /// The direct-TLS (XEP-0368) client port.
    pub fn c2s_direct_tls_port(&self) -> u16 {
        self.ports.c2s_direct_tls
    }

    /// The XEP-0114 component port.
    pub fn component_port(&self) -> u16 {
        self.ports.component
    }

    /// The plain HTTP port.
    pub fn http_port(&self) -> u16 {
        self.ports.http
    }

    /// The HTTPS port (uploads).
    pub fn https_port(&self) -> u16 {
        self.ports.https
    }

    /// All ports.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// `127.0.0.1:<c2s port>`.
    pub fn c2s_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports.c2s))
    }

    /// The generated default component secret (used by components declared
    /// with an empty secret).
    pub fn component_secret(&self) -> &str {
        &self.component_secret
    }

    /// The external components declared in the config, `(jid, secret)`;
    /// [`DEFAULT_COMPONENT`] is always among them (first, with the default
    /// secret, unless declared explicitly).
    pub fn components(&self) -> &[(String, String)] {
        &self.components
    }

    /// `"localhost"`.
    pub fn domain(&self) -> &str {
        DOMAIN
    }

    /// `"conference.localhost"`.
    pub fn muc_domain(&self) -> &str {
        MUC_DOMAIN
    }

    /// `user@localhost`.
    pub fn jid(&self, user: &str) -> String {
        format!("{user}@{DOMAIN}")
    }

    /// PEM file of the test CA that signed the server certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The instance's temp dir (config, data, certs, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generated config file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Prosody's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("prosody.log")
    }

    /// The server's pid, if it is running (as far as we know).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process is still alive.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Register (or re-password) `user@localhost` via `prosodyctl`. Works
    /// while the server is running or stopped.
    pub fn register(&self, user: &str, password: &str) -> Result<(), TestbedError> {
        self.register_on(user, DOMAIN, password)
    }

    /// Register `user@host` (one of [`ProsodyOptions::extra_hosts`]).
    pub fn register_on(&self, user: &str, host: &str, password: &str) -> Result<(), TestbedError> {
        let out = Command::new(&self.prosodyctl_bin)
            .arg("--config")
            .arg(&self.config_path)
            .args(["register", user, host, password])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| TestbedError::io("running prosodyctl", e))?;
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            return Err(TestbedError::Register {
                user: user.to_string(),
                status: out.status,
                output: output.trim().to_string(),
            });
        }
        Ok(())
    }

    /// Stop the server: SIGTERM, wait up to 5 s, then SIGKILL. Idempotent.
    pub fn stop(&mut self) {
        stop_child(self.child.take(), STOP_TIMEOUT);
    }

    /// Kill the server with SIGKILL right away (simulates a crash; no
    /// `<stream:error/>` for connected clients). Idempotent; `restart()`
    /// brings it back.
    pub fn kill(&mut self) {
        kill_child(self.child.take());
    }

    /// Stop (if running) and start again with the same config, ports and
    /// data; returns once ready.
    pub fn restart(&mut self) -> Result<(), TestbedError> {
        self.stop();
        retry_while_ports_in_use(|| self.spawn_and_wait())
    }

    /// The last `lines` lines of the log (plus anything on stdout/stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log_path(), &self.dir, "prosody", lines)
    }

    /// Spawn `prosody -F --config CFG` and wait until it is ready.
    fn spawn_and_wait(&mut self) -> Result<(), TestbedError> {
        let log_path = self.log_path();
        // The log is appended to across restarts; only look at what this run writes.
        let log_offset = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let stdout = open_append(&self.dir.join("prosody.stdout"))?;
        let stderr = open_append(&self.dir.join("prosody.stderr"))?;

        let mut cmd = Command::new(&self.prosody_bin);
        cmd.arg("-F")
            .arg("--config")
            .arg(&self.config_path)
            .current_dir(&self.dir)
            .env_remove("PROSODY_CONFIG")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Own process group: a terminal's SIGINT/SIGHUP (SIGHUP means
            // "reload" to Prosody) goes to us, not to the server.
            .process_group(0);
        // SAFETY: getpid/getppid/prctl are async-signal-safe.
        let parent = unsafe { libc::getpid() };
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(io::Error::other("parent exited before exec"));
                }
                Ok(())
            });
        }
        let child = spawn_from_long_lived_thread(cmd)
            .map_err(|e| TestbedError::io(format!("spawning {}", self.prosody_bin.display()), e))?;
        self.child = Some(child);

        let ready = self.wait_ready(log_offset);
        if ready.is_err() {
            self.kill();
        }
        ready
    }

    fn wait_ready(&mut self, log_offset: u64) -> Result<(), TestbedError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let log_path = self.log_path();
        let services = self.ports.services();
        loop {
            let child = self.child.as_mut().expect("child just spawned");
            if let Some(status) = child
                .try_wait()
                .map_err(|e| TestbedError::io("waiting for prosody", e))?
            {
                self.child = None;
                return Err(TestbedError::ExitedEarly {
                    status,
                    log_tail: self.log_tail(40),
                });
            }
            let log = read_from(&log_path, log_offset);
            if log.contains("Failed to open server port") {
                return Err(TestbedError::PortsInUse {
                    attempts: 1,
                    log_tail: self.log_tail(40),
                });
            }
            // Prosody logs "Activated service 'c2s' on [127.0.0.1]:PORT"
            // once each listener is bound; checking the log (not just a TCP
            // connect) ensures the port is held by *our* process.
            let all_bound = services.iter().all(|(name, port)| {
                log.contains(&format!("Activated service '{name}' on [127.0.0.1]:{port}"))
            });
            if all_bound
                && TcpStream::connect_timeout(&self.c2s_addr(), Duration::from_millis(500)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestbedError::StartTimeout {
                    timeout: READY_TIMEOUT,
                    log_tail: self.log_tail(40),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        let keep = env::var_os(KEEP_ENV).is_some();
        if keep {
            // Graceful, so the kept log ends with Prosody's own shutdown.
            self.stop();
        } else {
            // The dir is about to go; a graceful shutdown would only cost
            // about a second per instance.
            self.kill();
        }
        release_dir(self.tempdir.take(), keep, "Prosody");
    }
}
