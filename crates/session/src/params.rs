//! What a connection needs from the configuration: the password and how
//! TLS is negotiated. The config module re-exports both.

use std::fmt;

/// A password (or other secret). Its `Debug` and `Display` output is always
/// `********`; the value is only reachable through [`Secret::expose`].
/// The buffer is overwritten when the secret is dropped (best effort).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Same length, so this overwrites the existing buffer in place.
        let zeros = "\0".repeat(self.0.len());
        self.0.replace_range(.., &zeros);
        std::hint::black_box(&self.0);
    }
}

/// How TLS is negotiated with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain TCP upgraded with STARTTLS (default, port 5222).
    #[default]
    StartTls,
    /// TLS from the first byte (XEP-0368, port 5223).
    Direct,
}

impl TlsMode {
    /// The port used when none is given.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::StartTls => 5222,
            TlsMode::Direct => 5223,
        }
    }

    /// The spelling used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::StartTls => "starttls",
            TlsMode::Direct => "direct",
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
