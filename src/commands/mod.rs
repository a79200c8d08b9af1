//! One module per command, each `run(args, printer) -> anyhow::Result<Exit>`; this file only
//! dispatches.

mod build;
mod check;
mod completions;
mod deploy;
mod diff;
mod explain;
mod flush;
mod generated;
mod init;
mod lsp;
mod man;
mod publish;
mod schema;
mod show;
mod status;
mod targets;
mod verify;

use anyhow::Result;

use crate::cli::{Cli, Command, Format};
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::report::printer::Printer;

pub(crate) fn run(cli: &Cli, printer: &Printer) -> Result<Exit> {
    let root = &cli.global.root;
    // Formats a command's report does not have are refused before any work.
    match printer.format {
        Format::Markdown if !matches!(cli.command, Command::Diff(_) | Command::Show(_)) => {
            return Err(ExitError::new(Exit::Usage, "--format markdown is only for `seedc diff` and `seedc show`"));
        }
        Format::Sarif | Format::Gitlab if !matches!(cli.command, Command::Check | Command::Build(_)) => {
            return Err(ExitError::new(Exit::Usage, "--format sarif and --format gitlab are for `seedc check` and `seedc build`"));
        }
        _ => {}
    }
    // SEEDC_ENV may be set for a whole CI job; only a typed --env is refused where it means nothing.
    if cli.given.env && !matches!(cli.command, Command::Deploy(_) | Command::Status(_) | Command::Flush(_) | Command::Publish(_)) {
        return Err(ExitError::new(Exit::Usage, format!("--env is for {}", targets::COMMANDS)));
    }
    match &cli.command {
        Command::Check => check::run(&Project::open(root)?, printer),
        Command::Build(args) => build::run(&Project::open(root)?, args, printer),
        Command::Verify(args) => verify::run(root, args, printer),
        Command::Explain(args) => explain::run(args, printer),
        Command::Schema(args) => schema::run(root, args, printer),
        Command::Diff(args) => diff::run(root, args, printer),
        Command::Deploy(args) => deploy::run(cli, args, printer),
        Command::Flush(args) => flush::run(cli, &Project::open(root)?, args, printer),
        Command::Publish(args) => publish::run(cli, &Project::open(root)?, args, printer),
        Command::Status(args) => status::run(cli, args, printer),
        Command::Show(args) => show::run(args, printer),
        Command::Init(args) => init::run(root, args, printer),
        Command::Completions(args) => completions::run(args, printer),
        Command::Man(args) => man::run(args, printer),
        Command::Lsp => lsp::run(root),
    }
}
