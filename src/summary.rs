//! The GitHub Actions step summary: when `GITHUB_STEP_SUMMARY` names a file, `check`,
//! `build` and `diff` append a Markdown report to it (counts, the errors, the diff table),
//! which GitHub shows on the run's page. Appending never replaces another step's summary.

use std::io::Write;

use anyhow::{Context, Result};

use crate::diag::{Severity, Sink, plural};

pub(crate) const ENV: &str = "GITHUB_STEP_SUMMARY";

/// Errors listed in full before the rest are only counted: a summary is for reading.
const MAX_LISTED: usize = 50;

/// Appends the Markdown that `markdown` makes to the step summary, if there is one; the
/// text is only made when there is.
pub(crate) fn append(markdown: impl FnOnce() -> String) -> Result<()> {
    let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) else { return Ok(()) };
    let markdown = markdown();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {ENV} ({})", std::path::Path::new(&path).display()))?;
    // A blank line first: the previous step's text may not end a paragraph.
    file.write_all(format!("\n{markdown}\n").as_bytes()).with_context(|| format!("cannot write {ENV}"))
}

/// The summary of a check or build: counts, then a table of the diagnostics.
pub(crate) fn diagnostics(command: &str, sink: &Sink, files: usize) -> String {
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
