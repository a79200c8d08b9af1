//! `seedc deploy`: check, build, publish to PostgreSQL in one transaction, flush the cache;
//! print the plan and what happened (one JSON object under `--format json`).

use anyhow::Result;

use super::targets::Targets;
use crate::build::write;
use crate::cli::{Cli, DeployArgs, Format};
use crate::deploy::{self, Options, Saved, SavedPlan};
use crate::exit::Exit;
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(cli: &Cli, args: &DeployArgs, printer: &Printer) -> Result<Exit> {
    // A plan file that is altered or unreadable is exit 2 before anything else.
    let applied = match &args.plan {
        Some(path) => Some(SavedPlan::read(path)?),
        None => None,
    };
    let project = Project::open(&cli.global.root)?;
    let config = project.config();
    // Every target is settled (secrets read, conflicts refused) before any connection.
    let targets = Targets::of(cli, &project)?;
    let database_url = targets.database_url("deploy", args.services.database_url.as_deref())?;
    let redis_url = targets.redis_url(args.services.redis_url.as_deref(), !args.dry_run)?;
    if redis_url.is_none() && !args.dry_run && targets.environment().is_some() {
        return Err(targets.no_redis("deploy"));
    }
    let publish_url = targets.publish_url(None, &config.publish)?;
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
        cache: args.services.cache(redis_url, &config.cache)?,
        lock_timeout: targets.lock_timeout(args.services.lock_timeout),
        dry_run: args.dry_run,
        prune: planned(|p| p.options.prune, targets.prune(args.no_prune)),
        allow_rollback: planned(|p| p.options.allow_rollback, args.allow_rollback),
        full: planned(|p| p.options.full, args.full),
        // A saved plan holds its field-level changes, for review and to be compared.
        details: printer.verbose > 0 || args.save_plan.is_some() || applied.is_some(),
        on_timeout: crate::report::printer::fatal,
        publish: match publish_url {
            Some(url) => Some(crate::publish::Options {
                target: crate::publish::Target::parse(&url)?,
                config: config.publish.clone(),
                dry_run: false,
                progress: crate::report::progress::allowed(printer.format == Format::Human, printer.quiet),
            }),
            None => None,
        },
        environment: targets.environment().map(str::to_owned),
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
