//! Files (issue 17): `/upload` through the server's XEP-0363 service
//! (Prosody's `mod_http_file_share`, ejabberd's `mod_http_upload`, both
//! on HTTPS with the test CA), the link seen by another client as an
//! attachment and `/save`d byte for byte; the service's limit refused
//! before anything is sent; an upload the server breaks off ends in an
//! error and no message; `aesgcm://` links (XEP-0454) decrypted, a
//! tampered file refused; `/open` runs the opener with the URL as one
//! argument, never a shell, and refuses what is not a web link.

use std::path::Path;

use serde_json::Value;

use confab::session::transfer::{AesGcmKey, encrypt};

use crate::common::*;

const MUC: &str = "conference.localhost";

crate::on_both!(
    a_file_goes_up_and_comes_back_identical,
    a_file_over_the_limit_is_refused_before_upload,
    an_interrupted_upload_is_an_error_and_no_message,
    aesgcm_links_decrypt_and_tampering_is_refused,
    a_raw_client_sees_the_oob_and_its_link_is_saved,
);

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

pub(crate) fn upload_server(kind: ServerKind, users: &[&str], limit: u64) -> Box<dyn TestServer> {
    let passwords: Vec<String> = users.iter().map(|u| password_of(u)).collect();
    let accounts: Vec<(&str, &str)> = users
        .iter()
        .copied()
        .zip(passwords.iter().map(String::as_str))
        .collect();
    kind.start_with_upload(&accounts, limit)
        .unwrap_or_else(|e| panic!("starting the test {kind} failed: {e}"))
}

/// Bytes that are not all alike (so a shifted or cut copy differs).
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i * 31 % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

pub(crate) fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

/// `user` with `--keep-going` (errors are part of these tests), its
/// home kept by the caller.
fn client(server: &dyn TestServer, user: &str, home: &Path) -> Client {
    let mut c = Client::start_in(server, user, home, &["--keep-going"]);
    c.connected();
    c
}

/// alice and bob in `room` (their homes under `homes`).
fn two_in(server: &dyn TestServer, room: &str, homes: &Path) -> (Client, Client) {
    let (a, b) = (homes.join("alice"), homes.join("bob"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let mut alice = client(server, "alice", &a);
    let mut bob = client(server, "bob", &b);
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    alice.ok(&format!("/wait occupant {room} bob"));
    (alice, bob)
}

/// alice uploads `path` into `room`; the URL shared.
fn upload(alice: &mut Client, room: &str, path: &str) -> String {
    alice.ok(&format!("/upload {path} {room}"));
    // The newest: it came before the command's ok (the room's echo).
    let done = alice
        .find(|v| is(v, "upload") && v["state"] == "done")
        .expect("upload done before ok");
    done["url"].as_str().expect("url").to_string()
}

fn a_file_goes_up_and_comes_back_identical(kind: ServerKind) {
    let server = upload_server(kind, &["alice", "bob"], 10_000_000);
    let room = format!("files@{MUC}");
    let homes = tempfile::tempdir().unwrap();
    let (mut alice, mut bob) = two_in(&*server, &room, homes.path());
    let data = pattern(700_000);
    let path = write(&alice.home, "report.pdf", &data);
    let url = upload(&mut alice, &room, &path);
    assert!(url.starts_with("https://localhost:"), "{kind}: {url}");
    // Progress came, bounded, and ended at the size.
    let progress: Vec<Value> = alice
        .events
        .iter()
        .filter(|v| is(v, "upload"))
        .cloned()
        .collect();
    assert_eq!(
        progress.first().unwrap()["state"],
        "started",
        "{progress:?}"
    );
    assert_eq!(progress.last().unwrap()["bytes"], 700_000);
    assert!(progress.len() < 40, "{kind}: too many progress events");
    // Our own echo is the message, with the URL as its attachment.
    let own = alice.event("own echo", |v| is(v, "message") && v["own"] == true);
    assert_eq!(own["body"], url.as_str());

    let m = bob.expect("alice's file", |v| is(v, "message") && v["nick"] == "alice");
    assert_eq!(m["body"], url.as_str(), "{kind}: {m}");
    let a = &m["attachments"][0];
    assert_eq!(a["url"], url.as_str());
    assert_eq!(a["name"], "report.pdf");
    assert_eq!(a["type"], "application/pdf");

    let dest = bob.home.join("saved.pdf");
    bob.ok(&format!("/save {room} @alice {}", dest.display()));
    let d = bob.event("download done", |v| {
        is(v, "download") && v["state"] == "done"
    });
    assert_eq!(d["bytes"], 700_000, "{d}");
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        data,
        "{kind}: the bytes differ"
    );
    // No second copy over the first.
    let again = bob.run(&format!("/save {room} @alice {}", dest.display()));
    assert_eq!(again["condition"], "conflict", "{again}");
    // Saved into a folder: the name from the URL.
    bob.ok(&format!("/save {room} @alice {}", bob.home.display()));
    let named = bob.home.join("report.pdf");
    assert_eq!(std::fs::read(&named).unwrap(), data);
    assert_eq!(alice.finish(), 0);
    // The refused second copy makes the script's status 1.
    assert_eq!(bob.finish(), 1);
}

fn a_file_over_the_limit_is_refused_before_upload(kind: ServerKind) {
    let server = upload_server(kind, &["alice", "bob"], 4096);
    let room = format!("limits@{MUC}");
    let homes = tempfile::tempdir().unwrap();
    let (mut alice, _bob) = two_in(&*server, &room, homes.path());
    let path = write(&alice.home, "big.bin", &pattern(10_000));
    let e = alice.run(&format!("/upload {path} {room}"));
    assert_eq!(e["event"], "error", "{kind}: {e}");
    assert_eq!(e["condition"], "not-acceptable", "{e}");
    let text = e["text"].as_str().unwrap();
    assert!(text.contains("at most") && text.contains("4096"), "{text}");
    assert!(!alice.saw(|v| is(v, "upload")), "{kind}: something went up");
    // The service is remembered: the second refusal needs no discovery,
    // and a small file still goes.
    let e = alice.run(&format!("/upload {path} {room}"));
    assert_eq!(e["condition"], "not-acceptable");
    let small = write(&alice.home, "small.txt", b"tiny");
    let url = upload(&mut alice, &room, &small);
    assert!(url.ends_with("small.txt"), "{url}");
    // Missing files are refused at once.
    let e = alice.run(&format!("/upload /nonexistent/file {room}"));
    assert_eq!(e["condition"], "item-not-found", "{e}");
}

fn an_interrupted_upload_is_an_error_and_no_message(kind: ServerKind) {
    let mut server = upload_server(kind, &["alice", "bob"], 400_000_000);
    let room = format!("cut@{MUC}");
    let homes = tempfile::tempdir().unwrap();
    let (mut alice, bob) = two_in(&*server, &room, homes.path());
    let path = write(&alice.home, "huge.bin", &pattern(150_000_000));
    alice.send(&format!("/upload {path} {room}"));
    alice.expect("upload under way", |v| {
        is(v, "upload") && v["state"] == "progress"
    });
    server.kill();
    let e = alice.expect("the upload's error", |v| {
        is(v, "error")
            && v["command"]
                .as_str()
                .is_some_and(|c| c.starts_with("/upload"))
    });
    assert!(e["text"].as_str().is_some(), "{kind}: {e}");
    assert!(
        alice.saw(|v| is(v, "upload") && v["state"] == "failed"),
        "{kind}"
    );
    assert!(
        !alice.saw(|v| is(v, "message") && v["own"] == true),
        "{kind}: a message went out"
    );
    assert!(!bob.saw(|v| is(v, "message") && v["nick"] == "alice"));
}

fn aesgcm_links_decrypt_and_tampering_is_refused(kind: ServerKind) {
    let server = upload_server(kind, &["alice", "bob"], 10_000_000);
    let room = format!("omemo@{MUC}");
    let homes = tempfile::tempdir().unwrap();
    let (mut alice, mut bob) = two_in(&*server, &room, homes.path());
    let key = AesGcmKey {
        iv: (1..=12).collect(),
        key: [7u8; 32],
    };
    let hex: String = key
        .iv
        .iter()
        .chain(key.key.iter())
        .map(|b| format!("{b:02x}"))
        .collect();
    let plain = pattern(50_000);
    let sealed = encrypt(&key, &plain);
    let good_file = write(&alice.home, "photo.jpg", &sealed);
    let good = upload(&mut alice, &room, &good_file);
    let mut broken = sealed.clone();
    broken[1000] ^= 0x40;
    let bad_file = write(&alice.home, "other.jpg", &broken);
    let bad = upload(&mut alice, &room, &bad_file);
    let link = |url: &str| format!("aesgcm://{}#{hex}", url.strip_prefix("https://").unwrap());
    alice.ok(&format!("/say {room} {}", link(&good)));
    let m = bob.expect("the aesgcm link", |v| {
        is(v, "message")
            && v["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("aesgcm://"))
    });
    assert_eq!(m["attachments"][0]["encrypted"], true, "{m}");
    assert_eq!(m["attachments"][0]["name"], "photo.jpg");
    let dest = bob.home.join("photo.jpg");
    bob.ok(&format!("/save {room} @alice {}", dest.display()));
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        plain,
        "{kind}: not decrypted"
    );
    // The key never shows in events.
    assert!(
        !bob.raw_lines()
            .iter()
            .any(|l| l.contains(&hex) && l.contains("download"))
    );

    alice.ok(&format!("/say {room} {}", link(&bad)));
    let m = bob.event("the tampered file's link", |v| {
        is(v, "message")
            && v["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("aesgcm://") && b.contains("other.jpg"))
    });
    let id = m["stanza_id"].as_str().expect("stanza-id").to_string();
    let dest = bob.home.join("other.jpg");
    let e = bob.run(&format!("/save {room} {id} {}", dest.display()));
    assert_eq!(e["event"], "error", "{e}");
    assert!(e["text"].as_str().unwrap().contains("tampered"), "{e}");
    assert!(!dest.exists(), "{kind}: a tampered file was kept");
    let leftovers: Vec<_> = files_under(&bob.home)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".confab-download-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `/open`: one argument to the opener, never a shell; only web links.
#[test]
fn open_runs_the_opener_without_a_shell_and_only_for_web_links() {
    let server = server_with(ServerKind::Prosody, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let args_file = home.path().join("args");
    let opener = home.path().join("opener.sh");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> {}; done\n",
            args_file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[files]\nopener = [{:?}, \"--x\"]\n",
            opener.display().to_string()
        ),
    )
    .unwrap();
    let room = format!("open@{MUC}");
    let mut alice = Client::online(&*server, "alice");
    let mut bob = client(&*server, "bob", home.path());
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    let pwned = home.path().join("pwned");
    let url = format!(
        "https://localhost/a;touch${{IFS}}{};`id`$(id)",
        pwned.display()
    );
    alice.ok(&format!("/say {room} {url}"));
    bob.ok(&format!(
        "/wait message {room} --from alice --contains touch"
    ));
    bob.ok(&format!("/open {room} @alice"));
    let deadline = std::time::Instant::now() + LONG;
    while !args_file.exists() && std::time::Instant::now() < deadline {
        bob.pump(std::time::Duration::from_millis(50));
    }
    let got = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(got, format!("--x\n{url}\n"));
    assert!(!pwned.exists(), "a shell ran the URL");
    // Not a web link: no attachment, and /open refuses it.
    alice.ok(&format!("/say {room} file:///etc/passwd"));
    bob.ok(&format!(
        "/wait message {room} --from alice --contains passwd"
    ));
    let m = bob
        .find(|v| is(v, "message") && v["body"] == "file:///etc/passwd")
        .unwrap();
    assert!(m.get("attachments").is_none(), "{m}");
    let id = m["stanza_id"].as_str().unwrap().to_string();
    let e = bob.run(&format!("/open {room} {id}"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap(),
        format!("--x\n{url}\n")
    );
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 1);
}

/// In a one-to-one chat with a raw client: what confab sends carries the
/// URL in the body and in XEP-0066 `jabber:x:oob` on the wire, the raw
/// client downloads the same bytes; a link the raw client sends only in
/// OOB (another text in the body) is an attachment that `/save` fetches.
fn a_raw_client_sees_the_oob_and_its_link_is_saved(kind: ServerKind) {
    use crate::common::peer::*;
    use futures::StreamExt;
    use tokio_xmpp::Stanza;
    use tokio_xmpp::xmlstream::{FallibleStreamElement, XmppStreamElement};
    use xmpp_parsers::message::{Lang, Message, MessageType};

    let server = upload_server(kind, &["alice", "carol"], 10_000_000);
    let home = tempfile::tempdir().unwrap();
    let mut alice = client(&*server, "alice", home.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut carol = rt.block_on(peer(&*server, "carol"));
    let data = pattern(300_000);
    let path = write(&alice.home, "notes.txt", &data);
    let url = upload(&mut alice, "carol@localhost", &path);

    // On carol's side: the message, its OOB, the bytes behind it.
    let (body, oob) = rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                match carol.next().await {
                    Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(
                        Stanza::Message(m),
                    )))) if m.bodies.values().next().is_some() => {
                        let oob = m
                            .payloads
                            .iter()
                            .find(|p| p.is("x", "jabber:x:oob"))
                            .and_then(|x| x.get_child("url", "jabber:x:oob"))
                            .map(|u| u.text());
                        return (m.bodies.values().next().unwrap().clone(), oob);
                    }
                    Some(Ok(_)) => continue,
                    other => panic!("carol's stream: {other:?}"),
                }
            }
        })
        .await
        .expect("alice's file in time")
    });
    assert_eq!(body, url, "{kind}");
    assert_eq!(
        oob.as_deref(),
        Some(url.as_str()),
        "{kind}: the OOB element"
    );
    let tls = confab::session::tls_config(Some(server.ca_file())).unwrap();
    let http = confab::session::http::client(&tls).unwrap();
    let got = rt.block_on(async {
        let r = http.get(&url).send().await.expect("the GET");
        assert!(r.status().is_success(), "{kind}: {}", r.status());
        r.bytes().await.expect("the body").to_vec()
    });
    assert_eq!(got, data, "{kind}: carol's copy differs");

    // Carol shares the link her way: the text in the body, the URL in OOB.
    let mut m = Message::chat(Some("alice@localhost".parse().unwrap()));
    m.id = Some(xmpp_parsers::message::Id("c-oob".into()));
    m.bodies
        .insert(Lang::default(), "here are the notes".to_string());
    m.type_ = MessageType::Chat;
    m.payloads.push(
        minidom::Element::builder("x", "jabber:x:oob")
            .append(minidom::Element::builder("url", "jabber:x:oob").append(url.as_str()))
            .build(),
    );
    rt.block_on(send(&mut carol, m));
    let got = alice.expect("carol's link", |v| is(v, "message") && v["id"] == "c-oob");
    assert_eq!(got["attachments"][0]["url"], url.as_str(), "{kind}: {got}");
    assert!(
        got["body"]
            .as_str()
            .unwrap()
            .starts_with("here are the notes"),
        "{got}"
    );
    let dest = alice.home.join("from-carol.txt");
    alice.ok(&format!("/save carol@localhost c-oob {}", dest.display()));
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        data,
        "{kind}: the saved copy differs"
    );
    assert_eq!(alice.finish(), 0);
}
