//! `seedc flush`: completes the cache flushes that earlier deploys left pending.

use std::time::Duration;

use anyhow::Result;

use crate::cli::ServiceArgs;
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::report::printer::Printer;

pub(super) fn run(project: &Project, args: &ServiceArgs, printer: &Printer) -> Result<Exit> {
    let config = project.config();
    let database_url = args
        .database_url
        .as_deref()
        .ok_or_else(|| ExitError::new(Exit::Usage, "flush needs a database: set --database-url or DATABASE_URL"))?;
    let cache = args.cache(&config.cache)?.ok_or_else(|| ExitError::new(Exit::Usage, "flush needs Redis: set --redis-url or REDIS_URL"))?;
    // A malformed URL is exit 2 before any connection.
    let endpoint = crate::flush::Endpoint::parse(&cache)?;
    let mut db = crate::db::Session::open(database_url, "seedc flush", &config.deploy.schema, crate::report::printer::fatal)?;
    let lock_timeout = Duration::from_secs(args.lock_timeout);
    db.watchdog.arm("flushing the cache", lock_timeout + crate::db::STATEMENT_TIMEOUT);
    let report = crate::flush::flush(&mut db.client, &config.deploy.schema, crate::flush::CacheTarget::Lazy(&endpoint), lock_timeout)?;
    db.watchdog.disarm();
    printer.report(&report)?;
    Ok(Exit::Ok)
}
