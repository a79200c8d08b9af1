//! The cache a flush talks to, connected ([`Cache::connect`], exit 3) before a deploy
//! begins: one server ([`Node`]), or every primary of a Redis Cluster ([`super::cluster`]).

use super::cluster::Cluster;
use super::node::{CacheError, Endpoint, Node, UNLINK_BATCH};
use crate::project::config::CacheMode;

/// A connected cache: one server, or every primary of a cluster.
pub(crate) struct Cache {
    pub(super) kind: Kind,
}

pub(super) enum Kind {
    Standalone(Node),
    Cluster(Cluster),
}

impl Cache {
    /// Connects, authenticates and PINGs the cache (every primary of a cluster), and
    /// finds out whether it is a cluster unless `[cache] mode` says.
    pub(crate) fn connect(endpoint: &Endpoint) -> Result<Cache, CacheError> {
        let mut node = Node::connect(endpoint)?;
        let kind = match endpoint.mode {
            CacheMode::Standalone => Kind::Standalone(node),
            CacheMode::Cluster => Kind::Cluster(Cluster::discover(endpoint, node)?),
            CacheMode::Auto => match super::cluster::slots(&mut node) {
                Ok(_) => Kind::Cluster(Cluster::discover(endpoint, node)?),
                // "ERR This instance has cluster support disabled", or an ACL user that may
                // not ask: a standalone server, or a cluster that will answer MOVED, which
                // the message of that error explains.
                Err(e) if e.cause.contains("cluster support disabled") || e.cause.starts_with("auth:") => Kind::Standalone(node),
                Err(e) => return Err(e),
            },
        };
        Ok(Cache { kind })
    }

    /// UNLINKs exact keys; the number removed.
    pub(super) fn unlink(&mut self, keys: &[&str]) -> Result<u64, CacheError> {
        match &mut self.kind {
            Kind::Standalone(node) => {
                let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
                let batches: Vec<&[Vec<u8>]> = keys.chunks(UNLINK_BATCH).collect();
                {
                    let replies = node.unlink_batches(&batches)?;
                    sum(node, replies)
                }
            }
            Kind::Cluster(cluster) => cluster.unlink_exact(keys),
        }
    }

    /// UNLINKs every key matching any of `patterns` (SCAN on every node); the number removed.
    pub(super) fn unlink_matching(&mut self, patterns: &[&str]) -> Result<u64, CacheError> {
        match &mut self.kind {
            Kind::Standalone(node) => {
                let mut removed = 0;
                for pattern in patterns {
                    removed += unlink_scanned(node, pattern)?;
                }
                Ok(removed)
            }
            Kind::Cluster(cluster) => cluster.unlink_matching(patterns),
        }
    }

    /// SET `key` (on the node that owns its slot).
    pub(super) fn set(&mut self, key: &str, value: &str) -> Result<(), CacheError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value);
        match &mut self.kind {
            Kind::Standalone(node) => node.query::<()>(&cmd),
            Kind::Cluster(cluster) => cluster.routed(&cmd, None).map(|_| ()),
        }
    }
}

/// SCAN one node for a pattern, unlinking each batch it yields with one pipeline. Keys are
/// raw bytes: a cache may hold keys that are not UTF-8, and they must not fail the flush.
fn unlink_scanned(node: &mut Node, pattern: &str) -> Result<u64, CacheError> {
    let mut cursor = 0;
    let mut removed = 0;
    loop {
        let (next, keys) = node.scan(cursor, pattern)?;
        if !keys.is_empty() {
            let batches: Vec<&[Vec<u8>]> = keys.chunks(UNLINK_BATCH).collect();
            let replies = node.unlink_batches(&batches)?;
            removed += sum(node, replies)?;
        }
        if next == 0 {
            return Ok(removed);
        }
        cursor = next;
    }
}

fn sum(node: &Node, replies: Vec<redis::RedisResult<u64>>) -> Result<u64, CacheError> {
    replies.into_iter().try_fold(0, |n, r| r.map(|k| n + k).map_err(|e| CacheError::of(&node.addr, &e, &node.timeouts)))
}
