//! The command line without a server: `confab completions SHELL`, `confab
//! man`, `--check-config`, `--print-config`, and the files under `assets/`
//! (generated ones must be what the binary prints; examples must parse).
//!
//! `CONFAB_BLESS_ASSETS=1 cargo nextest run -E 'test(generated_assets)'`
//! rewrites the generated files after a change to the options or the
//! command table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::confab_bin;

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

/// `confab ARGS` with a private (empty) HOME and XDG directories.
fn confab(home: &Path, args: &[&str]) -> Output {
    Command::new(confab_bin())
        .args(args)
        .env("HOME", home)
        .envs(confab_testbed::confab_xdg_dirs(home))
        .env_remove("CONFAB_PASSWORD")
        .output()
        .expect("run confab")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn generated_assets_are_what_the_binary_prints() {
    let home = tempfile::tempdir().unwrap();
    let bless = std::env::var_os("CONFAB_BLESS_ASSETS").is_some();
    let files = [
        (vec!["completions", "bash"], "completions/confab.bash"),
        (vec!["completions", "zsh"], "completions/confab.zsh"),
        (vec!["completions", "fish"], "completions/confab.fish"),
        (vec!["man"], "confab.1"),
    ];
    let mut stale = Vec::new();
    for (args, file) in files {
        let out = confab(home.path(), &args);
        assert!(out.status.success(), "confab {args:?}: {}", stderr(&out));
        let generated = stdout(&out);
        let path = assets().join(file);
        if bless {
            std::fs::write(&path, &generated).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(generated.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "assets/{stale:?} differ from what confab prints: \
         CONFAB_BLESS_ASSETS=1 cargo nextest run -E 'test(generated_assets)' rewrites them"
    );
}

#[test]
fn completions_know_the_options_and_subcommands() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = confab(home.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in [
            "--jid",
            "--batch",
            "--print-config",
            "--check-config",
            "completions",
            "man",
        ] {
            // fish spells a long option `-l jid`.
            let needle = match word.strip_prefix("--") {
                Some(long) if shell == "fish" => format!("-l {long}"),
                _ => word.to_owned(),
            };
            assert!(script.contains(&needle), "{shell} completion lacks {word}");
        }
    }
    let out = confab(home.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn man_page_has_the_options_and_the_slash_commands() {
    let home = tempfile::tempdir().unwrap();
    let out = confab(home.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let man = stdout(&out);
    assert!(man.starts_with(".ie") || man.starts_with(".TH"), "{man}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH FILES",
    ] {
        assert!(man.contains(section), "no {section}");
    }
    // roff escapes dashes.
    for option in [r"\-\-jid", r"\-\-password\-env", r"\-\-check\-config"] {
        assert!(man.contains(option), "no {option}");
    }
    // Every slash command of the table, with its help.
    for spec in confab::command::table::COMMANDS {
        let name = spec.name.replace('-', r"\-");
        assert!(man.contains(&format!(r"\fB/{name}")), "no /{}", spec.name);
    }
    assert!(man.contains("/wait message"), "the forms of /wait");
}

#[test]
fn subcommands_do_not_mix_with_the_run_options() {
    let home = tempfile::tempdir().unwrap();
    let out = confab(home.path(), &["--jid", "a@example.org", "man"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    let out = confab(home.path(), &["--print-config", "--batch", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_config_accepts_the_example_and_names_the_line_of_an_error() {
    let home = tempfile::tempdir().unwrap();
    let example = assets().join("config.toml");
    let out = confab(
        home.path(),
        &["--config", example.to_str().unwrap(), "--check-config"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("OK: {}\n", example.display()));

    let bad = home.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[accounts.a]\njid = \"a@example.org\"\ntls = \"ssl\"\n",
    )
    .unwrap();
    let out = confab(
        home.path(),
        &["--config", bad.to_str().unwrap(), "--check-config"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains(&format!("{}:3: accounts.a.tls", bad.display())),
        "{}",
        stderr(&out)
    );

    // No file and no --jid: nothing to run with.
    let out = confab(home.path(), &["--check-config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no account configured"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn example_themes_parse() {
    let home = tempfile::tempdir().unwrap();
    let mut themes = 0;
    for entry in std::fs::read_dir(assets().join("themes")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        themes += 1;
        let config = home.path().join("config.toml");
        let theme = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &config,
            format!("[accounts.a]\njid = \"a@example.org\"\n{theme}"),
        )
        .unwrap();
        let out = confab(
            home.path(),
            &["--config", config.to_str().unwrap(), "--check-config"],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            stderr(&out)
        );
    }
    assert!(themes >= 2, "only {themes} themes");
}

#[test]
fn example_scripts_use_commands_that_exist() {
    let mut scripts = 0;
    for entry in std::fs::read_dir(assets().join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        scripts += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let mut commands = 0;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            commands += 1;
            if let Err(e) = confab::command::parse(line) {
                panic!("{}: {line}: {}", path.display(), e.message);
            }
        }
        assert!(commands > 0, "{}", path.display());
    }
    assert!(scripts >= 3, "only {scripts} scripts");
}

#[test]
fn print_config_masks_a_password_and_warns_when_others_may_read_it() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "[accounts.a]\njid = \"a@example.org\"\npassword = \"hunter2\"\n",
    )
    .unwrap();
    let args = ["--config", config.to_str().unwrap(), "--print-config"];

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = confab(home.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("password = \"********\""), "{printed}");
    assert!(printed.contains("jid = \"a@example.org\""), "{printed}");
    assert!(!printed.contains("hunter2") && !stderr(&out).contains("hunter2"));
    assert!(
        stderr(&out).contains("confab: warning:") && stderr(&out).contains("mode 0644"),
        "{}",
        stderr(&out)
    );

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = confab(home.path(), &args);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    // The command line is part of what is printed, and the output is a
    // config file confab accepts.
    let out = confab(
        home.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--server",
            "xmpp.example.org:5223",
            "--password-env",
            "PW",
            "--no-history",
            "--print-config",
        ],
    );
    let printed = stdout(&out);
    assert!(
        printed.contains("server = \"xmpp.example.org:5223\""),
        "{printed}"
    );
    assert!(printed.contains("password_env = \"PW\""), "{printed}");
    assert!(printed.contains("enabled = false"), "{printed}");
    let again = home.path().join("printed.toml");
    std::fs::write(&again, &printed).unwrap();
    let out = confab(
        home.path(),
        &["--config", again.to_str().unwrap(), "--check-config"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
