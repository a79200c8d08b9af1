//! `seedc status`, a stage of its own: whether the database mirrors the content root, read
//! in one read-only snapshot and written to never. Per collection: the deployed version and
//! hash against the seeds', what the drift triggers noted, and for a drifted collection
//! (every collection with `--full`) the rows whose stored data differs from the seeds. It
//! is a deploy that stops before deciding to write: the same check, the same
//! [`inspect`](crate::deploy::inspect) (asked for what status reads) and the same row
//! comparison ([`decide::row_diff`]); [`judge`] turns them into the status, pure. Also the
//! last deploy and the pending cache flushes. [`render`] is its report.

pub(crate) mod render;

use anyhow::Result;
use serde::Serialize;

use crate::build::cache::Fingerprint;
use crate::db::{self, DriftMarker, LastDeploy, STATEMENT_TIMEOUT, Triggers, pg};
use crate::deploy::content::{CheckedRoot, Content, check};
use crate::deploy::decide::{self, record_changes};
use crate::deploy::inspect::{self, Reads, Rows, Snapshot};
use crate::deploy::plan::RowDiff;
use crate::deploy::{RecordChange, fields};
use crate::diag::render::Diagnostics;

/// What the user asked of `seedc status`.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub database_url: String,
    /// Compare every row's data with the seeds, not only the drifted collections'.
    pub full: bool,
    pub on_timeout: db::OnTimeout,
}

/// How a status ended, short of an error: the database read (the diagnostics holding the
/// check's warnings), or the content has errors and the database was not read.
pub(crate) type Outcome = crate::diag::render::Outcome<Box<Status>>;

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
    let root_checked = match check(project, &fingerprint, "status")? {
        Ok(c) => c,
        Err(diagnostics) => {
            return Ok(Outcome::Invalid { diagnostics, not_done: "the database was not read: fix the errors above" });
        }
    };
    let CheckedRoot { checked, sink, known: _ } = root_checked;
    let content = Content::new(&checked, None, None);
    let schema = checked.config.deploy.schema.clone();
    let mut session = db::Session::open(&options.database_url, "seedc status", &schema, options.on_timeout)?;
    session.watchdog.arm("reading the database", STATEMENT_TIMEOUT);
    let mut tx =
        session.client.build_transaction().isolation_level(postgres::IsolationLevel::RepeatableRead).read_only(true).start().map_err(pg)?;
    let snapshot = inspect::inspect(&mut tx, &schema, &content, Reads::Status { full: options.full })?;
    let (mut status, diffs) = judge(&snapshot, &content, schema, options.full);
    for (((p, c), diff), table) in content.collections.iter().zip(&mut status.collections).zip(&diffs).zip(&snapshot.tables) {
        fields::fill(&mut tx, p, diff, table.exists, &mut c.changes)?;
    }
    tx.rollback().map_err(pg)?;
    session.watchdog.disarm();
    drop(content);
    let mut checked = checked;
    let sources = std::mem::take(&mut checked.content.sources);
    Ok(Outcome::Done { report: Box::new(status), diagnostics: Diagnostics::new("status", sink, sources) })
}

/// The status of the database `snapshot` describes against `content`, with each
/// collection's row diff; pure. The fields of the differing updates are left to fill from
/// the stored values ([`fields::fill`]).
fn judge(snapshot: &Snapshot, content: &Content, schema: String, full: bool) -> (Status, Vec<RowDiff>) {
    let mut collections = Vec::new();
    let mut diffs = Vec::new();
    for (p, table) in content.collections.iter().zip(&snapshot.tables) {
        let before = snapshot.recorded.get(p.name).filter(|b| b.table == p.table);
        let marker = snapshot.markers.get(p.name);
        let deployed = table.exists && before.is_some_and(|b| b.version == p.version && b.hash == Some(p.hash));
        // Rows an earlier `--no-prune` kept are no difference.
        let prune = before.is_none_or(|b| b.rows_kept == 0);
        let diff = decide::row_diff(p, table, before, marker, prune);
        let compared = matches!(table.rows, Rows::Data(_)) || table.named.is_some();
        let changes = if diff.writes() > 0 || !diff.drifted.is_empty() { record_changes(p, &diff) } else { Vec::new() };
        let differ = diff.writes();
        collections.push(CollectionStatus {
            collection: p.name.to_owned(),
            table: p.table.to_owned(),
            version: p.version.clone(),
            deployed_version: before.map(|b| b.version.clone()),
            deployed,
            compared,
            triggers: table.triggers,
            drift: marker.cloned(),
            differ,
            drifted: diff.drifted.len(),
            changes,
            mirrors: deployed && differ == 0 && diff.drifted.is_empty(),
        });
        diffs.push(diff);
    }
    let status = Status {
        mirrors: collections.iter().all(|c| c.mirrors) && snapshot.pending_flushes.is_empty(),
        full,
        schema,
        content_version: content.version(),
        last_deploy: snapshot.last_deploy.clone(),
        collections,
        pending_flushes: snapshot.pending_flushes.clone(),
    };
    (status, diffs)
}
