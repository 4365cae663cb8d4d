//! Files in the TUI: the status line's progress bar of an upload or a
//! download, and a message's attachment lines (`[file] name · type ·
//! URL`, the URL without its query or `aesgcm://` key).

use std::borrow::Cow;

use crate::store::attachments;

/// Width of the bar between the brackets.
const BAR: usize = 20;

/// `upload report.pdf [########............] 40% 2.8/7.0 MB`
pub fn progress_line(
    what: &str,
    name: &str,
    state: &str,
    bytes: u64,
    total: Option<u64>,
) -> String {
    let mb = |n: u64| format!("{:.1}", n as f64 / 1e6);
    match (state, total) {
        ("progress" | "started", Some(t)) if t > 0 => {
            let done = ((bytes.min(t) as f64 / t as f64) * BAR as f64) as usize;
            format!(
                "{what} {name} [{}{}] {:>3}% {}/{} MB (Esc: cancel)",
                "#".repeat(done),
                ".".repeat(BAR - done),
                bytes.min(t) * 100 / t,
                mb(bytes),
                mb(t)
            )
        }
        ("progress" | "started", _) => format!("{what} {name}: {} MB (Esc: cancel)", mb(bytes)),
        ("done", _) => format!("{what} {name}: done, {} MB", mb(bytes)),
        (other, _) => format!("{what} {name}: {other}"),
    }
}

/// The body with each attachment's line as `[file] name · type · URL`.
pub fn with_attachments(body: Cow<'_, str>) -> Cow<'_, str> {
    let found = attachments::of(&body);
    if found.is_empty() {
        return body;
    }
    let lines: Vec<String> = body
        .split('\n')
        .map(|l| match found.iter().find(|a| a.url == l.trim()) {
            Some(a) => format!(
                "[file] {} · {}{} · {}",
                a.name,
                a.kind,
                if a.encrypted { " · encrypted" } else { "" },
                a.url.split(['#', '?']).next().unwrap_or(&a.url)
            ),
            None => l.to_string(),
        })
        .collect();
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        assert_eq!(
            progress_line("upload", "a.pdf", "progress", 2_800_000, Some(7_000_000)),
            "upload a.pdf [########............]  40% 2.8/7.0 MB (Esc: cancel)"
        );
        assert_eq!(
            progress_line("download", "a.pdf", "done", 7_000_000, Some(7_000_000)),
            "download a.pdf: done, 7.0 MB"
        );
    }

    #[test]
    fn attachment_lines() {
        let b = with_attachments("see\nhttps://h/x/a.png?token=1".into());
        assert_eq!(b, "see\n[file] a.png · image/png · https://h/x/a.png");
        let b = with_attachments("aesgcm://h/x/a.txt#00112233".into());
        assert_eq!(
            b,
            "[file] a.txt · text/plain · encrypted · aesgcm://h/x/a.txt"
        );
        assert_eq!(with_attachments("no link here".into()), "no link here");
    }
}
