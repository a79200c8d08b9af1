//! Decide: from a [`Snapshot`] of the database and the prepared content, the plan a deploy
//! writes, or the refusal that stops it (a rollback not asked for, a published manifest
//! that would change). Pure: no I/O, so every refusal and every kind of drift is tested on
//! plain values below. The row comparisons themselves are [`plan`]'s.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxBuildHasher;

use super::content::{Content, Prepared};
use super::inspect::{Rows, Snapshot, StoredData, TableState};
use super::plan::{self, RowDiff};
use super::{CollectionPlan, Counts, Op, Options, Plan, RecordChange, Rollback};
use crate::db::{DriftMarker, LastDeploy, StoredCollection};
use crate::exit::{Exit, ExitError};
use crate::json::canon::ContentHash;
use crate::load::Record;

/// The plan, and what writing it needs beyond the plan.
#[derive(Debug)]
pub(crate) struct Decision {
    pub plan: Plan,
    pub work: Work,
}

/// What `apply` needs beyond the plan.
#[derive(Debug, Default)]
pub(crate) struct Work {
    /// The row diff of each collection, in the content's order.
    pub diffs: Vec<RowDiff>,
    /// Whether each collection's table exists, in the content's order.
    pub table_exists: Vec<bool>,
    /// Indexes of the content's packs and manifests that are not published yet.
    pub new_packs: Vec<usize>,
    pub new_manifests: Vec<usize>,
    /// The drift markers read (collection, seq): the deploy clears them, its data now
    /// matching the seeds.
    pub markers: Vec<(String, i64)>,
    /// Collections whose table exists without its drift triggers (deployed before drift
    /// detection, or dropped by hand): the deploy adds them.
    pub triggers: Vec<usize>,
}

/// Why a deploy is refused (exit 4), with nothing written.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// Collections the database holds at a higher version, or at this version with other
    /// content, and no `--allow-rollback`.
    Rollback { rollbacks: Vec<Rollback>, last: Option<LastDeploy> },
    /// Published manifests this content would change: (id, published hash, new hash).
    ManifestChanged(Vec<(String, String, ContentHash)>),
}

impl Refusal {
    /// The refusal as the error the deploy ends with: exit 4, saying what and what to do.
    pub(crate) fn into_error(self) -> anyhow::Error {
        match self {
            Refusal::Rollback { rollbacks, last } => {
                let last = last.map_or(String::new(), |d| format!(" (last deploy #{} at {})", d.id, d.at));
                let lines: Vec<String> = rollbacks
                    .iter()
                    .map(|r| {
                        if r.from == r.to {
                            format!("{}: the database holds {} with other content{last}", r.collection, r.from)
                        } else {
                            format!("{}: the database holds {}{last}, this content is the older {}", r.collection, r.from, r.to)
                        }
                    })
                    .collect();
                ExitError::new(
                    Exit::Refused,
                    format!(
                        "refusing to roll back the database; nothing was committed\n  {}\n  bump the collection's version past the deployed one, or pass --allow-rollback to deploy it on purpose",
                        lines.join("\n  ")
                    ),
                )
            }
            Refusal::ManifestChanged(changed) => {
                let lines: Vec<String> = changed
                    .iter()
                    .map(|(id, old, new)| format!("{id} is published ({old}) and this build would change it to {new}"))
                    .collect();
                ExitError::new(
                    Exit::Refused,
                    format!(
                        "refusing to change a published manifest; nothing was committed\n  {}\n  a daily is immutable once published: deploy other dates, or restore the content it was built from",
                        lines.join("\n  ")
                    ),
                )
            }
        }
    }
}

/// The plan of deploying `content` onto the database `snapshot` describes, or why not.
/// With `-v` (`options.details`) each collection lists its record changes; the fields of
/// the updates are filled in afterwards from the stored values ([`super::fields`]).
pub(crate) fn decide(snapshot: &Snapshot, content: &Content, options: &Options) -> Result<Decision, Refusal> {
    let mut work = Work::default();
    let mut collections = Vec::new();
    let mut rollbacks = Vec::new();
    for (i, (p, table)) in content.collections.iter().zip(&snapshot.tables).enumerate() {
        let before = snapshot.recorded.get(p.name);
        rollbacks.extend(before.and_then(|b| rollback(p, b)));
        let marker = snapshot.markers.get(p.name);
        let diff = row_diff(p, table, before, marker, options.prune);
        let after = StoredCollection {
            table: p.table.to_owned(),
            version: p.version.clone(),
            hash: Some(p.hash),
            records: p.rows.len() as i64,
            rows_kept: diff.kept.len() as i64,
        };
        let changed = diff.writes() > 0 || before != Some(&after);
        if let Some(m) = marker {
            work.markers.push((p.name.to_owned(), m.seq));
        }
        if table.triggers == Some(crate::db::Triggers::Missing) {
            work.triggers.push(i);
        }
        collections.push(CollectionPlan {
            collection: p.name.to_owned(),
            table: p.table.to_owned(),
            version: p.version.clone(),
            previous_version: before.map(|b| b.version.clone()),
            inserted: diff.insert.len(),
            updated: diff.update.len(),
            deleted: diff.delete.len(),
            kept: diff.kept.len(),
            unchanged: diff.unchanged,
            drifted: diff.drifted.len(),
            drift: marker.cloned(),
            foreign_kept: diff.kept.iter().filter(|k| diff.drifted.binary_search(k).is_ok()).cloned().collect(),
            changed,
            changes: if options.details { record_changes(p, &diff) } else { Vec::new() },
        });
        work.diffs.push(diff);
        work.table_exists.push(table.exists);
    }
    if !rollbacks.is_empty() && !options.allow_rollback {
        return Err(Refusal::Rollback { rollbacks, last: snapshot.last_deploy.clone() });
    }

    let mut packs = Counts::default();
    for (i, hash) in content.packs.iter().enumerate() {
        if snapshot.packs.contains(&hash.to_string()) {
            packs.unchanged += 1;
        } else {
            packs.new += 1;
            work.new_packs.push(i);
        }
    }
    let mut manifests = Counts::default();
    let mut changed = Vec::new();
    for (i, (id, hash)) in content.manifests.iter().enumerate() {
        match snapshot.manifests.get(*id) {
            None => {
                manifests.new += 1;
                work.new_manifests.push(i);
            }
            Some(h) if *h == hash.to_string() => manifests.unchanged += 1,
            Some(h) => changed.push(((*id).to_owned(), h.clone(), *hash)),
        }
    }
    if !changed.is_empty() {
        return Err(Refusal::ManifestChanged(changed));
    }
    let plan = Plan { dry_run: options.dry_run, content_version: content.version(), collections, packs, manifests, rollbacks };
    Ok(Decision { plan, work })
}

/// A collection version lower than the database's, or the database's version with other
/// content: a rollback, which the deploy must be told is meant.
fn rollback(p: &Prepared, before: &StoredCollection) -> Option<Rollback> {
    let (new, old) = (semver::Version::parse(&p.version).ok()?, semver::Version::parse(&before.version).ok()?);
    let reused = new == old && before.hash.is_some_and(|h| h != p.hash);
    (new < old || reused).then(|| Rollback { collection: p.name.to_owned(), from: before.version.clone(), to: p.version.clone() })
}

/// The row diff of one collection from what was read of its table: `before` is what
/// seedc recorded of it, `marker` what its drift triggers noted. Shared with `status`, which
/// compares with the same rules.
pub(crate) fn row_diff(
    p: &Prepared,
    table: &TableState,
    before: Option<&StoredCollection>,
    marker: Option<&DriftMarker>,
    prune: bool,
) -> RowDiff {
    let base = match &table.rows {
        // The recorded hash vouches for the table: unchanged content reads no row at all.
        Rows::Recorded { kept } => RowDiff { unchanged: p.rows.len(), kept: vec![String::new(); *kept], ..RowDiff::default() },
        // The memo is what the table holds: no need to read its hashes.
        Rows::Memo => {
            let rows: Vec<(&str, ContentHash)> =
                p.memo.iter().flat_map(|(_, records)| records.iter()).map(|r| (r.key.as_str(), r.canonical.hash)).collect();
            let same: Vec<Option<usize>> = p.records.iter().map(Record::known).collect();
            plan::diff_known(p.keyed(), &same, &rows, prune)
        }
        Rows::Hashes(stored) => plan::diff_rows(p.keyed(), stored, prune),
        Rows::Data(stored) => diff_stored(p, stored, before, marker, prune),
        Rows::Empty => plan::diff_rows(p.keyed(), &HashMap::<String, ContentHash>::new(), prune),
        Rows::Uncompared => RowDiff { unchanged: p.rows.len(), ..RowDiff::default() },
    };
    // The triggers named every key written outside seedc: only those rows are compared by
    // their data, the rest as if nothing drifted.
    match (&table.named, marker.and_then(|m| m.keys.as_ref())) {
        (Some(stored), Some(keys)) => {
            let named: HashSet<String> = keys.iter().cloned().collect();
            let new: Vec<(&str, ContentHash)> = p.keyed().collect();
            plan::overlay_named(base, &new, &named, stored, prune)
        }
        _ => base,
    }
}

/// [`plan::diff_stored`] of a drifted table: every stored row's data compared with the
/// new record's hash and the row's own hash column, so an edit that left `content_hash`
/// alone is found.
fn diff_stored(p: &Prepared, stored: &StoredData, before: Option<&StoredCollection>, marker: Option<&DriftMarker>, prune: bool) -> RowDiff {
    let keys: Option<HashSet<String, FxBuildHasher>> = marker.and_then(|m| m.keys.as_ref()).map(|k| k.iter().cloned().collect());
    let recorded = before.filter(|b| b.table == p.table);
    let drift = plan::Drift {
        keys: keys.as_ref(),
        seeds_unchanged: recorded.is_some_and(|b| b.hash == Some(p.hash)),
        kept_before: recorded.is_none_or(|b| b.rows_kept > 0),
    };
    plan::diff_stored(p.keyed(), stored, drift, prune)
}

/// The record-level changes of one collection, sorted by key; a repair of drift says so.
/// The fields of each update are left empty: they need the stored values
/// ([`super::fields::fill`]).
pub(crate) fn record_changes(p: &Prepared, diff: &RowDiff) -> Vec<RecordChange> {
    let drifted = |id: &str| diff.drifted.binary_search_by(|k| k.as_str().cmp(id)).is_ok();
    let change = |id: &str, op| RecordChange { id: id.to_owned(), op, drifted: drifted(id), fields: Vec::new() };
    let mut out: Vec<RecordChange> = diff.update.iter().map(|&i| change(p.rows[i].id, Op::Update)).collect();
    out.extend(diff.insert.iter().map(|&i| change(p.rows[i].id, Op::Insert)));
    out.extend(diff.delete.iter().map(|id| change(id, Op::Delete)));
    out.extend(diff.kept.iter().filter(|id| drifted(id)).map(|id| change(id, Op::Keep)));
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}
