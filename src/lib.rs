//! seedc: a content pipeline and seed compiler for games.
//!
//! The pipeline, in reading order (see ARCHITECTURE.md): a [`project::Project`] opened once →
//! load → validate (both driven by [`check::run`]) → [`json::canon`] → [`build`] → publish →
//! [`deploy`] → flush. Problems in the user's content are [`diag::Diagnostic`]s collected
//! into one [`diag::Sink`]; failures of the tool or a service are `anyhow` errors mapped to
//! an exit code by `exit`; everything printed is a `report::Render` the Printer writes.

pub mod build;
pub mod check;
mod cli;
mod commands;
pub mod db;
pub mod deploy;
pub mod diag;
mod diff;
mod exit;
mod flush;
pub mod formats;
mod init;
pub mod json;
mod load;
pub mod lsp;
pub mod project;
mod publish;
mod report;
mod status;
mod validate;
mod verify;

use clap::{CommandFactory as _, FromArgMatches as _};

/// Runs seedc with the process's arguments; returns the process exit code.
pub fn main() -> std::process::ExitCode {
    // Parsed from the matches, which also say where each value came from (`cli::Given`).
    let parsed = cli::Cli::command().try_get_matches().and_then(|matches| {
        let mut cli = cli::Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cli::Cli::command()))?;
        cli.given = cli::Given::of(&matches);
        Ok(cli)
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // Told from the raw arguments: clap could not parse them into `Global`.
            let args: Vec<String> = std::env::args().collect();
            let json = args.windows(2).any(|w| w[0] == "--format" && w[1] == "json") || args.iter().any(|a| a == "--format=json");
            return std::process::ExitCode::from(report::printer::usage_error(&err, json));
        }
    };
    let printer = {
        let g = &cli.global;
        report::printer::Printer::new(g.format, g.color, g.quiet, g.verbose, &g.root)
    };
    match commands::run(&cli, &printer) {
        Ok(code) => code.into(),
        Err(err) => {
            let exit = exit::exit_of(&err);
            printer.failure(&err, exit as u8);
            exit.into()
        }
    }
}
