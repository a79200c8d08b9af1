//! Inspect: everything a deploy (or `status`) needs to know of the database, read into one
//! [`Snapshot`] in the caller's transaction, after the deploy lock, before any decision.
//! Which rows of a table are read is chosen by the planner's own pure rules
//! ([`plan::row_source`], [`plan::drift_scope`]): the record or the memo stand for a table
//! when they may, so an unchanged table costs no read of its rows.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use postgres::Transaction;
use rustc_hash::FxBuildHasher;

use super::content::Content;
use super::plan::{self, RowSource, StoredHashes};
use crate::db::{DriftMarker, LastDeploy, StoredCollection, Triggers, catalog, drift, migrate, outbox, registry, rows};
use crate::json::canon::{self, ContentHash, HashVersion};

/// Stored rows by key: their own hash column and the hash of their data.
pub(crate) type StoredData = HashMap<String, StoredHashes, FxBuildHasher>;

/// What the database holds, as far as a deploy of some content asks.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// seedc's schema version (0: there is none yet, and nothing else was read).
    pub schema_version: i32,
    /// What seedc recorded of each collection at its last deploy, its hash read in the
    /// current definition ([`recorded_now`]).
    pub recorded: HashMap<String, StoredCollection>,
    /// The collections whose recorded hash is of an older definition and stands for this
    /// content: a deploy rewrites it, and nothing else, if nothing else changed.
    pub restamp: Vec<String>,
    /// What the drift triggers noted, per collection, since the last deploy.
    pub markers: HashMap<String, DriftMarker>,
    /// One per collection of the content, in its order.
    pub tables: Vec<TableState>,
    pub last_deploy: Option<LastDeploy>,
    /// The content's pack hashes that are published already.
    pub packs: HashSet<String>,
    /// The content's manifests that are published already, with their hash.
    pub manifests: HashMap<String, String>,
    /// The deploys whose cache flush is pending (read for `status` only).
    pub pending_flushes: Vec<i64>,
}

/// One collection's table.
#[derive(Debug, Default)]
pub(crate) struct TableState {
    pub exists: bool,
    /// Its drift triggers; None when the table does not exist.
    pub triggers: Option<Triggers>,
    pub rows: Rows,
    /// The rows the drift triggers named (those of them that exist), read by their data:
    /// only those are compared, the rest planned as if nothing drifted.
    pub named: Option<StoredData>,
}

/// What was read of a table's rows, and why no more.
#[derive(Debug, Default)]
pub(crate) enum Rows {
    /// The recorded hash is the content's: nothing was read ([`RowSource::Recorded`]).
    Recorded { kept: usize },
    /// The record says the table holds exactly the memo's records ([`RowSource::Memo`]).
    Memo,
    /// Every row's key and hash column.
    Hashes(HashMap<String, ContentHash, FxBuildHasher>),
    /// Every row's hash column and the hash of its data: the table drifted (or `--full`).
    Data(StoredData),
    /// There is no table.
    Empty,
    /// Not read: `status` compares only the tables that drifted (or all, with `--full`).
    #[default]
    Uncompared,
}

/// Who reads, which decides what is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reads {
    /// A deploy: as much as planning its writes needs (`--no-prune`, `--full`).
    Deploy { prune: bool, full: bool },
    /// `status`: the data of the tables that drifted (every table with `--full`) and the
    /// pending flushes; a table the seeds changed is not read, its record says so.
    Status { full: bool },
}

/// Reads the snapshot of `content` in `tx` (which holds the deploy lock, or is `status`'s
/// read-only snapshot).
pub(crate) fn inspect(tx: &mut Transaction, schema: &str, content: &Content, reads: Reads) -> Result<Snapshot> {
    let mut snapshot = Snapshot { schema_version: migrate::schema_version(tx, schema)?, ..Snapshot::default() };
    let have_schema = snapshot.schema_version > 0;
    if have_schema {
        snapshot.recorded = registry::stored_collections(tx, schema)?;
        snapshot.restamp = recorded_now(&mut snapshot.recorded, content);
        snapshot.markers = drift::drift_markers(tx, schema)?;
    }
    for p in &content.collections {
        let exists = catalog::table_exists(tx, p.table)?;
        let triggers = if exists { Some(drift::drift_triggers(tx, p.table)?) } else { None };
        let marker = snapshot.markers.get(p.name);
        let full = match reads {
            Reads::Deploy { full, .. } | Reads::Status { full } => full,
        };
        let (named, drifted) = plan::drift_scope(marker.map(|m| m.keys.as_deref()), exists, full);
        let rows = match reads {
            Reads::Deploy { prune, .. } => {
                let before = snapshot.recorded.get(p.name);
                let memo = p.memo.map(|(hash, records)| (hash, records.len()));
                match plan::row_source(before, exists, drifted, p.table, p.hash, memo, prune) {
                    RowSource::Recorded { kept } => Rows::Recorded { kept },
                    RowSource::Memo => Rows::Memo,
                    RowSource::Table => Rows::Hashes(rows::stored_hashes(tx, p.table)?),
                    RowSource::Stored => Rows::Data(stored_data(tx, p.table)?),
                    RowSource::Empty => Rows::Empty,
                }
            }
            Reads::Status { .. } => {
                let before = snapshot.recorded.get(p.name).filter(|b| b.table == p.table);
                match plan::row_source(before, exists, drifted, p.table, p.hash, None, true) {
                    RowSource::Stored => Rows::Data(stored_data(tx, p.table)?),
                    _ => Rows::Uncompared,
                }
            }
        };
        let named = match named {
            Some(keys) => Some(hash_data(rows::stored_rows_with(tx, p.table, keys)?)),
            None => None,
        };
        snapshot.tables.push(TableState { exists, triggers, rows, named });
    }
    if have_schema {
        snapshot.last_deploy = registry::last_deploy(tx, schema)?;
        if !content.packs.is_empty() {
            let hashes: Vec<String> = content.packs.iter().map(ToString::to_string).collect();
            snapshot.packs = registry::published_packs(tx, schema, &hashes)?.into_iter().collect();
        }
        if !content.manifests.is_empty() {
            let ids: Vec<String> = content.manifests.iter().map(|(id, _)| (*id).to_owned()).collect();
            snapshot.manifests = registry::published_manifests(tx, schema, &ids)?;
        }
        if matches!(reads, Reads::Status { .. }) && outbox::outbox_exists(tx, schema)? {
            snapshot.pending_flushes = outbox::pending_flushes(tx, schema)?.into_iter().map(|f| f.deploy_id).collect();
        }
    }
    Ok(snapshot)
}

/// Each stored row's own hash column and the canonical hash of its data (on every core).
fn hash_data(rows: Vec<rows::StoredRow>) -> StoredData {
    use rayon::prelude::*;
    rows.into_par_iter().map(hash_row).collect()
}

fn hash_row(r: rows::StoredRow) -> (String, StoredHashes) {
    // jsonb text always parses; a failure would only make the row differ.
    let data = serde_json::from_str(&r.data).map_or(ContentHash([0; 32]), |v| canon::hash_value(&v));
    (r.id, StoredHashes { column: r.hash, data })
}

/// [`hash_data`] of every row of `table`, streamed: the rows are hashed while PostgreSQL is
/// still sending the rest, and only each row's key and two hashes are kept, never the
/// table's data (`status --full`, a drifted table, `deploy --full`).
fn stored_data(tx: &mut Transaction, table: &str) -> Result<StoredData> {
    use rayon::prelude::*;
    /// Rows per batch: large enough to spread over the cores, small enough that the few
    /// batches in flight are a few MB.
    const BATCH: usize = 4096;
    let (send, batches) = std::sync::mpsc::sync_channel::<Vec<rows::StoredRow>>(2);
    std::thread::scope(|scope| {
        let hasher = scope.spawn(move || {
            let mut out = StoredData::default();
            for batch in batches {
                let hashed: Vec<(String, StoredHashes)> = batch.into_par_iter().map(hash_row).collect();
                out.extend(hashed);
            }
            out
        });
        // A hasher gone (it panicked) ends the read; the join below reports it.
        let read = rows::stored_rows(tx, table, BATCH, |batch| drop(send.send(batch)));
        drop(send);
        let out = hasher.join().map_err(|_| anyhow::anyhow!("hashing the stored rows of {table:?} failed"))?;
        read.map(|()| out)
    })
}

/// Reads each recorded hash of an older definition in the current one ([`HashVersion::CURRENT`]);
/// returns the collections whose recorded hash stands for this content. Such a hash is
/// compared with this content's hash of its own definition (from the canonical records a
/// deploy keeps): equal, it stands for this content's current hash; otherwise it is kept as
/// it is, a hash this content does not have, so a changed collection still reads as changed
/// (and the same version with other content as a rollback).
pub(crate) fn recorded_now(recorded: &mut HashMap<String, StoredCollection>, content: &Content) -> Vec<String> {
    let mut restamp = Vec::new();
    for p in &content.collections {
        let Some(b) = recorded.get_mut(p.name).filter(|b| b.hash_version != HashVersion::CURRENT) else { continue };
        let theirs = match b.hash_version {
            HashVersion::Whole => canon::hash_canonical_bytes_whole(p.rows.iter().map(|r| (r.id, r.canonical))),
            HashVersion::Records => unreachable!("the current definition"),
        };
        if b.hash == Some(theirs) {
            b.hash = Some(p.hash);
            restamp.push(p.name.to_owned());
        }
        b.hash_version = HashVersion::CURRENT;
    }
    restamp
}
