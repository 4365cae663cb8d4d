//! confab's own SASL exchange: SCRAM only, and the server must prove it
//! knows the password. tokio-xmpp 6.0's `client_login` accepts
//! `<success/>` without checking the SCRAM server signature (`v=`), so a
//! server holding any trusted certificate could pose as ours.
//!
//! Mechanisms, best first among those offered: SCRAM-SHA-512, -256, -1.
//! No PLAIN, no -PLUS yet: a -PLUS variant is the same exchange with
//! channel-binding data in the [`Credentials`] (add it to [`Choice`]).

use futures::{SinkExt, StreamExt};
use minidom::Element;
use sasl::client::mechanisms::Scram;
use sasl::client::{Mechanism, MechanismError};
use sasl::common::Credentials;
use sasl::common::scram::{DeriveError, ScramProvider, Sha1, Sha256};
use tokio::io::{AsyncBufRead, AsyncWrite};
use tokio_xmpp::xmlstream::{InitiatingStream, ReadError, XmppStream, XmppStreamElement};
use xmpp_parsers::sasl::{Auth, Mechanism as SaslName, Nonza, Response};

use super::connect::{ConnectError, kebab, read_error};

/// The mechanisms we speak, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    ScramSha512,
    ScramSha256,
    ScramSha1,
}

impl Choice {
    const ALL: [Choice; 3] = [Choice::ScramSha512, Choice::ScramSha256, Choice::ScramSha1];

    pub fn name(self) -> &'static str {
        match self {
            Choice::ScramSha512 => "SCRAM-SHA-512",
            Choice::ScramSha256 => "SCRAM-SHA-256",
            Choice::ScramSha1 => "SCRAM-SHA-1",
        }
    }

    /// The best of what the server offers.
    pub fn pick(offered: &[String]) -> Option<Choice> {
        Choice::ALL
            .into_iter()
            .find(|c| offered.iter().any(|o| o == c.name()))
    }

    fn mechanism(self, creds: Credentials) -> Result<Box<dyn Mechanism + Send>, MechanismError> {
        Ok(match self {
            Choice::ScramSha512 => Box::new(Scram::<Sha512>::from_credentials(creds)?),
            Choice::ScramSha256 => Box::new(Scram::<Sha256>::from_credentials(creds)?),
            Choice::ScramSha1 => Box::new(Scram::<Sha1>::from_credentials(creds)?),
        })
    }

    /// The `<auth/>` nonza (xmpp-parsers 0.23 has no name for -512).
    fn auth(self, data: Vec<u8>) -> Result<XmppStreamElement, Element> {
        let name = match self {
            Choice::ScramSha256 => SaslName::ScramSha256,
            Choice::ScramSha1 => SaslName::ScramSha1,
            Choice::ScramSha512 => {
                use base64::Engine;
                let text = base64::engine::general_purpose::STANDARD.encode(&data);
                return Err(Element::builder("auth", xmpp_parsers::ns::SASL)
                    .attr(crate::protocol::nc("mechanism"), self.name())
                    .append(if text.is_empty() {
                        "=".to_string()
                    } else {
                        text
                    })
                    .build());
            }
        };
        Ok(XmppStreamElement::Sasl(Nonza::Auth(Auth {
            mechanism: name,
            data,
        })))
    }
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

fn check_signature(mech: &mut dyn Mechanism, data: &[u8]) -> Result<(), ConnectError> {
    match mech.success(data) {
        Ok(()) => Ok(()),
        Err(MechanismError::InvalidSignatureInSuccessResponse) => Err(impostor("wrong")),
        Err(MechanismError::InvalidState) => Err(impostor(
            "missing: success came before the exchange was done",
        )),
        Err(_) => Err(impostor("missing")),
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

/// Runs the SASL exchange on `stream` with the best SCRAM mechanism in
/// `offered`; returns the stream ready for its restart.
pub async fn login<S: AsyncBufRead + AsyncWrite + Unpin>(
    mut stream: XmppStream<S>,
    offered: &[String],
    creds: Credentials,
) -> Result<InitiatingStream<S>, ConnectError> {
    let choice = Choice::pick(offered).ok_or_else(|| {
        ConnectError::fatal(
            "no-scram",
            format!(
                "the server offers no SCRAM login (offered: {})",
                offered.join(", ")
            ),
        )
    })?;
    let mut mech = choice
        .mechanism(creds)
        .map_err(|e| ConnectError::fatal("auth-error", e.to_string()))?;
    let sent = match choice.auth(mech.initial()) {
        Ok(nonza) => stream.send(&nonza).await,
        Err(element) => stream.send(&element).await,
    };
    sent.map_err(super::connect::io_error)?;
    let mut step = Step::First;
    loop {
        let el = match stream.next().await {
            Some(Ok(item)) => item.into_read_error().map_err(read_error)?,
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
                    mech.response(&c.data)
                        .map_err(|e| ConnectError::fatal("auth-error", e.to_string()))?
                }
                // RFC 6120 §6.3.10: the server's final message may come as
                // a challenge, answered empty, then an empty success.
                Step::Final => {
                    check_signature(mech.as_mut(), &c.data)?;
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
                    Step::First | Step::Final => check_signature(mech.as_mut(), &s.data)?,
                }
                return Ok(stream.initiate_reset());
            }
            XmppStreamElement::Sasl(Nonza::Failure(f)) => {
                let condition = kebab(&format!("{:?}", f.defined_condition));
                return Err(ConnectError::fatal(
                    &condition,
                    format!(
                        "the server refused the login ({condition}): check the JID and password"
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
        stream
            .send(&XmppStreamElement::Sasl(Nonza::Response(Response {
                data: reply,
            })))
            .await
            .map_err(super::connect::io_error)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sasl::common::ChannelBinding;

    #[test]
    fn picks_the_strongest_offered() {
        let offer = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Choice::pick(&offer(&["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"])),
            Some(Choice::ScramSha256)
        );
        assert_eq!(
            Choice::pick(&offer(&["SCRAM-SHA-1", "SCRAM-SHA-512", "SCRAM-SHA-256"])),
            Some(Choice::ScramSha512)
        );
        assert_eq!(
            Choice::pick(&offer(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"])),
            Some(Choice::ScramSha1)
        );
        assert_eq!(Choice::pick(&offer(&["PLAIN", "SCRAM-SHA-256-PLUS"])), None);
    }

    /// SCRAM-SHA-512 from first principles: the client's proof and the
    /// server's signature as RFC 5802 computes them.
    #[test]
    fn sha512_client_checks_the_server_signature() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let creds = Credentials::default()
            .with_username("user")
            .with_password("pencil")
            .with_channel_binding(ChannelBinding::None);
        let mut c = Choice::ScramSha512.mechanism(creds.clone()).unwrap();
        assert_eq!(c.name(), "SCRAM-SHA-512");
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
        let e = check_signature(c.as_mut(), format!("v={}", b64.encode(&wrong)).as_bytes());
        assert_eq!(e.unwrap_err().condition, "bad-server-signature");
        assert!(check_signature(c.as_mut(), b"").is_err());
        check_signature(
            c.as_mut(),
            format!("v={}", b64.encode(&server_sig)).as_bytes(),
        )
        .expect("the right signature");
    }

    #[test]
    fn missing_and_wrong_signatures_name_the_missing_proof() {
        let creds = Credentials::default()
            .with_username("u")
            .with_password("p")
            .with_channel_binding(ChannelBinding::None);
        let mut m = Choice::ScramSha1.mechanism(creds).unwrap();
        m.initial();
        // Success before the exchange finished.
        let e = check_signature(m.as_mut(), b"v=AAAA").unwrap_err();
        assert!(e.fatal);
        assert_eq!(e.condition, "bad-server-signature");
        assert!(
            e.text.contains("did not prove it knows the password"),
            "{e}"
        );
        m.response(b"r=abc,s=QSXCR+Q6sek8bf92,i=4096").unwrap();
        let e = check_signature(m.as_mut(), b"").unwrap_err();
        assert!(e.text.contains("signature missing"), "{e}");
        let e = check_signature(m.as_mut(), b"v=AAAA").unwrap_err();
        assert!(e.text.contains("signature wrong"), "{e}");
    }
}
