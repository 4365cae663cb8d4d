//! Files and links in a message: a line of the body that is one URL
//! (http, https, or an `aesgcm://` link of XEP-0454; a XEP-0066 OOB URL
//! is added to the body by `proto::upload::body_with_oob`) is an
//! attachment: its name (sanitised, for a file to save it as), a type
//! guessed from the extension.

use serde::Serialize;

/// At most this many attachments per message.
pub const MAX_PER_MESSAGE: usize = 8;
const MAX_URL: usize = 4096;
const MAX_NAME: usize = 120;

/// One file or link of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub url: String,
    /// A safe file name: no separators, control characters or leading dots.
    pub name: String,
    /// A MIME type guessed from the extension (`application/octet-stream`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// An `aesgcm://` link: decrypted on `/save`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
}

/// Whether `url` is one we fetch or open: http, https, aesgcm; bounded;
/// no whitespace or control characters; a host.
pub fn usable_url(url: &str) -> bool {
    let rest = ["https://", "http://", "aesgcm://"]
        .iter()
        .find_map(|s| url.strip_prefix(s));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && url.len() <= MAX_URL
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The attachments of a body: its lines that are one usable URL.
pub fn of(body: &str) -> Vec<Attachment> {
    body.lines()
        .map(str::trim)
        .filter(|l| usable_url(l))
        .take(MAX_PER_MESSAGE)
        .map(|url| {
            let name = file_name(url);
            Attachment {
                url: url.to_string(),
                kind: guess_type(&name),
                name,
                encrypted: url.starts_with("aesgcm://"),
            }
        })
        .collect()
}

/// Every usable URL in a body (words), attachments first.
pub fn urls(body: &str) -> Vec<String> {
    let mut out: Vec<String> = of(body).into_iter().map(|a| a.url).collect();
    for w in body.split_whitespace() {
        let w = w.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | '"' | '\''));
        if usable_url(w) && !out.iter().any(|u| u == w) {
            out.push(w.to_string());
        }
    }
    out
}

/// The last path segment of `url`, percent-decoded and made safe.
pub fn file_name(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    let after_scheme = no_query.split_once("://").map_or(no_query, |(_, r)| r);
    let segment = match after_scheme.split_once('/') {
        Some((_, path)) => path.rsplit('/').next().unwrap_or(""),
        None => "",
    };
    sanitize_file_name(&percent_decode(segment))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A name safe to create in a folder and to show: path separators and
/// control characters become `_`, no leading dots or spaces, bounded;
/// empty becomes `download`.
pub fn sanitize_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || c == '\u{7f}' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches(['.', ' ']).trim_end();
    let mut out: String = trimmed.chars().take(MAX_NAME).collect();
    if out.is_empty() {
        out = "download".to_string();
    }
    out
}

/// A MIME type from the extension.
pub fn guess_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "txt" | "log" | "md" => "text/plain",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_on_their_own_line_are_attachments() {
        let a = of("look at this\nhttps://up.example/x/abc/photo%20one.JPG?t=1");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].name, "photo one.JPG");
        assert_eq!(a[0].kind, "image/jpeg");
        assert!(of("see https://x.example/a.png here").is_empty());
        let e = of("aesgcm://h.example/f/a.txt#00ff");
        assert!(e[0].encrypted);
    }

    #[test]
    fn hostile_names_and_urls() {
        assert!(of("file:///etc/passwd").is_empty());
        assert!(of("javascript:alert(1)").is_empty());
        assert!(of("https://x/\u{1b}[2Jbad").is_empty());
        assert!(of("https:///etc/passwd").is_empty());
        assert_eq!(
            file_name("https://x/a/..%2F..%2Fetc%2Fpasswd"),
            "_.._etc_passwd"
        );
        assert_eq!(file_name("https://x/%2e%2e"), "download");
        assert_eq!(file_name("https://x/.bashrc"), "bashrc");
        assert_eq!(file_name("https://x/a%1b%5b2Jb%0a"), "a_[2Jb_");
        assert_eq!(file_name("https://x/$(rm -rf ~);`x`"), "$(rm -rf ~);`x`");
        assert_eq!(file_name("https://x"), "download");
        assert_eq!(sanitize_file_name("a\\b"), "a_b");
    }

    #[test]
    fn every_url_of_a_body() {
        assert_eq!(
            urls("a <https://a.example/x> and http://b.example/ file:///x"),
            vec!["https://a.example/x", "http://b.example/"]
        );
    }
}
