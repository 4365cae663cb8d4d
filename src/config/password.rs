//! Fetching passwords from their [`PasswordSource`].

use std::ffi::OsString;
use std::process::{Command, Output, Stdio};

use super::{Config, ConfigError, PasswordSource, Secret};

/// How many lines of a failed command's stderr go into the error.
const STDERR_LINES: usize = 5;
/// Longest stderr line kept (in characters).
const STDERR_LINE_CHARS: usize = 200;

/// A warning when the account's password is written in a config file that
/// its group or others may read (mode & 0o077), e.g. `confab: warning:
/// /home/u/.config/confab/config.toml holds a password and others may read
/// it (mode 0644): chmod 600 it, or use password_command`.
pub fn password_file_warning(config: &Config) -> Option<String> {
    if !matches!(config.account.password, PasswordSource::File(_)) {
        return None;
    }
    let path = config.paths.config_file.as_ref()?;
    let mode = file_mode(path)?;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} holds the password of account {} and others may read it (mode {:04o}): \
             chmod 600 it, or use password_command or password_env",
            path.display(),
            config.account.name,
            mode & 0o7777
        )
    })
}

#[cfg(unix)]
fn file_mode(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_: &std::path::Path) -> Option<u32> {
    None
}

/// Fetch the password.
///
/// * `Env(var)`: the variable's value; an error if it is unset or empty
///   (naming the variable, never the value).
/// * `Command(cmd)`: run `sh -c cmd` with stdin from /dev/null; its standard
///   output, minus one trailing newline, is the password. A non-zero exit is
///   an error carrying the exit status and the first lines of stderr (never
///   stdout); empty output is an error.
/// * `File(password)`: the config file's `password` key.
/// * `Prompt`: `Err(ConfigError::NeedPrompt)`; the caller asks on the terminal.
///
/// This blocks while the command runs.
pub fn resolve_password(source: &PasswordSource) -> Result<Secret, ConfigError> {
    resolve_with_env(source, |var| std::env::var_os(var))
}

/// [`resolve_password`] with the environment lookup supplied (for tests,
/// which must not modify the process environment).
pub(crate) fn resolve_with_env(
    source: &PasswordSource,
    getenv: impl Fn(&str) -> Option<OsString>,
) -> Result<Secret, ConfigError> {
    match source {
        PasswordSource::Env(var) => {
            let value =
                getenv(var).ok_or_else(|| ConfigError::PasswordEnvUnset { var: var.clone() })?;
            let value = value
                .into_string()
                .map_err(|_| ConfigError::PasswordEnvNotUnicode { var: var.clone() })?;
            if value.is_empty() {
                return Err(ConfigError::PasswordEnvEmpty { var: var.clone() });
            }
            Ok(Secret::new(value))
        }
        PasswordSource::Command(command) => run_command(command),
        PasswordSource::File(password) => Ok(password.0.clone()),
        PasswordSource::Prompt => Err(ConfigError::NeedPrompt),
    }
}

fn run_command(command: &str) -> Result<Secret, ConfigError> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| ConfigError::PasswordCommandSpawn {
            command: command.to_owned(),
            source,
        })?;
    // `stdout` may hold the password: it must not reach any error, and it is
    // wiped on every path (`Secret`'s drop, or explicitly if not UTF-8).
    let Output {
        status,
        stdout,
        stderr,
    } = output;
    let stdout = match String::from_utf8(stdout) {
        Ok(text) => Some(Secret::new(text)),
        Err(e) => {
            let mut bytes = e.into_bytes();
            bytes.fill(0);
            std::hint::black_box(&bytes);
            None
        }
    };
    if !status.success() {
        return Err(ConfigError::PasswordCommandFailed {
            command: command.to_owned(),
            status,
            stderr: stderr_excerpt(&stderr),
        });
    }
    let Some(stdout) = stdout else {
        return Err(ConfigError::PasswordCommandNotUnicode {
            command: command.to_owned(),
        });
    };
    let text = stdout.expose();
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return Err(ConfigError::PasswordCommandEmpty {
            command: command.to_owned(),
        });
    }
    Ok(Secret::new(text.to_owned()))
}

/// The first few non-empty lines of `stderr`, shortened, control characters
/// removed, joined with " | ".
fn stderr_excerpt(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let more = lines.len() > STDERR_LINES;
    lines.truncate(STDERR_LINES);
    for line in &mut lines {
        if line.chars().count() > STDERR_LINE_CHARS {
            *line = line.chars().take(STDERR_LINE_CHARS).collect::<String>() + "…";
        }
    }
    let mut out = lines.join(" | ");
    if more {
        out.push_str(" | …");
    }
    out
}
