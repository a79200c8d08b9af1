//! The only place that prints. Renders diagnostics in the chosen format to stdout, status
//! lines to stderr, and decides colour (flag, NO_COLOR, TTY) once.

use std::io::{IsTerminal, Write};

use crate::cli::{Color, Format, Global};
use crate::diag::{Sink, Summary, render_github, render_human::Human, render_json};
use crate::load::Sources;

pub struct Printer {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Prepended to file paths in `--format github` (see [`render_github::workspace_prefix`]).
    pub github_prefix: String,
}

impl Printer {
    pub fn new(global: &Global) -> Self {
        let color = match global.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal(),
        };
        let github_prefix = if global.format == Format::Github { render_github::workspace_prefix(&global.root) } else { String::new() };
        Printer { format: global.format, color, quiet: global.quiet, verbose: global.verbose, github_prefix }
    }

    /// Prints every diagnostic, then the summary. Human format skips warnings under `-q`.
    pub fn diagnostics(&self, sink: &Sink, sources: &Sources, files: usize) {
        let summary = Summary { errors: sink.errors(), warnings: sink.warnings(), files };
        let mut out = String::new();
        match self.format {
            Format::Json => {
                for d in sink.iter() {
                    out.push_str(&render_json::render(d));
                    out.push('\n');
                }
                out.push_str(&render_json::render_summary(&summary));
                out.push('\n');
            }
            Format::Github => {
                for d in sink.iter() {
                    out.push_str(&render_github::render_in(d, &self.github_prefix));
                    out.push('\n');
                }
                if !self.quiet {
                    out.push_str(&render_github::render_summary(&summary));
                    out.push('\n');
                }
            }
            Format::Human | Format::Markdown => {
                let human = Human::new(self.color);
                for d in sink.iter() {
                    if self.quiet && d.severity == crate::diag::Severity::Warning {
                        continue;
                    }
                    out.push_str(&human.render(d, sources));
                    out.push_str("\n\n");
                }
                if !self.quiet {
                    out.push_str(&human.render_summary(&summary));
                    out.push('\n');
                }
            }
        }
        self.stdout(&out);
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
