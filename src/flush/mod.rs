//! Stage 6, flush: completes the cache flushes recorded in the outbox by committed deploys.
//! For every pending row, oldest first: UNLINK the collection keys (patterns found with
//! SCAN on every node, never KEYS), SET the version key, then mark the rows done. A cache
//! that fails or hangs is exit 5 and the rows stay pending; running it again (or the next
//! deploy) finishes them. [`cache`] is the connection (URL, TLS, timeouts, messages),
//! [`cluster`] the Redis Cluster part.
//!
//! Flushes are serialized by a session advisory lock of their own, so two flushes (say
//! `seedc flush` and a deploy's) never set the version key out of order.

pub(crate) mod cache;
mod cluster;
mod node;
pub(crate) mod render;

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

pub(crate) use cache::Cache;
pub(crate) use node::{CacheError, CacheOptions, Endpoint, Timeouts};

use crate::db::{self, locks, outbox};
use crate::exit::{Exit, ExitError};

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

/// The cache a flush writes to: connected already (a deploy proves it reachable before it
/// begins), or connected on first use (`seedc flush`, which has nothing to prove when
/// nothing is pending).
pub(crate) enum CacheTarget<'a> {
    Connected(&'a mut Cache),
    Lazy(&'a Endpoint),
}

/// Flushes everything pending. `lock_timeout` bounds the wait for another flush.
pub(crate) fn flush(client: &mut postgres::Client, schema: &str, cache: CacheTarget<'_>, lock_timeout: Duration) -> Result<FlushReport> {
    // Nothing pending: no lock to wait for, and nothing to ask the cache.
    if !outbox::outbox_exists(client, schema)? || outbox::pending_flushes(client, schema)?.is_empty() {
        return Ok(FlushReport::default());
    }
    let key = db::AdvisoryLock::Flush.key(schema);
    if !locks::session_lock(client, key, lock_timeout)? {
        return Err(ExitError::new(
            Exit::FlushPending,
            format!(
                "another flush held the cache flush lock for {}s; the flush is still pending: run `seedc flush` again",
                lock_timeout.as_secs()
            ),
        ));
    }
    let result = flush_locked(client, schema, cache);
    locks::session_unlock(client, key);
    result
}

fn flush_locked(client: &mut postgres::Client, schema: &str, cache: CacheTarget<'_>) -> Result<FlushReport> {
    let pending = outbox::pending_flushes(client, schema)?;
    let Some(last) = pending.last() else {
        return Ok(FlushReport::default());
    };
    let mut keys: Vec<&str> = pending.iter().flat_map(|p| p.keys.iter().map(String::as_str)).collect();
    keys.sort_unstable();
    keys.dedup();

    let mut connected;
    let cache = match cache {
        CacheTarget::Connected(cache) => cache,
        CacheTarget::Lazy(endpoint) => {
            connected = Cache::connect(endpoint).map_err(CacheError::pending)?;
            &mut connected
        }
    };
    let (patterns, exact): (Vec<&str>, Vec<&str>) = keys.into_iter().partition(|k| k.ends_with('*'));
    let removed = cache.unlink(&exact).map_err(CacheError::pending)? + cache.unlink_matching(&patterns).map_err(CacheError::pending)?;
    cache.set(&last.version_key, &last.content_version).map_err(CacheError::pending)?;

    let ids: Vec<i64> = pending.iter().map(|p| p.deploy_id).collect();
    outbox::mark_flushed(client, schema, &ids)?;
    Ok(FlushReport { deploys: ids, keys_removed: removed, version: Some(last.content_version.clone()) })
}
