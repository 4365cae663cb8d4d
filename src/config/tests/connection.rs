//! Tests of how an account connects and authenticates: the CA file, the
//! server address, an explicit config file, the password from the
//! environment or a command, and the `Secret` that never prints.

use std::ffi::OsString;

use super::super::password::resolve_with_env;
use super::super::resolve::parse_server;
use super::*;

#[test]
fn ca_file_relative_to_config_dir() {
    let text = "[accounts.w]\njid = \"a@example.org\"\nca_file = \"certs/ca.pem\"\n";
    let config = load_from_str(
        text,
        Path::new("/etc/confab/config.toml"),
        &CliOverrides::default(),
        dirs(),
    )
    .unwrap();
    assert_eq!(
        config.account.ca_file.as_deref(),
        Some(Path::new("/etc/confab/certs/ca.pem"))
    );
}

#[test]
fn server_address_forms() {
    assert_eq!(
        parse_server("example.org"),
        Ok(("example.org".into(), None))
    );
    assert_eq!(
        parse_server("example.org:5223"),
        Ok(("example.org".into(), Some(5223)))
    );
    assert_eq!(parse_server("[::1]"), Ok(("::1".into(), None)));
    assert_eq!(parse_server("[::1]:5222"), Ok(("::1".into(), Some(5222))));
    assert_eq!(parse_server("::1"), Ok(("::1".into(), None)));
    assert!(parse_server("").is_err());
    assert!(parse_server(":5222").is_err());
    assert!(parse_server("host:abc").is_err());
    assert!(parse_server("a b:5222").is_err());
}

#[test]
fn explicit_missing_config_file_is_an_error() {
    let cli = CliOverrides {
        config: Some(PathBuf::from("/nonexistent/confab/no-such-config.toml")),
        jid: Some("a@example.org".into()),
        ..Default::default()
    };
    let e = load(&cli).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("/nonexistent/confab/no-such-config.toml")
    );
}

#[test]
fn password_from_env() {
    let var = "CONFAB_TEST_PASSWORD_7f3a";
    let env = |name: &str| (name == var).then(|| OsString::from("s3cret"));
    let secret = resolve_with_env(&PasswordSource::Env(var.into()), env).unwrap();
    assert_eq!(secret.expose(), "s3cret");

    let msg = resolve_with_env(&PasswordSource::Env("OTHER_VAR".into()), env)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "password environment variable OTHER_VAR is not set");

    let empty = |_: &str| Some(OsString::new());
    let msg = resolve_with_env(&PasswordSource::Env(var.into()), empty)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, format!("password environment variable {var} is empty"));

    // The real environment: a variable nobody sets.
    let e = resolve_password(&PasswordSource::Env(
        "CONFAB_TEST_SURELY_UNSET_0c9e2b".into(),
    ))
    .unwrap_err();
    assert!(
        matches!(e, ConfigError::PasswordEnvUnset { ref var } if var == "CONFAB_TEST_SURELY_UNSET_0c9e2b")
    );
}

#[test]
fn password_from_command() {
    let secret = resolve_password(&PasswordSource::Command("printf 'pw\\n'".into())).unwrap();
    assert_eq!(secret.expose(), "pw");
    // Only one trailing newline is stripped; inner spaces stay.
    let secret = resolve_password(&PasswordSource::Command("printf ' a b \\n\\n'".into())).unwrap();
    assert_eq!(secret.expose(), " a b \n");
}

#[test]
fn failing_password_command() {
    // The command's text does not contain its output literally.
    let cmd = "printf 'leaked-%s' stdout; echo boom >&2; exit 3";
    let e = resolve_password(&PasswordSource::Command(cmd.into())).unwrap_err();
    let ConfigError::PasswordCommandFailed { status, stderr, .. } = &e else {
        panic!("unexpected error {e:?}");
    };
    assert_eq!(status.code(), Some(3));
    assert_eq!(stderr, "boom");
    let msg = e.to_string();
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(msg.contains("boom"), "{msg}");
    assert!(!msg.contains("leaked-stdout"), "{msg}");
    assert!(!format!("{e:?}").contains("leaked-stdout"));
}

#[test]
fn empty_password_command_output_and_prompt() {
    let e = resolve_password(&PasswordSource::Command("printf '\\n'".into())).unwrap_err();
    assert!(matches!(e, ConfigError::PasswordCommandEmpty { .. }), "{e}");
    let e = resolve_password(&PasswordSource::Prompt).unwrap_err();
    assert!(matches!(e, ConfigError::NeedPrompt));
}

#[test]
fn secret_is_never_shown() {
    let secret = Secret::new("hunter2".into());
    assert_eq!(format!("{secret:?}"), "********");
    assert_eq!(format!("{secret}"), "********");
    assert_eq!(format!("{:?}", Some(secret.clone())), "Some(********)");
    assert_eq!(secret.expose(), "hunter2");
}
