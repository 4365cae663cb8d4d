//! The private ejabberd itself: start, register, restart with its data,
//! kill, stop; the generated config.

use super::*;

#[test]
fn start_register_restart_keeps_data_stop() {
    let t0 = Instant::now();
    let mut server = Ejabberd::start(EjabberdOptions::new().account("alice", "alice-pw"))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("Ejabberd::start took {:?}", t0.elapsed());
    assert!(server.is_running());
    let users = server.ctl(&["registered_users", DOMAIN]).unwrap();
    assert_eq!(users.trim(), "alice", "{users}");
    server.register("bob", "bob-pw").unwrap();
    server.register("bob", "bob-pw2").unwrap(); // again: a new password

    let port = server.c2s_port();
    let t0 = Instant::now();
    server.restart().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("Ejabberd::restart took {:?}", t0.elapsed());
    assert_eq!(server.c2s_port(), port);
    let check = |pw| {
        let body = serde_json::json!({"user": "bob", "host": DOMAIN, "password": pw});
        server.api("check_password", &body)
    };
    assert_eq!(check("bob-pw2").unwrap().trim(), "0", "kept across restart");
    assert!(check("bob-pw").unwrap().trim() != "0");

    server.kill();
    assert!(!server.is_running());
    server.restart().unwrap_or_else(|e| panic!("{e}"));
    let users = server.ctl(&["registered_users", DOMAIN]).unwrap();
    assert_eq!(users.split_whitespace().count(), 2, "{users}");
    let t0 = Instant::now();
    server.stop();
    eprintln!("Ejabberd::stop took {:?}", t0.elapsed());
    let err = TcpStream::connect(("127.0.0.1", port)).expect_err("port closed");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    let dir = server.dir().to_path_buf();
    drop(server);
    if env::var_os(EJABBERD_KEEP_ENV).is_none() {
        assert!(!dir.exists());
    }
}

#[test]
fn config_declares_components_and_muc_mam() {
    let mut s = EjabberdOptions::new().component("bot.localhost", "");
    s.extra_muc_domains.push("conference.v1.localhost".into());
    let server = Ejabberd::start(s).unwrap_or_else(|e| panic!("{e}"));
    let secret = server.component_secret().to_string();
    assert_eq!(
        server.components(),
        &[
            (DEFAULT_COMPONENT.to_string(), secret.clone()),
            ("bot.localhost".to_string(), secret),
        ]
    );
    let yml = fs::read_to_string(server.dir().join("ejabberd.yml")).unwrap();
    assert!(yml.contains("\"bot.localhost\":"), "{yml}");
    assert!(yml.contains("mam: true"), "{yml}");
    assert!(yml.contains("- \"conference.v1.localhost\""), "{yml}");
}
