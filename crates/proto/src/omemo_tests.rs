use super::*;

// Elements as python-oldmemo and python-twomemo 2.1.0 serialize them
// (oldmemo.etree / twomemo.etree): a bundle, a message with a key
// exchange and a plain key for one device, a device list.
const LEGACY_BUNDLE: &str = r#"<bundle xmlns="eu.siacs.conversations.axolotl"><signedPreKeyPublic signedPreKeyId="1">BctT8rI4FK+IvayK+ii1No4HxNsN8r/G+UJkR43aswB2</signedPreKeyPublic><signedPreKeySignature>6l0uc/U5uykMNJ3l6XXLVUSQVxz527xStBXn/kTeldArdxhlGrEielM2S1xNNBqLxAfRB7bx3AFxXu9+9D2KjA==</signedPreKeySignature><identityKey>BbiKJUJfWvUuqEwHzuj6reH17yBfJe7hchQB4Fpsi8Ud</identityKey><prekeys><preKeyPublic preKeyId="1">BSe6I0+i733yy0BfF9OI5ZZxpK70oPZ9Z54zPDqHaaJD</preKeyPublic><preKeyPublic preKeyId="2">BUOx0weu5940uH6I9u4WAOyi0gy38/uCe+3sVhuq8lg5</preKeyPublic></prekeys></bundle>"#;
const LEGACY_MESSAGE: &str = r#"<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="7"><key rid="42">MwohBQWSm69FYqzoNSJ9bOR1a4ZharzvR5XwLK1CaqLNsmUfEAEYACIw20F7NrDLcJBKzZRo0F982vgYHypgTd6IJ3Fzed7Ek9bWZ/AXWIYfKcFyjN8pK1uRJv1DHvlTe0U=</key><key rid="42" prekey="true">MwgCEiEFzN9G9MPEQlZpc0wuvRn2vpZ9xjdmqLP6ocfqeX0M7zEaIQWsyWgo+7tSMykHVmjyT5rvBD+DHk0RjTuKHdm299PpYCJiMwohBQWSm69FYqzoNSJ9bOR1a4ZharzvR5XwLK1CaqLNsmUfEAAYACIwe3A4ETsQC1JyX7XTjZ/ch2sFaA+FoiGN9Fjw+IO1IK4ZrKy22EZCvOn/48eLz0RS4c5TSGOURKowAQ==</key><iv>0ypsuHt1tiVlblZc</iv></header><payload>WtI=</payload></encrypted>"#;
const LEGACY_DEVICES: &str =
    r#"<list xmlns="eu.siacs.conversations.axolotl"><device id="1" /><device id="2" /></list>"#;
const V2_BUNDLE: &str = r#"<bundle xmlns="urn:xmpp:omemo:2"><spk id="1">wddT5QgnTaPuM9iJWKdBNninbYaWx/L2L/6D/LFYZGM=</spk><spks>PMXo0LXmeMtsIMewzlTWbIWvb12w1kLm4O5oER/jP7FmyUCzDR//5uX1xaKs6odveVn8YpfP3z35jmkEOEIqCg==</spks><ik>vRcCKxaFgOBilxugG6KghMYYJYqzAgYMKHVDvn2yqWc=</ik><prekeys><pk id="1">syy3RL5WrTOA2abFyni280ePgBRTuc1zUMW7Hl1Qdls=</pk><pk id="2">FFgUuWa/c11mTX19kCjhfz04sLuEv7dJz5Z6c6P810Q=</pk></prekeys></bundle>"#;
const V2_MESSAGE: &str = r#"<encrypted xmlns="urn:xmpp:omemo:2"><header sid="7"><keys jid="bob@x.test"><key rid="42" kex="true">CAEQARoguxarkL3nvbc0bvMZaIUgkx73h05zuOR73SuCBky8D+oiIEMzKelZZABFR6RUG4WhZxkNCN26ah5M+B/c/NYZLH4JKnwKEMHTo/IWkx5jpInYjXDcw4ESaAgAEAAaINNurvzd4CVw+UHocMIfS1X+wEa3RRgainaylVKpcZdfIkClrnAGFvv528Eh7k61GKnKFwGajepkyK8oc1jx4/y1HJv8mjItyFIEh4CE+ipSzeA2L3vwTG0OhnfJ6xD2iPJ8</key><key rid="42">ChD6IXIGZH5VbrFMM7xR7iKLEmgIARAAGiDTbq783eAlcPlB6HDCH0tV/sBGt0UYGop2spVSqXGXXyJAK5qjfNT24MRfwWJAvaPMY46wjpS2/BiSjvt7vC8iwtN0N5/rOPtk2VbNMH2DTqMrbDvEiZGeoW9/aiLQyH40vA==</key></keys></header><payload>EeFGou4jP/byuMmhLgIZbw==</payload></encrypted>"#;
const V2_DEVICES: &str =
    r#"<devices xmlns="urn:xmpp:omemo:2"><device id="1"/><device id="2" label="phone"/></devices>"#;

fn el(xml: &str) -> Element {
    xml.parse().unwrap()
}

#[test]
fn legacy_message_read_and_written_back() {
    let e = Encrypted::parse(&el(LEGACY_MESSAGE)).unwrap();
    assert_eq!(
        (e.omemo, e.sid, e.keys.len(), e.iv.len()),
        (Omemo::Legacy, 7, 2, 12)
    );
    assert_eq!(e.payload.as_deref().map(<[u8]>::len), Some(2));
    assert!(!e.keys[0].kex && e.keys[1].kex);
    assert_eq!(e.keys[1].data[0], 0x33, "0.3's version byte");
    let own: BareJid = "bob@x.test".parse().unwrap();
    assert_eq!(e.key_for(&own, 42), Some(&e.keys[0]));
    assert_eq!(e.key_for(&own, 43), None);
    assert_eq!(Encrypted::parse(&e.to_element()).unwrap(), e);
}

#[test]
fn v2_message_read_and_written_back() {
    let e = Encrypted::parse(&el(V2_MESSAGE)).unwrap();
    assert_eq!((e.omemo, e.sid, e.keys.len()), (Omemo::V2, 7, 2));
    assert!(e.iv.is_empty());
    let bob: BareJid = "bob@x.test".parse().unwrap();
    assert!(e.keys.iter().all(|k| k.jid.as_ref() == Some(&bob)));
    assert!(e.keys[0].kex && !e.keys[1].kex);
    // A key for bob's device 42 is not one for carol's device 42.
    assert!(e.key_for(&"carol@x.test".parse().unwrap(), 42).is_none());
    assert_eq!(Encrypted::parse(&e.to_element()).unwrap(), e);
}

#[test]
fn the_encrypted_element_is_found_v2_first() {
    let msg = el(&format!(
        "<message xmlns='jabber:client'><body>fallback</body>{LEGACY_MESSAGE}{V2_MESSAGE}</message>"
    ));
    assert_eq!(Encrypted::find(&msg).unwrap().ns(), V2);
    let msg = el(&format!(
        "<message xmlns='jabber:client'>{LEGACY_MESSAGE}</message>"
    ));
    assert_eq!(Encrypted::find(&msg).unwrap().ns(), LEGACY);
    assert!(
        Encrypted::find(&el(
            "<message xmlns='jabber:client'><body>x</body></message>"
        ))
        .is_none()
    );
}

#[test]
fn hostile_messages_refused() {
    for bad in [
        "<encrypted xmlns='eu.siacs.conversations.axolotl'/>",
        "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='x'><iv>AAAA</iv></header></encrypted>",
        "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted>",
        "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>!!</key><iv>AAAA</iv></header></encrypted>",
        "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys><key rid='2'>AAAA</key></keys></header></encrypted>",
        "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='a@b'><key>AAAA</key></keys></header></encrypted>",
        "<encrypted xmlns='urn:xmpp:other'><header sid='1'/></encrypted>",
    ] {
        assert!(Encrypted::parse(&el(bad)).is_err(), "{bad}");
    }
    let big = "A".repeat(MAX_KEY_BYTES * 2);
    let xml = format!(
        "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='a@b'><key rid='1'>{big}</key></keys></header></encrypted>"
    );
    assert!(Encrypted::parse(&el(&xml)).is_err());
    let many = "<key rid='1'>AAAA</key>".repeat(MAX_KEYS + 1);
    let xml = format!(
        "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='a@b'>{many}</keys></header></encrypted>"
    );
    assert!(Encrypted::parse(&el(&xml)).is_err());
}

#[test]
fn device_lists() {
    let (o, d) = parse_device_list(&el(LEGACY_DEVICES)).unwrap();
    assert_eq!(
        (o, d.iter().map(|d| d.id).collect::<Vec<_>>()),
        (Omemo::Legacy, vec![1, 2])
    );
    let (o, d) = parse_device_list(&el(V2_DEVICES)).unwrap();
    assert_eq!(o, Omemo::V2);
    assert_eq!(
        d[1],
        Device {
            id: 2,
            label: Some("phone".into())
        }
    );
    for (omemo, xml) in [(Omemo::Legacy, LEGACY_DEVICES), (Omemo::V2, V2_DEVICES)] {
        let (_, d) = parse_device_list(&el(xml)).unwrap();
        assert_eq!(
            parse_device_list(&device_list_element(omemo, &d)).unwrap(),
            (omemo, d)
        );
    }
    // Duplicates and bad ids skipped, the list bounded, labels cleaned.
    let many: String = (0..500).map(|i| format!("<device id='{i}'/>")).collect();
    let xml = format!(
        "<devices xmlns='urn:xmpp:omemo:2'><device id='x'/><device id='5' label='a&#9;b'/><device id='5'/>{many}</devices>"
    );
    let (_, d) = parse_device_list(&el(&xml)).unwrap();
    assert_eq!(d.len(), MAX_DEVICES);
    assert_eq!(
        d[0],
        Device {
            id: 5,
            label: Some("ab".into())
        }
    );
}

#[test]
fn bundles() {
    let (o, b) = parse_bundle(&el(LEGACY_BUNDLE)).unwrap();
    assert_eq!(o, Omemo::Legacy);
    assert_eq!(
        (b.identity_key.len(), b.identity_key[0], b.signed_prekey_id),
        (33, 0x05, 1)
    );
    assert_eq!((b.signed_prekey_signature.len(), b.prekeys.len()), (64, 2));
    let (o2, b2) = parse_bundle(&el(V2_BUNDLE)).unwrap();
    assert_eq!(
        (o2, b2.identity_key.len(), b2.prekeys[1].0),
        (Omemo::V2, 32, 2)
    );
    for (omemo, b) in [(o, b), (o2, b2)] {
        assert_eq!(
            parse_bundle(&bundle_element(omemo, &b)).unwrap(),
            (omemo, b)
        );
    }
    assert!(
        parse_bundle(&el(
            "<bundle xmlns='urn:xmpp:omemo:2'><spk id='1'>AAAA</spk></bundle>"
        ))
        .is_err()
    );
    assert_eq!(
        bundle_node(Omemo::Legacy, 9),
        (
            "eu.siacs.conversations.axolotl.bundles:9".into(),
            "current".into()
        )
    );
    assert_eq!(
        bundle_node(Omemo::V2, 9),
        (V2_BUNDLES_NODE.into(), "9".into())
    );
}
