//! `seedc check`: validate everything, print the diagnostics, write nothing.

use anyhow::Result;

use crate::diag::render::Diagnostics;
use crate::exit::Exit;
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(project: &Project, printer: &Printer) -> Result<Exit> {
    let (checked, sink) = crate::check::run(project, crate::check::Mode::Verdict)?;
    printer.report(&Diagnostics { sink: &sink, sources: &checked.content.sources, files: checked.content.sources.len() });
    crate::report::summary::append(|| crate::diag::render::step_summary("check", &sink, checked.content.sources.len()))?;
    let exit = if sink.has_errors() { Exit::Invalid } else { Exit::Ok };
    // The process ends right after this: freeing hundreds of thousands of parsed records
    // one by one would add a tenth to the run for nothing.
    std::mem::forget(checked);
    Ok(exit)
}
