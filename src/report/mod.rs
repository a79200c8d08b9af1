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
    /// a SARIF 2.1.0 log for code scanning (check and build)
    Sarif,
    /// a GitLab Code Quality report (check and build)
    Gitlab,
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
    /// Prepended to file paths in `--format github`, `sarif` and `gitlab` (see
    /// `printer::workspace_prefix`).
    pub github_prefix: &'a str,
}

/// A report rendered by the stage that made it, one method per format; each returns the
/// whole text for stdout, every line ending in a newline (or nothing). Everything a command
/// prints is one of these, handed to [`printer::Printer::report`]: the Printer picks the
/// method, escapes what it writes, and appends the step summary.
pub(crate) trait Render {
    /// `--format json`: JSON lines.
    fn json(&self) -> String;
    /// `--format github`: workflow commands.
    fn github(&self, style: &Style) -> String;
    /// `--format human`.
    fn human(&self, style: &Style) -> String;
    /// `--format markdown`, for the reports made to be read in a pull request; the commands
    /// whose reports have none refuse the format before doing any work.
    fn markdown(&self) -> Option<String> {
        None
    }
    /// `--format sarif` and `--format gitlab`, for the reports that are a check's
    /// diagnostics; as with markdown, the other commands refuse these formats first.
    fn sarif(&self, _style: &Style) -> Option<String> {
        None
    }
    fn gitlab(&self, _style: &Style) -> Option<String> {
        None
    }
    /// One status line for people, printed on stderr in the human format unless `-q`.
    fn status(&self) -> Option<String> {
        None
    }
    /// Markdown appended to the GitHub Actions step summary, when `GITHUB_STEP_SUMMARY`
    /// names a file; made only then.
    fn step_summary(&self) -> Option<String> {
        None
    }
}

/// A report kept on the heap (a large one, in an enum beside a small one).
impl<T: Render + ?Sized> Render for Box<T> {
    fn json(&self) -> String {
        (**self).json()
    }
    fn github(&self, style: &Style) -> String {
        (**self).github(style)
    }
    fn human(&self, style: &Style) -> String {
        (**self).human(style)
    }
    fn markdown(&self) -> Option<String> {
        (**self).markdown()
    }
    fn sarif(&self, style: &Style) -> Option<String> {
        (**self).sarif(style)
    }
    fn gitlab(&self, style: &Style) -> Option<String> {
        (**self).gitlab(style)
    }
    fn status(&self) -> Option<String> {
        (**self).status()
    }
    fn step_summary(&self) -> Option<String> {
        (**self).step_summary()
    }
}

/// A report lent to a bigger one.
impl<T: Render> Render for &T {
    fn json(&self) -> String {
        (*self).json()
    }
    fn github(&self, style: &Style) -> String {
        (*self).github(style)
    }
    fn human(&self, style: &Style) -> String {
        (*self).human(style)
    }
    fn markdown(&self) -> Option<String> {
        (*self).markdown()
    }
    fn sarif(&self, style: &Style) -> Option<String> {
        (*self).sarif(style)
    }
    fn gitlab(&self, style: &Style) -> Option<String> {
        (*self).gitlab(style)
    }
    fn status(&self) -> Option<String> {
        (*self).status()
    }
    fn step_summary(&self) -> Option<String> {
        (*self).step_summary()
    }
}

/// Two reports printed one after the other (a check's diagnostics, then what was built).
impl<A: Render, B: Render> Render for (A, B) {
    fn json(&self) -> String {
        self.0.json() + &self.1.json()
    }
    fn github(&self, style: &Style) -> String {
        self.0.github(style) + &self.1.github(style)
    }
    fn human(&self, style: &Style) -> String {
        self.0.human(style) + &self.1.human(style)
    }
    fn markdown(&self) -> Option<String> {
        join(self.0.markdown(), self.1.markdown(), "")
    }
    /// A log is one document: the first part that has one.
    fn sarif(&self, style: &Style) -> Option<String> {
        self.0.sarif(style).or_else(|| self.1.sarif(style))
    }
    fn gitlab(&self, style: &Style) -> Option<String> {
        self.0.gitlab(style).or_else(|| self.1.gitlab(style))
    }
    fn status(&self) -> Option<String> {
        join(self.0.status(), self.1.status(), "\n")
    }
    fn step_summary(&self) -> Option<String> {
        join(self.0.step_summary(), self.1.step_summary(), "\n")
    }
}

/// A report that may be absent.
impl<T: Render> Render for Option<T> {
    fn json(&self) -> String {
        self.as_ref().map(Render::json).unwrap_or_default()
    }
    fn github(&self, style: &Style) -> String {
        self.as_ref().map(|r| r.github(style)).unwrap_or_default()
    }
    fn human(&self, style: &Style) -> String {
        self.as_ref().map(|r| r.human(style)).unwrap_or_default()
    }
    fn markdown(&self) -> Option<String> {
        self.as_ref()?.markdown()
    }
    fn sarif(&self, style: &Style) -> Option<String> {
        self.as_ref()?.sarif(style)
    }
    fn gitlab(&self, style: &Style) -> Option<String> {
        self.as_ref()?.gitlab(style)
    }
    fn status(&self) -> Option<String> {
        self.as_ref()?.status()
    }
    fn step_summary(&self) -> Option<String> {
        self.as_ref()?.step_summary()
    }
}

/// A line for people and nothing else: said on stderr in the human format unless `-q`.
pub(crate) struct Note(pub String);

impl Render for Note {
    fn json(&self) -> String {
        String::new()
    }
    fn github(&self, _: &Style) -> String {
        String::new()
    }
    fn human(&self, _: &Style) -> String {
        String::new()
    }
    fn status(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

fn join(a: Option<String>, b: Option<String>, between: &str) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}{between}{b}")),
        (a, b) => a.or(b),
    }
}
