//! `seedc man`: roff man pages from the clap definitions: the main page (`seedc.1`) on
//! stdout, or with `--out-dir` that page and one per command (`seedc-check.1`, ...).

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory as _;

use super::generated::Generated;
use crate::cli::{Cli, ManArgs};
use crate::exit::Exit;
use crate::report::printer::Printer;

pub(super) fn run(args: &ManArgs, printer: &Printer) -> Result<Exit> {
    // Built once, so every subcommand knows its display name (`seedc-check`) and the
    // global flags it inherits, as clap_mangen's own `generate_to` does.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let Some(dir) = &args.out_dir else {
        printer.report(&Generated { command: "man", text: Some(render(&cmd)?), wrote: Vec::new() })?;
        return Ok(Exit::Ok);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut pages = Vec::new();
    pages_of(&cmd, &mut pages);
    let mut wrote = Vec::new();
    for page in pages {
        let man = clap_mangen::Man::new(page.clone());
        let path = dir.join(man.get_filename());
        write(&path, &render(page)?)?;
        wrote.push(path.display().to_string());
    }
    printer.report(&Generated { command: "man", text: None, wrote })?;
    Ok(Exit::Ok)
}

/// `cmd` and every visible subcommand below it, parents first.
fn pages_of<'a>(cmd: &'a clap::Command, out: &mut Vec<&'a clap::Command>) {
    out.push(cmd);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages_of(sub, out);
    }
}

fn render(cmd: &clap::Command) -> Result<String> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    Ok(String::from_utf8(page)?)
}

fn write(path: &Path, text: &str) -> Result<()> {
    crate::project::atomic::write_atomic(path, text.as_bytes())
}
