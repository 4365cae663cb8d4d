//! What the guard says about an element it dropped, from the start of
//! its start tag.

use confab_proto::{Dropped, Limit};

use super::Limits;

/// What went past `limit`, in words, for the user.
fn limit_text(limit: Limit, limits: &Limits) -> String {
    match limit {
        Limit::Depth => format!("it nests elements deeper than {}", limits.max_depth),
        Limit::Size => format!("it is larger than {} KiB", limits.max_size / 1024),
        Limit::Attributes => format!(
            "one of its elements has more than {} attributes",
            limits.max_attrs
        ),
    }
}

/// Describes a dropped element from the start of its start tag.
pub(super) fn describe(head: &[u8], limit: Limit, limits: &Limits) -> Dropped {
    let tag = parse_tag(head);
    let stanza = match &tag {
        Some((name, _)) => name.clone(),
        None => "element".into(),
    };
    let attr = |key: &str| {
        tag.as_ref()
            .and_then(|(_, attrs)| attrs.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v.clone())
    };
    let from = attr("from").and_then(|f| jid::Jid::new(&f).ok().map(|j| j.to_string()));
    let token =
        |v: String| (v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic())).then_some(v);
    let id = attr("id").and_then(token);
    let type_ = attr("type").and_then(token);
    let text = format!(
        "a{} {stanza}{} was dropped unread: {}",
        if stanza.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "n"
        } else {
            ""
        },
        from.as_deref()
            .map(|f| format!(" from {f}"))
            .unwrap_or_default(),
        limit_text(limit, limits)
    );
    Dropped {
        stanza,
        from,
        id,
        type_,
        limit,
        text,
    }
}

/// The name (letters, digits, `:_.-` only, else `element`) and the
/// complete attributes of a start tag's beginning.
pub(super) fn parse_tag(head: &[u8]) -> Option<(String, Vec<(String, String)>)> {
    let s = std::str::from_utf8(head)
        .or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
        .ok()?;
    let s = s.strip_prefix('<')?;
    let end = s
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(s.len());
    let name = &s[..end];
    let name = if !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-'))
    {
        name.to_string()
    } else {
        "element".to_string()
    };
    let mut attrs = Vec::new();
    let mut rest = &s[end..];
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with(['/', '>']) {
            break;
        }
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break; // cut off
        };
        attrs.push((key, unescape(&after[1..1 + close])));
        rest = &after[close + 2..];
    }
    Some((name, attrs))
}

fn unescape(v: &str) -> String {
    v.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}
