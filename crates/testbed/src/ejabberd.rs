//! A private, throw-away ejabberd instance (Debian's 23.01), the second
//! test server beside [`super::Prosody`], with the same shape.
//!
//! `ejabberdctl` is not used to start it: as root it insists on `su`-ing to
//! the package's `ejabberd` user (who cannot read our temp dir) and it
//! registers the node with the machine's `epmd`. We run the Erlang VM
//! ourselves, as `ejabberdctl foreground` would, with everything in the temp
//! dir: config, Mnesia spool, logs, the cookie (`HOME`), the crash dump.
//! The node has its own random name and listens for distribution on a fixed
//! random port without `epmd` (`-start_epmd false -erl_epmd_port`), so
//! instances never meet. Accounts are registered through the HTTP API
//! (`mod_http_api` on a loopback port: milliseconds, where every
//! `ejabberdctl` call starts a VM for most of a second); [`Ejabberd::ctl`]
//! still runs any `ejabberdctl` command over distribution.

use std::fmt::Write as _;
use std::io::{self, Read as _, Write as _};
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use tempfile::TempDir;

use super::prosody::{
    free_loopback_ports, kill_child, log_tail, open_append, random_hex, read_from, release_dir,
    retry_while_ports_in_use, spawn_from_long_lived_thread, stop_child, write_file,
};
use super::{DEFAULT_COMPONENT, DOMAIN, MUC_DOMAIN, TestbedError, certs};

/// How long [`Ejabberd::start`] / [`Ejabberd::restart`] wait for readiness.
const READY_TIMEOUT: Duration = Duration::from_secs(40);
/// How long [`Ejabberd::stop`] waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Start attempts (each with fresh ports) when ejabberd cannot bind.
const BIND_ATTEMPTS: usize = 4;
/// Environment variable: keep the temp dir after drop (its path is printed).
pub const EJABBERD_KEEP_ENV: &str = "CONFAB_KEEP_EJABBERD";
/// Environment variable: log at debug level instead of info.
pub const EJABBERD_DEBUG_ENV: &str = "CONFAB_EJABBERD_DEBUG";
/// Where Debian's `ejabberdctl` lives; we read `ERL` and `ERL_LIBS` from it.
const EJABBERDCTL: &str = "/usr/sbin/ejabberdctl";
/// `ERL_EPMD_PORT` for our VMs: a port nobody listens on, so a node never
/// registers with (or asks) the machine's `epmd`.
const NO_EPMD_PORT: &str = "1";

/// Modules every instance loads on `localhost` (besides `mod_muc`, `mod_mam`
/// and `mod_pubsub`, which get options). No `mod_fail2ban` (tests log in
/// with wrong passwords), no `mod_stream_mgmt` (as the test Prosody: a
/// killed client leaves its rooms at once), no `mod_register`.
const MODULES: &[&str] = &[
    "mod_adhoc: {}",
    "mod_admin_extra: {}",
    "mod_avatar: {}",
    "mod_blocking: {}",
    "mod_caps: {}",
    "mod_carboncopy: {}",
    "mod_client_state: {}",
    "mod_disco: {}",
    "mod_http_api: {}",
    "mod_last: {}",
    "mod_muc_admin: {}",
    "mod_offline: {}",
    "mod_ping: {}",
    "mod_privacy: {}",
    // Also converts bookmarks between private XML and PEP (XEP-0411);
    // 23.01 has no separate mod_bookmarks.
    "mod_private: {}",
    "mod_roster: {versioning: true}",
    "mod_time: {}",
    "mod_vcard: {search: false}",
    "mod_vcard_xupdate: {}",
    "mod_version: {show_os: false}",
];

/// What to put into a fresh instance.
#[derive(Debug, Clone, Default)]
pub struct EjabberdOptions {
    /// `(user, password)` pairs registered on `localhost` once it runs.
    pub accounts: Vec<(String, String)>,
    /// External XEP-0114 components `(jid, secret)`; an empty secret means
    /// the generated default ([`Ejabberd::component_secret`]).
    pub components: Vec<(String, String)>,
    /// More module lines (`"mod_stream_mgmt: {}"`) under `modules:`.
    pub extra_modules: Vec<String>,
    /// Raw YAML appended at the top level (keys the generated file lacks).
    pub extra_config: String,
    /// Raw YAML lines (indented by 4) appended to `mod_muc`'s options.
    pub muc_config: String,
    /// More MUC services beside [`MUC_DOMAIN`].
    pub extra_muc_domains: Vec<String>,
    /// Log at debug level (also env `CONFAB_EJABBERD_DEBUG`).
    pub debug_log: bool,
    /// XEP-0363: `mod_http_upload` (`upload.localhost`) with this size
    /// limit in bytes, on an HTTPS listener (`/upload`, the server
    /// certificate) as `https://localhost:PORT/upload`.
    pub upload_limit: Option<u64>,
}

impl EjabberdOptions {
    /// Options with no accounts and no components.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an account `user@localhost` with `password`.
    pub fn account(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.accounts.push((user.into(), password.into()));
        self
    }

    /// Declare an external component (`""`: the generated secret).
    pub fn component(mut self, jid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.components.push((jid.into(), secret.into()));
        self
    }
}

/// Ports of one instance, all on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EjabberdPorts {
    /// Client-to-server, STARTTLS required.
    pub c2s: u16,
    /// Client-to-server, direct TLS (XEP-0368).
    pub c2s_direct_tls: u16,
    /// XEP-0114 external components (`ejabberd_service`).
    pub component: u16,
    /// Plain HTTP: `mod_http_api` under `/api`.
    pub http: u16,
    /// Erlang distribution (what [`Ejabberd::ctl`] talks to).
    pub dist: u16,
    /// HTTPS for `mod_http_upload` (listened on only with an upload limit).
    pub https: u16,
}

impl EjabberdPorts {
    fn pick() -> Result<EjabberdPorts, TestbedError> {
        let ports = free_loopback_ports(6)?;
        Ok(EjabberdPorts {
            c2s: ports[0],
            c2s_direct_tls: ports[1],
            component: ports[2],
            http: ports[3],
            dist: ports[4],
            https: ports[5],
        })
    }

    /// The listeners ejabberd logs as "Start accepting ... at 127.0.0.1:P".
    fn listeners(&self) -> [u16; 4] {
        [self.c2s, self.c2s_direct_tls, self.component, self.http]
    }
}

/// A running (or stopped) private ejabberd.
///
/// Dropping the value kills the VM and removes the dir, unless env
/// `CONFAB_KEEP_EJABBERD` is set (then it stops gracefully and the dir stays).
pub struct Ejabberd {
    tempdir: Option<TempDir>,
    dir: PathBuf,
    config_path: PathBuf,
    ca_file: PathBuf,
    erl: PathBuf,
    erl_libs: String,
    node: String,
    child: Option<Child>,
    ports: EjabberdPorts,
    component_secret: String,
    components: Vec<(String, String)>,
}

impl std::fmt::Debug for Ejabberd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ejabberd")
            .field("dir", &self.dir)
            .field("node", &self.node)
            .field("ports", &self.ports)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Ejabberd {
    /// Create a private instance, start it and register the accounts;
    /// returns once it serves c2s and answers `status`.
    pub fn start(opts: EjabberdOptions) -> Result<Ejabberd, TestbedError> {
        let (erl, erl_libs) = find_erlang()?;
        let tempdir = tempfile::Builder::new()
            .prefix("confab-ejabberd-")
            .tempdir()
            .map_err(|e| TestbedError::io("creating the temp dir", e))?;
        let dir = tempdir.path().to_path_buf();
        for d in ["spool", "logs", "contrib", "certs"] {
            let d = dir.join(d);
            fs::create_dir_all(&d)
                .map_err(|e| TestbedError::io(format!("creating {}", d.display()), e))?;
        }
        // The cookie of distribution: $HOME/.erlang.cookie, owner-only.
        write_file(&dir.join(".erlang.cookie"), &random_hex(20)?, 0o400)?;

        let certs = certs::generate(&[DOMAIN, MUC_DOMAIN])?;
        let ca_file = dir.join("ca.pem");
        write_file(&ca_file, &certs.ca_pem, 0o644)?;
        // ejabberd wants the leaf and its key in one PEM file.
        let pem = format!("{}{}", certs.leaf_pem, certs.leaf_key_pem);
        write_file(&dir.join("certs/localhost.pem"), &pem, 0o600)?;

        let component_secret = random_hex(16)?;
        let mut components = opts.components.clone();
        if !components.iter().any(|(jid, _)| jid == DEFAULT_COMPONENT) {
            components.insert(0, (DEFAULT_COMPONENT.to_string(), String::new()));
        }
        for (_, secret) in &mut components {
            if secret.is_empty() {
                secret.clone_from(&component_secret);
            }
        }

        let mut server = Ejabberd {
            config_path: dir.join("ejabberd.yml"),
            tempdir: Some(tempdir),
            node: format!("ejabberd_{}@localhost", random_hex(6)?),
            dir,
            ca_file,
            erl,
            erl_libs,
            child: None,
            ports: EjabberdPorts::pick()?,
            component_secret,
            components,
        };
        let mut last_err = None;
        for attempt in 0..BIND_ATTEMPTS {
            if attempt > 0 {
                server.ports = EjabberdPorts::pick()?;
            }
            write_file(&server.config_path, &server.render_config(&opts), 0o644)?;
            match server.spawn_and_wait() {
                Ok(()) => {
                    for (user, password) in &opts.accounts {
                        server.register(user, password)?;
                    }
                    return Ok(server);
                }
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

    /// All ports.
    pub fn ports(&self) -> EjabberdPorts {
        self.ports
    }

    /// The generated default component secret.
    pub fn component_secret(&self) -> &str {
        &self.component_secret
    }

    /// The declared external components, `(jid, secret)`.
    pub fn components(&self) -> &[(String, String)] {
        &self.components
    }

    /// `user@localhost`.
    pub fn jid(&self, user: &str) -> String {
        format!("{user}@{DOMAIN}")
    }

    /// PEM file of the test CA that signed the server certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The instance's temp dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The Erlang node name, `ejabberd_<random>@localhost`.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// ejabberd's main log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("logs/ejabberd.log")
    }

    /// The VM's pid, if it is running (as far as we know).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the VM is still alive.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Register (or re-password) `user@localhost`. The server must run.
    pub fn register(&self, user: &str, password: &str) -> Result<(), TestbedError> {
        let body = serde_json::json!({ "user": user, "host": DOMAIN, "password": password });
        match self.api("register", &body) {
            Ok(_) => Ok(()),
            // Already there: set the password instead, as prosodyctl does.
            Err(TestbedError::Api { output, .. }) if output.contains("already registered") => {
                let body = serde_json::json!({ "user": user, "host": DOMAIN, "newpass": password });
                self.api("change_password", &body).map(drop)
            }
            Err(e) => Err(e),
        }
    }

    /// Call an ejabberd command through `mod_http_api`
    /// (`POST /api/<command>` with a JSON body); the response body.
    pub fn api(&self, command: &str, body: &serde_json::Value) -> Result<String, TestbedError> {
        let body = body.to_string();
        let request = format!(
            "POST /api/{command} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let io_err = |e| TestbedError::io(format!("calling /api/{command}"), e);
        let mut sock =
            TcpStream::connect((Ipv4Addr::LOCALHOST, self.ports.http)).map_err(io_err)?;
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(io_err)?;
        sock.write_all(request.as_bytes()).map_err(io_err)?;
        let mut response = String::new();
        sock.read_to_string(&mut response).map_err(io_err)?;
        let status_ok = response.starts_with("HTTP/1.1 200");
        let body = response
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        if status_ok {
            Ok(body)
        } else {
            let status = response.lines().next().unwrap_or("no response").to_string();
            Err(TestbedError::Api {
                command: command.to_string(),
                output: format!("{status}: {body}"),
            })
        }
    }

    /// Run `ejabberdctl ARGS` against this node (a fresh Erlang VM that
    /// connects over distribution; most of a second). Its output on success.
    pub fn ctl(&self, args: &[&str]) -> Result<String, TestbedError> {
        let ctl_node = format!("ctl_{}@localhost", random_hex(6)?);
        let out = self
            .erl_command()
            .args(["-sname", &ctl_node, "-hidden", "-noinput"])
            .args(["-start_epmd", "false", "-dist_listen", "false"])
            .args(["-erl_epmd_port", &self.ports.dist.to_string()])
            .args(["-s", "ejabberd_ctl", "-extra", &self.node])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| TestbedError::io("running ejabberd_ctl", e))?;
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(output)
        } else {
            Err(TestbedError::Api {
                command: format!("ejabberdctl {}", args.join(" ")),
                output: format!("{}: {}", out.status, output.trim()),
            })
        }
    }

    /// Stop: SIGTERM (the VM shuts down cleanly), wait up to 10 s, then
    /// SIGKILL. Idempotent.
    pub fn stop(&mut self) {
        stop_child(self.child.take(), STOP_TIMEOUT);
    }

    /// SIGKILL right away (a crash). Idempotent; `restart()` brings it back.
    pub fn kill(&mut self) {
        kill_child(self.child.take());
    }

    /// Stop (if running) and start again: same node, config, ports and
    /// Mnesia data (accounts, rooms, archives); returns once ready.
    pub fn restart(&mut self) -> Result<(), TestbedError> {
        self.stop();
        retry_while_ports_in_use(|| self.spawn_and_wait())
    }

    /// The last `lines` lines of the log (plus the VM's stdout/stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log_path(), &self.dir, "ejabberd", lines)
    }

    fn render_config(&self, opts: &EjabberdOptions) -> String {
        let debug =
            opts.debug_log || env::var_os(EJABBERD_DEBUG_ENV).is_some_and(|v| !v.is_empty());
        let q = |p: &Path| yaml_str(&p.to_string_lossy());
        let EjabberdPorts {
            c2s,
            c2s_direct_tls,
            component,
            http,
            ..
        } = self.ports;
        let (level, cert, ca) = (
            if debug { "debug" } else { "info" },
            q(&self.dir.join("certs/localhost.pem")),
            q(&self.ca_file),
        );
        let mut services = String::new();
        for (jid, secret) in &self.components {
            let _ = write!(
                services,
                "\n      {}:\n        password: {}",
                yaml_str(jid),
                yaml_str(secret)
            );
        }
        let muc_hosts = std::iter::once(MUC_DOMAIN)
            .chain(opts.extra_muc_domains.iter().map(String::as_str))
            .map(|d| format!("\n      - {}", yaml_str(d)))
            .collect::<String>();
        let modules = MODULES
            .iter()
            .copied()
            .chain(opts.extra_modules.iter().map(String::as_str))
            .map(|m| format!("\n  {m}"))
            .collect::<String>();
        let (muc_extra, extra) = (&opts.muc_config, &opts.extra_config);
        let https = self.ports.https;
        let (upload_listener, upload_module) = match opts.upload_limit {
            Some(limit) => (
                format!(
                    "\n  -\n    port: {https}\n    ip: \"127.0.0.1\"\n    module: ejabberd_http\n    \
                     tls: true\n    request_handlers:\n      /upload: mod_http_upload"
                ),
                format!(
                    "\n  mod_http_upload:\n    put_url: \"https://localhost:{https}/upload\"\n    \
                     docroot: {}\n    max_size: {limit}\n    thumbnail: false\n    access: all",
                    q(&self.dir.join("upload"))
                ),
            ),
            None => (String::new(), String::new()),
        };
        format!(
            r#"# Generated by confab_testbed: a private, throw-away ejabberd.
loglevel: {level}
log_rotate_count: 0
hosts:
  - "{DOMAIN}"
language: en
certfiles:
  - {cert}
  - {ca}
ca_file: {ca}
# No server-to-server at all (nor a listener for it).
s2s_access: none
auth_method: internal
# Stored as SCRAM-SHA-256: offers SCRAM-SHA-256(-PLUS) (and PLAIN over TLS).
auth_password_format: scram
auth_scram_hash: sha256
disable_sasl_mechanisms: ["DIGEST-MD5", "X-OAUTH2"]
# No shapers, no stanza-size limit: tests flood on purpose.
shaper_rules:
  max_user_sessions: 100
  max_user_offline_messages: 10000
listen:
  -
    port: {c2s}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    shaper: none
  -
    port: {c2s_direct_tls}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    tls: true
    shaper: none
  -
    port: {component}
    ip: "127.0.0.1"
    module: ejabberd_service
    shaper: none
    hosts:{services}
  -
    port: {http}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api{upload_listener}
api_permissions:
  "testbed":
    from: [ejabberd_ctl, mod_http_api]
    who:
      ip: 127.0.0.1/8
    what: "*"
  "console":
    from: [ejabberd_ctl]
    who: all
    what: "*"
modules:{modules}{upload_module}
  mod_mam:
    default: always
  mod_muc:
    hosts:{muc_hosts}
    access: all
    access_create: all
    access_persistent: all
    access_mam: all
    history_size: 50
    max_user_conferences: 10000
    max_users: 1000
    default_room_options:
      mam: true
{muc_extra}
  mod_pubsub:
    access_createnode: all
    plugins: [flat, pep]
    force_node_config:
      "storage:bookmarks":
        access_model: whitelist
{extra}
"#
        )
    }

    /// The Erlang VM with our environment (and nothing inherited that
    /// would change it).
    fn erl_command(&self) -> Command {
        let mut cmd = Command::new(&self.erl);
        for var in ["ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_INETRC"] {
            cmd.env_remove(var);
        }
        cmd.current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("ERL_LIBS", &self.erl_libs)
            .env("ERL_EPMD_PORT", NO_EPMD_PORT)
            .env("EJABBERD_CONFIG_PATH", &self.config_path)
            .env("EJABBERD_LOG_PATH", self.log_path())
            .env("CONTRIB_MODULES_PATH", self.dir.join("contrib"))
            .env("ERL_CRASH_DUMP", self.dir.join("logs/erl_crash.dump"));
        cmd
    }

    /// Start the VM (as `ejabberdctl foreground-quiet` would) and wait.
    fn spawn_and_wait(&mut self) -> Result<(), TestbedError> {
        let log_path = self.log_path();
        let log_offset = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let out_offset = fs::metadata(self.dir.join("ejabberd.stderr"))
            .map(|m| m.len())
            .unwrap_or(0);
        let stdout = open_append(&self.dir.join("ejabberd.stdout"))?;
        let stderr = open_append(&self.dir.join("ejabberd.stderr"))?;
        let spool = format!("\"{}\"", self.dir.join("spool").display());
        let mut cmd = self.erl_command();
        cmd.args(["-sname", &self.node, "-noinput"])
            .args(["-start_epmd", "false"])
            .args(["-erl_epmd_port", &self.ports.dist.to_string()])
            .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
            // Few threads, and schedulers that sleep when idle: many
            // instances share small CI machines.
            .args([
                "+K", "true", "+Q", "4096", "+S", "2:2", "+SDio", "4", "+A", "2",
            ])
            .args(["+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none"])
            .args(["-mnesia", "dir", &spool])
            .args(["-ejabberd", "quiet", "true", "-s", "ejabberd"])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        // SAFETY: getpid/getppid/prctl are async-signal-safe.
        let parent = unsafe { libc::getpid() };
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(io::Error::other("parent exited before exec"));
                }
                Ok(())
            });
        }
        let child = spawn_from_long_lived_thread(cmd)
            .map_err(|e| TestbedError::io(format!("spawning {}", self.erl.display()), e))?;
        self.child = Some(child);
        let ready = self.wait_ready(log_offset, out_offset);
        if ready.is_err() {
            self.kill();
        }
        ready
    }

    fn wait_ready(&mut self, log_offset: u64, out_offset: u64) -> Result<(), TestbedError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let log_path = self.log_path();
        let err_path = self.dir.join("ejabberd.stderr");
        loop {
            let log = read_from(&log_path, log_offset);
            let err = read_from(&err_path, out_offset);
            let in_use = log.contains("eaddrinuse")
                || log.contains("Failed to open socket")
                || err.contains("eaddrinuse")
                || err.contains("already in use");
            let child = self.child.as_mut().expect("child just spawned");
            if let Some(status) = child
                .try_wait()
                .map_err(|e| TestbedError::io("waiting for ejabberd", e))?
            {
                self.child = None;
                if in_use {
                    return Err(TestbedError::PortsInUse {
                        attempts: 1,
                        log_tail: self.log_tail(40),
                    });
                }
                return Err(TestbedError::ExitedEarly {
                    status,
                    log_tail: self.log_tail(40),
                });
            }
            if in_use {
                return Err(TestbedError::PortsInUse {
                    attempts: 1,
                    log_tail: self.log_tail(40),
                });
            }
            // A crashed gen_server (e.g. the certificate store) leaves a
            // VM that runs but refuses TLS: fail now, with the reason.
            if log.contains("CRASH REPORT") {
                return Err(TestbedError::StartCrashed {
                    log_tail: self.log_tail(60),
                });
            }
            // "ejabberd 23.01 is started in the node N in 1.9s", then
            // "Start accepting TCP connections at 127.0.0.1:P for ..." per
            // listener: the ports are held by *this* VM.
            let all_bound = log.contains("is started in the node")
                && self
                    .ports
                    .listeners()
                    .iter()
                    .all(|p| log.contains(&format!("connections at 127.0.0.1:{p} for")));
            if all_bound
                && TcpStream::connect_timeout(
                    &(Ipv4Addr::LOCALHOST, self.ports.c2s).into(),
                    Duration::from_millis(500),
                )
                .is_ok()
                && self
                    .api("status", &serde_json::json!({}))
                    .is_ok_and(|s| s.contains("is running"))
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestbedError::StartTimeout {
                    timeout: READY_TIMEOUT,
                    log_tail: self.log_tail(40),
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Ejabberd {
    fn drop(&mut self) {
        let keep = env::var_os(EJABBERD_KEEP_ENV).is_some();
        if keep {
            self.stop();
        } else {
            self.kill();
        }
        release_dir(self.tempdir.take(), keep, "ejabberd");
    }
}

/// `erl` and the `ERL_LIBS` that holds ejabberd's applications, as
/// Debian's `ejabberdctl` sets them (`ERL="/usr/bin/erl"`,
/// `ERL_LIBS='/usr/lib/x86_64-linux-gnu'`).
fn find_erlang() -> Result<(PathBuf, String), TestbedError> {
    let script = fs::read_to_string(EJABBERDCTL).map_err(|_| TestbedError::EjabberdNotFound)?;
    let value = |name: &str| {
        script.lines().find_map(|l| {
            let rest = l.trim().strip_prefix(name)?.strip_prefix('=')?;
            Some(rest.trim_matches(|c| c == '"' || c == '\'').to_string())
        })
    };
    let erl = PathBuf::from(value("ERL").unwrap_or_else(|| "/usr/bin/erl".into()));
    let libs = value("ERL_LIBS").ok_or(TestbedError::EjabberdNotFound)?;
    let has_ejabberd = fs::read_dir(&libs).is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("ejabberd-")))
    });
    if !has_ejabberd || !erl.exists() {
        return Err(TestbedError::EjabberdNotFound);
    }
    Ok((erl, libs))
}

/// A YAML double-quoted scalar (JSON's escapes are YAML's).
fn yaml_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests;
