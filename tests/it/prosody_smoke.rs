//! The harness itself: a private Prosody starts and serves c2s.

use std::net::TcpStream;

use crate::common::*;

#[test]
fn private_prosody_accepts_c2s_connections() {
    let server = prosody_with(&["alice", "bob"]);
    TcpStream::connect(("127.0.0.1", server.c2s_port()))
        .unwrap_or_else(|e| panic!("c2s port {} refused: {e}", server.c2s_port()));
    for user in ["alice", "bob"] {
        let account = server
            .dir()
            .join(format!("data/localhost/accounts/{user}.dat"));
        assert!(account.exists(), "{} missing", account.display());
    }
    assert!(server.ca_file().exists());
    assert!(confab_bin().exists());
}
