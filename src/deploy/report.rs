//! What a deploy did and planned, as plain values: the one shape every renderer reads and
//! the deploy record keeps (its summary, without record contents).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::build::write::Report as BuildReport;
use crate::db::DriftMarker;
use crate::diag::{Sink, Sources};
use crate::flush::FlushReport;
use crate::json::fielddiff::{self, FieldChange};

/// How a deploy ended, short of an error: planned (and, unless a dry run, committed), the
/// diagnostics holding the check's warnings; or the content has errors and nothing was
/// connected to or written.
pub type Outcome = crate::diag::render::Outcome<Box<Report>>;

/// Said when the content has errors.
pub(crate) const NOT_DONE: &str = "nothing was deployed: fix the errors above and deploy again";

/// A deploy's outcome with the check's diagnostics.
pub(crate) fn done(report: Report, sink: Sink, sources: Sources) -> Outcome {
    Outcome::Done { report: Box::new(report), diagnostics: crate::diag::render::Diagnostics::new("deploy", sink, sources) }
}

/// What a deploy did, for people and machines.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub plan: Plan,
    /// The build of `out/` (absent in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildReport>,
    pub committed: bool,
    /// The deploy record written, if anything changed.
    pub deploy_id: Option<i64>,
    /// Cache flushes completed by this run (an earlier deploy's included).
    pub flush: FlushReport,
    /// Why the cache flush is still pending (the run exits 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_error: Option<String>,
    /// What was published to `[publish] url`, when it is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish: Option<crate::publish::Report>,
    /// The saved plan this dry run wrote, or this deploy applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_plan: Option<SavedRef>,
}

/// A saved plan: its digest, and the file a dry run saved it to.
#[derive(Debug, Clone, Serialize)]
pub struct SavedRef {
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The plan: what the deploy writes (or, in a dry run, would write).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub dry_run: bool,
    /// The content version the version key is set to when a collection changes.
    pub content_version: String,
    pub collections: Vec<CollectionPlan>,
    pub packs: Counts,
    pub manifests: Counts,
    /// Collections deployed at a lower version than the database's, or at its version with
    /// other content: refused unless `--allow-rollback`, and then recorded as a rollback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollbacks: Vec<Rollback>,
}

/// One collection a deploy rolls back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rollback {
    pub collection: String,
    /// The version the database holds.
    pub from: String,
    /// The version deployed.
    pub to: String,
}

impl Plan {
    pub fn changed_collections(&self) -> impl Iterator<Item = &CollectionPlan> {
        self.collections.iter().filter(|c| c.changed)
    }

    /// True when the deploy writes nothing at all.
    pub fn is_noop(&self) -> bool {
        self.changed_collections().next().is_none() && self.packs.new == 0 && self.manifests.new == 0
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub new: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionPlan {
    pub collection: String,
    pub table: String,
    pub version: String,
    /// The version deployed before, if any.
    pub previous_version: Option<String>,
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Rows whose record left the seed file, kept by `--no-prune`.
    pub kept: usize,
    pub unchanged: usize,
    /// Of the rows above, those written (or kept) to repair drift: edited, deleted or added
    /// outside seedc, not changed in the seeds.
    pub drifted: usize,
    /// What the drift triggers noted since the last deploy, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftMarker>,
    /// Rows added outside seedc that `--no-prune` keeps (they stay drift).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_kept: Vec<String>,
    /// Rows written, or the collection's version or hash changed: its cache keys are flushed.
    pub changed: bool,
    /// Record-level changes (with `-v`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<RecordChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordChange {
    pub id: String,
    pub op: Op,
    /// A repair of a write outside seedc, not a change of the seeds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drifted: bool,
    /// Serialized as `pointer`, `old`, `new` only, the form deploy's JSON has always had.
    #[serde(default, skip_serializing_if = "Vec::is_empty", serialize_with = "fielddiff::serialize_plain")]
    #[serde(deserialize_with = "fielddiff::deserialize_plain")]
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Insert,
    Update,
    Delete,
    /// A row added outside seedc, kept by `--no-prune`.
    Keep,
}

/// The summary of a plan kept in the deploy record: counts, never record contents.
pub(super) fn summary(plan: &Plan) -> Value {
    let mut plan = plan.clone();
    for c in &mut plan.collections {
        c.changes.clear();
    }
    serde_json::to_value(&plan).expect("plans serialize")
}
