//! Escaping, the one place it is decided: content text (file names, keys, values, pointers)
//! reaches a terminal only escaped. [`Shown`] and [`ShownJson`] are the types a renderer
//! formats content through (their `Display` escapes); the Printer passes every line it
//! writes through [`terminal`] (people's formats) or [`json_safe`] (JSON lines) as well, so
//! a renderer that formats a raw `String` still cannot put a control character on a
//! terminal or forge a CI log line.

use std::borrow::Cow;
use std::fmt;

/// Text from the user's content (file names, keys, values) made safe to print: control
/// characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides
/// are written as visible escapes (`\n`, `\u{1b}`), so a file can neither rewrite the
/// user's terminal nor forge a CI log line or annotation. Borrowed when nothing changes.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hazard) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hazard(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_hazard(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// A line of JSON made safe for a terminal: serde_json escapes C0 controls but writes DEL,
/// C1 controls, separators and bidi overrides raw. Such characters can only stand inside
/// strings there, so replacing each with its `\uXXXX` escape keeps the JSON equal.
pub(crate) fn json_safe(json: String) -> String {
    if !json.chars().any(is_hazard) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hazard(c) && !matches!(c, '\n') {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `text`, cut on a character boundary with an ellipsis and
/// the size left out: a 100 MB value quoted in a message stays a line.
pub(crate) fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}… ({} more bytes)", &text[..cut], text.len() - cut)),
    }
}

/// Content text, escaped when displayed ([`printable`]): what a renderer formats a key, a
/// file name or a message quoting the content through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown<'a>(pub &'a str);

/// `text`, to be displayed escaped.
pub(crate) fn shown(text: &str) -> Shown<'_> {
    Shown(text)
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` keeps width and alignment (`{:width$}`) working on the escaped text.
        f.pad(&printable(self.0))
    }
}

/// A JSON value from the content, displayed as compact JSON with every control, separator
/// and bidi character escaped (serde_json writes C1 controls and bidi overrides raw).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShownJson<'a>(pub &'a serde_json::Value);

/// `value`, to be displayed as escaped JSON.
pub(crate) fn shown_json(value: &serde_json::Value) -> ShownJson<'_> {
    ShownJson(value)
}

impl fmt::Display for ShownJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&json_safe(self.0.to_string()))
    }
}

/// The last line of defence, applied by the Printer to every text it writes for people:
/// newline and tab pass, and with `color` the SGR sequences (`ESC [ digits ; m`) the
/// renderers colour with; every other control, separator or bidi character is written as a
/// visible escape, whatever put it there.
pub(crate) fn terminal(text: &str, color: bool) -> Cow<'_, str> {
    let sgr_at = |rest: &str| -> Option<usize> {
        let body = rest.strip_prefix("\u{1b}[")?;
        let end = body.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
        (body[end..].starts_with('m')).then_some(2 + end + 1)
    };
    if !text.chars().any(|c| is_hazard(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = c.len_utf8();
        if c == '\u{1b}'
            && color
            && let Some(n) = sgr_at(rest)
        {
            out.push_str(&rest[..n]);
            rest = &rest[n..];
            continue;
        }
        if is_hazard(c) && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
        rest = &rest[len..];
    }
    Cow::Owned(out)
}

/// The plural `s` of a count in a message: "1 error", "2 errors".
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazards_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(printable("goblin_scout é"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}[2Jb\n::error::x\u{7}\u{202e}"), "a\\u{1b}[2Jb\\n::error::x\\u{7}\\u{202e}");
        let json = serde_json::to_string(&"a\u{85}b\u{2028}\u{7f}").unwrap();
        let safe = json_safe(json);
        assert!(safe.is_ascii(), "{safe}");
        assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), "a\u{85}b\u{2028}\u{7f}");
    }

    #[test]
    fn the_terminal_gets_no_control_but_newline_tab_and_colour() {
        let text = "a\u{1b}[31mred\u{1b}[0m\tb\n\u{1b}[2J\u{9b}2J\u{202e}x\r";
        assert_eq!(terminal(text, false), "a\\u{1b}[31mred\\u{1b}[0m\tb\n\\u{1b}[2J\\u{9b}2J\\u{202e}x\\u{d}");
        assert_eq!(terminal(text, true), "a\u{1b}[31mred\u{1b}[0m\tb\n\\u{1b}[2J\\u{9b}2J\\u{202e}x\\u{d}");
        assert!(matches!(terminal("plain\ttext\n", false), Cow::Borrowed(_)));
        assert_eq!(format!("{:>6}|", shown("\u{85}")), "\\u{85}|");
        assert_eq!(shown_json(&serde_json::json!({"k": "\u{202e}"})).to_string(), "{\"k\":\"\\u202e\"}");
    }

    #[test]
    fn shortening_cuts_on_a_character_boundary() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééééé", 2), "éé… (6 more bytes)");
    }
}
