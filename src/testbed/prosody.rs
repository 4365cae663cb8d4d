//! A private, throw-away Prosody instance.

use std::fmt::Write as _;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use tempfile::TempDir;

use super::TestbedError;
use super::certs;

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

/// Global modules every instance loads (on `localhost`).
const MODULES: &[&str] = &[
    "roster",
    "saslauth",
    "tls",
    "disco",
    "ping",
    "pep",
    "private",
    "bookmarks",
    "adhoc",
    "version",
    "time",
    "uptime",
    "carbons",
    "blocklist",
    "vcard_legacy",
    "mam",
    // Needed so that `http_ports` is actually listened on.
    "http",
];

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
}

impl Ports {
    /// Pick four distinct free loopback ports. They are released again
    /// before returning, so a race with another process is possible; the
    /// caller retries on bind failure.
    fn pick() -> Result<Ports, TestbedError> {
        let listeners = (0..4)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| TestbedError::io("picking free loopback ports", e))?;
        let port = |i: usize| -> Result<u16, TestbedError> {
            listeners[i]
                .local_addr()
                .map(|a| a.port())
                .map_err(|e| TestbedError::io("picking free loopback ports", e))
        };
        Ok(Ports {
            c2s: port(0)?,
            c2s_direct_tls: port(1)?,
            component: port(2)?,
            http: port(3)?,
        })
    }

    /// `(prosody service name, port)` pairs we wait for.
    fn services(&self) -> [(&'static str, u16); 4] {
        [
            ("c2s", self.c2s),
            ("c2s_direct_tls", self.c2s_direct_tls),
            ("component", self.component),
            ("http", self.http),
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
        self.spawn_and_wait()
    }

    /// The last `lines` lines of the log (plus anything on stdout/stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log_path(), &self.dir, "prosody", lines)
    }

    fn render_config(&self, opts: &ProsodyOptions, cert: &Path, key: &Path) -> String {
        let debug = opts.debug_log || env::var_os(DEBUG_ENV).is_some_and(|v| !v.is_empty());
        let level = lua_str(if debug { "debug" } else { "info" });
        let q = |p: &Path| lua_str(&p.to_string_lossy());
        let modules = MODULES
            .iter()
            .copied()
            .chain(opts.extra_modules.iter().map(String::as_str))
            .map(lua_str)
            .collect::<Vec<_>>()
            .join(", ");
        let ssl = format!("{{ certificate = {}; key = {}; }}", q(cert), q(key));
        let Ports {
            c2s,
            c2s_direct_tls,
            component,
            http,
        } = self.ports;
        let (cfg, pidfile, data, certs, log) = (
            self.config_path.display(),
            q(&self.dir.join("prosody.pid")),
            q(&self.dir.join("data")),
            q(&self.dir.join("certs")),
            q(&self.log_path()),
        );
        let extra = &opts.extra_global_config;
        let muc_extra = &opts.muc_config;
        let (domain, muc) = (lua_str(DOMAIN), lua_str(MUC_DOMAIN));

        let mut c = format!(
            r#"-- Generated by confab::testbed: a private, throw-away instance.
-- Run by hand with: prosody -F --config {cfg}
-- (0.12 deprecates `daemonize` in the config; -F on the command line instead.)

-- We run as root in CI: neither refuse to run nor setuid to "prosody".
run_as_root = true
pidfile = {pidfile}
data_path = {data}
certificates = {certs}
log = {{ {{ levels = {{ min = {level} }}; to = "file"; filename = {log}; }} }}

-- Loopback only; no s2s at all.
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_direct_tls_ports = {{ {c2s_direct_tls} }}
c2s_direct_tls_interfaces = {{ "127.0.0.1" }}
legacy_ssl_ports = {{ }}
component_ports = {{ {component} }}
component_interfaces = {{ "127.0.0.1" }}
http_ports = {{ {http} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{ }}
s2s_ports = {{ }}
s2s_direct_tls_ports = {{ }}
modules_disabled = {{ "s2s" }}

c2s_require_encryption = true
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
storage = "internal"
archive_expires_after = "never"
ssl = {ssl}
modules_enabled = {{ {modules} }}

-- extra_global_config
{extra}

VirtualHost {domain}
    ssl = {ssl}

Component {muc} "muc"
    modules_enabled = {{ "muc_mam" }}
    restrict_room_creation = false
    max_history_messages = 50
    muc_log_by_default = true
{muc_extra}
"#
        );
        for host in opts.extra_hosts.iter().chain(&opts.uncertified_hosts) {
            let _ = write!(c, "\nVirtualHost {}\n    ssl = {ssl}\n", lua_str(host));
        }
        for domain in &opts.extra_muc_domains {
            let _ = write!(
                c,
                "\nComponent {} \"muc\"\n    modules_enabled = {{ \"muc_mam\" }}\n    \
                 restrict_room_creation = false\n    max_history_messages = 50\n",
                lua_str(domain)
            );
        }
        for (jid, secret) in &self.components {
            let _ = write!(
                c,
                "\nComponent {}\n    component_secret = {}\n",
                lua_str(jid),
                lua_str(secret)
            );
        }
        c
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

/// Spawn `cmd` from one process-wide thread that never exits.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// not the process. Test threads and tokio blocking-pool threads come and
/// go, so forking from them would kill the server as soon as that thread
/// finished. Forking from a dedicated immortal thread ties the server's life
/// to the process instead.
pub(super) fn spawn_from_long_lived_thread(cmd: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("confab-testbed-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawning the testbed spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("testbed spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("testbed spawner thread is gone"))?
}

fn find_on_path(program: &'static str) -> Result<PathBuf, TestbedError> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .ok_or(TestbedError::ProsodyNotFound { program })
}

pub(super) fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), TestbedError> {
    fs::write(path, contents)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(|e| TestbedError::io(format!("writing {}", path.display()), e))
}

pub(super) fn open_append(path: &Path) -> Result<fs::File, TestbedError> {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| TestbedError::io(format!("opening {}", path.display()), e))
}

pub(super) fn read_from(path: &Path, offset: u64) -> String {
    let mut buf = Vec::new();
    if let Ok(mut f) = fs::File::open(path)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = f.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// SIGTERM to a server process of ours, up to `timeout` for it to end,
/// then SIGKILL. `None` (already stopped) does nothing.
pub(super) fn stop_child(child: Option<Child>, timeout: Duration) {
    let Some(mut child) = child else {
        return;
    };
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: plain syscall on the pid of our own, not yet reaped child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => thread::sleep(Duration::from_millis(10)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A server's temp dir at its end: kept (its path printed) or removed.
pub(super) fn release_dir(dir: Option<TempDir>, keep: bool, what: &str) {
    let Some(dir) = dir else {
        return;
    };
    if keep {
        let path = dir.keep();
        eprintln!("confab testbed: keeping {what} dir {}", path.display());
    } else {
        let _ = dir.close();
    }
}

/// SIGKILL right away (a crash).
pub(super) fn kill_child(child: Option<Child>) {
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The last `lines` lines of a server's log, plus anything on its
/// `NAME.stdout`/`NAME.stderr` in `dir`.
pub(super) fn log_tail(log: &Path, dir: &Path, name: &str, lines: usize) -> String {
    let mut out = tail_of_file(log, 0, lines);
    for stream in ["stdout", "stderr"] {
        let t = tail_of_file(&dir.join(format!("{name}.{stream}")), 0, lines);
        if !t.trim().is_empty() {
            let _ = write!(out, "\n--- {name}.{stream} ---\n{t}");
        }
    }
    out
}

pub(super) fn tail_of_file(path: &Path, offset: u64, lines: usize) -> String {
    let text = read_from(path, offset);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub(super) fn random_hex(bytes: usize) -> Result<String, TestbedError> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| TestbedError::io("reading /dev/urandom", e))?;
    Ok(buf.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// A Lua string literal.
fn lua_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
