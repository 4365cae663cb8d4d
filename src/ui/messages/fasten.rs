//! What a line shows of the stanzas fastened to it: the message a reply
//! answers (a quote row above it), reactions (a row below, grouped with
//! counts and who), and a removal (its text gone, who removed it and
//! why). Every string from the network is sanitised here.

use std::fmt::Write;

use super::{sanitize, sanitize_name, text_width};
use crate::store::{Message, MessageLog};

/// Names shown per emoji before "+N".
const NAMES_SHOWN: usize = 3;

/// The quote row of a reply: who wrote what it answers and its first
/// line — from the message itself when we hold it, else from the quote
/// the replier sent along.
pub(super) fn quote(m: &Message, log: &MessageLog) -> Option<(String, String)> {
    let r = m.meta.reply.as_ref()?;
    let held = log.find_ref(&r.id, true).and_then(|i| log.get(i));
    let (author, text) = match held {
        Some(t) if t.meta.removed.is_some() => (
            t.nick.clone().unwrap_or_default(),
            "(a removed message)".to_string(),
        ),
        Some(t) => (
            t.nick.clone().unwrap_or_default(),
            t.body.lines().next().unwrap_or("").to_string(),
        ),
        None => {
            // `room/nick` → nick; a JID as it is.
            let to = r.to.as_deref().unwrap_or("");
            let author = match jid::Jid::new(to) {
                Ok(j) if m.private || j.node().is_some() && j.resource().is_some() => {
                    j.resource().map_or(to.to_string(), |n| n.to_string())
                }
                _ => to.to_string(),
            };
            let text = r
                .quote
                .as_deref()
                .and_then(|q| q.lines().next())
                .unwrap_or("(a message not shown here)")
                .to_string();
            (author, text)
        }
    };
    Some((
        sanitize_name(&author).into_owned(),
        sanitize(&text, false).into_owned(),
    ))
}

/// What a removed line says instead of its text.
pub(super) fn removed(m: &Message) -> Option<String> {
    let r = m.meta.removed.as_deref()?;
    let mut s = match &r.by {
        Some(by) => format!("removed by {}", sanitize_name(by)),
        None => "retracted by its sender".to_string(),
    };
    if let Some(reason) = &r.reason {
        let _ = write!(s, ": {}", sanitize(reason, false));
    }
    Some(s)
}

/// The reactions row: `👍 2 bob, carol  🎂 1 bob`, emojis in the order
/// they first came.
pub(super) fn reactions(m: &Message) -> Option<String> {
    if m.meta.removed.is_some() {
        return None;
    }
    let groups = m.meta.grouped();
    if groups.is_empty() {
        return None;
    }
    let mut s = String::new();
    for (emoji, who) in groups {
        if !s.is_empty() {
            s.push_str("  ");
        }
        let _ = write!(s, "{} {}", sanitize_name(emoji), who.len());
        for (i, w) in who.iter().take(NAMES_SHOWN).enumerate() {
            s.push_str(if i == 0 { " " } else { ", " });
            s.push_str(&sanitize_name(&w.nick));
        }
        if who.len() > NAMES_SHOWN {
            let _ = write!(s, " +{}", who.len() - NAMES_SHOWN);
        }
    }
    Some(s)
}

/// `text` cut to `max` columns, with `…` when cut.
pub(super) fn fit(text: &str, max: usize) -> String {
    if text_width(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for g in super::graphemes(text) {
        let gw = text_width(g);
        if w + gw + 1 > max {
            break;
        }
        out.push_str(g);
        w += gw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
