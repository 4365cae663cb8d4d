//! What `/wait` waits for, as predicates over the JSON form of events.

use jid::BareJid;
use serde_json::Value;

use crate::command::WaitKind;
use crate::store::Store;

fn field_is(v: &Value, key: &str, want: &str) -> bool {
    match v.get(key) {
        Some(Value::String(s)) => s == want,
        Some(Value::Null) | None => false,
        Some(other) => serde_json::to_string(other).is_ok_and(|s| s == want),
    }
}

/// Whether event `v` is one `kind` waits for. `/wait message` never
/// matches our own messages.
pub fn matches(kind: &WaitKind, v: &Value, _store: &Store) -> bool {
    match kind {
        WaitKind::Message {
            room,
            from,
            contains,
        } => {
            v["event"] == "message"
                && field_is(v, "room", room.as_str())
                && v["own"] != Value::Bool(true)
                && from.as_ref().is_none_or(|n| field_is(v, "nick", n))
                && contains
                    .as_ref()
                    .is_none_or(|t| v["body"].as_str().is_some_and(|b| b.contains(t.as_str())))
        }
        WaitKind::Occupant { room, nick } => {
            v["event"] == "occupant"
                && field_is(v, "room", room.as_str())
                && field_is(v, "nick", nick)
                && v["action"] != "leave"
        }
        WaitKind::Event { name, fields } => {
            v["event"] == name.as_str() && fields.iter().all(|(k, want)| field_is(v, k, want))
        }
    }
}

/// Conditions that hold in the store already count too: an occupant who
/// is in the room satisfies `/wait occupant`.
pub fn satisfied_now(kind: &WaitKind, store: &Store) -> bool {
    match kind {
        WaitKind::Occupant { room, nick } => occupant_present(store, room, nick),
        _ => false,
    }
}

fn occupant_present(store: &Store, room: &BareJid, nick: &str) -> bool {
    store
        .room(room)
        .is_some_and(|r| r.occupants.get(nick).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn room() -> BareJid {
        BareJid::new("r@conference.localhost").unwrap()
    }

    #[test]
    fn message_filters() {
        let s = Store::new();
        let k = WaitKind::Message {
            room: room(),
            from: Some("bob".into()),
            contains: Some("hello".into()),
        };
        let ev = json!({"event":"message","room":"r@conference.localhost","nick":"bob","body":"well hello there","own":false});
        assert!(matches(&k, &ev, &s));
        let mut own = ev.clone();
        own["own"] = json!(true);
        assert!(!matches(&k, &own, &s));
        let mut other = ev.clone();
        other["nick"] = json!("carol");
        assert!(!matches(&k, &other, &s));
        let mut wrong_body = ev.clone();
        wrong_body["body"] = json!("bye");
        assert!(!matches(&k, &wrong_body, &s));
        let mut other_room = ev;
        other_room["room"] = json!("x@conference.localhost");
        assert!(!matches(&k, &other_room, &s));
    }

    #[test]
    fn occupant_and_generic_event() {
        let s = Store::new();
        let k = WaitKind::Occupant {
            room: room(),
            nick: "bob".into(),
        };
        assert!(matches(
            &k,
            &json!({"event":"occupant","room":"r@conference.localhost","nick":"bob","action":"join"}),
            &s
        ));
        assert!(!matches(
            &k,
            &json!({"event":"occupant","room":"r@conference.localhost","nick":"bob","action":"leave"}),
            &s
        ));
        let k = WaitKind::Event {
            name: "occupant".into(),
            fields: vec![
                ("action".into(), "nick".into()),
                ("self".into(), "false".into()),
            ],
        };
        assert!(matches(
            &k,
            &json!({"event":"occupant","action":"nick","self":false}),
            &s
        ));
        assert!(!matches(
            &k,
            &json!({"event":"occupant","action":"nick","self":true}),
            &s
        ));
        assert!(!satisfied_now(
            &WaitKind::Occupant {
                room: room(),
                nick: "bob".into()
            },
            &s
        ));
    }
}
