//! `seedc flush`: completes the cache flushes that earlier deploys left pending.

use anyhow::Result;

use super::targets::Targets;
use crate::cli::{Cli, ServiceArgs};
use crate::exit::Exit;
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(cli: &Cli, project: &Project, args: &ServiceArgs, printer: &Printer) -> Result<Exit> {
    let config = project.config();
    let targets = Targets::of(cli, project)?;
    let database_url = targets.database_url("flush", args.database_url.as_deref())?;
    let redis_url = targets.redis_url(args.redis_url.as_deref(), true)?;
    let cache = args.cache(redis_url, &config.cache)?.ok_or_else(|| targets.no_redis("flush"))?;
    // A malformed URL is exit 2 before any connection.
    let endpoint = crate::flush::Endpoint::parse(&cache)?;
    let mut db = crate::db::Session::open(&database_url, "seedc flush", &config.deploy.schema, crate::report::printer::fatal)?;
    let lock_timeout = targets.lock_timeout(args.lock_timeout);
    db.watchdog.arm("flushing the cache", lock_timeout + crate::db::STATEMENT_TIMEOUT);
    let report = crate::flush::flush(&mut db.client, &config.deploy.schema, crate::flush::CacheTarget::Lazy(&endpoint), lock_timeout)?;
    db.watchdog.disarm();
    printer.report(&report)?;
    Ok(Exit::Ok)
}
