//! A sink's diagnostics and their summary, in each format: the report every command that
//! checks something prints; one file per format renders a single diagnostic. Also the
//! generic [`Outcome`] of a stage that checks content.

use std::collections::BTreeMap;

pub(crate) mod explain;
pub mod github;
pub(crate) mod gitlab;
pub mod human;
pub mod json;
pub(crate) mod sarif;

use self::human::Human;
use super::{Code, Diagnostic, Severity, Sink, Sources, Summary};
use crate::report::{Render, Style, plural};

/// How many diagnostics of one code the human and github formats show; past it they say
/// how many more there are. `--format json` carries every one.
pub(crate) const PER_CODE: usize = 50;

/// Splits diagnostics into those shown and, per code, how many were left out.
fn capped<'a>(diagnostics: impl Iterator<Item = &'a Diagnostic>) -> (Vec<&'a Diagnostic>, BTreeMap<Code, usize>) {
    let mut shown = Vec::new();
    let mut seen: BTreeMap<Code, usize> = BTreeMap::new();
    let mut left_out: BTreeMap<Code, usize> = BTreeMap::new();
    for d in diagnostics {
        let n = seen.entry(d.code).or_default();
        *n += 1;
        if *n > PER_CODE {
            *left_out.entry(d.code).or_default() += 1;
        } else {
            shown.push(d);
        }
    }
    (shown, left_out)
}

/// "and 99,950 more duplicate-id diagnostics".
fn left_out_line(code: Code, n: usize) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("and {grouped} more {code} diagnostic{} (`--format json` lists every one)", plural(n))
}

/// What a command found wrong with the content: every diagnostic in `sink`, located in
/// `sources`, then a summary over `files` files; its step summary is headed by `command`.
#[derive(Default)]
pub struct Diagnostics {
    pub command: &'static str,
    pub sink: Sink,
    pub sources: Sources,
    pub files: usize,
}

impl Diagnostics {
    /// The diagnostics of `command`'s check, placed in the files of `sources`.
    pub(crate) fn new(command: &'static str, sink: Sink, sources: Sources) -> Diagnostics {
        let files = sources.len();
        Diagnostics { command, sink, sources, files }
    }

    /// Diagnostics that name files by path alone (`out/`, a published copy), over `files`.
    pub(crate) fn unplaced(command: &'static str, sink: Sink, files: usize) -> Diagnostics {
        Diagnostics { command, sink, sources: Sources::default(), files }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.sink.has_errors()
    }

    /// No diagnostic at all (a clean check, or none was run).
    pub(crate) fn is_empty(&self) -> bool {
        self.sink.iter().next().is_none()
    }

    fn summary(&self) -> Summary {
        Summary { errors: self.sink.errors(), warnings: self.sink.warnings(), files: self.files }
    }
}

impl Render for Diagnostics {
    fn json(&self) -> String {
        let mut out = String::new();
        for d in self.sink.iter() {
            out.push_str(&json::render(d));
            out.push('\n');
        }
        out.push_str(&json::render_summary(&self.summary()));
        out.push('\n');
        out
    }

    /// Every annotation, even under `-q` (they are the point of the format); the summary
    /// notice only without it.
    fn github(&self, style: &Style) -> String {
        let mut out = String::new();
        let (shown, left_out) = capped(self.sink.iter());
        for d in shown {
            out.push_str(&github::render_in(d, style.github_prefix));
            out.push('\n');
        }
        for (code, n) in left_out {
            out.push_str(&github::notice("seedc", None, &left_out_line(code, n)));
            out.push('\n');
        }
        if !style.quiet {
            out.push_str(&github::render_summary(&self.summary()));
            out.push('\n');
        }
        out
    }

    /// `-q` leaves out the warnings and the summary.
    fn human(&self, style: &Style) -> String {
        let human = Human::new(style.color);
        let mut out = String::new();
        let (shown, left_out) = capped(self.sink.iter().filter(|d| !(style.quiet && d.severity == Severity::Warning)));
        for d in shown {
            out.push_str(&human.render(d, &self.sources));
            out.push_str("\n\n");
        }
        for (code, n) in left_out {
            out.push_str(&format!("note: {}\n\n", left_out_line(code, n)));
        }
        if !style.quiet {
            out.push_str(&human.render_summary(&self.summary()));
            out.push('\n');
        }
        out
    }

    fn sarif(&self, style: &Style) -> Option<String> {
        Some(sarif::render(self.sink.iter(), &self.sources, style.github_prefix))
    }

    fn gitlab(&self, style: &Style) -> Option<String> {
        Some(gitlab::render(self.sink.iter(), style.github_prefix))
    }

    fn step_summary(&self) -> Option<String> {
        Some(step_summary(self.command, &self.sink, self.files))
    }
}

/// Errors listed in full in a step summary before the rest are only counted: a summary is
/// for reading.
const MAX_LISTED: usize = 50;

/// The summary of a check or build: counts, then a table of the diagnostics.
fn step_summary(command: &str, sink: &Sink, files: usize) -> String {
    let (errors, warnings) = (sink.errors(), sink.warnings());
    let verdict = if errors == 0 { "✅" } else { "❌" };
    let mut out = format!(
        "### {verdict} seedc {command}\n\n{errors} error{}, {warnings} warning{} in {files} file{}\n",
        plural(errors),
        plural(warnings),
        plural(files)
    );
    if errors + warnings > 0 {
        out.push_str("\n| | code | location | message |\n|---|---|---|---|\n");
        for d in sink.iter().take(MAX_LISTED) {
            let icon = if d.severity == Severity::Error { "❌" } else { "⚠️" };
            let location = match (&d.file, d.span) {
                (Some(f), Some(s)) => format!("`{f}:{}:{}`", s.line, s.column),
                (Some(f), None) => format!("`{f}`"),
                _ => String::new(),
            };
            out.push_str(&format!("| {icon} | `{}` | {location} | {} |\n", d.code.name(), cell(&d.message)));
        }
        let rest = sink.iter().count().saturating_sub(MAX_LISTED);
        if rest > 0 {
            out.push_str(&format!("\n…and {rest} more\n"));
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// How a stage that checks content ended: its diagnostics and, unless they hold an error,
/// what it made. One type for every such stage (build, publish, deploy, status), so one
/// [`Render`] prints them all alike.
pub enum Outcome<T> {
    /// The content has errors: nothing was done; `not_done` says so to people.
    Invalid { diagnostics: Diagnostics, not_done: &'static str },
    /// Done; the diagnostics hold the check's warnings, if any.
    Done { report: T, diagnostics: Diagnostics },
}

impl<T> Outcome<T> {
    /// The check's diagnostics.
    pub(crate) fn diagnostics(&self) -> &Diagnostics {
        match self {
            Outcome::Invalid { diagnostics, .. } | Outcome::Done { diagnostics, .. } => diagnostics,
        }
    }

    /// What was made, if anything.
    pub(crate) fn report(&self) -> Option<&T> {
        match self {
            Outcome::Invalid { .. } => None,
            Outcome::Done { report, .. } => Some(report),
        }
    }
}

/// The diagnostics (all of them when the content has errors; else only when there are
/// warnings), then the report; the step summary of both.
impl<T: Render> Render for Outcome<T> {
    fn json(&self) -> String {
        self.parts(Render::json, Render::json)
    }
    fn github(&self, style: &Style) -> String {
        self.parts(|d| d.github(style), |r| r.github(style))
    }
    fn human(&self, style: &Style) -> String {
        self.parts(|d| d.human(style), |r| r.human(style))
    }
    fn markdown(&self) -> Option<String> {
        self.report()?.markdown()
    }
    /// The check's diagnostics, whether or not the stage went on.
    fn sarif(&self, style: &Style) -> Option<String> {
        self.diagnostics().sarif(style)
    }
    fn gitlab(&self, style: &Style) -> Option<String> {
        self.diagnostics().gitlab(style)
    }
    fn status(&self) -> Option<String> {
        match self {
            Outcome::Invalid { not_done, .. } => Some((*not_done).to_owned()),
            Outcome::Done { report, .. } => report.status(),
        }
    }
    fn step_summary(&self) -> Option<String> {
        match self {
            Outcome::Invalid { diagnostics, .. } => diagnostics.step_summary(),
            Outcome::Done { report, diagnostics } => (diagnostics, report).step_summary(),
        }
    }
}

impl<T> Outcome<T> {
    fn parts(&self, diagnostics: impl Fn(&Diagnostics) -> String, report: impl Fn(&T) -> String) -> String {
        match self {
            Outcome::Invalid { diagnostics: d, .. } => diagnostics(d),
            Outcome::Done { report: r, diagnostics: d } if d.is_empty() => report(r),
            Outcome::Done { report: r, diagnostics: d } => diagnostics(d) + &report(r),
        }
    }
}
