//! Tests of the [ui], [theme] and [keys] sections: every setting, the
//! defaults, and the errors naming the key and line.

use ratatui::style::{Color, Modifier, Style};

use crate::ui::theme::Theme;

use super::*;

const ACCOUNT: &str = "[accounts.a]\njid = \"a@example.org\"\n";

/// `ACCOUNT` followed by `text`; line numbers in `text` are offset by 2.
fn ui_err(text: &str) -> String {
    err(&format!("{ACCOUNT}{text}"))
}

#[test]
fn full_ui_theme_and_keys() {
    let text = format!(
        "{ACCOUNT}
[ui]
bell = false
set_title = false
show_events = false
rooms_width = 0
people_width = 80
time_format = \"%H:%M:%S\"

[theme]
highlight = \"yellow bold\"
own_nick = \"white on blue bold\"
timestamp = \"#1a2B3c on 236 italic underline\"
error = \"LightRed reversed dim\"
border = \"default\"
event = \"default on dark-grey\"
nick_colors = false

[keys]
\"ctrl-j\" = \"next-room\"
\"f5\" = \"help\"
\"ctrl-n\" = \"none\"
\"alt-x\" = \"window-10\"
"
    );
    let ui = load_str(&text).unwrap().ui;
    assert!(!ui.bell);
    assert!(!ui.set_title);
    assert!(!ui.show_events);
    assert_eq!(ui.rooms_width, 0);
    assert_eq!(ui.people_width, 80);
    assert_eq!(ui.time_format, "%H:%M:%S");

    let t = &ui.theme;
    assert_eq!(
        t.highlight,
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(
        t.own_nick,
        Style::default()
            .fg(Color::White)
            .bg(Color::Blue)
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(
        t.timestamp,
        Style::default()
            .fg(Color::Rgb(0x1a, 0x2b, 0x3c))
            .bg(Color::Indexed(236))
            .add_modifier(Modifier::ITALIC | Modifier::UNDERLINED)
    );
    assert_eq!(
        t.error,
        Style::default()
            .fg(Color::LightRed)
            .add_modifier(Modifier::REVERSED | Modifier::DIM)
    );
    // An entry replaces the style wholly: no DarkGray left over.
    assert_eq!(t.border, Style::default());
    assert_eq!(t.event, Style::default().bg(Color::DarkGray));
    assert!(!t.nick_colors);
    // Untouched styles keep their defaults.
    let d = Theme::default();
    assert_eq!(t.nick, d.nick);
    assert_eq!(t.mention, d.mention);

    assert_eq!(
        ui.keys,
        [
            ("ctrl-j", "next-room"),
            ("f5", "help"),
            ("ctrl-n", "none"),
            ("alt-x", "window-10")
        ]
        .map(|(k, a)| (k.to_owned(), a.to_owned()))
    );
}

#[test]
fn ui_defaults_when_absent() {
    let ui = load_str(ACCOUNT).unwrap().ui;
    assert_eq!(ui, UiConfig::default());
    assert!(ui.bell && ui.set_title && ui.show_events);
    assert_eq!((ui.rooms_width, ui.people_width), (18, 22));
    assert_eq!(ui.time_format, "%H:%M");
    assert_eq!(ui.theme, Theme::default());
    assert!(ui.keys.is_empty());
    // Empty tables are the defaults too.
    let ui = load_str(&format!("{ACCOUNT}[ui]\n[theme]\n[keys]\n"))
        .unwrap()
        .ui;
    assert_eq!(ui, UiConfig::default());
}

#[test]
fn theme_keys_are_the_theme_fields() {
    let mut styles: Vec<&str> = raw::THEME_STYLE_KEYS.to_vec();
    styles.push("nick_colors");
    styles.sort_unstable();
    let mut keys = raw::THEME_KEYS.to_vec();
    keys.sort_unstable();
    assert_eq!(styles, keys);
    // Every style field can be set (and `set_theme_style` reaches it).
    let text: String = raw::THEME_STYLE_KEYS
        .iter()
        .map(|k| format!("{k} = \"magenta\"\n"))
        .collect();
    let theme = load_str(&format!("{ACCOUNT}[theme]\n{text}"))
        .unwrap()
        .ui
        .theme;
    let magenta = Style::default().fg(Color::Magenta);
    let all = [
        theme.timestamp,
        theme.nick,
        theme.own_nick,
        theme.highlight,
        theme.action,
        theme.event,
        theme.day_separator,
        theme.unread_marker,
        theme.title,
        theme.status_bar,
        theme.border,
        theme.selected,
        theme.unread,
        theme.mention,
        theme.error,
        theme.quote,
        theme.code,
    ];
    assert_eq!(all.len(), raw::THEME_STYLE_KEYS.len());
    assert!(all.iter().all(|s| *s == magenta), "{theme:?}");
}

#[test]
fn styling_highlight_words_and_chat_states() {
    let ui = load_str(&format!(
        "{ACCOUNT}[ui]\nstyling = false\nhighlight_words = [\"release\", \" confab \"]\n\
         chat_states = false\nchat_states_max_occupants = 5\n"
    ))
    .unwrap()
    .ui;
    assert!(!ui.styling && !ui.chat_states);
    assert_eq!(ui.highlight_words, ["release", "confab"]);
    assert_eq!(ui.chat_states_max_occupants, 5);
    let d = UiConfig::default();
    assert!(d.styling && d.chat_states && d.highlight_words.is_empty());
    assert_eq!(d.chat_states_max_occupants, 30);
    assert_eq!(
        ui_err("[ui]\nhighlight_words = [\"ok\", \"  \"]\n"),
        "config.toml:4: ui.highlight_words: a highlight word is empty"
    );
    assert_eq!(
        ui_err("[ui]\nchat_states_max_occupants = -1\n"),
        "config.toml:4: ui.chat_states_max_occupants: expected a number of occupants, found -1"
    );
}

#[test]
fn notifications() {
    use crate::ui::notify::{Level, Via};
    let ui = load_str(&format!(
        "{ACCOUNT}[ui]\nnotify = \"osc9\"\nnotify_command = [\"/bin/n\", \"-x\"]\n\
         notify_all = [\"team@c.example\"]\nnotify_none = [\"noise@c.example\"]\n"
    ))
    .unwrap()
    .ui;
    assert_eq!(ui.notify.via, Via::Osc9);
    assert_eq!(ui.notify.command, ["/bin/n", "-x"]);
    let j = |s: &str| jid::BareJid::new(s).unwrap();
    assert_eq!(ui.notify.level(&j("team@c.example")), Level::All);
    assert_eq!(ui.notify.level(&j("noise@c.example")), Level::None);
    assert_eq!(ui.notify.level(&j("other@c.example")), Level::Mentions);
    assert_eq!(
        ui_err("[ui]\nnotify = \"kde\"\n"),
        "config.toml:4: ui.notify: expected desktop, osc777, osc9 or none, found \"kde\""
    );
    assert!(ui_err("[ui]\nnotify_all = [\"@@\"]\n").starts_with("config.toml:4: ui.notify_all"));
}

#[test]
fn bad_width() {
    assert_eq!(
        ui_err("[ui]\nbell = true\nrooms_width = 81\n"),
        "config.toml:5: ui.rooms_width: expected a width from 0 to 80 \
         (0 hides the room list), found 81"
    );
    assert_eq!(
        ui_err("[ui]\npeople_width = -1\n"),
        "config.toml:4: ui.people_width: expected a width from 0 to 80 \
         (0 hides the participant list), found -1"
    );
    let msg = ui_err("[ui]\nrooms_width = \"wide\"\n");
    assert!(
        msg.starts_with("config.toml:4: ui.rooms_width: invalid type: string"),
        "{msg}"
    );
}

#[test]
fn unknown_ui_and_theme_keys() {
    let e = load_str(&format!(
        "{ACCOUNT}[theme]\nhighlight = \"red\"\nhilight = \"red\"\n"
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "config.toml:5: unknown key \"hilight\" in [theme] (expected one of timestamp, nick, \
         own_nick, nick_colors, highlight, action, event, day_separator, unread_marker, title, \
         status_bar, border, selected, unread, mention, error, quote, code)"
    );
    assert!(matches!(e, ConfigError::UnknownKey { ref key, .. } if key == "hilight"));
    assert_eq!(
        ui_err("[ui]\nbeep = true\n"),
        "config.toml:4: unknown key \"beep\" in [ui] (expected one of bell, set_title, \
         show_events, rooms_width, people_width, time_format, styling, highlight_words, \
         chat_states, chat_states_max_occupants, notify, notify_command, notify_all, notify_none)"
    );
    let msg = ui_err("[tui]\nbell = true\n");
    assert!(
        msg.starts_with("config.toml:3: unknown key \"tui\" in the top level (expected one of default_account, history, accounts, ui, theme, keys, chatting, files)"),
        "{msg}"
    );
}

#[test]
fn bad_colour() {
    let msg = ui_err("[theme]\n\nhighlight = \"#ffee0 bold\"\n");
    assert!(
        msg.starts_with(
            "config.toml:5: theme.highlight: \"#ffee0\" is not a colour: RGB colours are \
             \"#rrggbb\" with six hex digits (expected a colour name (black, red, "
        ),
        "{msg}"
    );
    assert!(
        msg.contains("white), \"#rrggbb\", a number from 0 to 255, or \"default\")"),
        "{msg}"
    );
    let msg = ui_err("[theme]\nown_nick = \"white on 256\"\n");
    assert!(
        msg.starts_with(
            "config.toml:4: theme.own_nick: \"256\" is not a colour: colour numbers go from 0 to 255"
        ),
        "{msg}"
    );
    let msg = ui_err("[theme]\nown_nick = \"white on purple\"\n");
    assert!(
        msg.starts_with(
            "config.toml:4: theme.own_nick: \"purple\" is not a colour (expected a colour name (black, red,"
        ),
        "{msg}"
    );
    let msg = ui_err("[theme]\ntitle = \"white on\"\n");
    assert!(
        msg.starts_with(
            "config.toml:4: theme.title: \"white on\": \"on\" must be followed by a background colour"
        ),
        "{msg}"
    );
    let msg = ui_err("[theme]\ntitle = \"red blue\"\n");
    assert!(
        msg.starts_with("config.toml:4: theme.title: \"red blue\": two foreground colours"),
        "{msg}"
    );
    let msg = ui_err("[theme]\ntitle = \"  \"\n");
    assert!(
        msg.starts_with("config.toml:4: theme.title: the style is empty"),
        "{msg}"
    );
}

#[test]
fn unknown_style_word() {
    let msg = ui_err("[theme]\nevent = \"gray\"\nmention = \"yellow blink\"\n");
    assert!(
        msg.starts_with(
            "config.toml:5: theme.mention: unknown word \"blink\" in style \"yellow blink\" \
             (a style is \"FG [on BG] [bold] [italic] [underline] [reversed] [dim]\"; colours: \
             a colour name (black, red, "
        ),
        "{msg}"
    );
    // Style entries are checked in file order, not field order.
    let msg = ui_err("[theme]\nmention = \"shiny\"\ntimestamp = \"dull\"\n");
    assert!(msg.starts_with("config.toml:4: theme.mention: "), "{msg}");
    // A style must be a string.
    let msg = ui_err("[theme]\nnick = 3\n");
    assert!(
        msg.starts_with("config.toml:4: theme.nick: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn nick_colors_wrong_type() {
    let msg = ui_err("[theme]\nnick = \"bold\"\nnick_colors = \"yes\"\n");
    assert!(
        msg.starts_with(
            "config.toml:5: theme.nick_colors: invalid type: string \"yes\", expected a boolean"
        ),
        "{msg}"
    );
    assert_eq!(
        err(&format!("keys = 5\n{ACCOUNT}")),
        "config.toml:1: keys: invalid type: integer `5`, expected a table"
    );
    let msg = ui_err("[ui]\nbell = 1\n");
    assert!(
        msg.starts_with("config.toml:4: ui.bell: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn unknown_key_name() {
    let msg = ui_err("[keys]\n\"ctrl-j\" = \"next-room\"\n\"hyper-x\" = \"help\"\n");
    assert_eq!(
        msg,
        "config.toml:5: keys.hyper-x: unknown key \"hyper-x\" (like ctrl-n, alt-1, f1, pageup)"
    );
    let msg = ui_err("[keys]\nf99 = \"help\"\n");
    assert!(
        msg.starts_with("config.toml:4: keys.f99: unknown key \"f99\" (like ctrl-n, "),
        "{msg}"
    );
    // Two spellings of one key.
    let msg = ui_err("[keys]\n\"ctrl-j\" = \"next-room\"\n\"C-J\" = \"prev-room\"\n");
    assert_eq!(
        msg,
        "config.toml:5: keys.C-J: \"C-J\" is the same key as \"ctrl-j\" on line 4"
    );
}

#[test]
fn unknown_action() {
    let msg = ui_err("[keys]\n\"f5\" = \"help\"\n\"ctrl-j\" = \"fly\"\n");
    assert!(
        msg.starts_with("config.toml:5: keys.ctrl-j: unknown action \"fly\" for key \"ctrl-j\" (one of submit, quit, next-room,"),
        "{msg}"
    );
    assert!(
        msg.ends_with("window-N); \"none\" unbinds the key"),
        "{msg}"
    );
    let msg = ui_err("[keys]\nf5 = \"window-11\"\n");
    assert!(
        msg.starts_with("config.toml:4: keys.f5: unknown action \"window-11\""),
        "{msg}"
    );
    let msg = ui_err("[keys]\nf5 = 1\n");
    assert!(
        msg.starts_with("config.toml:4: keys.f5: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn bad_time_format() {
    assert_eq!(
        ui_err("[ui]\ntime_format = \"%H:%Q\"\n"),
        "config.toml:4: ui.time_format: \"%H:%Q\" is not a valid strftime format \
         (e.g. \"%H:%M\", \"%H:%M:%S\" or \"%m-%d %H:%M\"; write %% for a literal %)"
    );
    let msg = ui_err("[ui]\ntime_format = \"%H:%M %\"\n");
    assert!(msg.starts_with("config.toml:4: ui.time_format: "), "{msg}");
    assert!(
        load_str(&format!(
            "{ACCOUNT}[ui]\ntime_format = \"[%d.%m. %H:%M] 100%%\"\n"
        ))
        .is_ok()
    );
}
