//! XEP-0393 Message Styling: which parts of a (sanitised) body are strong,
//! emphasised, struck through or preformatted, which lines are quotes or
//! in a preformatted block. The directives stay in the text (shown dim),
//! so styling never changes how a line wraps.
//!
//! Pure and linear-ish: a closing directive is found by a binary search
//! over the line's candidates, so a hostile body of unmatched directives
//! costs O(n log n), not O(n²).

use std::ops::Range;

/// How a run of text is styled. Spans nest (at most one of each kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Styles {
    pub strong: bool,
    pub emphasis: bool,
    pub strike: bool,
    /// A preformatted span (`` `code` ``) or a line of a preformatted block.
    pub pre: bool,
    /// Quote depth (`> `, `>> `); 0 outside quotes.
    pub quote: u8,
    /// A styling directive itself (`*`, `` ``` ``, `>`).
    pub directive: bool,
}

/// The styled runs of one line of a body: contiguous byte ranges that
/// cover the line.
pub type LineRuns = Vec<(Range<usize>, Styles)>;

/// The runs of each line of `body` (split at `\n`), in order.
pub fn style_body(body: &str) -> Vec<LineRuns> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in body.split('\n') {
        if in_block {
            if line == "```" {
                in_block = false;
                out.push(whole(line, directive()));
            } else {
                out.push(whole(
                    line,
                    Styles {
                        pre: true,
                        ..Styles::default()
                    },
                ));
            }
            continue;
        }
        if line.starts_with("```") {
            in_block = true;
            out.push(whole(line, directive()));
            continue;
        }
        out.push(style_line(line));
    }
    out
}

fn directive() -> Styles {
    Styles {
        directive: true,
        ..Styles::default()
    }
}

fn whole(line: &str, s: Styles) -> LineRuns {
    if line.is_empty() {
        Vec::new()
    } else {
        vec![(0..line.len(), s)]
    }
}

/// One line outside a preformatted block: a quote prefix, then spans.
fn style_line(line: &str) -> LineRuns {
    let bytes = line.as_bytes();
    let mut depth = 0u8;
    let mut i = 0;
    while i < bytes.len() && bytes[i] == b'>' {
        depth = depth.saturating_add(1);
        i += 1;
        if i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
    }
    let mut flags = vec![
        Styles {
            quote: depth,
            ..Styles::default()
        };
        line.len()
    ];
    for f in &mut flags[..i] {
        f.directive = true;
    }
    let closers = Closers::of(line);
    spans(line, i..line.len(), &closers, Styles::default(), &mut flags);
    runs(&flags)
}

/// Candidate closing directives of a line by kind: positions of `*`, `_`,
/// `~` and `` ` `` not preceded by whitespace.
struct Closers([Vec<usize>; 4]);

const DIRECTIVES: [u8; 4] = [b'*', b'_', b'~', b'`'];

impl Closers {
    fn of(line: &str) -> Closers {
        let mut c: [Vec<usize>; 4] = Default::default();
        let b = line.as_bytes();
        for (i, &ch) in b.iter().enumerate() {
            if let Some(k) = DIRECTIVES.iter().position(|&d| d == ch)
                && i > 0
                && !prev_is_space(line, i)
            {
                c[k].push(i);
            }
        }
        Closers(c)
    }

    /// The first closer of kind `k` in `from..end`.
    fn first(&self, k: usize, from: usize, end: usize) -> Option<usize> {
        let v = &self.0[k];
        let at = v.partition_point(|&p| p < from);
        v.get(at).copied().filter(|&p| p < end)
    }
}

fn prev_is_space(line: &str, i: usize) -> bool {
    line[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_whitespace)
}

/// Marks the spans in `range` of `line` (its start counts as the start of
/// a line: a directive may open there), inside the styles `outer`.
fn spans(line: &str, range: Range<usize>, closers: &Closers, outer: Styles, flags: &mut [Styles]) {
    let b = line.as_bytes();
    let mut i = range.start;
    let mut may_open = true;
    while i < range.end {
        let ch = b[i];
        let kind = DIRECTIVES.iter().position(|&d| d == ch);
        if let Some(k) = kind
            && may_open
            && !already(outer, k)
            && i + 1 < range.end
            && !line[i + 1..].starts_with(char::is_whitespace)
            && let Some(close) = closers.first(k, i + 2, range.end)
        {
            let inner = with(outer, k);
            flags[i] = Styles {
                directive: true,
                ..inner_flags(flags[i], inner)
            };
            flags[close] = flags[i];
            for f in &mut flags[i + 1..close] {
                *f = inner_flags(*f, inner);
            }
            if k != 3 {
                spans(line, i + 1..close, closers, inner, flags);
            }
            i = close + 1;
            may_open = false;
            continue;
        }
        let c = line[i..].chars().next().unwrap_or(' ');
        may_open = c.is_whitespace();
        i += c.len_utf8();
    }
}

fn already(s: Styles, k: usize) -> bool {
    match k {
        0 => s.strong,
        1 => s.emphasis,
        2 => s.strike,
        _ => s.pre,
    }
}

fn with(mut s: Styles, k: usize) -> Styles {
    match k {
        0 => s.strong = true,
        1 => s.emphasis = true,
        2 => s.strike = true,
        _ => s.pre = true,
    }
    s
}

/// `base` (its quote depth) with the span styles of `inner`.
fn inner_flags(base: Styles, inner: Styles) -> Styles {
    Styles {
        quote: base.quote,
        directive: base.directive,
        ..inner
    }
}

/// Contiguous runs of equal styles, cut at character boundaries.
fn runs(flags: &[Styles]) -> LineRuns {
    let mut out: LineRuns = Vec::new();
    for (i, f) in flags.iter().enumerate() {
        match out.last_mut() {
            Some((r, s)) if s == f => r.end = i + 1,
            _ => out.push((i..i + 1, *f)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line as text with each styled part in brackets: `[s:x]` strong,
    /// `e` emphasis, `x` strike, `p` pre, `q2` quote depth, `d` directive.
    fn show(line: &str) -> String {
        let runs = style_body(line).remove(0);
        let mut out = String::new();
        for (r, s) in runs {
            let mut tag = String::new();
            if s.strong {
                tag.push('s');
            }
            if s.emphasis {
                tag.push('e');
            }
            if s.strike {
                tag.push('x');
            }
            if s.pre {
                tag.push('p');
            }
            if s.quote > 0 {
                tag.push_str(&format!("q{}", s.quote));
            }
            if s.directive {
                tag.push('d');
            }
            if tag.is_empty() {
                out.push_str(&line[r]);
            } else {
                out.push_str(&format!("[{tag}:{}]", &line[r]));
            }
        }
        out
    }

    #[test]
    fn the_xep_examples() {
        assert_eq!(show("I *love* it"), "I [sd:*][s:love][sd:*] it");
        assert_eq!(
            show("_emph_ ~gone~"),
            "[ed:_][e:emph][ed:_] [xd:~][x:gone][xd:~]"
        );
        assert_eq!(show("`*not bold*`"), "[pd:`][p:*not bold*][pd:`]");
        assert_eq!(show("*_both_*"), "[sd:*][sed:_][se:both][sed:_][sd:*]");
    }

    #[test]
    fn directives_that_do_not_style() {
        // Followed by whitespace, preceded by whitespace, empty, unmatched,
        // inside a word.
        assert_eq!(show("* not bold*"), "* not bold*");
        assert_eq!(show("*not bold *"), "*not bold *");
        assert_eq!(show("**"), "**");
        assert_eq!(show("a *b"), "a *b");
        assert_eq!(show("snake_case_name"), "snake_case_name");
        // The first valid closer ends the span.
        assert_eq!(show("*a*b*"), "[sd:*][s:a][sd:*]b*");
    }

    #[test]
    fn quotes_and_blocks() {
        assert_eq!(
            show("> quoted *x*"),
            "[q1d:> ][q1:quoted ][sq1d:*][sq1:x][sq1d:*]"
        );
        assert_eq!(show(">> deeper"), "[q2d:>> ][q2:deeper]");
        let body = "before\n```rust\nlet *x* = 1;\n```\nafter *y*";
        let lines = style_body(body);
        assert_eq!(lines.len(), 5);
        assert!(lines[1].iter().all(|(_, s)| s.directive));
        assert_eq!(
            lines[2],
            vec![(
                0..12,
                Styles {
                    pre: true,
                    ..Styles::default()
                }
            )]
        );
        assert!(lines[3].iter().all(|(_, s)| s.directive));
        assert!(lines[4].iter().any(|(_, s)| s.strong));
        // An unclosed block runs to the end.
        let lines = style_body("```\n*x*");
        assert!(lines[1].iter().all(|(_, s)| s.pre && !s.strong));
    }

    #[test]
    fn runs_cover_every_byte_of_multibyte_text() {
        let line = "é *ü* 漢 _字_";
        let runs = style_body(line).remove(0);
        let mut at = 0;
        for (r, _) in &runs {
            assert_eq!(r.start, at);
            assert!(line.is_char_boundary(r.start) && line.is_char_boundary(r.end));
            at = r.end;
        }
        assert_eq!(at, line.len());
    }

    #[test]
    fn hostile_bodies_stay_cheap() {
        // 200,000 openers without closers, and nested-looking runs.
        let body = "*a ".repeat(200_000);
        let t = std::time::Instant::now();
        let runs = style_body(&body);
        assert_eq!(runs.len(), 1);
        let body2 = "*_~`".repeat(50_000);
        style_body(&body2);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }
}
