//! The only place that prints. Decides the format and colour once (flag, NO_COLOR, TTY),
//! and writes reports that their stages rendered (see [`crate::render`]) to stdout, status
//! lines and errors to stderr.

use std::io::{IsTerminal, Write};

use crate::cli::{Color, Format, Global};
use crate::render::{Render, Style};

pub struct Printer {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Prepended to file paths in `--format github` (see [`workspace_prefix`]).
    pub github_prefix: String,
}

impl Printer {
    pub fn new(global: &Global) -> Self {
        let color = match global.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal(),
        };
        let github_prefix = if global.format == Format::Github { workspace_prefix(&global.root) } else { String::new() };
        Printer { format: global.format, color, quiet: global.quiet, verbose: global.verbose, github_prefix }
    }

    /// Prints a report in the chosen format on stdout, then (for people) its status line.
    pub fn report(&self, report: &dyn Render) {
        let style = Style { color: self.color, quiet: self.quiet, verbose: self.verbose > 0, github_prefix: &self.github_prefix };
        let text = match self.format {
            Format::Json => report.json(),
            Format::Github => report.github(&style),
            Format::Human | Format::Markdown => report.human(&style),
        };
        if !text.is_empty() {
            self.stdout(&text);
        }
        if let Some(line) = report.status() {
            self.status(&line);
        }
    }

    /// Writes to stdout; a closed pipe (`seedc check | head`) is not an error worth a panic.
    pub fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A status line for people, on stderr; silent under `-q` and in machine formats.
    pub fn status(&self, text: &str) {
        if !self.quiet && self.format == Format::Human {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// An error of the tool itself (not of the content), on stderr, always.
    pub fn error(&self, err: &anyhow::Error) {
        let prefix = if self.color { "\x1b[1;31merror\x1b[0m" } else { "error" };
        let mut text = format!("{prefix}: {err}");
        for cause in err.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// An error reported from outside any command (the database watchdog, just before it ends
/// the process), on stderr.
pub fn fatal(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {text}");
}

/// The content root's path relative to `GITHUB_WORKSPACE` (with a trailing `/`), when the
/// variable is set and the root is inside it; else empty (paths stay root-relative).
pub fn workspace_prefix(root: &std::path::Path) -> String {
    let Some(workspace) = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) else { return String::new() };
    let (Ok(workspace), Ok(root)) = (std::fs::canonicalize(workspace), std::fs::canonicalize(root)) else { return String::new() };
    match root.strip_prefix(&workspace) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            format!("{}/", rel.join("/"))
        }
        _ => String::new(),
    }
}
