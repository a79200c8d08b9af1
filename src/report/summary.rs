//! The GitHub Actions step summary: when `GITHUB_STEP_SUMMARY` names a file, the Printer
//! appends a report's Markdown summary to it (counts, the errors, the diff table),
//! which GitHub shows on the run's page. Appending never replaces another step's summary.

use std::io::Write;

use anyhow::{Context, Result};

pub(crate) const ENV: &str = "GITHUB_STEP_SUMMARY";

/// Appends the Markdown that `markdown` makes to the step summary, if there is one to
/// append to and the report has a summary; the text is only made when there is.
pub(crate) fn append(markdown: impl FnOnce() -> Option<String>) -> Result<()> {
    let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) else { return Ok(()) };
    let Some(markdown) = markdown() else { return Ok(()) };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {ENV} ({})", std::path::Path::new(&path).display()))?;
    // A blank line first: the previous step's text may not end a paragraph.
    file.write_all(format!("\n{markdown}\n").as_bytes()).with_context(|| format!("cannot write {ENV}"))
}
