//! Tests of room discovery: disco#items pages, room info, forms.

use super::*;
use crate::fixtures::el;

#[test]
fn items_query_with_and_without_rsm() {
    let q = items_query(None, None);
    assert!(q.is("query", DISCO_ITEMS));
    assert_eq!(q.children().count(), 0);
    // XEP-0059 §2.1 / §2.2: first page, then the page after "last".
    let q = items_query(Some(20), Some("room20@chat.example.org"));
    let set = q.get_child("set", RSM).unwrap();
    assert_eq!(set.get_child("max", RSM).unwrap().text(), "20");
    assert_eq!(
        set.get_child("after", RSM).unwrap().text(),
        "room20@chat.example.org"
    );
    assert!(
        items_query(Some(20), None)
            .get_child("set", RSM)
            .unwrap()
            .get_child("after", RSM)
            .is_none()
    );
}

#[test]
fn parses_items_with_rsm() {
    // XEP-0045 §6.3 items with an XEP-0059 §2.1 result set.
    let q = el("<query xmlns='http://jabber.org/protocol/disco#items'>
        <item jid='heath@chat.shakespeare.lit' name='A Lonely Heath'/>
        <item jid='darkcave@chat.shakespeare.lit' name='A Dark Cave'/>
        <item jid='forres@chat.shakespeare.lit'/>
        <set xmlns='http://jabber.org/protocol/rsm'>
          <first index='0'>heath@chat.shakespeare.lit</first>
          <last>forres@chat.shakespeare.lit</last>
          <count>37</count>
        </set></query>");
    let page = parse_items(Some(&q)).unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.items[0].jid, "heath@chat.shakespeare.lit");
    assert_eq!(page.items[0].name.as_deref(), Some("A Lonely Heath"));
    assert_eq!(page.items[2].name, None);
    let rsm = page.rsm.clone().unwrap();
    assert_eq!(rsm.count, Some(37));
    assert_eq!(rsm.last.as_deref(), Some("forres@chat.shakespeare.lit"));
    assert_eq!(rsm.first.as_deref(), Some("heath@chat.shakespeare.lit"));
    // Fewer than counted so far: next after "last".
    assert_eq!(
        page.next_after(3, None).as_deref(),
        Some("forres@chat.shakespeare.lit")
    );
    // Everything counted, or the same "last" again: done.
    assert_eq!(page.next_after(37, None), None);
    assert_eq!(
        page.next_after(6, Some("forres@chat.shakespeare.lit")),
        None
    );
    // Without a count: until an empty page.
    let mut uncounted = page.clone();
    uncounted.rsm.as_mut().unwrap().count = None;
    assert!(uncounted.next_after(1000, None).is_some());
    uncounted.items.clear();
    assert_eq!(uncounted.next_after(1000, None), None);
}

#[test]
fn items_without_rsm_are_complete() {
    let q = el("<query xmlns='http://jabber.org/protocol/disco#items'>
        <item jid='a@conference.localhost' name=''/></query>");
    let page = parse_items(Some(&q)).unwrap();
    assert_eq!(page.rsm, None);
    assert_eq!(page.items[0].name, None);
    assert_eq!(page.next_after(1, None), None);
    assert!(parse_items(None).is_err());
    assert!(parse_items(Some(&info_query())).is_err());
}

#[test]
fn finds_the_muc_service() {
    // XEP-0045 §6.2.
    let q = el("<query xmlns='http://jabber.org/protocol/disco#info'>
        <identity category='conference' name='Shakespearean Chat Service' type='text'/>
        <feature var='http://jabber.org/protocol/muc'/></query>");
    assert!(parse_info(Some(&q)).unwrap().is_muc_service());
    let q = el("<query xmlns='http://jabber.org/protocol/disco#info'>
        <identity category='pubsub' type='service'/></query>");
    assert!(!parse_info(Some(&q)).unwrap().is_muc_service());
    // A jabber:iq:conference service (seed 000) is not a MUC service.
    let q = el("<query xmlns='http://jabber.org/protocol/disco#info'>
        <identity category='conference' type='text'/>
        <feature var='jabber:iq:conference'/></query>");
    assert!(!parse_info(Some(&q)).unwrap().is_muc_service());
}

#[test]
fn roominfo_in_words() {
    // XEP-0045 §6.4 example 10.
    let q = el("<query xmlns='http://jabber.org/protocol/disco#info'>
        <identity category='conference' name='A Dark Cave' type='text'/>
        <feature var='http://jabber.org/protocol/muc'/>
        <feature var='muc_passwordprotected'/>
        <feature var='muc_hidden'/>
        <feature var='muc_temporary'/>
        <feature var='muc_open'/>
        <feature var='muc_unmoderated'/>
        <feature var='muc_nonanonymous'/>
        <feature var='urn:xmpp:mam:2'/>
        <x xmlns='jabber:x:data' type='result'>
          <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>
          <field var='muc#roominfo_description' label='Description'><value>The place for all good witches!</value></field>
          <field var='muc#roominfo_occupants' label='Number of occupants'><value>3</value></field>
          <field var='muc#roominfo_subject' label='Current Discussion Topic'><value>Spells</value></field>
          <field var='muc#roominfo_lang' label='Language of discussion'><value>en</value></field>
        </x></query>");
    let info = room_info(&parse_info(Some(&q)).unwrap());
    assert_eq!(info.name.as_deref(), Some("A Dark Cave"));
    assert_eq!(
        info.description.as_deref(),
        Some("The place for all good witches!")
    );
    assert_eq!(info.subject.as_deref(), Some("Spells"));
    assert_eq!(info.occupants, Some(3));
    assert_eq!(info.language.as_deref(), Some("en"));
    assert_eq!(
        info.features,
        [
            "password-protected",
            "hidden",
            "temporary",
            "open",
            "unmoderated",
            "non-anonymous",
            "archived (MAM)"
        ]
    );
    let text = describe_room_info("darkcave@chat.shakespeare.lit", &info);
    assert!(text.contains("Occupants    3"), "{text}");
    assert!(text.contains("password-protected, hidden"), "{text}");
    // The roominfo form's room name wins over the identity.
    let q = el("<query xmlns='http://jabber.org/protocol/disco#info'>
        <identity category='conference' name='cave' type='text'/>
        <feature var='muc_semianonymous'/><feature var='muc_persistent'/><feature var='muc_public'/>
        <feature var='muc_membersonly'/><feature var='muc_moderated'/>
        <x xmlns='jabber:x:data' type='result'>
          <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>
          <field var='muc#roomconfig_roomname'><value>The Cave</value></field>
          <field var='muc#roominfo_description'><value></value></field></x></query>");
    let info = room_info(&parse_info(Some(&q)).unwrap());
    assert_eq!(info.name.as_deref(), Some("The Cave"));
    assert_eq!(info.description, None);
    assert_eq!(
        info.features,
        [
            "semi-anonymous",
            "persistent",
            "public",
            "members-only",
            "moderated"
        ]
    );
}

#[test]
fn destroy_element() {
    // XEP-0045 §10.9 example 201.
    let venue = Jid::new("coven@chat.shakespeare.lit").unwrap();
    let q = destroy(Some(&venue), Some("Macbeth doth come."));
    let expected = el("<query xmlns='http://jabber.org/protocol/muc#owner'>\
        <destroy jid='coven@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy></query>");
    assert_eq!(q, expected);
    let q = destroy(None, None);
    let d = q.get_child("destroy", owner::NS).unwrap();
    assert_eq!(d.attr("jid"), None);
    assert_eq!(d.children().count(), 0);
}

#[test]
fn cancel_is_an_empty_cancel_form() {
    // XEP-0045 §10.1.3 example 160.
    let expected = el("<query xmlns='http://jabber.org/protocol/muc#owner'>\
        <x xmlns='jabber:x:data' type='cancel'/></query>");
    assert_eq!(cancel_config(), expected);
}

fn config_form_example() -> DataForm {
    // Shortened from XEP-0045 §10.1.3 example 157.
    let q = el("<query xmlns='http://jabber.org/protocol/muc#owner'>
      <x xmlns='jabber:x:data' type='form'>
        <title>Configuration for \"coven\" Room</title>
        <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
        <field label='Natural-Language Room Name' type='text-single' var='muc#roomconfig_roomname'/>
        <field label='Make Room Persistent?' type='boolean' var='muc#roomconfig_persistentroom'><value>0</value></field>
        <field label='Who May Discover Real JIDs?' type='list-single' var='muc#roomconfig_whois'>
          <value>moderators</value>
          <option label='Moderators Only'><value>moderators</value></option>
          <option label='Anyone'><value>anyone</value></option>
        </field>
        <field label='Room Admins' type='jid-multi' var='muc#roomconfig_roomadmins'/>
        <field type='fixed'><value>Section</value></field>
      </x></query>");
    config_form(Some(&q)).unwrap()
}

#[test]
fn form_round_trips_through_json_shape() {
    let form = config_form_example();
    let json = Form::from(&form);
    assert_eq!(
        json.title.as_deref(),
        Some("Configuration for \"coven\" Room")
    );
    let whois = &json.fields[3];
    assert_eq!(whois.type_, "list-single");
    assert_eq!(whois.options[1].value, "anyone");
    assert_eq!(whois.options[1].label.as_deref(), Some("Anyone"));
    let v = serde_json::to_value(&json).unwrap();
    assert_eq!(v["fields"][1]["var"], "muc#roomconfig_roomname");
    assert_eq!(v["fields"][2]["type"], "boolean");
    assert_eq!(v["fields"][2]["values"][0], "0");
    assert_eq!(json.to_data_form(), form);
}

#[test]
fn applies_fields_to_a_form() {
    let form = config_form_example();
    let sub = apply_fields(
        &form,
        &[
            ("muc#roomconfig_roomname".into(), "The Coven".into()),
            ("muc#roomconfig_persistentroom".into(), "yes".into()),
            ("muc#roomconfig_whois".into(), "anyone".into()),
            ("muc#roomconfig_roomadmins".into(), "a@x".into()),
            ("muc#roomconfig_roomadmins".into(), "b@x".into()),
        ],
    )
    .unwrap();
    assert_eq!(sub.type_, DataFormType::Submit);
    assert_eq!(sub.form_type(), Some(owner::ROOMCONFIG));
    let v = |var: &str| {
        sub.fields
            .iter()
            .find(|f| f.var.as_deref() == Some(var))
            .unwrap()
            .values
            .clone()
    };
    assert_eq!(v("muc#roomconfig_roomname"), ["The Coven"]);
    assert_eq!(v("muc#roomconfig_persistentroom"), ["1"]);
    assert_eq!(v("muc#roomconfig_whois"), ["anyone"]);
    assert_eq!(v("muc#roomconfig_roomadmins"), ["a@x", "b@x"]);
    // Fixed fields are not sent back.
    assert_eq!(sub.fields.len(), 5);
    let e = apply_fields(&form, &[("muc#roomconfig_nosuch".into(), "1".into())]).unwrap_err();
    assert_eq!(e.condition, "bad-request");
    assert!(e.text.unwrap().contains("muc#roomconfig_nosuch"));
    let e = apply_fields(&form, &[("muc#roomconfig_whois".into(), "all".into())]).unwrap_err();
    assert!(e.text.unwrap().contains("moderators, anyone"));
    assert!(
        apply_fields(
            &form,
            &[("muc#roomconfig_persistentroom".into(), "x".into())]
        )
        .is_err()
    );
    let q = submit_form(sub);
    assert!(q.is("query", owner::NS));
    assert_eq!(q.get_child("x", DATA).unwrap().attr("type"), Some("submit"));
}
