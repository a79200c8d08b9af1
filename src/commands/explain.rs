//! `seedc explain CODE` and `seedc explain --list`.

use anyhow::Result;

use crate::cli::ExplainArgs;
use crate::diag::Code;
use crate::diag::render::explain::Explanation;
use crate::exit::{Exit, ExitError};
use crate::report::printer::Printer;

pub(super) fn run(args: &ExplainArgs, printer: &Printer) -> Result<Exit> {
    let explanation = if args.list {
        Explanation::All
    } else {
        let name = args.code.as_deref().unwrap_or_default();
        let Ok(code) = name.parse::<Code>() else {
            return Err(ExitError::new(Exit::Usage, format!("unknown code {name:?}; `seedc explain --list` lists them all")));
        };
        Explanation::One(code)
    };
    printer.report(&explanation)?;
    Ok(Exit::Ok)
}
