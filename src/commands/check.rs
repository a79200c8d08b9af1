//! `seedc check`: validate everything, print the diagnostics, write nothing.

use anyhow::Result;

use crate::diag::render::Diagnostics;
use crate::exit::Exit;
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(project: &Project, printer: &Printer) -> Result<Exit> {
    let (mut checked, sink) = crate::check::run(project, crate::check::Mode::Verdict)?;
    let diagnostics = Diagnostics::new("check", sink, std::mem::take(&mut checked.content.sources));
    printer.report(&diagnostics)?;
    let exit = if diagnostics.has_errors() { Exit::Invalid } else { Exit::Ok };
    // The process ends right after this: freeing hundreds of thousands of parsed records
    // one by one would add a tenth to the run for nothing.
    std::mem::forget(checked);
    Ok(exit)
}
