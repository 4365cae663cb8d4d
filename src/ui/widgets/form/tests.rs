//! Tests of the form editor: focus, editing by field type, required
//! fields, submission, paste, scrolling, wrapping, and snapshots.

use super::render::wrap;
use super::*;
use crate::ui::widgets::testing::{HOSTILE, ctrl, key, render, shift};
use insta::assert_snapshot;
use minidom::Element;
use ratatui::style::Modifier;
use xmpp_parsers::data_forms::FieldType;

const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";

fn parse(xml: &str) -> DataForm {
    let el: Element = xml.parse().unwrap();
    DataForm::try_from(el).unwrap()
}

/// A form with every field type (a room configuration, more or less).
fn sample() -> DataForm {
    parse(
            "<x xmlns='jabber:x:data' type='form'>
              <title>Configuration for dev@conference.example.org</title>
              <instructions>Complete this form to change the configuration of your room.</instructions>
              <field type='fixed'><value>Room information</value></field>
              <field var='muc#roomconfig_roomname' type='text-single' label='Room name'>
                <required/><desc>A short name for the room</desc><value>Developers</value>
              </field>
              <field var='muc#roomconfig_roomdesc' type='text-multi' label='Description'>
                <value>Line one</value><value>Line two</value>
              </field>
              <field var='muc#roomconfig_roomsecret' type='text-private' label='Password'>
                <value>hunter2</value>
              </field>
              <field var='muc#roomconfig_persistentroom' type='boolean' label='Make room persistent'>
                <value>1</value>
              </field>
              <field var='muc#roomconfig_maxusers' type='list-single' label='Maximum occupants'>
                <option label='10'><value>10</value></option>
                <option label='Twenty'><value>20</value></option>
                <option label='No limit'><value>none</value></option>
                <value>20</value>
              </field>
              <field type='fixed'><value>Permissions</value></field>
              <field var='muc#roomconfig_presencebroadcast' type='list-multi' label='Presence broadcast for'>
                <option label='Moderators'><value>moderator</value></option>
                <option label='Participants'><value>participant</value></option>
                <option label='Visitors'><value>visitor</value></option>
                <value>moderator</value><value>participant</value>
              </field>
              <field var='contact' type='jid-single' label='Contact'><desc>Who answers questions</desc></field>
              <field var='muc#roomconfig_roomadmins' type='jid-multi' label='Room admins'>
                <value>alice@example.org</value><value>bob@example.org</value>
              </field>
              <field var='session' type='hidden'><value>abc123</value></field>
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
            </x>",
        )
}

fn focus_var(f: &FormEditor) -> Option<&str> {
    f.focused().and_then(|f| f.var.as_deref())
}

fn type_str(f: &mut FormEditor, s: &str) {
    for c in s.chars() {
        assert_eq!(f.handle_key(key(KeyCode::Char(c))), FormOutcome::Handled);
    }
}

fn focus_on(f: &mut FormEditor, var: &str) {
    for _ in 0..f.entries.len() {
        if focus_var(f) == Some(var) {
            return;
        }
        f.handle_key(key(KeyCode::Tab));
    }
    panic!("no field {var}");
}

fn values(f: &FormEditor, var: &str) -> Vec<String> {
    f.values(var).unwrap()
}

#[test]
fn focus_moves_over_editable_fields_only() {
    let mut f = FormEditor::new(sample());
    assert_eq!(focus_var(&f), Some("muc#roomconfig_roomname"));
    f.handle_key(key(KeyCode::Up));
    assert_eq!(
        focus_var(&f),
        Some("muc#roomconfig_roomname"),
        "Up stops at the top"
    );
    let order = [
        "muc#roomconfig_roomdesc",
        "muc#roomconfig_roomsecret",
        "muc#roomconfig_persistentroom",
        "muc#roomconfig_maxusers",
        "muc#roomconfig_presencebroadcast",
        "contact",
        "muc#roomconfig_roomadmins",
        "muc#roomconfig_roomname", // Tab wraps
    ];
    for var in order {
        f.handle_key(key(KeyCode::Tab));
        assert_eq!(focus_var(&f), Some(var));
    }
    f.handle_key(key(KeyCode::BackTab));
    assert_eq!(
        focus_var(&f),
        Some("muc#roomconfig_roomadmins"),
        "BackTab wraps"
    );
    f.handle_key(key(KeyCode::Down));
    assert_eq!(
        focus_var(&f),
        Some("muc#roomconfig_roomadmins"),
        "Down stops at the bottom"
    );
    // Up and Down walk through the options of the list-multi.
    f.handle_key(key(KeyCode::Up));
    assert_eq!(focus_var(&f), Some("contact"));
    f.handle_key(key(KeyCode::Up));
    assert_eq!(focus_var(&f), Some("muc#roomconfig_presencebroadcast"));
    assert!(
        matches!(f.entries[8].value, Value::Multi { cursor: 2, .. }),
        "entered from below"
    );
    f.handle_key(key(KeyCode::Up));
    f.handle_key(key(KeyCode::Up));
    assert!(matches!(f.entries[8].value, Value::Multi { cursor: 0, .. }));
    f.handle_key(key(KeyCode::Up));
    assert_eq!(focus_var(&f), Some("muc#roomconfig_maxusers"));
    f.handle_key(key(KeyCode::Down));
    assert!(
        matches!(f.entries[8].value, Value::Multi { cursor: 0, .. }),
        "entered from above"
    );
    // Enter goes to the next field.
    f.handle_key(key(KeyCode::Tab));
    assert_eq!(focus_var(&f), Some("contact"));
    f.handle_key(key(KeyCode::Enter));
    assert_eq!(focus_var(&f), Some("muc#roomconfig_roomadmins"));
}

#[test]
fn text_single_editing() {
    let mut f = FormEditor::new(sample());
    type_str(&mut f, "!");
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["Developers!"]);
    f.handle_key(key(KeyCode::Home));
    type_str(&mut f, "The ");
    f.handle_key(key(KeyCode::Delete));
    type_str(&mut f, "d");
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["The developers!"]);
    f.handle_key(key(KeyCode::End));
    f.handle_key(key(KeyCode::Backspace));
    f.handle_key(key(KeyCode::Left));
    f.handle_key(key(KeyCode::Left));
    f.handle_key(key(KeyCode::Backspace));
    f.handle_key(key(KeyCode::Right));
    type_str(&mut f, "é");
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["The developrés"]);
    f.handle_key(key(KeyCode::Left));
    f.handle_key(ctrl('k'));
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["The developr"]);
    f.handle_key(key(KeyCode::Left));
    f.handle_key(ctrl('u'));
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["r"]);
    // Space is text here, Ctrl-letters are not.
    f.handle_key(key(KeyCode::Home));
    type_str(&mut f, " x");
    assert_eq!(f.handle_key(ctrl('t')), FormOutcome::Ignored);
    assert_eq!(values(&f, "muc#roomconfig_roomname"), [" xr"]);
    f.handle_key(key(KeyCode::Backspace));
    f.handle_key(key(KeyCode::Backspace));
    assert_eq!(f.handle_key(key(KeyCode::Backspace)), FormOutcome::Handled);
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["r"]);
    // An empty text-single is submitted as an empty value.
    f.handle_key(key(KeyCode::Delete));
    assert_eq!(values(&f, "muc#roomconfig_roomname"), [""]);
}

#[test]
fn text_multi_newlines() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "muc#roomconfig_roomdesc");
    assert_eq!(
        values(&f, "muc#roomconfig_roomdesc"),
        ["Line one", "Line two"]
    );
    f.handle_key(ctrl('j'));
    type_str(&mut f, "three");
    f.handle_key(shift(KeyCode::Enter));
    f.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    type_str(&mut f, "five");
    assert_eq!(
        values(&f, "muc#roomconfig_roomdesc"),
        ["Line one", "Line two", "three", "", "five"]
    );
    // Plain Enter leaves the field.
    f.handle_key(key(KeyCode::Enter));
    assert_eq!(focus_var(&f), Some("muc#roomconfig_roomsecret"));
    // In a one-line field, Ctrl-J is nothing and Shift-Enter moves on.
    assert_eq!(f.handle_key(ctrl('j')), FormOutcome::Ignored);
    f.handle_key(shift(KeyCode::Enter));
    assert_eq!(focus_var(&f), Some("muc#roomconfig_persistentroom"));
    // Emptied, a text-multi has no values.
    focus_on(&mut f, "muc#roomconfig_roomdesc");
    f.handle_key(ctrl('u'));
    assert_eq!(values(&f, "muc#roomconfig_roomdesc"), Vec::<String>::new());
}

#[test]
fn text_private_is_never_shown() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "muc#roomconfig_roomsecret");
    f.handle_key(key(KeyCode::Backspace));
    type_str(&mut f, "3!");
    assert_eq!(values(&f, "muc#roomconfig_roomsecret"), ["hunter3!"]);
    let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
    assert!(!shown.contains("hunter"), "{shown}");
    assert!(shown.contains("••••••••"), "{shown}");
    f.handle_key(key(KeyCode::Tab));
    let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
    assert!(!shown.contains("hunter"), "{shown}");
    assert!(shown.contains("••••••••"), "{shown}");
}

#[test]
fn boolean_toggles() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "muc#roomconfig_persistentroom");
    assert_eq!(values(&f, "muc#roomconfig_persistentroom"), ["1"]);
    assert_eq!(f.handle_key(key(KeyCode::Char(' '))), FormOutcome::Handled);
    assert_eq!(values(&f, "muc#roomconfig_persistentroom"), ["0"]);
    f.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(values(&f, "muc#roomconfig_persistentroom"), ["1"]);
    assert_eq!(f.handle_key(key(KeyCode::Char('x'))), FormOutcome::Ignored);
    assert_eq!(f.handle_key(key(KeyCode::Left)), FormOutcome::Ignored);
    // "true" is true; no value is false.
    let f = FormEditor::new(parse(
        "<x xmlns='jabber:x:data' type='form'>
              <field var='a' type='boolean'><value>true</value></field>
              <field var='b' type='boolean'/></x>",
    ));
    assert_eq!(values(&f, "a"), ["1"]);
    assert_eq!(values(&f, "b"), ["0"]);
}

#[test]
fn list_single_cycles() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "muc#roomconfig_maxusers");
    let v = "muc#roomconfig_maxusers";
    assert_eq!(values(&f, v), ["20"]);
    f.handle_key(key(KeyCode::Right));
    assert_eq!(values(&f, v), ["none"]);
    f.handle_key(key(KeyCode::Right));
    assert_eq!(values(&f, v), ["10"], "wraps");
    f.handle_key(key(KeyCode::Left));
    assert_eq!(values(&f, v), ["none"], "wraps back");
    f.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(values(&f, v), ["10"]);
    f.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(values(&f, v), ["20"]);
    let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
    assert!(shown.contains("< Twenty >"), "{shown}");
    // A value the options lack is kept until another is chosen.
    let mut f = FormEditor::new(parse(
        "<x xmlns='jabber:x:data' type='form'>
              <field var='l' type='list-single'>
                <option><value>a</value></option><option><value>b</value></option>
                <value>zzz</value></field></x>",
    ));
    assert_eq!(values(&f, "l"), ["zzz"]);
    f.handle_key(key(KeyCode::Left));
    assert_eq!(values(&f, "l"), ["b"]);
}

#[test]
fn list_multi_toggles_under_the_cursor() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "muc#roomconfig_presencebroadcast");
    let v = "muc#roomconfig_presencebroadcast";
    assert_eq!(values(&f, v), ["moderator", "participant"]);
    f.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(values(&f, v), ["participant"]);
    f.handle_key(key(KeyCode::Down));
    f.handle_key(key(KeyCode::Down));
    f.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(values(&f, v), ["participant", "visitor"]);
    f.handle_key(key(KeyCode::Up));
    f.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(values(&f, v), ["visitor"]);
    assert_eq!(f.handle_key(key(KeyCode::Right)), FormOutcome::Ignored);
}

#[test]
fn jid_fields() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "contact");
    assert_eq!(
        values(&f, "contact"),
        Vec::<String>::new(),
        "empty jid-single: no value"
    );
    type_str(&mut f, " carol@example.org ");
    assert_eq!(values(&f, "contact"), ["carol@example.org"]);
    f.handle_key(key(KeyCode::Tab));
    assert_eq!(
        values(&f, "muc#roomconfig_roomadmins"),
        ["alice@example.org", "bob@example.org"]
    );
    f.handle_key(ctrl('j'));
    f.handle_key(ctrl('j'));
    type_str(&mut f, "dave@example.org ");
    assert_eq!(
        values(&f, "muc#roomconfig_roomadmins"),
        ["alice@example.org", "bob@example.org", "dave@example.org"],
        "one a line, blank lines dropped"
    );
}

#[test]
fn required_fields_must_be_filled() {
    let mut f = FormEditor::new(sample());
    f.handle_key(ctrl('u'));
    type_str(&mut f, "   ");
    f.handle_key(key(KeyCode::Tab));
    f.handle_key(key(KeyCode::Tab));
    assert_eq!(f.handle_key(ctrl('s')), FormOutcome::Handled);
    assert_eq!(f.error(), Some("“Room name” is required"));
    assert_eq!(focus_var(&f), Some("muc#roomconfig_roomname"));
    let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
    assert!(shown.contains("! “Room name” is required"), "{shown}");
    // Moving does not clear the error, editing does.
    f.handle_key(key(KeyCode::End));
    assert!(f.error().is_some());
    type_str(&mut f, "x");
    assert_eq!(f.error(), None);
    assert!(matches!(
        f.handle_key(key(KeyCode::F(10))),
        FormOutcome::Submit(_)
    ));
    // A required list-multi with nothing chosen.
    let mut f = FormEditor::new(parse(
        "<x xmlns='jabber:x:data' type='form'>
              <field var='t' type='text-single'><value>x</value></field>
              <field var='m' type='list-multi' label='Pick'><required/>
                <option><value>a</value></option></field></x>",
    ));
    assert_eq!(f.handle_key(ctrl('s')), FormOutcome::Handled);
    assert_eq!(f.error(), Some("“Pick” is required"));
    assert_eq!(focus_var(&f), Some("m"));
    f.handle_key(key(KeyCode::Char(' ')));
    assert!(matches!(f.handle_key(ctrl('s')), FormOutcome::Submit(_)));
}

#[test]
fn submit_has_every_field_with_its_value() {
    let mut f = FormEditor::new(sample());
    focus_on(&mut f, "muc#roomconfig_persistentroom");
    f.handle_key(key(KeyCode::Char(' ')));
    let FormOutcome::Submit(form) = f.handle_key(ctrl('s')) else {
        panic!("not submitted");
    };
    assert_eq!(form.type_, DataFormType::Submit);
    assert_eq!(form.form_type(), Some(ROOMCONFIG));
    assert_eq!(
        (form.title.as_deref(), form.instructions.as_deref()),
        (None, None)
    );
    let got: Vec<(&str, Vec<&str>)> = form
        .fields
        .iter()
        .map(|f| {
            assert!(f.label.is_none() && f.desc.is_none() && f.options.is_empty() && !f.required);
            (
                f.var.as_deref().unwrap(),
                f.values.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("FORM_TYPE", vec![ROOMCONFIG]),
            ("muc#roomconfig_roomname", vec!["Developers"]),
            ("muc#roomconfig_roomdesc", vec!["Line one", "Line two"]),
            ("muc#roomconfig_roomsecret", vec!["hunter2"]),
            ("muc#roomconfig_persistentroom", vec!["0"]),
            ("muc#roomconfig_maxusers", vec!["20"]),
            (
                "muc#roomconfig_presencebroadcast",
                vec!["moderator", "participant"]
            ),
            ("contact", vec![]),
            (
                "muc#roomconfig_roomadmins",
                vec!["alice@example.org", "bob@example.org"]
            ),
            ("session", vec!["abc123"]),
        ]
    );
    // It serialises as a submit form the parser reads back.
    let el: Element = form.clone().into();
    assert_eq!(el.attr("type"), Some("submit"));
    assert_eq!(DataForm::try_from(el).unwrap(), form);
    assert_eq!(f.submission(), form);
}

#[test]
fn cancel_and_other_keys() {
    let mut f = FormEditor::new(sample());
    assert_eq!(f.handle_key(key(KeyCode::Esc)), FormOutcome::Cancel);
    assert_eq!(f.handle_key(key(KeyCode::F(5))), FormOutcome::Ignored);
    let mut release = key(KeyCode::Char('a'));
    release.kind = crossterm::event::KeyEventKind::Release;
    assert_eq!(f.handle_key(release), FormOutcome::Ignored);
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["Developers"]);
    // A form with nothing to edit still submits.
    let mut f = FormEditor::new(parse(
        "<x xmlns='jabber:x:data' type='form'>
              <field type='fixed'><value>Nothing to see</value></field>
              <field var='FORM_TYPE' type='hidden'><value>urn:x</value></field></x>",
    ));
    assert_eq!(f.focused(), None);
    assert_eq!(f.handle_key(key(KeyCode::Down)), FormOutcome::Handled);
    assert_eq!(f.handle_key(key(KeyCode::Char('a'))), FormOutcome::Ignored);
    let FormOutcome::Submit(form) = f.handle_key(ctrl('s')) else {
        panic!()
    };
    assert_eq!(form.form_type(), Some("urn:x"));
    assert_eq!(form.fields.len(), 1);
}

#[test]
fn paste_into_text_fields() {
    let mut f = FormEditor::new(sample());
    f.handle_key(ctrl('u'));
    assert_eq!(f.paste("a\r\nb\nc"), FormOutcome::Handled);
    assert_eq!(values(&f, "muc#roomconfig_roomname"), ["a b c"]);
    f.handle_key(key(KeyCode::Tab));
    f.handle_key(ctrl('u'));
    f.paste("x\r\ny");
    assert_eq!(values(&f, "muc#roomconfig_roomdesc"), ["x", "y"]);
    focus_on(&mut f, "muc#roomconfig_persistentroom");
    assert_eq!(f.paste("zzz"), FormOutcome::Ignored);
}

#[test]
fn scrolls_to_the_focus() {
    let mut f = FormEditor::new(sample());
    // 10 lines: 8 for the form, 1 for help, 2 borders... minus: 7 rows shown.
    let draw = |f: &FormEditor| render(60, 10, |a, b| f.render(a, b)).to_string();
    let shown = draw(&f);
    assert!(shown.contains("Complete this form"), "{shown}");
    focus_on(&mut f, "muc#roomconfig_roomadmins");
    assert!(f.scroll > 0);
    let shown = draw(&f);
    assert!(shown.contains("> Room admins"), "{shown}");
    assert!(!shown.contains("Complete this form"), "{shown}");
    f.handle_key(key(KeyCode::Tab));
    assert_eq!(f.scroll, 0, "the first field shows the instructions again");
    let shown = draw(&f);
    assert!(shown.contains("Complete this form"), "{shown}");
    assert!(shown.contains("> Room name"), "{shown}");
}

#[test]
fn wrapping() {
    assert_eq!(wrap("short", 10), ["short"]);
    assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
    assert_eq!(wrap("abcdefghijkl xy", 5), ["abcde", "fghij", "kl xy"]);
    assert_eq!(wrap("", 5), [""]);
    assert_eq!(wrap("日本語日本語", 5), ["日本", "語日", "本語"]);
}

#[test]
fn snapshot_every_field_type() {
    let mut f = FormEditor::new(sample());
    // Cursor in the middle of the room name.
    f.handle_key(key(KeyCode::Left));
    f.handle_key(key(KeyCode::Left));
    let shown = render(72, 24, |a, b| f.render(a, b));
    // The cursor cell (on the "r" of "Developers") is reversed:
    // border, marker, label column (22), gap.
    let cell = &shown.buffer()[(1 + 2 + 22 + 2 + 8, 4)];
    assert_eq!(cell.symbol(), "r");
    assert!(cell.modifier.contains(Modifier::REVERSED));
    assert!(
        !shown.buffer()[(1 + 2 + 22 + 2 + 7, 4)]
            .modifier
            .contains(Modifier::REVERSED)
    );
    assert_snapshot!(shown);
}

#[test]
fn snapshot_list_multi_focused_and_error() {
    let mut f = FormEditor::new(sample());
    f.handle_key(ctrl('u'));
    focus_on(&mut f, "muc#roomconfig_presencebroadcast");
    f.handle_key(key(KeyCode::Down));
    f.handle_key(key(KeyCode::Char(' ')));
    let partial = render(72, 24, |a, b| f.render(a, b));
    f.handle_key(ctrl('s'));
    let error = render(72, 12, |a, b| f.render(a, b));
    assert_snapshot!(format!("{partial}\n{error}"));
}

#[test]
fn snapshot_long_value_scrolls_horizontally() {
    let mut f = FormEditor::new(parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field var='a' type='text-single' label='Subject'>
                <value>A very long subject that does not fit in the field at all, really not</value></field>
              <field var='b' type='text-single' label='Other'>
                <value>Another long value that is cut at the end with an ellipsis</value></field>
            </x>",
        ));
    let end = render(40, 5, |a, b| f.render(a, b));
    for _ in 0..30 {
        f.handle_key(key(KeyCode::Left));
    }
    let middle = render(40, 5, |a, b| f.render(a, b));
    f.handle_key(key(KeyCode::Home));
    let start = render(40, 5, |a, b| f.render(a, b));
    assert_snapshot!(format!("{end}\n{middle}\n{start}"));
}

#[test]
fn snapshot_hostile_form() {
    // Raw control characters cannot travel in XML 1.0: build the form.
    let mut form = parse(
        "<x xmlns='jabber:x:data' type='form'>
              <field var='t' type='text-single' label='Name'/>
              <field var='l' type='list-single' label='Mode'>
                <option><value>v</value></option><value>v</value></field>
              <field var='m' type='list-multi' label='Roles'>
                <option><value>a</value></option></field>
              <field var='x' type='text-single' label='placeholder'/>
            </x>",
    );
    form.title = Some(format!("Title {HOSTILE}"));
    form.instructions = Some(format!("Line one {HOSTILE}\nLine two"));
    form.fields[0].values = vec![format!("value {HOSTILE}")];
    form.fields[0].desc = Some(format!("desc {HOSTILE}"));
    form.fields[1].options[0].label = Some(format!("option {HOSTILE}"));
    form.fields[2].options[0].label = Some(format!("choice {HOSTILE}"));
    form.fields[3].label = Some(HOSTILE.to_string());
    form.fields.insert(
        0,
        Field {
            values: vec![format!("Section {HOSTILE}")],
            ..Field::new("f", FieldType::Fixed)
        },
    );
    let mut f = FormEditor::new(form);
    let focused = render(100, 14, |a, b| f.render(a, b));
    f.handle_key(key(KeyCode::Tab));
    let unfocused = render(100, 14, |a, b| f.render(a, b));
    assert_snapshot!(format!("{focused}\n{unfocused}"));
}
