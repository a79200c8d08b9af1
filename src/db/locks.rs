//! The advisory locks: the deploy lock (transaction-scoped, taken first in every deploy)
//! and the flush lock (session-scoped), bounded waits, and who holds one.

use std::time::Duration;

use anyhow::Result;
use postgres::{Client, GenericClient, Transaction};

use super::pg;
use crate::json::canon::ContentHash;

/// The advisory locks seedc takes, one pair per seedc schema.
#[derive(Debug, Clone, Copy)]
pub enum AdvisoryLock {
    /// Held by a deploy's transaction from its first statement to its end.
    Deploy,
    /// Held by a cache flush for its session, so version keys are set in order.
    Flush,
}

impl AdvisoryLock {
    /// The lock's key in `schema`: two projects with their own schema in one database never
    /// wait for each other.
    pub fn key(self, schema: &str) -> i64 {
        let what = match self {
            AdvisoryLock::Deploy => "deploy",
            AdvisoryLock::Flush => "flush",
        };
        let digest = ContentHash::of(format!("seedc {what} lock\0{schema}").as_bytes());
        i64::from_be_bytes(digest.0[..8].try_into().expect("8 bytes"))
    }
}

/// BEGIN, then the transaction-scoped advisory lock `key`, waiting at most `timeout` (zero:
/// not at all). None, with the transaction rolled back, when another session holds it.
pub(crate) fn begin_locked(client: &mut postgres::Client, key: i64, timeout: Duration) -> Result<Option<postgres::Transaction<'_>>> {
    let mut tx = client.transaction().map_err(pg)?;
    if !xact_lock(&mut tx, key, timeout)? {
        tx.rollback().map_err(pg)?;
        return Ok(None);
    }
    Ok(Some(tx))
}

/// Sets `lock_timeout` for the transaction (`local`) or the session.
fn set_lock_timeout(client: &mut impl GenericClient, timeout: Duration, local: bool) -> Result<()> {
    let ms = timeout.as_millis().max(1).to_string();
    client.execute("SELECT set_config('lock_timeout', $1, $2)", &[&ms, &local]).map_err(pg)?;
    Ok(())
}

/// Takes the transaction-scoped advisory lock `key`; false if `timeout` ran out first (zero:
/// if another session holds it now).
pub(crate) fn xact_lock(tx: &mut Transaction, key: i64, timeout: Duration) -> Result<bool> {
    if timeout.is_zero() {
        return Ok(tx.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key]).map_err(pg)?.get(0));
    }
    set_lock_timeout(tx, timeout, true)?;
    match tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key]) {
        Ok(_) => Ok(true),
        Err(e) if is_lock_timeout(&e) => Ok(false),
        Err(e) => Err(pg(e)),
    }
}

/// Takes the session-scoped advisory lock `key`; false if `timeout` ran out first.
pub(crate) fn session_lock(client: &mut Client, key: i64, timeout: Duration) -> Result<bool> {
    if timeout.is_zero() {
        return Ok(client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]).map_err(pg)?.get(0));
    }
    set_lock_timeout(client, timeout, false)?;
    match client.execute("SELECT pg_advisory_lock($1)", &[&key]) {
        Ok(_) => Ok(true),
        Err(e) if is_lock_timeout(&e) => Ok(false),
        Err(e) => Err(pg(e)),
    }
}

/// Releases a session-scoped advisory lock; a failure only leaves it to the session's end.
pub(crate) fn session_unlock(client: &mut Client, key: i64) {
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&key]);
}

/// Who holds an advisory lock, as a clause for an error message (empty if unknown).
pub(crate) fn lock_holder(client: &mut Client, key: i64) -> String {
    let (classid, objid) = ((key >> 32) as u32, key as u32);
    let row = client.query_opt(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), coalesce(to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '')
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1 LIMIT 1",
        &[&classid, &objid],
    );
    match row {
        Ok(Some(r)) => {
            let (pid, app, addr, since): (i32, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
            let app = if app.is_empty() { String::new() } else { format!(", {app:?}") };
            format!(" (server pid {pid}{app}, from {addr}, since {since})")
        }
        _ => String::new(),
    }
}

/// Whether an error is `lock_timeout` running out.
fn is_lock_timeout(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}
