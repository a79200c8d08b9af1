//! `--format github`: GitHub Actions workflow commands (`::error file=…,line=…::message`),
//! which the runner turns into annotations on the pull request's diff.

use super::super::{Diagnostic, Severity, Summary};
use crate::report::plural;

pub fn render(d: &Diagnostic) -> String {
    render_in(d, "")
}

/// Renders with `prefix` (the content root's path inside the repository, ending in `/`, or
/// empty) before the file, because the runner resolves annotation paths against
/// `GITHUB_WORKSPACE`, not against the content root.
pub fn render_in(d: &Diagnostic, prefix: &str) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(file) = &d.file {
        props.push(format!("file={}", escape_property(&format!("{prefix}{file}"))));
    }
    if let Some(span) = d.span {
        props.push(format!("line={}", span.line));
        props.push(format!("col={}", span.column));
    }
    props.push(format!("title={}", escape_property(d.code.name())));
    // Each part is one line of its own: a newline inside one came from the content.
    let mut message = crate::report::printable(&d.message).into_owned();
    if let Some(pointer) = d.pointer().filter(|p| !p.is_empty()) {
        message.push_str(&format!(" (at {})", crate::report::printable(&crate::report::shorten(pointer, 200))));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {}", crate::report::printable(help)));
    }
    format!("::{level} {}::{}", props.join(","), escape_data(&message))
}

pub fn render_summary(summary: &Summary) -> String {
    format!(
        "::notice title=seedc::{} error{}, {} warning{} in {} file{}",
        summary.errors,
        plural(summary.errors),
        summary.warnings,
        plural(summary.warnings),
        summary.files,
        plural(summary.files)
    )
}

/// A notice (for `seedc diff`), optionally on a file.
pub fn notice(title: &str, file: Option<&str>, message: &str) -> String {
    let file = file.map_or_else(String::new, |f| format!("file={},", escape_property(f)));
    // `message` is one line of text from seedc: any newline in it came from the content.
    let message = crate::report::printable(message);
    format!("::notice {file}title={}::{}", escape_property(title), escape_data(&message))
}

/// Escaping of a workflow command's message, as the runner's toolkit does it. Lines are
/// split at `\n` first and each made printable, so the content's own control characters
/// (a newline in a key, ESC) can forge no command and no terminal sequence.
fn escape_data(s: &str) -> String {
    let lines: Vec<String> = s.split('\n').map(|l| crate::report::printable(l).replace('%', "%25")).collect();
    lines.join("%0A")
}

/// Escaping of a property value: also `:` and `,`, which delimit properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
