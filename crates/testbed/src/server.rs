//! What every test server can do, so one test body runs on Prosody and on
//! ejabberd alike.

use std::path::Path;

use super::{DOMAIN, Ejabberd, EjabberdOptions, MUC_DOMAIN, Prosody, ProsodyOptions, TestbedError};

/// Stanzas a server with stream management keeps for a lost stream
/// (Prosody's `smacks_max_queue_size`, ejabberd's `max_ack_queue`).
const SM_QUEUE: u32 = 10_000;

/// Which server implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// Prosody 0.12 (the default test server).
    Prosody,
    /// ejabberd 23.01.
    Ejabberd,
}

impl ServerKind {
    /// Both, Prosody first.
    pub const ALL: [ServerKind; 2] = [ServerKind::Prosody, ServerKind::Ejabberd];

    /// `"prosody"` / `"ejabberd"`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Prosody => "prosody",
            ServerKind::Ejabberd => "ejabberd",
        }
    }

    /// Start a private instance of this kind with `(user, password)`
    /// accounts on `localhost`.
    pub fn start(self, accounts: &[(&str, &str)]) -> Result<Box<dyn TestServer>, TestbedError> {
        self.start_with(accounts, None)
    }

    /// Like [`start`](Self::start), with XEP-0198 stream management on
    /// (off by default: other tests rely on a killed client leaving its
    /// rooms at once) and resumable for `resume_secs` after a lost
    /// connection: Prosody's `mod_smacks`, ejabberd's `mod_stream_mgmt`.
    pub fn start_with_stream_management(
        self,
        accounts: &[(&str, &str)],
        resume_secs: u32,
    ) -> Result<Box<dyn TestServer>, TestbedError> {
        self.start_with(accounts, Some(resume_secs))
    }

    /// Like [`start`](Self::start), with an XEP-0363 upload service on
    /// `upload.localhost` taking files up to `limit` bytes over HTTPS
    /// (Prosody's `mod_http_file_share`, ejabberd's `mod_http_upload`).
    pub fn start_with_upload(
        self,
        accounts: &[(&str, &str)],
        limit: u64,
    ) -> Result<Box<dyn TestServer>, TestbedError> {
        self.start_opts(accounts, None, Some(limit))
    }

    fn start_with(
        self,
        accounts: &[(&str, &str)],
        sm: Option<u32>,
    ) -> Result<Box<dyn TestServer>, TestbedError> {
        self.start_opts(accounts, sm, None)
    }

    fn start_opts(
        self,
        accounts: &[(&str, &str)],
        sm: Option<u32>,
        upload: Option<u64>,
    ) -> Result<Box<dyn TestServer>, TestbedError> {
        Ok(match self {
            ServerKind::Prosody => {
                let mut opts = accounts
                    .iter()
                    .fold(ProsodyOptions::new(), |o, (u, p)| o.account(*u, *p));
                opts.file_share_limit = upload;
                if let Some(secs) = sm {
                    opts.extra_modules.push("smacks".into());
                    // The queue for a lost stream holds a test's floods
                    // (the default 500 makes a resumption after 500
                    // stanzas to us impossible).
                    opts.extra_global_config.push_str(&format!(
                        "smacks_hibernation_time = {secs}\nsmacks_max_queue_size = {SM_QUEUE}\n"
                    ));
                }
                Box::new(Prosody::start(opts)?)
            }
            ServerKind::Ejabberd => {
                let mut opts = accounts
                    .iter()
                    .fold(EjabberdOptions::new(), |o, (u, p)| o.account(*u, *p));
                opts.upload_limit = upload;
                if let Some(secs) = sm {
                    opts.extra_modules.push(format!(
                        "mod_stream_mgmt: {{resume_timeout: {secs}, max_ack_queue: {SM_QUEUE}}}"
                    ));
                }
                Box::new(Ejabberd::start(opts)?)
            }
        })
    }
}

impl std::fmt::Display for ServerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A private test server: ports, names, trust, accounts and its life.
pub trait TestServer: Send + Sync {
    /// Which implementation this is.
    fn kind(&self) -> ServerKind;
    /// The STARTTLS client port on 127.0.0.1.
    fn c2s_port(&self) -> u16;
    /// The direct-TLS (XEP-0368) client port on 127.0.0.1.
    fn c2s_direct_tls_port(&self) -> u16;
    /// The XEP-0114 component port on 127.0.0.1.
    fn component_port(&self) -> u16;
    /// The secret of components declared without one.
    fn component_secret(&self) -> &str;
    /// The declared external components, `(jid, secret)`.
    fn components(&self) -> &[(String, String)];
    /// The PEM file of the test CA that signed the server certificate.
    fn ca_file(&self) -> &Path;
    /// The instance's temp dir.
    fn dir(&self) -> &Path;
    /// Register (or re-password) `user@localhost`.
    fn register(&self, user: &str, password: &str) -> Result<(), TestbedError>;
    /// Stop cleanly (idempotent).
    fn stop(&mut self);
    /// SIGKILL, a crash (idempotent).
    fn kill(&mut self);
    /// Start again with the same ports and data; returns once ready.
    fn restart(&mut self) -> Result<(), TestbedError>;
    /// The last `lines` of its log.
    fn log_tail(&self, lines: usize) -> String;
    /// The server's pid while it runs.
    fn pid(&self) -> Option<u32>;

    /// `"localhost"`.
    fn domain(&self) -> &str {
        DOMAIN
    }
    /// `"conference.localhost"`.
    fn muc_domain(&self) -> &str {
        MUC_DOMAIN
    }
    /// `user@localhost`.
    fn jid(&self, user: &str) -> String {
        format!("{user}@{}", self.domain())
    }
}

/// Both servers have the same inherent methods; the trait only forwards.
macro_rules! forward {
    ($ty:ty, $kind:expr) => {
        impl TestServer for $ty {
            fn kind(&self) -> ServerKind {
                $kind
            }
            fn c2s_port(&self) -> u16 {
                <$ty>::c2s_port(self)
            }
            fn c2s_direct_tls_port(&self) -> u16 {
                <$ty>::c2s_direct_tls_port(self)
            }
            fn component_port(&self) -> u16 {
                <$ty>::component_port(self)
            }
            fn component_secret(&self) -> &str {
                <$ty>::component_secret(self)
            }
            fn components(&self) -> &[(String, String)] {
                <$ty>::components(self)
            }
            fn ca_file(&self) -> &Path {
                <$ty>::ca_file(self)
            }
            fn dir(&self) -> &Path {
                <$ty>::dir(self)
            }
            fn register(&self, user: &str, password: &str) -> Result<(), TestbedError> {
                <$ty>::register(self, user, password)
            }
            fn stop(&mut self) {
                <$ty>::stop(self)
            }
            fn kill(&mut self) {
                <$ty>::kill(self)
            }
            fn restart(&mut self) -> Result<(), TestbedError> {
                <$ty>::restart(self)
            }
            fn log_tail(&self, lines: usize) -> String {
                <$ty>::log_tail(self, lines)
            }
            fn pid(&self) -> Option<u32> {
                <$ty>::pid(self)
            }
        }
    };
}

forward!(Prosody, ServerKind::Prosody);
forward!(Ejabberd, ServerKind::Ejabberd);
