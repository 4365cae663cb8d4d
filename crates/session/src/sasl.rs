//! confab's own SASL exchange: SCRAM only, and the server must prove it
//! knows the password. tokio-xmpp 6.0's `client_login` accepts
//! `<success/>` without checking the SCRAM server signature (`v=`), so a
//! server holding any trusted certificate could pose as ours.
//!
//! Which mechanism ([`plan`]): a `-PLUS` variant (channel binding,
//! `channel_binding.rs`) when the server offers one and names, with
//! XEP-0440, a binding type we have on this connection (`tls-exporter` on
//! TLS 1.3, else `tls-server-end-point`); then SHA-512 > 256 > 1. A server
//! that offers `-PLUS` without XEP-0440 binds to `tls-unique` only (ejabberd
//! 23.01, Prosody 0.12), which rustls cannot give: plain SCRAM with the
//! `n` flag. With no `-PLUS` offered, the `y` flag tells a server that did
//! offer it that it was stripped. XEP-0474: a server-first `h=` that is not
//! the hash of what the features showed fails the login
//! (`downgrade-detected`). The exchange itself is `scram.rs`.

use futures::{SinkExt, StreamExt};
use minidom::Element;
use sasl::common::scram::{DeriveError, ScramProvider};
use tokio::io::{AsyncBufRead, AsyncWrite};
use tokio_xmpp::xmlstream::{InitiatingStream, ReadError, XmppStream, XmppStreamElement};
use xmpp_parsers::sasl::{Nonza, Response};

use super::channel_binding::TlsBindings;
use super::connect::{ConnectError, kebab, read_error};
use super::scram::{Flag, Hash, Scram, ScramError, ssdp_hash};

/// What the stream features offered for SASL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// The `<mechanisms/>`.
    pub mechanisms: Vec<String>,
    /// The XEP-0440 `<sasl-channel-binding/>` types, if it was there.
    pub channel_bindings: Option<Vec<String>>,
}

impl Offer {
    /// From parsed stream features.
    pub fn of(features: &xmpp_parsers::stream_features::StreamFeatures) -> Offer {
        use xmpp_parsers::sasl_cb::Type;
        Offer {
            mechanisms: features.sasl_mechanisms.iter().cloned().collect(),
            channel_bindings: features.sasl_cb.as_ref().map(|cb| {
                cb.types
                    .iter()
                    .map(|t| {
                        match t {
                            Type::TlsUnique => "tls-unique",
                            Type::TlsServerEndPoint => "tls-server-end-point",
                            Type::TlsUniqueForTelnet => "tls-unique-for-telnet",
                            Type::TlsExporter => "tls-exporter",
                        }
                        .to_string()
                    })
                    .collect()
            }),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.mechanisms.iter().any(|m| m == name)
    }
}

/// The mechanism chosen and how it binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub hash: Hash,
    pub flag: Flag,
}

impl Plan {
    pub fn mechanism(&self) -> &'static str {
        self.hash.mechanism(matches!(self.flag, Flag::Bind(..)))
    }
}

/// The best login the offer and this connection allow: any `-PLUS` with a
/// binding type in common (SHA-512 > 256 > 1), else the best plain SCRAM.
pub fn plan(offer: &Offer, tls: &TlsBindings) -> Option<Plan> {
    let best = |plus: bool| Hash::ALL.into_iter().find(|h| offer.has(h.mechanism(plus)));
    let server_plus = best(true);
    let common = offer.channel_bindings.as_ref().and_then(|types| {
        tls.types()
            .into_iter()
            .find(|ours| types.iter().any(|t| t == ours))
    });
    if let (Some(hash), Some(kind)) = (server_plus, common) {
        let data = tls.data(kind).expect("a type we have").to_vec();
        return Some(Plan {
            hash,
            flag: Flag::Bind(kind, data),
        });
    }
    let hash = best(false)?;
    let flag = if server_plus.is_none() && !tls.types().is_empty() {
        Flag::NotOffered
    } else {
        Flag::No
    };
    Some(Plan { hash, flag })
}

/// The `<auth/>` nonza (xmpp-parsers 0.23 names no -512 or -PLUS).
fn auth(mechanism: &str, data: &[u8]) -> Element {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    Element::builder("auth", xmpp_parsers::ns::SASL)
        .attr(confab_proto::nc("mechanism"), mechanism)
        .append(if text.is_empty() {
            "=".to_string()
        } else {
            text
        })
        .build()
}

/// SCRAM-SHA-512 (RFC 7677's scheme with SHA-512), which the `sasl` crate
/// does not provide.
pub struct Sha512;

/// The secret kind of [`Sha512`] (only plain passwords are used here).
pub struct Pbkdf2Sha512;
impl sasl::secret::Secret for Pbkdf2Sha512 {}

impl ScramProvider for Sha512 {
    type Secret = Pbkdf2Sha512;

    fn name() -> &'static str {
        "SHA-512"
    }

    fn hash(data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha512::digest(data).to_vec()
    }

    fn hmac(data: &[u8], key: &[u8]) -> Result<Vec<u8>, hmac::digest::InvalidLength> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key)?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    fn derive(
        password: &sasl::common::Password,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Vec<u8>, DeriveError> {
        match password {
            sasl::common::Password::Plain(plain) => {
                let mut out = vec![0; 64];
                pbkdf2::pbkdf2::<hmac::Hmac<sha2::Sha512>>(
                    plain.as_bytes(),
                    salt,
                    iterations,
                    &mut out,
                )?;
                Ok(out)
            }
            sasl::common::Password::Pbkdf2 { method, .. } => Err(
                DeriveError::IncompatibleHashingMethod(method.clone(), "SHA-512".into()),
            ),
        }
    }
}

/// The login failed because the server did not prove itself.
fn impostor(what: &str) -> ConnectError {
    ConnectError::fatal(
        "bad-server-signature",
        format!(
            "the server did not prove it knows the password (SCRAM server signature {what}) \
             — possible impostor; not logged in"
        ),
    )
}

fn scram_error(e: ScramError, offer: &Offer) -> ConnectError {
    match e {
        ScramError::SignatureWrong => impostor("wrong"),
        ScramError::SignatureMissing => impostor("missing"),
        ScramError::TooEarly => impostor("missing: success came before the exchange was done"),
        ScramError::Downgrade => ConnectError::fatal(
            "downgrade-detected",
            format!(
                "the server's SCRAM downgrade protection (XEP-0474) says it offered other \
                 mechanisms or channel-binding types than the {} we saw{} — someone between \
                 us and the server changed them; not logged in",
                offer.mechanisms.join(", "),
                match &offer.channel_bindings {
                    Some(t) => format!(" (binding: {})", t.join(", ")),
                    None => String::new(),
                }
            ),
        ),
        ScramError::Malformed(text) => ConnectError::fatal("auth-error", text),
    }
}

/// Where the exchange stands.
#[derive(PartialEq)]
enum Step {
    /// `<auth/>` sent, the server's first message awaited.
    First,
    /// Our final message sent: the server's final (with its signature)
    /// awaited, in `<success/>` or in a last `<challenge/>`.
    Final,
    /// The signature checked in a challenge: only an empty `<success/>`
    /// may follow.
    Verified,
}

/// Runs the SASL exchange on `stream` with the best SCRAM mechanism of
/// `offer` ([`plan`]); returns the stream ready for its restart and the
/// mechanism used.
pub async fn login<S: AsyncBufRead + AsyncWrite + Unpin>(
    mut stream: XmppStream<S>,
    offer: &Offer,
    tls: &TlsBindings,
    user: &str,
    password: &str,
    tap: &crate::Tap,
) -> Result<(InitiatingStream<S>, &'static str), ConnectError> {
    use crate::XmlDir;
    let plan = plan(offer, tls).ok_or_else(|| {
        ConnectError::fatal(
            "no-scram",
            format!(
                "the server offers no SCRAM login (offered: {})",
                offer.mechanisms.join(", ")
            ),
        )
    })?;
    let mechanism = plan.mechanism();
    let ssdp = ssdp_hash(
        plan.hash,
        &offer.mechanisms,
        offer.channel_bindings.as_deref(),
    );
    tracing::debug!(mechanism, offered = ?offer.mechanisms, "SASL mechanism chosen");
    let mut scram = Scram::new(plan.hash, plan.flag, user, password, ssdp);
    let first = auth(mechanism, &scram.initial());
    tap.record(XmlDir::Out, &first);
    stream
        .send(&first)
        .await
        .map_err(super::connect::io_error)?;
    let mut step = Step::First;
    loop {
        let el = match stream.next().await {
            Some(Ok(item)) => item
                .into_read_error()
                .map_err(read_error)
                .inspect(|el| tap.record(XmlDir::In, el))?,
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(e)) => return Err(read_error(e)),
            None => {
                return Err(ConnectError::retry(
                    "connection-lost",
                    "closed during login",
                ));
            }
        };
        let reply = match el {
            XmppStreamElement::Sasl(Nonza::Challenge(c)) => match step {
                Step::First => {
                    step = Step::Final;
                    scram.response(&c.data).map_err(|e| scram_error(e, offer))?
                }
                // RFC 6120 §6.3.10: the server's final message may come as
                // a challenge, answered empty, then an empty success.
                Step::Final => {
                    scram.verify(&c.data).map_err(|e| scram_error(e, offer))?;
                    step = Step::Verified;
                    Vec::new()
                }
                Step::Verified => {
                    return Err(ConnectError::fatal(
                        "auth-error",
                        "the server sent another challenge after its final message",
                    ));
                }
            },
            XmppStreamElement::Sasl(Nonza::Success(s)) => {
                match step {
                    Step::Verified if s.data.is_empty() => {}
                    Step::Verified => {
                        return Err(ConnectError::fatal(
                            "auth-error",
                            "the server sent its final message twice",
                        ));
                    }
                    Step::First | Step::Final => {
                        scram.verify(&s.data).map_err(|e| scram_error(e, offer))?
                    }
                }
                return Ok((stream.initiate_reset(), mechanism));
            }
            XmppStreamElement::Sasl(Nonza::Failure(f)) => {
                let condition = kebab(&format!("{:?}", f.defined_condition));
                let said = f
                    .texts
                    .values()
                    .next()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                return Err(ConnectError::fatal(
                    &condition,
                    format!(
                        "the server refused the login with {mechanism} ({condition}{said}): \
                         check the JID and password"
                    ),
                ));
            }
            XmppStreamElement::StreamError(e) => {
                return Err(ConnectError::retry(
                    "stream-error",
                    format!("stream error during login: {e}"),
                ));
            }
            _ => continue,
        };
        let response = XmppStreamElement::Sasl(Nonza::Response(Response { data: reply }));
        tap.record(XmlDir::Out, &response);
        stream
            .send(&response)
            .await
            .map_err(super::connect::io_error)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(mechs: &[&str], cb: Option<&[&str]>) -> Offer {
        Offer {
            mechanisms: mechs.iter().map(|s| s.to_string()).collect(),
            channel_bindings: cb.map(|l| l.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn tls13() -> TlsBindings {
        TlsBindings {
            exporter: Some(vec![1; 32]),
            end_point: Some(vec![2; 32]),
        }
    }

    fn tls12() -> TlsBindings {
        TlsBindings {
            exporter: None,
            end_point: Some(vec![2; 32]),
        }
    }

    fn chosen(o: &Offer, tls: &TlsBindings) -> Option<(&'static str, String)> {
        plan(o, tls).map(|p| (p.mechanism(), p.flag.gs2_header()))
    }

    #[test]
    fn picks_the_strongest_plain_scram() {
        let none = TlsBindings::default();
        assert_eq!(
            chosen(
                &offer(&["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"], None),
                &none
            ),
            Some(("SCRAM-SHA-256", "n,,".into()))
        );
        assert_eq!(
            chosen(
                &offer(&["SCRAM-SHA-1", "SCRAM-SHA-512", "SCRAM-SHA-256"], None),
                &none
            ),
            Some(("SCRAM-SHA-512", "n,,".into()))
        );
        assert_eq!(
            chosen(&offer(&["PLAIN", "SCRAM-SHA-256-PLUS"], None), &none),
            None
        );
        assert_eq!(
            chosen(&offer(&["PLAIN", "DIGEST-MD5"], None), &tls13()),
            None
        );
    }

    /// -PLUS first whenever a binding type is shared, SHA-512-PLUS >
    /// SHA-256-PLUS > SHA-1-PLUS > any plain SCRAM; tls-exporter over
    /// tls-server-end-point.
    #[test]
    fn plus_is_preferred_when_a_binding_is_shared() {
        let both = Some(&["tls-server-end-point", "tls-exporter"][..]);
        let all = [
            "SCRAM-SHA-1",
            "SCRAM-SHA-1-PLUS",
            "SCRAM-SHA-256",
            "SCRAM-SHA-256-PLUS",
            "SCRAM-SHA-512",
            "SCRAM-SHA-512-PLUS",
        ];
        for (n, expect) in [
            (6, "SCRAM-SHA-512-PLUS"),
            (5, "SCRAM-SHA-256-PLUS"),
            (3, "SCRAM-SHA-1-PLUS"),
            (1, "SCRAM-SHA-1"),
        ] {
            let p = plan(&offer(&all[..n], both), &tls13()).unwrap();
            assert_eq!(p.mechanism(), expect);
        }
        // A -PLUS of a weaker hash beats a stronger plain one.
        let o = offer(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-512"], both);
        assert_eq!(
            chosen(&o, &tls13()),
            Some(("SCRAM-SHA-1-PLUS", "p=tls-exporter,,".into()))
        );
        let p = plan(&o, &tls13()).unwrap();
        assert_eq!(p.flag, Flag::Bind("tls-exporter", vec![1; 32]));
        // TLS 1.2: no exporter, the end point.
        assert_eq!(
            chosen(&o, &tls12()),
            Some(("SCRAM-SHA-1-PLUS", "p=tls-server-end-point,,".into()))
        );
        assert_eq!(
            plan(&o, &tls12()).unwrap().flag,
            Flag::Bind("tls-server-end-point", vec![2; 32])
        );
        // Only what the server names.
        let o = offer(&["SCRAM-SHA-256-PLUS"], Some(&["tls-server-end-point"]));
        assert_eq!(
            chosen(&o, &tls13()),
            Some(("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,".into()))
        );
    }

    /// The flag of plain SCRAM: `y` only when no -PLUS was offered at all;
    /// `n` when one was but we share no binding type with it (no XEP-0440:
    /// tls-unique, as ejabberd 23.01 does; or types we do not have).
    #[test]
    fn the_gs2_flag_of_plain_scram() {
        let plain = offer(&["SCRAM-SHA-1", "SCRAM-SHA-256"], None);
        assert_eq!(chosen(&plain, &tls13()).unwrap().1, "y,,");
        assert_eq!(chosen(&plain, &tls12()).unwrap().1, "y,,");
        assert_eq!(chosen(&plain, &TlsBindings::default()).unwrap().1, "n,,");
        let ejabberd = offer(
            &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "X-OAUTH2"],
            None,
        );
        assert_eq!(
            chosen(&ejabberd, &tls13()),
            Some(("SCRAM-SHA-256", "n,,".into()))
        );
        let unique = offer(&["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"], Some(&["tls-unique"]));
        assert_eq!(
            chosen(&unique, &tls13()),
            Some(("SCRAM-SHA-1", "n,,".into()))
        );
        let exporter_only = offer(
            &["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
            Some(&["tls-exporter"]),
        );
        assert_eq!(
            chosen(&exporter_only, &tls12()),
            Some(("SCRAM-SHA-1", "n,,".into()))
        );
    }

    #[test]
    fn auth_names_any_mechanism() {
        let a = auth("SCRAM-SHA-512-PLUS", b"n,,n=u,r=x");
        assert_eq!(a.attr("mechanism"), Some("SCRAM-SHA-512-PLUS"));
        assert_eq!(a.text(), "biwsbj11LHI9eA==");
        assert_eq!(auth("SCRAM-SHA-1", b"").text(), "=");
    }

    /// SCRAM-SHA-512 from first principles: the client's proof and the
    /// server's signature as RFC 5802 computes them.
    #[test]
    fn sha512_client_checks_the_server_signature() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut c = Scram::new(Hash::Sha512, Flag::No, "user", "pencil", String::new());
        let first = String::from_utf8(c.initial()).unwrap();
        let bare = first.strip_prefix("n,,").unwrap().to_string();
        let cnonce = bare.split(",r=").nth(1).unwrap().to_string();
        let salt = b"0123456789abcdef";
        let server_first = format!("r={cnonce}srv,s={},i=4096", b64.encode(salt));
        let client_final = String::from_utf8(c.response(server_first.as_bytes()).unwrap()).unwrap();
        let (without_proof, proof) = client_final.split_once(",p=").unwrap();
        let salted =
            Sha512::derive(&sasl::common::Password::Plain("pencil".into()), salt, 4096).unwrap();
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let client_key = Sha512::hmac(b"Client Key", &salted).unwrap();
        let stored = Sha512::hash(&client_key);
        let sig = Sha512::hmac(auth_message.as_bytes(), &stored).unwrap();
        let expect_proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        assert_eq!(b64.decode(proof).unwrap(), expect_proof);
        let server_key = Sha512::hmac(b"Server Key", &salted).unwrap();
        let server_sig = Sha512::hmac(auth_message.as_bytes(), &server_key).unwrap();
        let mut wrong = server_sig.clone();
        wrong[0] ^= 1;
        let o = Offer::default();
        let e = c.verify(format!("v={}", b64.encode(&wrong)).as_bytes());
        assert_eq!(
            scram_error(e.unwrap_err(), &o).condition,
            "bad-server-signature"
        );
        assert!(c.verify(b"").is_err());
        c.verify(format!("v={}", b64.encode(&server_sig)).as_bytes())
            .expect("the right signature");
    }

    #[test]
    fn errors_name_the_missing_proof_or_the_downgrade() {
        let o = offer(&["SCRAM-SHA-1"], None);
        let e = scram_error(ScramError::TooEarly, &o);
        assert!(e.fatal);
        assert_eq!(e.condition, "bad-server-signature");
        assert!(
            e.text.contains("did not prove it knows the password"),
            "{e}"
        );
        let e = scram_error(ScramError::SignatureMissing, &o);
        assert!(e.text.contains("signature missing"), "{e}");
        let e = scram_error(ScramError::SignatureWrong, &o);
        assert!(e.text.contains("signature wrong"), "{e}");
        let e = scram_error(ScramError::Downgrade, &o);
        assert!(e.fatal);
        assert_eq!(e.condition, "downgrade-detected");
        assert!(
            e.text.contains("XEP-0474") && e.text.contains("SCRAM-SHA-1"),
            "{e}"
        );
    }
}
