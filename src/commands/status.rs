//! `seedc status`: does the database mirror the content root? Reads, never writes; exit 0
//! when it mirrors and no cache flush is pending, 1 when it differs (or the content is
//! invalid), 3 when the database cannot be read.

use std::path::Path;

use anyhow::Result;

use crate::cli::StatusArgs;
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::report::printer::Printer;
use crate::status::{self, Options};

pub(super) fn run(root: &Path, args: &StatusArgs, printer: &Printer) -> Result<Exit> {
    let database_url = args
        .database_url
        .clone()
        .ok_or_else(|| ExitError::new(Exit::Usage, "status needs a database: set --database-url or DATABASE_URL"))?;
    let options = Options { database_url, full: args.full, on_timeout: crate::report::printer::fatal };
    let outcome = status::status(&Project::open(root)?, &options)?;
    printer.report(&outcome)?;
    Ok(if outcome.report().is_some_and(|status| status.mirrors) { Exit::Ok } else { Exit::Invalid })
}
