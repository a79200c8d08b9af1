//! `seedc verify`: re-hash everything in `out/` and report what is missing or corrupt, as
//! diagnostics in the chosen format; exit 1 if anything is wrong.

use std::path::Path;

use anyhow::Result;

use crate::diag::Sources;
use crate::diag::render::Diagnostics;
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(root: &Path, printer: &Printer) -> Result<Exit> {
    let verified = crate::verify::verify(root)?;
    printer.report(&Diagnostics { sink: &verified.sink, sources: &Sources::default(), files: verified.files });
    Ok(if verified.sink.has_errors() { Exit::Invalid } else { Exit::Ok })
}
