//! Stage 6, flush: completes the cache flushes recorded in the outbox by committed deploys.
//! For every pending row, oldest first: UNLINK the collection keys (patterns found with
//! SCAN, never KEYS), SET the version key, then mark the rows done. Redis down or hung is
//! exit 5 and the rows stay pending; running it again (or the next deploy) finishes them.
//!
//! Flushes are serialized by a session advisory lock of their own, so two flushes (say
//! `seedc flush` and a deploy's) never set the version key out of order.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::db::{self, sql};
use crate::exit::{Exit, ExitError};

/// Connecting to Redis, and every reply after that, may take this long at most.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(5);
/// Keys per SCAN step and per UNLINK.
const BATCH: usize = 1000;

/// What a flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlushReport {
    /// The deploys whose flush completed.
    pub deploys: Vec<i64>,
    pub keys_removed: u64,
    /// The content version written to the version key, if any flush was pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Flushes everything pending. `lock_timeout` bounds the wait for another flush.
pub fn flush(client: &mut postgres::Client, schema: &str, redis_url: &str, lock_timeout: Duration) -> Result<FlushReport> {
    if !sql::outbox_exists(client, schema)? {
        return Ok(FlushReport::default());
    }
    let key = db::Lock::Flush.key(schema);
    if !sql::session_lock(client, key, lock_timeout)? {
        return Err(ExitError::new(
            Exit::FlushPending,
            format!(
                "another flush held the cache flush lock for {}s; the flush is still pending: run `seedc flush` again",
                lock_timeout.as_secs()
            ),
        ));
    }
    let result = flush_locked(client, schema, redis_url);
    sql::session_unlock(client, key);
    result
}

fn flush_locked(client: &mut postgres::Client, schema: &str, redis_url: &str) -> Result<FlushReport> {
    let pending = sql::pending_flushes(client, schema)?;
    let Some(last) = pending.last() else {
        return Ok(FlushReport::default());
    };
    let mut keys: Vec<&str> = pending.iter().flat_map(|p| p.keys.iter().map(String::as_str)).collect();
    keys.sort_unstable();
    keys.dedup();

    let mut con = redis_connect(redis_url)?;
    let mut removed = 0;
    let (patterns, exact): (Vec<&str>, Vec<&str>) = keys.into_iter().partition(|k| k.ends_with('*'));
    for chunk in exact.chunks(BATCH) {
        removed += unlink(&mut con, chunk)?;
    }
    for pattern in patterns {
        removed += unlink_matching(&mut con, pattern)?;
    }
    redis::cmd("SET").arg(&last.version_key).arg(&last.content_version).exec(&mut con).map_err(redis_failed)?;

    let ids: Vec<i64> = pending.iter().map(|p| p.deploy_id).collect();
    sql::mark_flushed(client, schema, &ids)?;
    Ok(FlushReport { deploys: ids, keys_removed: removed, version: Some(last.content_version.clone()) })
}

fn redis_connect(url: &str) -> Result<redis::Connection> {
    let client = redis::Client::open(url).map_err(|e| ExitError::new(Exit::Usage, format!("invalid redis url: {e}")))?;
    let con = client.get_connection_with_timeout(REDIS_TIMEOUT).map_err(redis_failed)?;
    con.set_read_timeout(Some(REDIS_TIMEOUT)).map_err(redis_failed)?;
    con.set_write_timeout(Some(REDIS_TIMEOUT)).map_err(redis_failed)?;
    Ok(con)
}

fn unlink(con: &mut redis::Connection, keys: &[&str]) -> Result<u64> {
    if keys.is_empty() {
        return Ok(0);
    }
    redis::cmd("UNLINK").arg(keys).query(con).map_err(redis_failed)
}

/// SCAN for a pattern, unlinking each batch it yields with one pipeline. Keys are raw bytes:
/// a cache may hold keys that are not UTF-8, and they must not make the flush fail.
fn unlink_matching(con: &mut redis::Connection, pattern: &str) -> Result<u64> {
    let mut cursor: u64 = 0;
    let mut removed = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) =
            redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(BATCH).query(con).map_err(redis_failed)?;
        if !batch.is_empty() {
            let mut pipe = redis::pipe();
            for chunk in batch.chunks(100) {
                pipe.cmd("UNLINK").arg(chunk);
            }
            let counts: Vec<u64> = pipe.query(con).map_err(redis_failed)?;
            removed += counts.iter().sum::<u64>();
        }
        if next == 0 {
            return Ok(removed);
        }
        cursor = next;
    }
}

fn redis_failed(e: redis::RedisError) -> anyhow::Error {
    ExitError::new(Exit::FlushPending, format!("cache flush failed: {e}; the flush stays pending: run `seedc flush` when Redis is back"))
}
