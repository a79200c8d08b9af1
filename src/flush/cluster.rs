//! A flush on a Redis Cluster. SCAN sees only the node it is sent to, so every primary is
//! scanned for every pattern; each key found is unlinked on that node, batched by slot
//! (a multi-key command must stay in one slot: CROSSSLOT otherwise) and pipelined. A key
//! whose slot moves meanwhile answers MOVED or ASK and is followed there, one key at a
//! time. A pass during which the slot map changed may have missed keys that moved from a
//! node not yet scanned to one already scanned, so it is run again on the new map.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use redis::cluster_routing::Slot;
use redis::{ErrorKind, ServerErrorKind, Value};

use super::node::{CacheError, Endpoint, Node, UNLINK_BATCH};

/// Passes over the primaries before a flush that keeps seeing slots move gives up.
const MAX_PASSES: usize = 4;
/// Redirects one key may take before the flush gives up on it (a slot moving in a loop).
const MAX_HOPS: usize = 8;
/// TRYAGAIN (a slot in migration and a multi-key command split across it) retries.
const TRY_AGAIN: usize = 20;

/// The slot ranges and their primaries, as CLUSTER SLOTS reports them.
type SlotMap = Vec<(i64, i64, String)>;

pub(super) struct Cluster {
    seed: Endpoint,
    /// Connections by `host:port`, made on first use.
    nodes: HashMap<String, Node>,
    map: SlotMap,
    /// A MOVED or ASK was followed since the last pass began.
    redirected: bool,
}

/// CLUSTER SLOTS of a node, as (start, end, primary `host:port`); hosts a node does not
/// know (`""`, `"?"`) are the URL's.
pub(super) fn slots(node: &mut Node) -> Result<Vec<(i64, i64, String, u16)>, CacheError> {
    let reply: Vec<Value> = node.query(redis::cmd("CLUSTER").arg("SLOTS"))?;
    let bad = || CacheError::new(&node.addr, "CLUSTER SLOTS gave a reply this client does not understand");
    let mut out = Vec::new();
    for range in reply {
        let Value::Array(fields) = range else { return Err(bad()) };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(primary))) = (fields.first(), fields.get(1), fields.get(2))
        else {
            return Err(bad());
        };
        let host = match primary.first() {
            Some(Value::BulkString(h)) => String::from_utf8_lossy(h).into_owned(),
            Some(Value::SimpleString(h)) => h.clone(),
            _ => return Err(bad()),
        };
        let Some(Value::Int(port)) = primary.get(1) else { return Err(bad()) };
        out.push((*start, *end, host, u16::try_from(*port).map_err(|_| bad())?));
    }
    Ok(out)
}

impl Cluster {
    /// The primaries of the cluster `node` belongs to, each connected and PINGed.
    pub(super) fn discover(seed: &Endpoint, mut node: Node) -> Result<Cluster, CacheError> {
        let map = slot_map(seed, &mut node)?;
        if map.is_empty() {
            return Err(CacheError::new(&node.addr, "CLUSTERDOWN: the cluster serves no slots yet"));
        }
        let mut cluster = Cluster { seed: seed.clone(), nodes: HashMap::new(), map, redirected: false };
        cluster.nodes.insert(node.addr.clone(), node);
        for addr in cluster.primaries() {
            cluster.node(&addr)?;
        }
        Ok(cluster)
    }

    fn primaries(&self) -> BTreeSet<String> {
        self.map.iter().map(|(_, _, addr)| addr.clone()).collect()
    }

    fn node(&mut self, addr: &str) -> Result<&mut Node, CacheError> {
        if !self.nodes.contains_key(addr) {
            let (host, port) = split_addr(addr, self.seed.host()).ok_or_else(|| CacheError::new(addr, "not a host:port address"))?;
            let node = Node::connect(&self.seed.at(&host, port))?;
            self.nodes.insert(addr.to_owned(), node);
        }
        Ok(self.nodes.get_mut(addr).expect("inserted above"))
    }

    /// Rereads the slot map from any node that answers; true if it changed.
    fn refresh(&mut self) -> Result<bool, CacheError> {
        let mut last = None;
        for addr in self.primaries() {
            let seed = self.seed.clone();
            let read = self.node(&addr).and_then(|node| slot_map(&seed, node));
            match read {
                Ok(map) => {
                    let changed = map != self.map;
                    self.map = map;
                    return Ok(changed);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| CacheError::new(self.seed.addr(), "the cluster has no primaries")))
    }

    pub(super) fn unlink_exact(&mut self, keys: &[&str]) -> Result<u64, CacheError> {
        let mut removed = 0;
        for key in keys {
            let reply = self.routed(redis::cmd("UNLINK").arg(*key), None)?;
            removed += int(&reply);
        }
        Ok(removed)
    }

    pub(super) fn unlink_matching(&mut self, patterns: &[&str]) -> Result<u64, CacheError> {
        let mut removed = 0;
        for pass in 1..=MAX_PASSES {
            self.redirected = false;
            for addr in self.primaries() {
                for pattern in patterns {
                    removed += self.unlink_scanned(&addr, pattern)?;
                }
            }
            let moved = self.refresh()? || self.redirected;
            if !moved {
                return Ok(removed);
            }
            if pass == MAX_PASSES {
                return Err(CacheError::new(
                    self.seed.addr(),
                    format!(
                        "slots kept moving during {MAX_PASSES} passes over the primaries (a reshard in progress?); some keys may remain"
                    ),
                ));
            }
        }
        Ok(removed)
    }

    /// SCAN one primary for a pattern and UNLINK what it yields there.
    fn unlink_scanned(&mut self, addr: &str, pattern: &str) -> Result<u64, CacheError> {
        let mut cursor = 0;
        let mut removed = 0;
        loop {
            let (next, keys) = self.node(addr)?.scan(cursor, pattern)?;
            if !keys.is_empty() {
                removed += self.unlink_on(addr, keys)?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    /// UNLINKs keys found on `addr`, one pipeline of per-slot batches; batches that were
    /// redirected go key by key to where their slot is now.
    fn unlink_on(&mut self, addr: &str, keys: Vec<Vec<u8>>) -> Result<u64, CacheError> {
        let mut by_slot: HashMap<Slot, Vec<Vec<u8>>> = HashMap::new();
        for key in keys {
            by_slot.entry(Slot::for_key(&key)).or_default().push(key);
        }
        let batches: Vec<&[Vec<u8>]> = by_slot.values().flat_map(|keys| keys.chunks(UNLINK_BATCH)).collect();
        let node = self.node(addr)?;
        let replies = node.unlink_batches(&batches)?;
        let mut removed = 0;
        let mut elsewhere = Vec::new();
        for (batch, reply) in batches.iter().zip(replies) {
            match reply {
                Ok(n) => removed += n,
                Err(e) if redirect(&e) || try_again(&e) => elsewhere.extend(batch.iter().cloned()),
                Err(e) => return Err(CacheError::of(addr, &e, &node.timeouts)),
            }
        }
        for key in elsewhere {
            removed += int(&self.routed(redis::cmd("UNLINK").arg(&key), Some(addr))?);
        }
        Ok(removed)
    }

    /// Runs a single-key command where its slot lives, starting at `start` (default: any
    /// primary) and following MOVED and ASK.
    pub(super) fn routed(&mut self, cmd: &redis::Cmd, start: Option<&str>) -> Result<Value, CacheError> {
        let mut addr = match start {
            Some(a) => a.to_owned(),
            None => self.primaries().into_iter().next().unwrap_or_else(|| self.seed.addr().to_owned()),
        };
        let mut asking = false;
        let mut waits = 0;
        let mut hops = 0;
        loop {
            let node = self.node(&addr)?;
            let reply = if asking {
                let mut pipe = redis::pipe();
                pipe.cmd("ASKING").ignore().add_command(cmd.clone());
                pipe.query::<Vec<Value>>(&mut node.con).map(|mut v| v.pop().unwrap_or(Value::Nil))
            } else {
                cmd.query::<Value>(&mut node.con)
            };
            let e = match reply {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if try_again(&e) && waits < TRY_AGAIN {
                waits += 1;
                std::thread::sleep(Duration::from_millis(25));
                continue;
            }
            let Some((to, _slot)) = e.redirect_node() else {
                return Err(CacheError::of(&addr, &e, &node.timeouts));
            };
            if hops == MAX_HOPS {
                let detail = e.detail().unwrap_or_default();
                return Err(CacheError::new(
                    &addr,
                    format!("{} {detail}: the slot still moved after {MAX_HOPS} redirects", e.code().unwrap_or("MOVED")),
                ));
            }
            let to = match to.strip_prefix(':') {
                Some(port) => format!("{}:{port}", self.seed.host()),
                None => to.to_owned(),
            };
            asking = e.kind() == ErrorKind::Server(ServerErrorKind::Ask);
            self.redirected = true;
            hops += 1;
            addr = to;
        }
    }
}

fn slot_map(seed: &Endpoint, node: &mut Node) -> Result<SlotMap, CacheError> {
    let mut map: SlotMap = slots(node)?
        .into_iter()
        .map(|(start, end, host, port)| {
            let host = if host.is_empty() || host == "?" { seed.host().to_owned() } else { host };
            (start, end, join_addr(&host, port))
        })
        .collect();
    map.sort();
    Ok(map)
}

fn redirect(e: &redis::RedisError) -> bool {
    matches!(e.kind(), ErrorKind::Server(ServerErrorKind::Moved | ServerErrorKind::Ask))
}

fn try_again(e: &redis::RedisError) -> bool {
    e.kind() == ErrorKind::Server(ServerErrorKind::TryAgain)
}

fn int(v: &Value) -> u64 {
    match v {
        Value::Int(n) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

fn join_addr(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// `host:port`, `[v6]:port`, or `v6:port` as Redis writes it in a redirect.
fn split_addr(addr: &str, default_host: &str) -> Option<(String, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { default_host } else { host };
    Some((host.to_owned(), port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_and_join() {
        assert_eq!(split_addr("127.0.0.1:7000", "h"), Some(("127.0.0.1".to_owned(), 7000)));
        assert_eq!(split_addr(":7000", "h"), Some(("h".to_owned(), 7000)));
        assert_eq!(split_addr("[::1]:7000", "h"), Some(("::1".to_owned(), 7000)));
        assert_eq!(split_addr("::1:7000", "h"), Some(("::1".to_owned(), 7000)));
        assert_eq!(split_addr("nohost", "h"), None);
        assert_eq!(join_addr("::1", 7000), "[::1]:7000");
    }
}
