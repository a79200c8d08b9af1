//! `seedc publish [URL]`: mirror a verified `out/` to object storage; print what was
//! uploaded and what was already there (one JSON object under `--format json`).

use anyhow::{Context, Result};

use crate::cli::{Format, PublishArgs};
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::publish::{Options, Target};
use crate::report::printer::Printer;

pub(super) fn run(project: &Project, args: &PublishArgs, printer: &Printer) -> Result<Exit> {
    let config = project.config();
    let root = project.root().context("publish needs a content root in a directory")?;
    let url = args.url.clone().or_else(|| config.publish.url.clone()).ok_or_else(|| {
        ExitError::new(
            Exit::Usage,
            "publish needs a URL: `seedc publish s3://bucket/prefix` (or file:///dir), or [publish] url in seedc.toml",
        )
    })?;
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
