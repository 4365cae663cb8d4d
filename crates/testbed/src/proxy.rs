//! A TCP relay on loopback between a client and a server's port that can
//! break the connections the way networks do: [`Proxy::cut`] closes them
//! both ways (FIN to each side), [`Proxy::freeze`] silently stops
//! forwarding in both directions and keeps the sockets open (no FIN: a
//! suspended laptop, a changed Wi-Fi), [`Proxy::refuse`] closes new
//! connections at once for a while. New connections after a cut or a
//! freeze are relayed normally.
//!
//! Plain threads and blocking sockets: the tests that use it are
//! synchronous.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const FORWARD: u8 = 0;
const FROZEN: u8 = 1;
const CLOSED: u8 = 2;

/// One relayed connection: both sockets, and what the pumps do.
struct Link {
    client: TcpStream,
    server: TcpStream,
    mode: AtomicU8,
}

impl Link {
    fn close(&self) {
        self.mode.store(CLOSED, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

struct Shared {
    target: SocketAddr,
    links: Mutex<Vec<Arc<Link>>>,
    refuse: AtomicBool,
    stop: AtomicBool,
    accepted: AtomicUsize,
}

/// The relay; everything it holds is closed when it is dropped.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port and relays each connection to
    /// `target`.
    pub fn start(target: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            target,
            links: Mutex::new(Vec::new()),
            refuse: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
        });
        let s = shared.clone();
        thread::Builder::new()
            .name(format!("proxy-{port}"))
            .spawn(move || accept_loop(listener, s))?;
        Ok(Proxy { port, shared })
    }

    /// The loopback port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, for a client's `--server`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections relayed so far (a reconnection makes one more).
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections currently relayed (not cut, not frozen).
    pub fn live(&self) -> usize {
        self.links()
            .iter()
            .filter(|l| l.mode.load(Ordering::SeqCst) == FORWARD)
            .count()
    }

    /// Closes every current connection both ways (each side reads EOF).
    pub fn cut(&self) {
        for l in self.take_links() {
            l.close();
        }
    }

    /// Silently stops forwarding on every current connection, both
    /// directions, and keeps its sockets open: neither side learns
    /// anything until its own timeouts fire. What was in flight is lost.
    /// The sockets are closed when the proxy is dropped.
    pub fn freeze(&self) {
        for l in self.links().iter() {
            if l.mode.load(Ordering::SeqCst) == FORWARD {
                l.mode.store(FROZEN, Ordering::SeqCst);
            }
        }
    }

    /// While `true`, new connections are closed as soon as accepted.
    pub fn refuse(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    fn links(&self) -> Vec<Arc<Link>> {
        self.shared
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn take_links(&self) -> Vec<Arc<Link>> {
        let mut links = self.shared.links.lock().unwrap_or_else(|e| e.into_inner());
        let (gone, kept): (Vec<_>, Vec<_>) = links
            .drain(..)
            .partition(|l| l.mode.load(Ordering::SeqCst) != FROZEN);
        *links = kept;
        gone
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let links =
            std::mem::take(&mut *self.shared.links.lock().unwrap_or_else(|e| e.into_inner()));
        for l in links {
            l.close();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((c, _)) => c,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(_) => continue,
        };
        if shared.refuse.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let _ = client.set_nonblocking(false);
        let server = match TcpStream::connect_timeout(&shared.target, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(_) => {
                // The server is down: the client sees the connection end.
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        let link = Arc::new(Link {
            client,
            server,
            mode: AtomicU8::new(FORWARD),
        });
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        shared
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(link.clone());
        let (l1, l2) = (link.clone(), link);
        let (Ok(c3), Ok(s3)) = (c2.try_clone(), s2.try_clone()) else {
            continue;
        };
        thread::spawn(move || pump(c2, s2, l1));
        thread::spawn(move || pump(s3, c3, l2));
    }
}

/// Copies `from` → `to` while the link forwards; frozen, what is read is
/// dropped (lost in flight) and nothing is written; closed, it ends (and
/// an end of either side ends the link).
fn pump(mut from: TcpStream, mut to: TcpStream, link: Arc<Link>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match link.mode.load(Ordering::SeqCst) {
            FORWARD => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            FROZEN => continue,
            _ => break,
        }
    }
    // A frozen link stays silent: no FIN to the other side.
    if link.mode.load(Ordering::SeqCst) != FROZEN {
        link.close();
    }
}
