//! Process and file helpers shared by the Prosody and ejabberd harnesses:
//! spawning from a long-lived thread, stopping and killing, temp dirs,
//! files, log tails, random hex.

use std::fmt::Write as _;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use tempfile::TempDir;

use super::super::TestbedError;

/// Spawn `cmd` from one process-wide thread that never exits.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// not the process. Test threads and tokio blocking-pool threads come and
/// go, so forking from them would kill the server as soon as that thread
/// finished. Forking from a dedicated immortal thread ties the server's life
/// to the process instead.
pub(in super::super) fn spawn_from_long_lived_thread(cmd: Command) -> io::Result<Child> {
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

pub(super) fn find_on_path(program: &'static str) -> Result<PathBuf, TestbedError> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .ok_or(TestbedError::ProsodyNotFound { program })
}

pub(in super::super) fn write_file(
    path: &Path,
    contents: &str,
    mode: u32,
) -> Result<(), TestbedError> {
    fs::write(path, contents)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(|e| TestbedError::io(format!("writing {}", path.display()), e))
}

pub(in super::super) fn open_append(path: &Path) -> Result<fs::File, TestbedError> {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| TestbedError::io(format!("opening {}", path.display()), e))
}

pub(in super::super) fn read_from(path: &Path, offset: u64) -> String {
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
pub(in super::super) fn stop_child(child: Option<Child>, timeout: Duration) {
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
pub(in super::super) fn release_dir(dir: Option<TempDir>, keep: bool, what: &str) {
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
pub(in super::super) fn kill_child(child: Option<Child>) {
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The last `lines` lines of a server's log, plus anything on its
/// `NAME.stdout`/`NAME.stderr` in `dir`.
pub(in super::super) fn log_tail(log: &Path, dir: &Path, name: &str, lines: usize) -> String {
    let mut out = tail_of_file(log, 0, lines);
    for stream in ["stdout", "stderr"] {
        let t = tail_of_file(&dir.join(format!("{name}.{stream}")), 0, lines);
        if !t.trim().is_empty() {
            let _ = write!(out, "\n--- {name}.{stream} ---\n{t}");
        }
    }
    out
}

pub(in super::super) fn tail_of_file(path: &Path, offset: u64, lines: usize) -> String {
    let text = read_from(path, offset);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub(in super::super) fn random_hex(bytes: usize) -> Result<String, TestbedError> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| TestbedError::io("reading /dev/urandom", e))?;
    Ok(buf.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// `n` distinct loopback ports that are free now, chosen at random *below*
/// the kernel's ephemeral range (`ip_local_port_range`).
///
/// A port from the ephemeral range (what binding to port 0 gives) can be
/// taken as the local end of any outgoing connection on the machine while
/// the server is down for a `restart()`, and the restart then fails with
/// `eaddrinuse`. Below that range only a listener can take it.
pub(in super::super) fn free_loopback_ports(n: usize) -> Result<Vec<u16>, TestbedError> {
    let low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    // Fall back to the ephemeral range if the one below it is too small.
    let (start, end) = if low > 11_000 { (10_000, low) } else { (0, 0) };
    let mut ports = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut found = None;
        for _ in 0..200 {
            let port = if start < end {
                let mut b = [0u8; 2];
                getrandom::fill(&mut b).map_err(|e| {
                    TestbedError::io(
                        "picking free loopback ports",
                        io::Error::other(e.to_string()),
                    )
                })?;
                start + u16::from_le_bytes(b) % (end - start)
            } else {
                0
            };
            if ports.contains(&port) && port != 0 {
                continue;
            }
            if let Ok(l) = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)) {
                let port = l
                    .local_addr()
                    .map_err(|e| TestbedError::io("picking free loopback ports", e))?
                    .port();
                held.push(l);
                found = Some(port);
                break;
            }
        }
        let port = found.ok_or_else(|| {
            TestbedError::io(
                "picking free loopback ports",
                io::Error::new(io::ErrorKind::AddrInUse, "no free port after 200 tries"),
            )
        })?;
        ports.push(port);
    }
    drop(held);
    Ok(ports)
}

/// A restart keeps its ports (clients reconnect to them), so when one is
/// briefly held by someone else, wait for it rather than give up: up to
/// 10 attempts, 1 s apart.
pub(in super::super) fn retry_while_ports_in_use(
    mut start: impl FnMut() -> Result<(), TestbedError>,
) -> Result<(), TestbedError> {
    let mut attempt = 1;
    loop {
        match start() {
            Err(TestbedError::PortsInUse { .. }) if attempt < 10 => {
                attempt += 1;
                thread::sleep(Duration::from_secs(1));
            }
            Err(TestbedError::PortsInUse { log_tail, .. }) => {
                return Err(TestbedError::PortsInUse {
                    attempts: attempt,
                    log_tail,
                });
            }
            other => return other,
        }
    }
}
