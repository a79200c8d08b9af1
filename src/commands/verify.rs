//! `seedc verify [URL]`: re-hash everything in `out/` (or a published copy) and report what
//! is missing or corrupt, as diagnostics in the chosen format; exit 1 if anything is wrong.

use std::path::Path;

use anyhow::Result;

use crate::cli::VerifyArgs;
use crate::diag::render::Diagnostics;
use crate::exit::Exit;
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(root: &Path, args: &VerifyArgs, printer: &Printer) -> Result<Exit> {
    let verified = match &args.url {
        None => crate::verify::verify(root)?,
        Some(url) => {
            let target = crate::publish::Target::parse(url)?;
            // Settings come from seedc.toml when run in a content root; else the defaults.
            let config = match Project::open(root) {
                Ok(project) => project.config().publish.clone(),
                Err(_) if !root.join(crate::project::config::CONFIG_FILE).exists() => crate::project::config::PublishConfig::default(),
                Err(e) => return Err(e),
            };
            crate::publish::verify_remote(target, &config)?
        }
    };
    let diagnostics = Diagnostics::unplaced("verify", verified.sink, verified.files);
    printer.report(&diagnostics)?;
    Ok(if diagnostics.has_errors() { Exit::Invalid } else { Exit::Ok })
}
