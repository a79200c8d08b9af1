//! The one shape a report has for the Printer: each stage renders its reports to strings
//! itself (diagnostics in `diag::render`, the others in their stage's `render` module), and
//! the Printer only picks the format and the stream, so it needs no stage's types.

pub(crate) mod printer;
pub(crate) mod progress;
pub(crate) mod summary;
mod text;

pub(crate) use text::{json_safe, plural, printable, shorten, shown, shown_json, terminal};

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
