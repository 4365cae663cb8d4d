//! The log: `tracing` events to a file, never to the terminal (the TUI
//! owns the screen; `--batch`'s stdout is JSON lines only).
//!
//! - Where: `--log-file PATH` (that file, appended), else
//!   `confab.YYYY-MM-DD.log` in the log directory (the state directory,
//!   else the cache directory: [`crate::config::Paths::log_dir`]), a new
//!   file each day (UTC), the newest [`MAX_FILES`] kept
//!   (`tracing-appender`).
//! - How much: at start the oldest files go until the directory holds at
//!   most [`DIR_CAP`] bytes; one run writes at most [`RUN_CAP`] bytes (then
//!   one line says so and the rest is dropped).
//! - Mode 0600 (the directory 0700): the protocol trace is redacted
//!   (`session/xml.rs`), but the log still names rooms and contacts.
//! - What: `--log-level LEVEL` (for confab's crates; others stay at
//!   `warn`), else `RUST_LOG` (an `EnvFilter`), else `info`. The protocol
//!   trace is the `confab::xml` target at `trace`.
//! - No `log` → `tracing` bridge: tokio-xmpp writes raw stanzas (SASL
//!   included) to the `log` crate at trace; with no logger they go nowhere.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Daily files kept.
pub const MAX_FILES: usize = 7;
/// The log directory's size after the pruning at start.
pub const DIR_CAP: u64 = 64 << 20;
/// What one run writes at most.
pub const RUN_CAP: u64 = 64 << 20;

const PREFIX: &str = "confab";
const SUFFIX: &str = "log";
/// confab's crates: `--log-level` sets these, the rest stay at `warn`.
const CRATES: &[&str] = &[
    "confab",
    "confab_session",
    "confab_core",
    "confab_proto",
    "confab_media",
];

/// The levels `--log-level` takes.
pub const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// What the command line and the environment ask for.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `--log-level`.
    pub level: Option<String>,
    /// `RUST_LOG`.
    pub env: Option<String>,
    /// `--log-file`.
    pub file: Option<PathBuf>,
    /// The log directory (when no `--log-file`).
    pub dir: PathBuf,
}

/// The log is on.
pub struct LogGuard {
    /// Where the log goes.
    pub path: PathBuf,
}

/// The filter: `--log-level` wins over `RUST_LOG`, the default is `info`
/// for confab and `warn` for the rest.
pub fn filter(opts: &LogOptions) -> Result<EnvFilter, String> {
    if let Some(level) = &opts.level {
        if !LEVELS.contains(&level.as_str()) {
            return Err(format!(
                "--log-level: {level:?} is not one of {}",
                LEVELS.join(", ")
            ));
        }
        return Ok(EnvFilter::new(directives(level)));
    }
    match opts.env.as_deref().map(str::trim) {
        Some(env) if !env.is_empty() => {
            EnvFilter::try_new(env).map_err(|e| format!("RUST_LOG: {env:?}: {e}"))
        }
        _ => Ok(EnvFilter::new(directives("info"))),
    }
}

fn directives(level: &str) -> String {
    if level == "off" {
        return "off".into();
    }
    let mut d = String::from("warn");
    for c in CRATES {
        d.push_str(&format!(",{c}={level}"));
    }
    d
}

/// Starts the log; `Ok(None)` when the level is `off`.
pub fn init(opts: &LogOptions) -> Result<Option<LogGuard>, String> {
    let filter = filter(opts)?;
    if opts.level.as_deref() == Some("off") {
        return Ok(None);
    }
    let (writer, path) = match &opts.file {
        Some(file) => {
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                make_dir(parent)?;
            }
            let f = open_private(file)
                .map_err(|e| format!("cannot open the log file {}: {e}", file.display()))?;
            (Capped::new(Sink::File(f), None), file.clone())
        }
        None => {
            make_dir(&opts.dir)?;
            prune(&opts.dir, DIR_CAP);
            let today = file_name(&today());
            // Created 0600 before the appender opens it (it appends).
            open_private(&opts.dir.join(&today))
                .map_err(|e| format!("cannot open the log file in {}: {e}", opts.dir.display()))?;
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix(PREFIX)
                .filename_suffix(SUFFIX)
                .max_log_files(MAX_FILES)
                .build(&opts.dir)
                .map_err(|e| format!("cannot start the log in {}: {e}", opts.dir.display()))?;
            (
                Capped::new(Sink::Daily(appender), Some(opts.dir.clone())),
                opts.dir.join(today),
            )
        }
    };
    // Written where the event happens, under a lock: nothing is lost at
    // exit or in a crash, and nothing of the writer's own reaches stdout
    // (tracing-appender's non-blocking guard prints there when its queue
    // is stuck at exit).
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(writer))
        .with_ansi(false)
        .with_target(true)
        .try_init()
        .map_err(|e| format!("cannot start the log: {e}"))?;
    Ok(Some(LogGuard { path }))
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn file_name(date: &str) -> String {
    format!("{PREFIX}.{date}.{SUFFIX}")
}

fn make_dir(dir: &Path) -> Result<(), String> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| format!("cannot create the log directory {}: {e}", dir.display()))
}

/// Opens (creating, mode 0600) for appending.
fn open_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Deletes the oldest `confab.*.log` files of `dir` until the rest hold
/// at most `cap` bytes; returns how many went.
pub fn prune(dir: &Path, cap: u64) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            if !(name.starts_with(&format!("{PREFIX}.")) && name.ends_with(&format!(".{SUFFIX}"))) {
                return None;
            }
            let m = e.metadata().ok().filter(|m| m.is_file())?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    files.sort();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    let mut removed = 0;
    for (_, len, path) in files {
        if total <= cap {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            total -= len;
            removed += 1;
        }
    }
    removed
}

enum Sink {
    Daily(RollingFileAppender),
    File(File),
}

/// The writer: at most [`RUN_CAP`] bytes a run, and each day's file
/// created 0600 before the appender rolls to it.
pub struct Capped {
    sink: Sink,
    written: u64,
    full: bool,
    /// The daily files' directory and the date of the last write.
    daily: Option<(PathBuf, String)>,
}

impl Capped {
    fn new(sink: Sink, dir: Option<PathBuf>) -> Capped {
        Capped {
            sink,
            written: 0,
            full: false,
            daily: dir.map(|d| (d, today())),
        }
    }

    fn sink(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Daily(a) => a,
            Sink::File(f) => f,
        }
    }
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.full {
            return Ok(buf.len());
        }
        if let Some((dir, date)) = &mut self.daily {
            let now = today();
            if *date != now {
                let _ = open_private(&dir.join(file_name(&now)));
                *date = now;
            }
        }
        if self.written + buf.len() as u64 > RUN_CAP {
            self.full = true;
            let note = format!(
                "confab: this run's log reached {} MiB; nothing more is written\n",
                RUN_CAP >> 20
            );
            self.sink().write_all(note.as_bytes())?;
            return Ok(buf.len());
        }
        self.written += buf.len() as u64;
        self.sink().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(level: Option<&str>, env: Option<&str>) -> LogOptions {
        LogOptions {
            level: level.map(str::to_string),
            env: env.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn the_flag_wins_over_rust_log() {
        let f = filter(&opts(Some("trace"), Some("off")))
            .unwrap()
            .to_string();
        assert!(f.contains("confab_session=trace"), "{f}");
        assert!(f.ends_with(",warn"), "{f}");
        let f = filter(&opts(None, Some("confab::xml=trace")))
            .unwrap()
            .to_string();
        assert_eq!(f, "confab::xml=trace");
        let f = filter(&opts(None, None)).unwrap().to_string();
        assert!(f.contains("confab=info") && f.contains("warn"), "{f}");
        assert!(filter(&opts(Some("loud"), None)).is_err());
    }

    #[test]
    fn pruning_keeps_the_newest_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        for (i, day) in ["2026-01-01", "2026-01-02", "2026-01-03"]
            .iter()
            .enumerate()
        {
            let p = dir.path().join(file_name(day));
            fs::write(&p, vec![b'x'; 1000]).unwrap();
            let t =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i as u64);
            File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        fs::write(dir.path().join("other.txt"), vec![b'y'; 5000]).unwrap();
        assert_eq!(prune(dir.path(), 2000), 1);
        assert!(!dir.path().join(file_name("2026-01-01")).exists());
        assert!(dir.path().join(file_name("2026-01-03")).exists());
        assert!(dir.path().join("other.txt").exists());
    }

    #[test]
    fn a_run_stops_at_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut w = Capped::new(Sink::File(open_private(&path).unwrap()), None);
        w.written = RUN_CAP - 10;
        w.write_all(b"12345\n").unwrap();
        w.write_all(b"this line is past the cap\n").unwrap();
        w.write_all(b"and this one\n").unwrap();
        w.flush().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("12345\nconfab: this run's log reached"),
            "{text}"
        );
        assert!(!text.contains("past the cap"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
