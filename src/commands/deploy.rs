//! `seedc deploy`: check, build, publish to PostgreSQL in one transaction, flush the cache;
//! print the plan and what happened (one JSON object under `--format json`).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::build::write;
use crate::cli::{DeployArgs, Format};
use crate::deploy::{self, Options, Saved, SavedPlan};
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(root: &Path, args: &DeployArgs, printer: &Printer) -> Result<Exit> {
    let database_url = args
        .services
        .database_url
        .clone()
        .ok_or_else(|| ExitError::new(Exit::Usage, "deploy needs a database: set --database-url or DATABASE_URL"))?;
    // A plan file that is altered or unreadable is exit 2 before anything else.
    let applied = match &args.plan {
        Some(path) => Some(SavedPlan::read(path)?),
        None => None,
    };
    let project = Project::open(root)?;
    let config = project.config();
    let dates = match &applied {
        Some(plan) => plan.dates()?,
        None => super::build::dates(&args.build)?,
    };
    let planned = |theirs: fn(&SavedPlan) -> bool, ours: bool| applied.as_ref().map_or(ours, theirs);
    let options = Options {
        build: write::Options {
            dates,
            locked: args.build.locked,
            progress: crate::report::progress::allowed(printer.format == Format::Human, printer.quiet),
        },
        database_url,
        cache: args.services.cache(&config.cache)?,
        lock_timeout: Duration::from_secs(args.services.lock_timeout),
        dry_run: args.dry_run,
        prune: planned(|p| p.options.prune, !args.no_prune),
        allow_rollback: planned(|p| p.options.allow_rollback, args.allow_rollback),
        full: planned(|p| p.options.full, args.full),
        // A saved plan holds its field-level changes, for review and to be compared.
        details: printer.verbose > 0 || args.save_plan.is_some() || applied.is_some(),
        on_timeout: crate::report::printer::fatal,
        publish: match config.publish.url.clone() {
            Some(url) => Some(crate::publish::Options {
                target: crate::publish::Target::parse(&url)?,
                config: config.publish.clone(),
                dry_run: false,
                progress: crate::report::progress::allowed(printer.format == Format::Human, printer.quiet),
            }),
            None => None,
        },
        environment: None,
        saved: match (applied, &args.save_plan) {
            (Some(plan), _) => Saved::Apply(Box::new(plan)),
            (None, Some(path)) => Saved::Save(path.clone()),
            (None, None) => Saved::No,
        },
    };
    let outcome = deploy::deploy(&project, &options)?;
    printer.report(&outcome)?;
    let Some(report) = outcome.report() else { return Ok(Exit::Invalid) };
    match &report.flush_error {
        Some(why) => {
            printer.error(&anyhow::anyhow!("{why}"));
            Ok(Exit::FlushPending)
        }
        // Like `diff --exit-code`: 1 when the database does not hold this content yet.
        None if args.exit_code && !report.plan.is_noop() => Ok(Exit::Invalid),
        None => Ok(Exit::Ok),
    }
}
