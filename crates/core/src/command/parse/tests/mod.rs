//! Tests of the command parser: helpers shared by the test modules, which
//! are split by the commands they cover.

mod directory;
mod general;
mod rooms;
mod table_and_parser;
mod waiting;

use super::*;
use crate::command::{DEFAULT_WAIT, Show, Wait, WaitKind, tokenize};

fn r(jid: &str) -> BareJid {
    BareJid::new(jid).unwrap()
}

fn ok(line: &str) -> Command {
    parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// (column, message) of a failing parse.
fn err(line: &str) -> (usize, String) {
    match parse(line) {
        Ok(cmd) => panic!("{line:?} parsed as {cmd:?}"),
        Err(e) => {
            // The message always names the column it reports.
            assert!(e.message.contains(&format!("column {}", e.column)), "{e}");
            assert_eq!(e.to_string(), e.message);
            (e.column, e.message)
        }
    }
}

fn texts(line: &str) -> Vec<String> {
    tokenize(line)
        .unwrap()
        .into_iter()
        .map(|t| t.text)
        .collect()
}

fn wait(kind: WaitKind, secs: f64) -> Command {
    Command::Wait(Wait {
        kind,
        timeout: Duration::from_secs_f64(secs),
    })
}
