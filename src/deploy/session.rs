//! The connection of one deploy: its database session, the deploy lock, and the cache
//! flushes it has completed so far (an earlier deploy's included).

use anyhow::Result;

use super::{Options, Plan, Report};
use crate::build::write::Report as BuildReport;
use crate::db::{self, STATEMENT_TIMEOUT};
use crate::exit::{Exit, ExitError, exit_of};
use crate::flush::{self, FlushReport};

/// The connection of one deploy, its watchdog, and the flushes it has completed so far.
pub(super) struct DeploySession {
    pub(super) db: db::Session,
    pub(super) schema: String,
    pub(super) flushed: FlushReport,
    pub(super) flush_error: Option<String>,
    /// Connected and PINGed before the deploy began; None in a dry run.
    cache: Option<flush::Cache>,
}

impl DeploySession {
    /// On the connections just opened ([`super::connect`]), completes any flush an earlier
    /// deploy left pending: its keys are stale right now. A Redis failure there is
    /// remembered, not fatal: this deploy's own flush retries it.
    pub(super) fn open(options: &Options, schema: &str, (cache, db): (Option<flush::Cache>, db::Session)) -> Result<DeploySession> {
        let mut session = DeploySession { db, schema: schema.to_owned(), flushed: FlushReport::default(), flush_error: None, cache };
        if let Some(cache) = session.cache.as_mut() {
            session.db.watchdog.arm("completing a pending cache flush", options.lock_timeout + STATEMENT_TIMEOUT);
            match flush::flush(&mut session.db.client, schema, flush::CacheTarget::Connected(cache), options.lock_timeout) {
                Ok(report) => session.flushed = report,
                Err(e) if exit_of(&e) == Exit::FlushPending => session.flush_error = Some(e.to_string()),
                Err(e) => return Err(e),
            }
        }
        Ok(session)
    }

    /// Flushes after the commit when this deploy recorded a flush (`pending`) or an
    /// earlier one is still waiting.
    pub(super) fn finish_flush(&mut self, options: &Options, pending: bool) {
        let Some(cache) = self.cache.as_mut().filter(|_| pending || self.flush_error.is_some()) else {
            return;
        };
        self.db.watchdog.arm("flushing the cache (the deploy is committed)", options.lock_timeout + STATEMENT_TIMEOUT);
        match flush::flush(&mut self.db.client, &self.schema, flush::CacheTarget::Connected(cache), options.lock_timeout) {
            Ok(report) => {
                self.flushed.deploys.extend(report.deploys);
                self.flushed.keys_removed += report.keys_removed;
                self.flushed.version = report.version.or(self.flushed.version.take());
                self.flush_error = None;
            }
            Err(e) => self.flush_error = Some(e.to_string()),
        }
        self.db.watchdog.disarm();
    }

    /// The error of a deploy lock that timed out, naming the holder if it still holds it.
    pub(super) fn lock_busy(&mut self, options: &Options) -> anyhow::Error {
        let holder = db::locks::lock_holder(&mut self.db.client, db::AdvisoryLock::Deploy.key(&self.schema));
        ExitError::new(
            Exit::Service,
            format!(
                "another deploy holds the deploy lock of schema {:?}{holder}; {} (--lock-timeout); nothing was committed",
                self.schema,
                match options.lock_timeout.as_secs() {
                    0 => "did not wait".to_owned(),
                    n => format!("gave up after {n}s"),
                }
            ),
        )
    }

    pub(super) fn report(self, plan: Plan, build: Option<BuildReport>, deploy_id: Option<i64>, migrated: bool) -> Report {
        Report {
            plan,
            build,
            committed: deploy_id.is_some() || migrated,
            deploy_id,
            flush: self.flushed,
            flush_error: self.flush_error,
            publish: None,
            saved_plan: None,
        }
    }
}

/// BEGIN and the deploy lock; None (the transaction rolled back) if the lock timed out.
pub(super) fn begin<'a>(
    db: &'a mut db::Session,
    schema: &str,
    options: &Options,
) -> Result<Option<(postgres::Transaction<'a>, &'a db::Watchdog)>> {
    // `--lock-timeout 0` does not wait (pg_try_advisory_xact_lock), but the statement still
    // needs the time any statement does.
    let wait = if options.lock_timeout.is_zero() { STATEMENT_TIMEOUT } else { options.lock_timeout };
    db.watchdog.arm("waiting for the deploy lock", wait);
    let mut tx = db::locks::begin_locked(&mut db.client, db::AdvisoryLock::Deploy.key(schema), options.lock_timeout)?;
    if let Some(tx) = tx.as_mut() {
        db.watchdog.arm("planning", STATEMENT_TIMEOUT);
        // Its writes are seedc's: the drift triggers let them pass.
        db::drift::mark_deploy(tx)?;
    }
    Ok(tx.map(|tx| (tx, &db.watchdog)))
}
