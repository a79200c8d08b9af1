//! `seedc completions SHELL`: a completion script for bash, zsh, fish, PowerShell or elvish,
//! generated from the same clap definitions that parse the command line.

use anyhow::Result;
use clap::CommandFactory as _;

use super::generated::Generated;
use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Exit;
use crate::report::printer::Printer;

pub(super) fn run(args: &CompletionsArgs, printer: &Printer) -> Result<Exit> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "seedc", &mut script);
    printer.report(&Generated { command: "completions", text: Some(String::from_utf8(script)?), wrote: Vec::new() })?;
    Ok(Exit::Ok)
}
