//! `seedc status`: whether the database mirrors the content root, read in one read-only
//! snapshot and written to never. Per collection: the deployed version and hash against the
//! seeds', what the drift triggers noted, and for a drifted collection (every collection
//! with `--full`) the rows whose stored data differs from the seeds, found by the same row
//! comparison a deploy plans with. Also the last deploy and the pending cache flushes.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use super::plan::{self, RowDiff, RowSource};
use super::{RecordChange, content_version, diff_named, diff_stored, prepare, record_changes};
use crate::build::cache::Fingerprint;
use crate::db::sql::{self as store, DriftMarker, LastDeploy, Triggers};
use crate::db::{self, STATEMENT_TIMEOUT, pg};
use crate::diag::{Sink, Sources};

/// What the user asked of `seedc status`.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub database_url: String,
    /// Compare every row's data with the seeds, not only the drifted collections'.
    pub full: bool,
    pub on_timeout: db::OnTimeout,
}

/// How `status` ended, short of an error.
pub(crate) enum Outcome {
    /// The content has errors: the database was not read.
    Invalid {
        sink: Sink,
        sources: Sources,
    },
    Done {
        status: Box<Status>,
        sink: Sink,
        sources: Sources,
    },
}

/// Whether the database mirrors the content root, for people and machines.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Status {
    /// Every collection mirrors its seeds and no cache flush is pending.
    pub mirrors: bool,
    /// Every row's data was compared (`--full`).
    pub full: bool,
    pub schema: String,
    /// The content version of the seeds (what a deploy would set the version key to).
    pub content_version: String,
    pub last_deploy: Option<LastDeploy>,
    pub collections: Vec<CollectionStatus>,
    /// The deploys whose cache flush is still pending (`seedc flush` completes them).
    pub pending_flushes: Vec<i64>,
}

/// One collection: deployed against the seeds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CollectionStatus {
    pub collection: String,
    pub table: String,
    pub version: String,
    /// The version the database holds; None when never deployed.
    pub deployed_version: Option<String>,
    /// The table holds the seeds' version and content hash (as recorded).
    pub deployed: bool,
    /// The rows were compared with the seeds by their data.
    pub compared: bool,
    /// The drift triggers of its table; None when the table does not exist.
    pub triggers: Option<Triggers>,
    /// What the drift triggers noted since the last deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftMarker>,
    /// Rows that differ from the seeds, found by comparing (a deploy would write them).
    pub differ: usize,
    /// Of those, the rows written outside seedc.
    pub drifted: usize,
    /// The differing rows: what a deploy would do to each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<RecordChange>,
    pub mirrors: bool,
}

/// Checks the content root (leaning on the deploy memo), then reads the database.
pub(crate) fn status(project: &crate::project::Project, options: &Options) -> Result<Outcome> {
    let root = project.root().ok_or_else(|| anyhow::anyhow!("status needs a content root in a directory"))?;
    let fingerprint = Fingerprint::compute(root)?;
    let root_checked = match super::check(project, &fingerprint, true)? {
        Ok(c) => c,
        // (A check that does not pass is always `Invalid`; both carry the diagnostics.)
        Err(super::Outcome::Invalid { sink, sources } | super::Outcome::Done { sink, sources, .. }) => {
            return Ok(Outcome::Invalid { sink, sources });
        }
    };
    let super::CheckedRoot { checked, sink, known: _ } = root_checked;
    let prepared = prepare(&checked);
    let schema = checked.config.deploy.schema.clone();
    let mut session = db::Session::open(&options.database_url, "seedc status", options.on_timeout)?;
    session.watchdog.arm("reading the database", STATEMENT_TIMEOUT);
    let mut tx =
        session.client.build_transaction().isolation_level(postgres::IsolationLevel::RepeatableRead).read_only(true).start().map_err(pg)?;
    let have_schema = store::schema_version(&mut tx, &schema)? > 0;
    let stored = if have_schema { store::stored_collections(&mut tx, &schema)? } else { HashMap::new() };
    let markers = if have_schema { store::drift_markers(&mut tx, &schema)? } else { HashMap::new() };
    let mut collections = Vec::new();
    for p in &prepared {
        let exists = store::table_exists(&mut tx, p.table)?;
        let triggers = if exists { Some(store::drift_triggers(&mut tx, p.table)?) } else { None };
        let before = stored.get(p.name).filter(|b| b.table == p.table);
        let marker = markers.get(p.name);
        let deployed = exists && before.is_some_and(|b| b.version == p.version && b.hash == Some(p.hash));
        let prune = before.is_none_or(|b| b.rows_kept == 0);
        // As a deploy plans it: the rows the triggers named, or every row (`--full`, or
        // when the triggers could not name them).
        let (named, drifted) = plan::drift_scope(marker.map(|m| m.keys.as_deref()), exists, options.full);
        let source = plan::row_source(before, exists, drifted, p.table, p.hash, None, true);
        let (diff, compared) = match (source, named) {
            (RowSource::Stored, _) => (diff_stored(&mut tx, p, before, marker, prune)?, true),
            (_, Some(keys)) => {
                let base = RowDiff { unchanged: p.rows.len(), ..RowDiff::default() };
                (diff_named(&mut tx, p, base, keys, prune)?, true)
            }
            _ => (RowDiff::default(), false),
        };
        let changes = if diff.writes() > 0 || !diff.drifted.is_empty() { record_changes(&mut tx, p, &diff, exists)? } else { Vec::new() };
        let differ = diff.writes();
        collections.push(CollectionStatus {
            collection: p.name.to_owned(),
            table: p.table.to_owned(),
            version: p.version.clone(),
            deployed_version: before.map(|b| b.version.clone()),
            deployed,
            compared,
            triggers,
            drift: marker.cloned(),
            differ,
            drifted: diff.drifted.len(),
            changes,
            mirrors: deployed && differ == 0 && diff.drifted.is_empty(),
        });
    }
    let last_deploy = if have_schema { store::last_deploy(&mut tx, &schema)? } else { None };
    let pending_flushes = if have_schema && store::outbox_exists(&mut tx, &schema)? {
        store::pending_flushes(&mut tx, &schema)?.into_iter().map(|f| f.deploy_id).collect()
    } else {
        Vec::new()
    };
    tx.rollback().map_err(pg)?;
    session.watchdog.disarm();
    let status = Status {
        mirrors: collections.iter().all(|c| c.mirrors) && pending_flushes.is_empty(),
        full: options.full,
        schema,
        content_version: content_version(prepared.iter().map(|p| (p.name, p.hash))),
        last_deploy,
        collections,
        pending_flushes,
    };
    drop(prepared);
    let mut checked = checked;
    let sources = std::mem::take(&mut checked.content.sources);
    Ok(Outcome::Done { status: Box::new(status), sink, sources })
}
