//! The one shape a report has for the Printer: each stage renders its reports to strings
//! itself (diagnostics in `diag::render`, the others in their stage's `render` module), and
//! the Printer only picks the format and the stream, so it needs no stage's types.

pub(crate) mod printer;
pub(crate) mod progress;
pub(crate) mod summary;

/// The output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// rustc-style text
    Human,
    /// one JSON object per line
    Json,
    /// GitHub Actions workflow annotations
    Github,
    /// a Markdown report (diff only)
    Markdown,
}

/// When to colour (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// What the user asked about the looks of the output, decided once by the Printer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style<'a> {
    pub color: bool,
    /// `-q`: each report decides what it leaves out.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
    /// Prepended to file paths in `--format github` (see `output::workspace_prefix`).
    pub github_prefix: &'a str,
}

/// A report rendered by the stage that made it, one method per format; each returns the
/// whole text for stdout, every line ending in a newline (or nothing).
pub(crate) trait Render {
    /// `--format json`: JSON lines.
    fn json(&self) -> String;
    /// `--format github`: workflow commands.
    fn github(&self, style: &Style) -> String;
    /// `--format human` (and `markdown`, which only `diff` renders on its own).
    fn human(&self, style: &Style) -> String;
    /// One status line for people, printed on stderr in the human format unless `-q`.
    fn status(&self) -> Option<String> {
        None
    }
}

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
    fn shortening_cuts_on_a_character_boundary() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééééé", 2), "éé… (6 more bytes)");
    }
}
