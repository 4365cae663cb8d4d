//! Configuration errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// A place in the config file: `file:line`, or just `file` when the line is
/// unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
}

impl Location {
    /// The location of byte offset `offset` of `text`, the content of `file`.
    pub(crate) fn at(file: &Path, text: &str, offset: Option<usize>) -> Self {
        let line = offset.map(|offset| {
            let end = offset.min(text.len());
            text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        });
        Location {
            file: file.to_owned(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// Everything that can go wrong while loading the configuration or fetching
/// a password. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file exists (or was given with `--config`) but cannot be read.
    #[error("cannot read config file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file is not valid TOML.
    #[error("{location}: invalid TOML: {message}")]
    Syntax { location: Location, message: String },

    /// A key that confab does not know (typo?).
    #[error(
        "{location}: unknown key \"{key}\" in {table} (expected one of {})",
        .expected.join(", ")
    )]
    UnknownKey {
        location: Location,
        key: String,
        /// `[accounts.work]`, `[history]` or `the top level`.
        table: String,
        expected: Vec<&'static str>,
    },

    /// A value of the wrong type or an invalid value; `key` is the dotted
    /// path, e.g. `accounts.work.tls`.
    #[error("{location}: {key}: {message}")]
    Invalid {
        location: Location,
        key: String,
        message: String,
    },

    /// An invalid command-line value; `flag` is e.g. `--server`.
    #[error("{flag}: {message}")]
    Cli { flag: &'static str, message: String },

    /// Neither the file nor the command line names an account.
    #[error(
        "no account configured: pass --jid USER@DOMAIN, or add an [accounts.NAME] table \
         with a jid to {}",
        .config_path.display()
    )]
    NoAccount { config_path: PathBuf },

    /// `--account NAME` names no account in the file.
    #[error("--account: no account named \"{name}\" in {} ({})", .config_path.display(), available_list(.available))]
    UnknownAccount {
        name: String,
        config_path: PathBuf,
        available: Vec<String>,
    },

    /// No home directory, so no default config/data/cache directories.
    #[error(
        "cannot determine the home directory (needed for the config, data and cache \
         directories); set HOME"
    )]
    NoHomeDir,

    #[error("password environment variable {var} is not set")]
    PasswordEnvUnset { var: String },

    #[error("password environment variable {var} is empty")]
    PasswordEnvEmpty { var: String },

    #[error("password environment variable {var} is not valid UTF-8")]
    PasswordEnvNotUnicode { var: String },

    #[error("cannot run password command `{command}`: {source}")]
    PasswordCommandSpawn {
        command: String,
        #[source]
        source: std::io::Error,
    },

    /// The command exited unsuccessfully; `stderr` holds the first lines of
    /// its standard error (its standard output is never kept).
    #[error("password command `{command}` failed ({status}){}", stderr_suffix(.stderr))]
    PasswordCommandFailed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },

    #[error("password command `{command}` printed no password")]
    PasswordCommandEmpty { command: String },

    #[error("password command `{command}` printed something that is not valid UTF-8")]
    PasswordCommandNotUnicode { command: String },

    /// No password source is configured: the caller should prompt on the terminal.
    #[error("no password configured for this account; it must be entered on the terminal")]
    NeedPrompt,
}

fn available_list(names: &[String]) -> String {
    if names.is_empty() {
        "it defines no accounts".to_owned()
    } else {
        format!("defined: {}", names.join(", "))
    }
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; stderr: {stderr}")
    }
}
