//! A tiny authoritative DNS responder on loopback UDP for the discovery
//! tests: it answers the SRV and A records it was given for made-up
//! domains, NOERROR with no answer for another type of a known name, and
//! NXDOMAIN for anything else. Real DNS messages (hickory-proto's types)
//! to confab's real resolver; it remembers every question asked.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use hickory_proto::op::{Message, MessageType, Metadata, ResponseCode};
use hickory_proto::rr::rdata::{A, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::TestbedError;

/// One record the responder serves. Names are absolute or not (a trailing
/// dot is added); `target = "."` is the "no service" SRV target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRecord {
    Srv {
        name: String,
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    A {
        name: String,
        ip: Ipv4Addr,
    },
}

impl DnsRecord {
    /// `_xmpp-client._tcp.DOMAIN` (STARTTLS).
    pub fn xmpp(domain: &str, priority: u16, weight: u16, target: &str, port: u16) -> Self {
        Self::srv(
            format!("_xmpp-client._tcp.{domain}"),
            priority,
            weight,
            target,
            port,
        )
    }

    /// `_xmpps-client._tcp.DOMAIN` (direct TLS, XEP-0368).
    pub fn xmpps(domain: &str, priority: u16, weight: u16, target: &str, port: u16) -> Self {
        Self::srv(
            format!("_xmpps-client._tcp.{domain}"),
            priority,
            weight,
            target,
            port,
        )
    }

    fn srv(name: String, priority: u16, weight: u16, target: &str, port: u16) -> Self {
        DnsRecord::Srv {
            name,
            priority,
            weight,
            port,
            target: target.to_owned(),
        }
    }

    /// `NAME A 127.0.0.1`.
    pub fn loopback(name: &str) -> Self {
        DnsRecord::A {
            name: name.to_owned(),
            ip: Ipv4Addr::LOCALHOST,
        }
    }

    fn name(&self) -> &str {
        match self {
            DnsRecord::Srv { name, .. } | DnsRecord::A { name, .. } => name,
        }
    }

    fn to_record(&self) -> Result<Record, String> {
        let name = absolute(self.name())?;
        let data = match self {
            DnsRecord::Srv {
                priority,
                weight,
                port,
                target,
                ..
            } => {
                let target = if target == "." {
                    Name::root()
                } else {
                    absolute(target)?
                };
                RData::SRV(SRV::new(*priority, *weight, *port, target))
            }
            DnsRecord::A { ip, .. } => RData::A(A(*ip)),
        };
        Ok(Record::from_rdata(name, 5, data))
    }
}

fn absolute(name: &str) -> Result<Name, String> {
    let mut n = Name::from_ascii(name).map_err(|e| format!("{name:?}: {e}"))?;
    n.set_fqdn(true);
    Ok(n.to_lowercase())
}

/// The responder; stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    questions: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DnsServer {
    /// Serve `records` on a free UDP port of 127.0.0.1.
    pub fn start(records: &[DnsRecord]) -> Result<DnsServer, TestbedError> {
        let records = records
            .iter()
            .map(DnsRecord::to_record)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TestbedError::io("a DNS test record", io::Error::other(e)))?;
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| TestbedError::io("binding the DNS responder", e))?;
        let addr = socket
            .local_addr()
            .map_err(|e| TestbedError::io("binding the DNS responder", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let questions = Arc::new(Mutex::new(Vec::new()));
        let (stop2, questions2) = (stop.clone(), questions.clone());
        let thread = thread::Builder::new()
            .name("confab-testbed-dns".into())
            .spawn(move || serve(&socket, &records, &stop2, &questions2))
            .map_err(|e| TestbedError::io("starting the DNS responder", e))?;
        Ok(DnsServer {
            addr,
            stop,
            questions,
            thread: Some(thread),
        })
    }

    /// Where it listens: give it to `--resolver`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every question so far, as `"name. TYPE"` (lower case).
    pub fn questions(&self) -> Vec<String> {
        self.questions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking receive.
        if let Ok(s) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
            let _ = s.send_to(&[0], self.addr);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(socket: &UdpSocket, records: &[Record], stop: &AtomicBool, log: &Mutex<Vec<String>>) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(request) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        if let Some(bytes) = answer(&request, records, log) {
            let _ = socket.send_to(&bytes, peer);
        }
    }
}

/// The response to one query, encoded.
fn answer(request: &Message, records: &[Record], log: &Mutex<Vec<String>>) -> Option<Vec<u8>> {
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata = Metadata::response_from_request(&request.metadata);
    response.metadata.authoritative = true;
    response.metadata.recursion_available = true;
    response.edns = request.edns.clone();
    let mut known = false;
    for query in &request.queries {
        let name = query.name().to_lowercase();
        let qtype = query.query_type();
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("{} {qtype}", name.to_ascii()));
        response.add_query(query.clone());
        for r in records.iter().filter(|r| r.name == name) {
            known = true;
            if qtype == RecordType::ANY || r.record_type() == qtype {
                response.add_answer(r.clone());
            }
        }
    }
    if !known {
        response.metadata.response_code = ResponseCode::NXDomain;
    }
    response.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_known_names_and_nxdomain_otherwise() {
        let records = [
            DnsRecord::xmpp("example.test", 5, 10, "xmpp.example.test", 5222)
                .to_record()
                .unwrap(),
            DnsRecord::loopback("xmpp.example.test")
                .to_record()
                .unwrap(),
        ];
        let log = Mutex::new(Vec::new());
        let ask = |name: &str, t: RecordType| {
            let mut q = Message::query();
            q.add_query(hickory_proto::op::Query::query(absolute(name).unwrap(), t));
            let bytes = answer(&q, &records, &log).unwrap();
            Message::from_vec(&bytes).unwrap()
        };
        let r = ask("_xmpp-client._tcp.EXAMPLE.test", RecordType::SRV);
        assert_eq!(r.metadata.response_code, ResponseCode::NoError);
        assert_eq!(r.answers.len(), 1);
        let r = ask("xmpp.example.test", RecordType::AAAA);
        assert_eq!(r.metadata.response_code, ResponseCode::NoError);
        assert!(r.answers.is_empty());
        let r = ask("nothing.test", RecordType::A);
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(log.lock().unwrap().len(), 3);
    }
}
