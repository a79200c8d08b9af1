//! `seedc publish [URL]`: mirror a verified `out/` to object storage; print what was
//! uploaded and what was already there (one JSON object under `--format json`).

use anyhow::{Context, Result};

use super::targets::Targets;
use crate::cli::{Cli, Format, PublishArgs};
use crate::exit::Exit;
use crate::project::Project;
use crate::publish::{Options, Target};
use crate::report::printer::Printer;

pub(super) fn run(cli: &Cli, project: &Project, args: &PublishArgs, printer: &Printer) -> Result<Exit> {
    let config = project.config();
    let root = project.root().context("publish needs a content root in a directory")?;
    let targets = Targets::of(cli, project)?;
    let url = targets.publish_url(args.url.as_deref(), &config.publish)?.ok_or_else(|| targets.no_publish_url())?;
    let options = Options {
        target: Target::parse(&url)?,
        config: config.publish.clone(),
        dry_run: args.dry_run,
        progress: crate::report::progress::allowed(printer.format == Format::Human, printer.quiet),
    };
    let outcome = crate::publish::publish(root, &options)?;
    printer.report(&outcome)?;
    Ok(if outcome.report().is_some() { Exit::Ok } else { Exit::Invalid })
}
