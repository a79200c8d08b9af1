//! `seedc show PLAN`: a saved deploy plan for review (human, JSON, or markdown for a
//! pull-request comment), read and verified without a database.

use anyhow::Result;

use crate::cli::ShowArgs;
use crate::deploy::SavedPlan;
use crate::deploy::saved::render::Show;
use crate::exit::Exit;
use crate::report::printer::Printer;

pub(super) fn run(args: &ShowArgs, printer: &Printer) -> Result<Exit> {
    let plan = SavedPlan::read(&args.plan)?;
    printer.report(&Show(plan))?;
    Ok(Exit::Ok)
}
