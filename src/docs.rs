//! Documentation generated from the code: shell completions and the man
//! page from the clap definitions (`main.rs`'s arguments, handed in as a
//! `clap::Command`), the man page's slash-command section from the command
//! table. `confab completions SHELL` and `confab man` print them; the
//! copies under `assets/` are checked against them by a test
//! (`tests/it/cli.rs`), so they cannot drift.

use std::io::{self, Write};

use clap_complete::Shell;
use clap_mangen::roff::{Roff, bold, italic, roman};

use crate::command::table::{COMMANDS, CommandSpec};

/// Write the completion script of `shell` for `cmd` (named `confab`).
pub fn completions(shell: Shell, cmd: &mut clap::Command, out: &mut dyn Write) {
    clap_complete::generate(shell, cmd, "confab", out);
}

/// Write the man page (roff, section 1): clap_mangen's sections, then
/// the slash commands, the files and the exit status.
pub fn man_page(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if cmd.get_subcommands().next().is_some() {
        man.render_subcommands_section(out)?;
    }
    let mut roff = Roff::default();
    slash_commands(&mut roff);
    files(&mut roff);
    exit_status(&mut roff);
    roff.to_writer(out)?;
    man.render_version_section(out)
}

/// COMMANDS: every slash command of the command table, in `/help` order.
fn slash_commands(roff: &mut Roff) {
    roff.control("SH", ["COMMANDS"]);
    roff.text([roman(
        "In the TUI and in --batch scripts (one per line), these commands \
         are typed after a slash; a line without one is said in the current \
         room. /help COMMAND shows one command's details.",
    )]);
    for spec in COMMANDS {
        entry(roff, spec);
    }
}

fn entry(roff: &mut Roff, spec: &CommandSpec) {
    roff.control("TP", []);
    let mut usage = Vec::new();
    for (i, line) in spec.usage.lines().enumerate() {
        if i > 0 {
            usage.push(clap_mangen::roff::line_break());
        }
        usage.push(bold(line.trim()));
    }
    roff.text(usage);
    let mut help = vec![roman(spec.help)];
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("/{a}")).collect();
        help.push(roman(format!(" (also {})", aliases.join(", "))));
    }
    roff.text(help);
    for opt in spec.options {
        roff.control("RS", []);
        let name = match opt.value {
            Some(value) => format!("{} {value}", opt.name),
            None => opt.name.to_owned(),
        };
        roff.text([italic(name), roman(format!(": {}", opt.help))]);
        roff.control("RE", []);
    }
}

fn files(roff: &mut Roff) {
    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([italic("$XDG_CONFIG_HOME/confab/config.toml")]);
    roff.text([roman(
        "The config file (accounts, [history], [chatting], [ui], [theme], \
         [keys]); --config names another. confab --print-config shows the \
         resolved configuration, confab --check-config checks it.",
    )]);
    roff.control("TP", []);
    roff.text([italic("$XDG_DATA_HOME/confab/history.sqlite3")]);
    roff.text([roman("The message history (none with --no-history).")]);
}

fn exit_status(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman(
        "0 on success; 1 when a --batch run failed (a command, the connection); \
         2 for an invalid configuration or command line.",
    )]);
}
