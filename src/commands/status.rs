//! `seedc status`: does the database mirror the content root? Reads, never writes; exit 0
//! when it mirrors and no cache flush is pending, 1 when it differs (or the content is
//! invalid), 3 when the database cannot be read.

use anyhow::Result;

use super::targets::Targets;
use crate::cli::{Cli, StatusArgs};
use crate::exit::Exit;
use crate::project::Project;
use crate::report::printer::Printer;
use crate::status::{self, Options};

pub(super) fn run(cli: &Cli, args: &StatusArgs, printer: &Printer) -> Result<Exit> {
    let project = Project::open(&cli.global.root)?;
    let database_url = Targets::of(cli, &project)?.database_url("status", args.database_url.as_deref())?;
    let options = Options { database_url, full: args.full, on_timeout: crate::report::printer::fatal };
    let outcome = status::status(&project, &options)?;
    printer.report(&outcome)?;
    Ok(if outcome.report().is_some_and(|status| status.mirrors) { Exit::Ok } else { Exit::Invalid })
}
