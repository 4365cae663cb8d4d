//! Redaction, one test per shape of secret.

use minidom::Element;

use super::{MASK, XmlDir, render};

fn redacted(xml: &str) -> String {
    let el: Element = xml.parse().expect("test XML parses");
    render(el)
}

/// `secret` appears nowhere in the rendering, the mask does, and so does
/// `kept` (what must survive).
fn hides(xml: &str, secret: &str, kept: &str) {
    let out = redacted(xml);
    assert!(!out.contains(secret), "{secret:?} leaked: {out}");
    assert!(out.contains(MASK), "no mask in {out}");
    assert!(out.contains(kept), "{kept:?} lost: {out}");
}

#[test]
fn sasl_exchange_is_masked() {
    // SCRAM client-first (n,,n=alice,r=…) and client-final (c=…,r=…,p=PROOF).
    hides(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1hbGljZSxyPWFiYw==</auth>",
        "biwsbj1hbGljZSxyPWFiYw==",
        "mechanism='SCRAM-SHA-1'",
    );
    hides(
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1hYmNkZWYscz1zYWx0LGk9NDA5Ng==</challenge>",
        "cj1hYmNkZWYscz1zYWx0LGk9NDA5Ng==",
        "<challenge",
    );
    hides(
        "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdzLHI9YWJjZGVmLHA9UFJPT0Y=</response>",
        "Yz1iaXdzLHI9YWJjZGVmLHA9UFJPT0Y=",
        "<response",
    );
    hides(
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1TSUdOQVRVUkU=</success>",
        "dj1TSUdOQVRVUkU=",
        "<success",
    );
    // PLAIN: \0alice\0secret.
    hides(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>",
        "AGFsaWNlAHNlY3JldA==",
        "PLAIN",
    );
    // SASL2 (XEP-0388).
    hides(
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'>\
         <initial-response>biwsbj1ib2I=</initial-response></authenticate>",
        "biwsbj1ib2I=",
        "initial-response",
    );
    // The failure's text is the server's words: kept.
    let out = redacted(
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>bad password</text></failure>",
    );
    assert!(out.contains("bad password"), "{out}");
}

#[test]
fn muc_join_password_is_masked() {
    hides(
        "<presence xmlns='jabber:client' to='room@muc.example/alice'>\
         <x xmlns='http://jabber.org/protocol/muc'><password>cauldronburn</password></x></presence>",
        "cauldronburn",
        "room@muc.example/alice",
    );
}

#[test]
fn register_and_legacy_auth_secrets_are_masked() {
    hides(
        "<iq xmlns='jabber:client' type='set' id='r1'><query xmlns='jabber:iq:register'>\
         <username>bill</username><password>Calliope</password></query></iq>",
        "Calliope",
        "<username>bill</username>",
    );
    hides(
        "<iq xmlns='jabber:client' type='set' id='a1'><query xmlns='jabber:iq:auth'>\
         <username>bill</username><digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d</digest></query></iq>",
        "48fc78be9ec8f86d8ce1c39c320c97c21d62334d",
        "bill",
    );
    // Bookmarks carry room passwords too.
    hides(
        "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'><nick>JC</nick><password>pw-xyz</password></conference>",
        "pw-xyz",
        "<nick>JC</nick>",
    );
}

#[test]
fn secret_form_fields_are_masked() {
    let form = "<iq xmlns='jabber:client' type='set' id='c1'><query xmlns='http://jabber.org/protocol/muc#owner'>\
        <x xmlns='jabber:x:data' type='submit'>\
        <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
        <field var='muc#roomconfig_roomname'><value>Orchard</value></field>\
        <field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field>\
        <field var='muc#roomconfig_roomsecret'><value>roomsecret-1</value></field>\
        <field var='pin' type='text-private'><value>4711</value></field>\
        <field var='x-new-password'><value>pw-2</value></field>\
        </x></query></iq>";
    let out = redacted(form);
    for secret in ["roomsecret-1", "4711", "pw-2"] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
    assert!(out.contains("Orchard"), "{out}");
}

#[test]
fn tokens_are_masked() {
    // The Jitsi focus's conference request carries a token attribute.
    hides(
        "<iq xmlns='jabber:client' type='set' id='f1' to='focus.meet.example'>\
         <conference xmlns='http://jitsi.org/protocol/focus' room='r@c' machine-uid='m' token='eyJhbGciOi.jwt.sig'/></iq>",
        "eyJhbGciOi.jwt.sig",
        "room='r@c'",
    );
    // XEP-0484 FAST token.
    hides(
        "<token xmlns='urn:xmpp:fast:0' expiry='2026-12-31T00:00:00Z' token='WxUkxqvgb2n0'/>",
        "WxUkxqvgb2n0",
        "expiry=",
    );
    // Any <token> element's text.
    hides(
        "<message xmlns='jabber:client'><token xmlns='urn:example:auth'>tok-998</token></message>",
        "tok-998",
        "urn:example:auth",
    );
}

#[test]
fn upload_auth_headers_are_masked() {
    let out = redacted(
        "<iq xmlns='jabber:client' type='result' id='u1'><slot xmlns='urn:xmpp:http:upload:0'>\
         <put url='https://upload.example/put'>\
         <header name='Authorization'>Basic Base64String==</header>\
         <header name='Cookie'>foo=bar; user=romeo</header>\
         <header name='Expires'>Tue, 01 Dec 2026</header>\
         </put><get url='https://upload.example/get'/></slot></iq>",
    );
    assert!(!out.contains("Base64String=="), "{out}");
    assert!(!out.contains("user=romeo"), "{out}");
    assert!(out.contains("Tue, 01 Dec 2026"), "{out}");
}

#[test]
fn component_handshake_is_masked() {
    hides(
        "<handshake xmlns='jabber:component:accept'>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>",
        "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e",
        "handshake",
    );
}

#[test]
fn omemo_key_material_is_masked() {
    // OMEMO 0.3 message header and bundle.
    let out = redacted(
        "<message xmlns='jabber:client'><encrypted xmlns='eu.siacs.conversations.axolotl'>\
         <header sid='27183'><key rid='31415'>BASE64ENCODEDKEY1</key><iv>BASE64IV</iv></header>\
         <payload>CIPHERTEXT</payload></encrypted></message>",
    );
    assert!(!out.contains("BASE64ENCODEDKEY1"), "{out}");
    assert!(out.contains("rid='31415'"), "{out}");
    let out = redacted(
        "<bundle xmlns='eu.siacs.conversations.axolotl'>\
         <signedPreKeyPublic signedPreKeyId='1'>SPKPUB</signedPreKeyPublic>\
         <signedPreKeySignature>SPKSIG</signedPreKeySignature>\
         <identityKey>IDKEY</identityKey>\
         <prekeys><preKeyPublic preKeyId='1'>PK1</preKeyPublic></prekeys></bundle>",
    );
    for s in ["SPKPUB", "SPKSIG", "IDKEY", "PK1"] {
        assert!(!out.contains(s), "{s} leaked: {out}");
    }
    // OMEMO 2.
    let out = redacted(
        "<bundle xmlns='urn:xmpp:omemo:2'><spk id='0'>SPK2</spk><spks>SPKS2</spks><ik>IK2</ik>\
         <prekeys><pk id='0'>PK2</pk></prekeys></bundle>",
    );
    for s in ["SPK2", "SPKS2", "IK2", "PK2"] {
        assert!(!out.contains(s), "{s} leaked: {out}");
    }
}

#[test]
fn ordinary_stanzas_are_kept_whole_on_one_line() {
    let out = redacted(
        "<message xmlns='jabber:client' to='room@muc.example' type='groupchat' id='m1'>\
         <body>hello\nworld \u{9b}2J</body></message>",
    );
    assert!(out.contains("hello\\u{a}world \\u{9b}2J"), "{out}");
    assert!(!out.contains(MASK), "{out}");
    assert!(!out.chars().any(|c| c.is_control()), "{out}");
}

#[test]
fn dir_names() {
    assert_eq!(XmlDir::In.as_str(), "in");
    assert_eq!(XmlDir::Out.to_string(), "out");
}
