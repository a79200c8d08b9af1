//! The only place that prints. Decides the format and colour once (flag, NO_COLOR, TTY),
//! and writes reports that their stages rendered (see [`crate::report`]) to stdout, status
//! lines and errors to stderr.

use std::io::{IsTerminal, Write};

use std::borrow::Cow;

use super::{Color, Format, json_safe, terminal};
use crate::report::{Render, Style};

pub(crate) struct Printer {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Prepended to file paths in `--format github` (see [`workspace_prefix`]).
    pub github_prefix: String,
}

impl Printer {
    pub(crate) fn new(format: Format, color: Color, quiet: bool, verbose: u8, root: &std::path::Path) -> Self {
        let color = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal(),
        };
        let github_prefix =
            if matches!(format, Format::Github | Format::Sarif | Format::Gitlab) { workspace_prefix(root) } else { String::new() };
        Printer { format, color, quiet, verbose, github_prefix }
    }

    /// Prints a report in the chosen format on stdout, then (for people) its status line,
    /// and appends its step summary when there is one to append to.
    pub(crate) fn report(&self, report: &dyn Render) -> anyhow::Result<()> {
        let style = Style { color: self.color, quiet: self.quiet, verbose: self.verbose > 0, github_prefix: &self.github_prefix };
        let text = match self.format {
            Format::Json => report.json(),
            Format::Github => report.github(&style),
            Format::Markdown => report.markdown().unwrap_or_else(|| report.human(&style)),
            Format::Sarif => report.sarif(&style).unwrap_or_default(),
            Format::Gitlab => report.gitlab(&style).unwrap_or_default(),
            Format::Human => report.human(&style),
        };
        if !text.is_empty() {
            self.stdout(&text);
        }
        if let Some(line) = report.status() {
            self.status(&line);
        }
        super::summary::append(|| report.step_summary())
    }

    /// Writes to stdout, escaped for the format (JSON lines by [`json_safe`], everything
    /// else by [`terminal`]); a closed pipe (`seedc check | head`) is not an error worth a
    /// panic.
    fn stdout(&self, text: &str) {
        let text = match self.format {
            Format::Json => Cow::Owned(json_safe(text.to_owned())),
            _ => terminal(text, self.color),
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Writes a line to stderr, escaped for a terminal.
    fn stderr(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", terminal(line, self.color));
    }

    /// A status line for people, on stderr; silent under `-q` and in machine formats.
    fn status(&self, text: &str) {
        if !self.quiet && self.format == Format::Human {
            self.stderr(text);
        }
    }

    /// An error of the tool itself (not of the content), on stderr, always.
    pub(crate) fn error(&self, err: &anyhow::Error) {
        let prefix = if self.color { "\x1b[1;31merror\x1b[0m" } else { "error" };
        let mut text = format!("{prefix}: {err}");
        for cause in err.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        self.stderr(&text);
    }
}

impl Printer {
    /// The error that ends a command, with its exit code: on stderr for people, and under
    /// `--format json` also as one JSON object on stdout, so a CI script that parses stdout
    /// sees why (a usage or config error included) instead of nothing.
    pub(crate) fn failure(&self, err: &anyhow::Error, exit: u8) {
        self.error(err);
        if self.format == Format::Json {
            self.stdout(&error_json(&err.to_string(), err.chain().skip(1).map(|c| c.to_string()).collect(), exit));
        }
    }
}

/// `{"error":{"message":…,"causes":[…],"exit":2}}` and a newline.
fn error_json(message: &str, causes: Vec<String>, exit: u8) -> String {
    let value = serde_json::json!({ "error": { "message": message, "causes": causes, "exit": exit } });
    let mut line = json_safe(value.to_string());
    line.push('\n');
    line
}

/// A command line clap refused. Under `--format json` (as far as it can be told from the
/// raw arguments) also one JSON object on stdout; clap's own text goes to stderr as always.
pub(crate) fn usage_error(err: &clap::Error, json: bool) -> u8 {
    let code = err.exit_code() as u8;
    // clap's text quotes the arguments, which may hold anything: escaped like every line.
    let color = if err.use_stderr() { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() };
    let styled = err.render();
    let text = if color { styled.ansi().to_string() } else { styled.to_string() };
    let text = terminal(&text, color);
    if err.use_stderr() {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
    if json && err.use_stderr() {
        let rendered = err.to_string();
        let text = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ");
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(error_json(text, Vec::new(), code).as_bytes());
    }
    code
}

/// An error reported from outside any command (the database watchdog, just before it ends
/// the process), on stderr.
pub(crate) fn fatal(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {}", terminal(text, false));
}

/// A line of a long-running server's log (`seedc lsp`), on stderr, escaped: stdout carries
/// its protocol.
pub(crate) fn log(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "seedc lsp: {}", terminal(text, false));
}

/// The content root's path relative to `GITHUB_WORKSPACE` (with a trailing `/`), when the
/// variable is set and the root is inside it; else empty (paths stay root-relative).
pub(crate) fn workspace_prefix(root: &std::path::Path) -> String {
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
